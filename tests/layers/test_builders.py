"""Layer builders against a real (migrated) database with a hand-made hierarchy."""

from __future__ import annotations

import geobuf
import pytest
from shapely.geometry import shape

from data.case_filter import CaseFilter
from data.db import transaction
from data.scope import AreaScope
from layers.alerts import build_alerts
from layers.cases import build_cases
from layers.counts import unit_counts
from layers.risks import build_risks
from layers.units import BBox, UnknownLevel, build_units, grids_in_bbox, scope_bounds
from tests.layers.hierarchy import (
    DISTRICT,
    STREETS,
    add_alert,
    add_case,
    add_pointless_case,
    add_risk,
    build_hierarchy,
    grid_box,
)

WHOLE = AreaScope.district(DISTRICT)
WEST_STREET = AreaScope.of(STREETS[0])


@pytest.fixture
def grids(session_factory):  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        return build_hierarchy(session)


def _decode(body: bytes) -> list[dict]:
    return list(geobuf.decode(body)["features"])


def test_units_geobuf_has_features_and_properties(session_factory, grids) -> None:
    with session_factory() as session:
        streets = _decode(build_units(session, WHOLE, "street"))
        communities = _decode(build_units(session, WHOLE, "community"))
    assert [f["properties"]["code"] for f in streets] == list(STREETS)
    props = streets[0]["properties"]
    assert props["name"] == "巴川街道" and props["level"] == "street" and props["parent_code"] == DISTRICT
    assert len(props["label"]) == 2
    assert len(communities) == 4
    geom = shape(streets[0]["geometry"])
    assert geom.geom_type == "Polygon" and geom.area > 0
    for x, y in streets[0]["geometry"]["coordinates"][0]:
        assert round(x, 6) == x and round(y, 6) == y


def test_units_street_scope_sees_only_its_street(session_factory, grids) -> None:
    with session_factory() as session:
        streets = _decode(build_units(session, WEST_STREET, "street"))
        communities = _decode(build_units(session, WEST_STREET, "community"))
        districts = _decode(build_units(session, WEST_STREET, "district"))
    assert [f["properties"]["code"] for f in streets] == [STREETS[0]]
    assert {f["properties"]["code"][:9] for f in communities} == {STREETS[0]}
    assert len(communities) == 2
    # the surrounding district outline is context, not data: it is still drawn
    assert [f["properties"]["code"] for f in districts] == [DISTRICT]


def test_units_unknown_level_rejected(session_factory, grids) -> None:
    with session_factory() as session, pytest.raises(UnknownLevel):
        build_units(session, WHOLE, "province")
    with session_factory() as session, pytest.raises(UnknownLevel):
        build_units(session, WHOLE, "grid")  # grids only by bbox


def test_grids_in_bbox_only_intersecting_and_capped(session_factory, grids) -> None:
    # a small box inside the south-west community's west grid
    inner = BBox(105.91, 29.71, 105.92, 29.72)
    with session_factory() as session:
        one = grids_in_bbox(session, WHOLE, inner)
        every = grids_in_bbox(session, WHOLE, BBox(105.0, 29.0, 107.0, 31.0))
        capped = grids_in_bbox(session, WHOLE, BBox(105.0, 29.0, 107.0, 31.0), cap=3)
        scoped = grids_in_bbox(session, WEST_STREET, BBox(105.0, 29.0, 107.0, 31.0))
        outside = grids_in_bbox(session, WHOLE, BBox(110.0, 20.0, 111.0, 21.0))
    assert [f["properties"]["code"] for f in _decode(one.body)] == ["500151001001001"]
    assert not one.truncated
    assert every.count == 8 and not every.truncated
    assert capped.count == 3 and capped.truncated
    assert {f["properties"]["code"][:9] for f in _decode(scoped.body)} == {STREETS[0]}
    assert outside.count == 0


def test_bbox_parse_rejects_bad_input() -> None:
    assert BBox.parse("105.9,29.7,106.2,29.95").east == 106.2
    for bad in ("", "1,2,3", "a,b,c,d", "1,2,3,4,5", "106,29,105,30", "nan,1,2,3", "1,2,inf,4"):
        with pytest.raises(ValueError):
            BBox.parse(bad)


def test_scope_bounds(session_factory, grids) -> None:
    with session_factory() as session:
        assert scope_bounds(session, WHOLE) == pytest.approx((105.90, 29.70, 106.20, 29.95))
        assert scope_bounds(session, AreaScope.of("500152")) is None


