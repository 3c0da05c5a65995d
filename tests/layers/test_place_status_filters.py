"""Community and grid filters and a status filter that includes closed cases: the duty table, the map's
layers (whole, by view, clustered) and the URL agree on which cases they mean (issue 13, item 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from data.case_filter import CaseFilter
from data.db import transaction
from data.scope import AreaScope
from tests.data.helpers import add_case, build_units
from tests.layers.test_case_filter_agreement import _map, _table

NOW = datetime.now(UTC)


@pytest.fixture
def world(session_factory):  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        u = build_units(session)
        ids: dict[str, int] = {}
        for n, (name, grid, status) in enumerate(
            (
                ("g0", u.grids[0], "accepted"),
                ("g1", u.grids[1], "accepted"),  # same community as g0, another grid
                ("g2", u.grids[2], "in_progress"),  # another community
                ("g0_closed", u.grids[0], "closed"),
                ("g2_resolved", u.grids[2], "resolved"),
            )
        ):
            x0, y0, x1, y1 = u.boxes[grid]
            case = add_case(session, grid, NOW - timedelta(hours=3 + n), status=status,
                            lon=(x0 + x1) / 2, lat=(y0 + y1) / 2)  # fmt: skip
            ids[name] = case.id
        return AreaScope.district(u.district), ids, u


def test_community_and_grid_filters(world, session_factory) -> None:  # type: ignore[no-untyped-def]
    scope, ids, u = world
    community = u.grids[0][:12]
    by_community = CaseFilter(community=community)
    assert _table(session_factory, scope, by_community) == {ids["g0"], ids["g1"]}
    assert _map(session_factory, scope, by_community) == {ids["g0"], ids["g1"]}
    by_grid = CaseFilter(grid=u.grids[1])
    assert _table(session_factory, scope, by_grid) == _map(session_factory, scope, by_grid) == {ids["g1"]}


def test_closed_cases_in_the_table_and_the_map(world, session_factory) -> None:  # type: ignore[no-untyped-def]
    scope, ids, _u = world
    closed = CaseFilter(statuses=("closed",), period="7d")
    assert (
        _table(session_factory, scope, closed) == _map(session_factory, scope, closed) == {ids["g0_closed"]}
    )
    resolved = CaseFilter(statuses=("resolved",))
    assert _table(session_factory, scope, resolved) == {ids["g2_resolved"]}
    # no status: the open cases only, as before
    assert _table(session_factory, scope, CaseFilter()) == {ids["g0"], ids["g1"], ids["g2"]}


def test_url_form_round_trips_places_and_closed() -> None:
    f = CaseFilter.from_query(
        {"street": "500151001", "community": "500151001001", "grid": "500151001001002", "status": "closed"}
    )
    assert (f.community, f.grid, f.statuses) == ("500151001001", "500151001001002", ("closed",))
    assert CaseFilter.from_args(f.as_args()) == f
    assert "community=500151001001" in f.search() and "grid=500151001001002" in f.search()
    assert f.key != CaseFilter(street="500151001").key
    # leniently dropped: a malformed community, an unknown status
    assert CaseFilter.from_query({"community": "50015", "status": "gone"}) == CaseFilter()
    with pytest.raises(ValueError):
        CaseFilter.from_args({"grid": "123"})
