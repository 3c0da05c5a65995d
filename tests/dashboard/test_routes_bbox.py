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
