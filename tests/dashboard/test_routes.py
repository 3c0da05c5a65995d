"""The layer routes through Flask's test client, on a real database and the real (embedded) Redis."""

from __future__ import annotations

import geobuf

from data.db import transaction
from layers import versions
from tests.layers.hierarchy import STREETS, add_alert, add_case, add_risk


def _codes(body: bytes) -> list[str]:
    return [f["properties"]["code"] for f in geobuf.decode(body)["features"]]


def test_units_versioned_are_immutable_with_etag(client, redis_conn) -> None:
    v = versions.read(redis_conn)["units"]
    response = client.get(f"/layers/units/street.pbf?v={v}")
    assert response.status_code == 200
    assert response.mimetype == "application/x-protobuf"
    assert response.headers["Cache-Control"] == "private, max-age=86400, immutable"  # per viewer
    assert _codes(response.data) == list(STREETS)
    etag = response.headers["ETag"]
    again = client.get(f"/layers/units/street.pbf?v={v}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_unversioned_fetch_must_revalidate(client) -> None:
    response = client.get("/layers/units/district.pbf")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert _codes(response.data) == ["500151"]


def test_unknown_level_is_400(client) -> None:
    for url in ("/layers/units/province.pbf", "/layers/units/grid.pbf", "/layers/counts/city.json"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "unknown level" in response.get_json()["error"]
    assert "bbox" in client.get("/layers/units/grid.pbf").get_json()["error"]


def test_grids_by_bbox(client) -> None:
    response = client.get("/layers/grids.pbf?bbox=105.91,29.71,105.92,29.72&v=0")
    assert response.status_code == 200
    assert _codes(response.data) == ["500151001001001"]
    for bad in ("", "1,2,3", "a,b,c,d", "106,29,105,30", "1,2,3,4,5"):
        response = client.get(f"/layers/grids.pbf?bbox={bad}")
        assert response.status_code == 400, bad
        assert "bbox" in response.get_json()["error"]


def test_cases_and_counts_follow_the_version(client, session_factory, grids, redis_conn) -> None:
    with transaction(session_factory) as session:
        add_case(session, grids[0], external_id="a", overdue=True)
    v = versions.read(redis_conn)["cases"]
    first = client.get(f"/layers/cases.pbf?v={v}")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "private, max-age=3600"
    assert len(geobuf.decode(first.data)["features"]) == 1
    counts = client.get(f"/layers/counts/street.json?v={v}").get_json()
    assert counts == {STREETS[0]: {"open": 1, "overdue": 1}}

    with transaction(session_factory) as session:
        add_case(session, grids[5], external_id="b")
    # same version: the cached payload (one build per version)
    assert len(geobuf.decode(client.get(f"/layers/cases.pbf?v={v}").data)["features"]) == 1
    versions.bump(redis_conn, ["cases"])
    v2 = versions.read(redis_conn)["cases"]
    assert len(geobuf.decode(client.get(f"/layers/cases.pbf?v={v2}").data)["features"]) == 2
    assert client.get(f"/layers/counts/district.json?v={v2}").get_json() == {
        "500151": {"open": 2, "overdue": 1}
    }


def test_case_filters_validated(client, session_factory, grids) -> None:
    with transaction(session_factory) as session:
        add_case(session, grids[0], external_id="a")
        add_case(session, grids[5], external_id="b", status="reported")
    ok = client.get(f"/layers/cases.pbf?v=1&street={STREETS[1]}")
    assert [f["properties"]["status"] for f in geobuf.decode(ok.data)["features"]] == ["reported"]
    assert client.get("/layers/cases.pbf?street=12").status_code == 400
    assert client.get("/layers/cases.pbf?status=nonsense").status_code == 400


def test_alerts_and_risks_json(client, session_factory, grids) -> None:
    with transaction(session_factory) as session:
        add_alert(session, [grids[0], grids[1]], headline="<script>alert(1)</script>")
        add_risk(session, grids[2])
    alerts = client.get("/layers/alerts.json?v=1")
    assert alerts.status_code == 200 and alerts.mimetype == "application/json"
    assert alerts.headers["Cache-Control"] == "private, max-age=60"
    props = alerts.get_json()["features"][0]["properties"]
    assert props["headline"] == "<script>alert(1)</script>"  # data, escaped by the browser code
    assert all("****" in w["phone"] for g in props["grids"] for w in g["workers"])
    risks = client.get("/layers/risks.json?v=1").get_json()
    assert risks["features"][0]["properties"]["title"] == "危房隐患"


def test_api_versions_one_read(client, redis_conn) -> None:
    versions.bump(redis_conn, ["alerts"])
    response = client.get("/api/versions")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == set(versions.LAYERS)
    assert body == versions.read(redis_conn)


def test_index_page_is_local_and_chinese(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "unpkg.com" not in html and "cdn" not in html.lower()
    assert "gridcc_map.js" in html


def test_router_renders_the_map_page(app, client) -> None:
    import json

    payload = {
        "output": "gridcc-page.children",
        "outputs": {"id": "gridcc-page", "property": "children"},
        "inputs": [{"id": "gridcc-url", "property": "pathname", "value": "/"}],
        "state": [{"id": "gridcc-url", "property": "search", "value": ""}],
        "changedPropIds": ["gridcc-url.pathname"],
    }
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200
    text = json.dumps(response.get_json(), ensure_ascii=False)
    assert "铜梁区 · 网格治理一张图" in text
    assert "边界为示意（合成），非官方界线" in text
    payload["inputs"][0]["value"] = "/nowhere"
    assert "页面不存在" in json.dumps(
        client.post("/_dash-update-component", json=payload).get_json(), ensure_ascii=False
    )


def test_api_versions_says_redis_is_down(engine, database_url: str, tmp_path, grids) -> None:  # type: ignore[no-untyped-def]
    """With Redis unreachable, the 1 s tick hears it (503 ``{"redis": "down"}``: the wall says data has
    stopped), and nothing about the server (its socket path, the error) is in the answer."""
    from dashboard.app import create_app
    from dashboard.map.page import PAGE as MAP_PAGE
    from dashboard.page import PageRegistry
    from dashboard.services import services
    from data.settings import Settings

    gone = tmp_path / "no-redis.sock"
    settings = Settings(
        data_dir=tmp_path / "var", database_url=database_url, redis_url=f"unix://{gone}", auth_required=False
    )
    app = create_app(settings, pages=PageRegistry([MAP_PAGE]))
    try:
        response = app.server.test_client().get("/api/versions")
        assert response.status_code == 503
        assert response.headers["Cache-Control"] == "no-store"
        assert response.get_json() == {"redis": "down"}
    finally:
        services(app.server).close()
