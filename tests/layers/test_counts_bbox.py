"""Per-unit counts cut to a viewport bbox (what a bbox-loaded unit layer can hold)."""

from __future__ import annotations

import pytest

from data.db import transaction
from data.scope import AreaScope
from layers.counts import unit_counts
from layers.units import BBox
from tests.layers.hierarchy import DISTRICT, STREETS, add_case, build_hierarchy

WHOLE = AreaScope.district(DISTRICT)
WEST_STREET = AreaScope.of(STREETS[0])


@pytest.fixture
def grids(session_factory):  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        return build_hierarchy(session)


def test_counts_in_bbox(session_factory, grids) -> None:
    with transaction(session_factory) as session:
        add_case(session, grids[0], external_id="a", overdue=True)  # west street, south-west grid
        add_case(session, grids[0], external_id="b")
        add_case(session, grids[3], external_id="c")  # west street, north community
        add_case(session, grids[5], external_id="d", overdue=True)  # east street, south community
        add_case(session, grids[1], external_id="e", is_open=False, status="closed")
    south_west = BBox(105.91, 29.71, 105.92, 29.72)
    west = BBox(105.90, 29.70, 106.04, 29.95)
    everywhere = BBox(105.0, 29.0, 107.0, 31.0)
    with session_factory() as session:
        assert unit_counts(session, WHOLE, "grid", south_west) == {grids[0]: {"open": 2, "overdue": 1}}
        assert unit_counts(session, WHOLE, "community", south_west) == {
            "500151001001": {"open": 2, "overdue": 1}
        }
        assert unit_counts(session, WHOLE, "community", west) == {
            "500151001001": {"open": 2, "overdue": 1},
            "500151001002": {"open": 1, "overdue": 0},
        }
        # the whole box gives what the unbounded count gives
        assert unit_counts(session, WHOLE, "grid", everywhere) == unit_counts(session, WHOLE, "grid")
        # the scope still applies inside the box
        assert unit_counts(session, WEST_STREET, "grid", everywhere) == {
            grids[0]: {"open": 2, "overdue": 1},
            grids[3]: {"open": 1, "overdue": 0},
        }
        assert unit_counts(session, WHOLE, "grid", BBox(110.0, 20.0, 111.0, 21.0)) == {}