def test_cases_layer_properties_filters_and_scope(session_factory, grids) -> None:
    with transaction(session_factory) as session:
        a = add_case(session, grids[0], external_id="a", title="<img src=x onerror=alert(1)>", overdue=True)
        add_case(session, grids[1], external_id="b", status="in_progress")
        add_case(session, grids[5], external_id="c", status="reported")
        add_case(session, grids[6], external_id="closed", status="closed", is_open=False)
        # half a point is no point: drawn at its grid's label point, approximate
        add_case(session, grids[7], external_id="half", title="半个坐标").lon = None
        add_pointless_case(session, STREETS[1], external_id="street-only", title="只知镇街")
    with session_factory() as session:
        every = _decode(build_cases(session, WHOLE))
        west = _decode(build_cases(session, WEST_STREET))
        filtered = _decode(build_cases(session, WHOLE, CaseFilter(street=STREETS[1])))
        by_status = _decode(build_cases(session, WHOLE, CaseFilter(statuses=("in_progress",))))
    assert {f["properties"]["title"] for f in every} == {
        "<img src=x onerror=alert(1)>",
        "占道经营",
        "半个坐标",
    }
    assert len(every) == 4
    half = next(f for f in every if f["properties"]["title"] == "半个坐标")
    assert half["properties"]["approx"] == "grid"
    assert shape(half["geometry"]).within(grid_box(grids[7]))
    first = next(f for f in every if f["properties"]["id"] == a.id)["properties"]
    assert first["overdue"] is True and first["status"] == "accepted" and first["category"] == "城市管理"
    assert first["supervision"] == "yellow" and isinstance(first["deadline"], int)
    assert len(west) == 2
    assert sorted(f["properties"]["status"] for f in filtered) == ["accepted", "reported"]
    assert [f["properties"]["status"] for f in by_status] == ["in_progress"]


def test_case_filters_validate() -> None:
    assert CaseFilter.from_args({"status": "reported,accepted"}).statuses == ("accepted", "reported")
    assert CaseFilter.from_args({}).key == ""
    assert CaseFilter(street="500151001").key == "s=500151001"
    for bad in ({"street": "12"}, {"status": "bogus"}, {"category": "x' or 1=1"}):
        with pytest.raises(ValueError):
            CaseFilter.from_args(bad)


def test_counts_per_level(session_factory, grids) -> None:
    with transaction(session_factory) as session:
        add_case(session, grids[0], external_id="a", overdue=True)
        add_case(session, grids[0], external_id="b")
        add_case(session, grids[3], external_id="c")
        add_case(session, grids[5], external_id="d", overdue=True)
        add_case(session, grids[6], external_id="e", is_open=False, status="closed")
    with session_factory() as session:
        assert unit_counts(session, WHOLE, "district") == {DISTRICT: {"open": 4, "overdue": 2}}
        assert unit_counts(session, WHOLE, "street") == {
            STREETS[0]: {"open": 3, "overdue": 1},
            STREETS[1]: {"open": 1, "overdue": 1},
        }
        assert unit_counts(session, WHOLE, "grid")[grids[0]] == {"open": 2, "overdue": 1}
        assert unit_counts(session, WEST_STREET, "street") == {STREETS[0]: {"open": 3, "overdue": 1}}
        with pytest.raises(UnknownLevel):
            unit_counts(session, WHOLE, "city")


def test_alerts_list_covered_grids_with_masked_phones(session_factory, grids) -> None:
    with transaction(session_factory) as session:
        alert = add_alert(session, [grids[0], grids[1], grids[4]])
    with session_factory() as session:
        whole = build_alerts(session, WHOLE)
        east = build_alerts(session, AreaScope.of(STREETS[1]))
        elsewhere = build_alerts(session, AreaScope.of("500152"))
    (feature,) = whole["features"]
    props = feature["properties"]
    assert props["id"] == alert.id and props["colour"] == "orange" and props["state"] == "new"
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert [g["code"] for g in props["grids"]] == [grids[0], grids[1], grids[4]]
    phones = [w["phone"] for g in props["grids"] for w in g["workers"]]
    assert phones and all("****" in p for p in phones)
    assert "13800000000" not in repr(whole)
    # the east street sees the warning (it covers one of its grids) but only its own grid listed
    assert [g["code"] for g in east["features"][0]["properties"]["grids"]] == [grids[4]]
    assert elsewhere["features"] == []


def test_expired_and_dismissed_alerts_left_out(session_factory, grids) -> None:
    from datetime import UTC, datetime, timedelta

    with transaction(session_factory) as session:
        old = add_alert(session, [grids[0]], headline="旧")
        old.expires = datetime.now(UTC) - timedelta(minutes=1)
        add_alert(session, [grids[1]], headline="已排除").state = "dismissed"
        add_alert(session, [grids[2]], headline="有效")
    with session_factory() as session:
        headlines = [f["properties"]["headline"] for f in build_alerts(session, WHOLE)["features"]]
    assert headlines == ["有效"]


def test_risks_layer(session_factory, grids) -> None:
    with transaction(session_factory) as session:
        add_risk(session, grids[0], overdue=True)
        add_risk(session, grids[5], title="燃气隐患")
    with session_factory() as session:
        whole = build_risks(session, WHOLE)["features"]
        west = build_risks(session, WEST_STREET)["features"]
    assert len(whole) == 2
    assert [f["properties"]["overdue"] for f in whole] == [True, False]
    assert [f["properties"]["title"] for f in west] == ["危房隐患"]
