"""Unit and count routes by viewport bbox (city-sized scopes), and the level-of-detail plan route."""

from __future__ import annotations

import geobuf

from data.db import transaction
from layers import versions
from tests.layers.hierarchy import STREETS, add_case

BAD = ("", "1,2,3", "a,b,c,d", "106,29,105,30", "1,2,3,4,5", "nan,1,2,3")


def _codes(body: bytes) -> list[str]:
    return [f["properties"]["code"] for f in (geobuf.decode(body) or {}).get("features", [])]


def test_units_by_bbox(client, redis_conn) -> None:
    v = versions.read(redis_conn)["units"]
    response = client.get(f"/layers/units/community.pbf?bbox=105.91,29.71,105.92,29.72&v={v}")
    assert response.status_code == 200
    assert response.mimetype == "application/x-protobuf"
    assert response.headers["Cache-Control"] == "private, max-age=86400, immutable"
    assert _codes(response.data) == ["500151001001"]
    # cached per bbox: another box is another payload
    east = client.get(f"/layers/units/street.pbf?bbox=106.10,29.71,106.12,29.72&v={v}")
    assert _codes(east.data) == [STREETS[1]]
    # without a bbox: the whole scope, as before
    assert _codes(client.get(f"/layers/units/community.pbf?v={v}").data) == [
        "500151001001",
        "500151001002",
        "500151002001",
        "500151002002",
    ]


def test_bad_bbox_is_400(client) -> None:
    for path in ("/layers/units/community.pbf", "/layers/units/street.pbf", "/layers/counts/grid.json"):
        for bad in BAD:
            response = client.get(f"{path}?bbox={bad}")
            assert response.status_code == 400, (path, bad)
            assert "bbox" in response.get_json()["error"]
            assert response.headers["Cache-Control"] == "no-store"
    # grids are only by bbox, whatever the query says
    assert client.get("/layers/units/grid.pbf?bbox=105.91,29.71,105.92,29.72").status_code == 400


