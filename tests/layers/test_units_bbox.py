"""Units of any level by viewport bbox, and the level-of-detail plan (whole scope vs by bbox)."""

from __future__ import annotations

import geobuf
import pytest

from data.db import transaction
from data.scope import AreaScope
from layers.units import BBox, UnknownLevel, lod_plan, unit_sizes, units_in_bbox
from tests.layers.hierarchy import DISTRICT, STREETS, build_hierarchy

WHOLE = AreaScope.district(DISTRICT)
WEST_STREET = AreaScope.of(STREETS[0])
EVERYWHERE = BBox(105.0, 29.0, 107.0, 31.0)


@pytest.fixture
def grids(session_factory):  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        return build_hierarchy(session)


def _codes(body: bytes) -> list[str]:
    return [f["properties"]["code"] for f in (geobuf.decode(body) or {}).get("features", [])]


def test_communities_in_bbox_only_intersecting_of_that_level(session_factory, grids) -> None:
    # a small box in the south-west community (west street, south half)
    inner = BBox(105.91, 29.71, 105.92, 29.72)
    with session_factory() as session:
        one = units_in_bbox(session, WHOLE, "community", inner)
        streets = units_in_bbox(session, WHOLE, "street", inner)
        every = units_in_bbox(session, WHOLE, "community", EVERYWHERE)
        outside = units_in_bbox(session, WHOLE, "community", BBox(110.0, 20.0, 111.0, 21.0))
    assert _codes(one.body) == ["500151001001"]
    assert one.count == 1 and not one.truncated
    assert _codes(streets.body) == [STREETS[0]]
    assert _codes(every.body) == ["500151001001", "500151001002", "500151002001", "500151002002"]
    assert outside.count == 0 and _codes(outside.body) == []
    feature = geobuf.decode(one.body)["features"][0]
    assert feature["properties"]["level"] == "community"
    assert feature["properties"]["parent_code"] == STREETS[0]


def test_units_in_bbox_box_touching_but_shape_not_is_left_out(session_factory, grids) -> None:
    # a box straddling the two streets' border, north half only: both north communities, not the south
    with session_factory() as session:
        north = units_in_bbox(session, WHOLE, "community", BBox(106.04, 29.90, 106.06, 29.94))
    assert _codes(north.body) == ["500151001002", "500151002002"]


def test_units_in_bbox_respects_scope_and_cap(session_factory, grids) -> None:
    with session_factory() as session:
        scoped = units_in_bbox(session, WEST_STREET, "community", EVERYWHERE)
        capped = units_in_bbox(session, WHOLE, "community", EVERYWHERE, cap=3)
        # the street officer still sees the district outline around the street
        district = units_in_bbox(session, WEST_STREET, "district", EVERYWHERE)
        nothing = units_in_bbox(session, AreaScope.of("500152"), "community", EVERYWHERE)
    assert {c[:9] for c in _codes(scoped.body)} == {STREETS[0]} and scoped.count == 2
    assert capped.count == 3 and capped.truncated
    assert _codes(capped.body) == ["500151001001", "500151001002", "500151002001"]
    assert _codes(district.body) == [DISTRICT]
    assert nothing.count == 0


def test_units_in_bbox_unknown_level(session_factory, grids) -> None:
    with session_factory() as session, pytest.raises(UnknownLevel):
        units_in_bbox(session, WHOLE, "province", EVERYWHERE)


def test_unit_sizes_and_lod_plan(session_factory, grids) -> None:
    with session_factory() as session:
        assert unit_sizes(session, WHOLE) == {"district": 1, "street": 2, "community": 4, "grid": 8}
        assert unit_sizes(session, WEST_STREET) == {"district": 1, "street": 1, "community": 2, "grid": 4}
        assert unit_sizes(session, AreaScope.of("500152")) == {
            "district": 0,
            "street": 0,
            "community": 0,
            "grid": 0,
        }
    # a district: streets and communities whole, grids by bbox
    assert lod_plan({"district": 1, "street": 28, "community": 333, "grid": 2331})["bbox"] == ["grid"]
    # the city: streets and communities by bbox too
    city = lod_plan({"district": 38, "street": 1031, "community": 11270, "grid": 78890})
    assert city["bbox"] == ["street", "community", "grid"]
    assert city["whole_max"] == 600
    assert lod_plan({"district": 1, "street": 2, "community": 4, "grid": 8}, limit=3)["bbox"] == [
        "community",
        "grid",
    ]