def test_lod_plan_route(client, redis_conn) -> None:
    v = versions.read(redis_conn)["units"]
    response = client.get(f"/layers/units/lod.json?v={v}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, max-age=3600"
    body = response.get_json()
    assert body["sizes"] == {"district": 1, "street": 2, "community": 4, "grid": 8}
    assert body["bbox"] == ["grid"]


def test_counts_by_bbox_follow_the_version(client, session_factory, grids, redis_conn) -> None:
    with transaction(session_factory) as session:
        add_case(session, grids[0], external_id="a", overdue=True)
        add_case(session, grids[5], external_id="b")
    versions.bump(redis_conn, ["cases"])
    v = versions.read(redis_conn)["cases"]
    south_west = "105.91,29.71,105.92,29.72"
    response = client.get(f"/layers/counts/grid.json?bbox={south_west}&v={v}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, max-age=3600"
    assert response.get_json() == {grids[0]: {"open": 1, "overdue": 1}}
    assert client.get(f"/layers/counts/grid.json?v={v}").get_json() == {
        grids[0]: {"open": 1, "overdue": 1},
        grids[5]: {"open": 1, "overdue": 0},
    }
    with transaction(session_factory) as session:
        add_case(session, grids[0], external_id="c")
    # same version: the cached payload; the next version: the new count
    assert client.get(f"/layers/counts/grid.json?bbox={south_west}&v={v}").get_json()[grids[0]]["open"] == 1
    versions.bump(redis_conn, ["cases"])
    v2 = versions.read(redis_conn)["cases"]
    assert client.get(f"/layers/counts/grid.json?bbox={south_west}&v={v2}").get_json() == {
        grids[0]: {"open": 2, "overdue": 1}
    }


def _case_ids(body: bytes) -> list[int]:
    return sorted(f["properties"]["id"] for f in (geobuf.decode(body) or {}).get("features", []))


def test_cases_by_view_routes(client, session_factory, grids, redis_conn) -> None:
    with transaction(session_factory) as session:
        a = add_case(session, grids[0], external_id="a", overdue=True).id
        b = add_case(session, grids[5], external_id="b").id
        add_case(session, grids[6], external_id="c")
    versions.bump(redis_conn, ["cases"])
    v = versions.read(redis_conn)["cases"]
    south_west = "105.93,29.75,105.95,29.77"  # around the south-west grid's centre
    # the cases of a view: only those inside it
    response = client.get(f"/layers/cases.pbf?bbox={south_west}&v={v}")
    assert response.status_code == 200
    assert response.mimetype == "application/x-protobuf"
    assert response.headers["Cache-Control"] == "private, max-age=3600"
    assert _case_ids(response.data) == [a]
    # with the duty officer's filters as well
    east = f"/layers/cases.pbf?bbox=106.05,29.70,106.20,29.95&street={STREETS[1]}&v={v}"
    assert len(_case_ids(client.get(east).data)) == 2
    assert b in _case_ids(client.get(east).data)
    # clusters made on the server: every open case of the view in one bubble or another
    got = client.get(f"/layers/cases/clusters.json?bbox=105.0,29.0,107.0,31.0&zoom=6&v={v}")
    assert got.status_code == 200
    assert got.headers["Cache-Control"] == "private, max-age=3600"
    bubbles = [f["properties"] for f in got.get_json()["features"]]
    assert sum(b["count"] for b in bubbles) == 3
    assert sum(b["overdue"] for b in bubbles) == 1
    near = client.get(f"/layers/cases/clusters.json?bbox={south_west}&zoom=13&v={v}").get_json()
    assert [(f["properties"]["count"], f["properties"]["overdue"]) for f in near["features"]] == [(1, 1)]
    # a new case: the same version answers from the cache, the next one counts it
    with transaction(session_factory) as session:
        add_case(session, grids[0], external_id="d")
    assert len(client.get(f"/layers/cases.pbf?bbox={south_west}&v={v}").data) == len(response.data)
    versions.bump(redis_conn, ["cases"])
    v2 = versions.read(redis_conn)["cases"]
    assert len(_case_ids(client.get(f"/layers/cases.pbf?bbox={south_west}&v={v2}").data)) == 2


def test_cases_by_view_bad_requests(client) -> None:
    for bad in BAD:
        for path in ("/layers/cases/clusters.json?zoom=10&", "/layers/cases.pbf?"):
            if path == "/layers/cases.pbf?" and bad == "":
                continue  # no bbox at all: the whole layer (a district-sized scope)
            response = client.get(f"{path}bbox={bad}")
            assert response.status_code == 400, (path, bad)
            assert "bbox" in response.get_json()["error"]
    for zoom in ("", "x", "-1", "21", "10.5"):
        response = client.get(f"/layers/cases/clusters.json?bbox=105,29,107,31&zoom={zoom}")
        assert response.status_code == 400, zoom
        assert "zoom" in response.get_json()["error"]
    assert client.get("/layers/cases/clusters.json?bbox=105,29,107,31&zoom=9&street=bad").status_code == 400
    assert client.get("/layers/cases.pbf?period=1h").status_code == 400
    assert client.get("/layers/cases/clusters.json?bbox=105,29,107,31&zoom=9&period=1h").status_code == 400


def test_lod_plan_says_how_cases_come(
    client, redis_conn, session_factory, grids, database_url, redis_url, tmp_path
) -> None:
    from dashboard.app import create_app
    from dashboard.map.page import PAGE as MAP_PAGE
    from dashboard.page import PageRegistry
    from dashboard.services import services
    from data.settings import Settings

    with transaction(session_factory) as session:
        add_case(session, grids[0], external_id="x")
    v = versions.read(redis_conn)["units"]
    plan = client.get(f"/layers/units/lod.json?v={v}").get_json()
    assert plan["open_cases"] == 1
    assert plan["cases_by_view"] is False  # 1 open case, 4 communities: whole
    # a deployment whose limit is below the scope's open cases: by view
    settings = Settings(
        data_dir=tmp_path / "var2",
        database_url=database_url,
        redis_url=redis_url,
        map_cases_whole_max=0,
        auth_required=False,  # access is not what this test is about
    )
    other = create_app(settings, pages=PageRegistry([MAP_PAGE]))
    try:
        versions.bump(redis_conn, ["units"])  # the plan is built once per units version
        v2 = versions.read(redis_conn)["units"]
        response = other.server.test_client().get(f"/layers/units/lod.json?v={v2}")
        assert response.status_code == 200, response.data
        assert response.get_json()["cases_by_view"] is True
    finally:
        services(other.server).close()
