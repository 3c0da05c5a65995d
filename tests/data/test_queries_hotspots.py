"""Class cases (类案): recurring same-category cases in one grid or within 300 m, within 30 days."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from data.queries import AreaScope, hotspots
from data.text import label
from tests.data.helpers import Units, add_case, build_units

NOW = datetime(2025, 6, 15, 2, 0, tzinfo=UTC)
D = timedelta(days=1)


@pytest.fixture
def units(session_factory) -> Iterator[tuple[Session, Units]]:  # type: ignore[no-untyped-def]
    session = session_factory()
    u = build_units(session)
    session.commit()
    yield session, u
    session.close()


def test_three_in_one_grid_within_30_days_is_one_hotspot(units: tuple[Session, Units]) -> None:
    session, u = units
    grid = u.grids[0]
    x, y = u.centre(grid)
    ids = [add_case(session, grid, NOW - d * D, lon=x, lat=y).id for d in (20, 3, 1)]
    add_case(session, grid, NOW - 2 * D, category="city.clutter")  # another category
    add_case(session, u.grids[1], NOW - 2 * D)  # another grid, 1 km away
    session.commit()
    items = hotspots(session, AreaScope.district(u.district), NOW)
    assert len(items) == 1
    h = items[0]
    assert (h.kind, h.category_code, h.category_name, h.count) == ("grid", "environment.noise", "噪声扰民", 3)
    assert (h.place_code, h.place_name) == (grid, u.names[grid])
    assert h.case_ids == tuple(sorted(ids))
    assert (h.recent, h.previous, h.trend, label("trend", h.trend)) == (2, 1, "up", "上升")
    assert h.lon == pytest.approx(x) and h.lat == pytest.approx(y)
    # out of scope: nothing
    assert hotspots(session, AreaScope.of(u.streets[1]), NOW) == []


def test_three_spread_over_three_months_is_not(units: tuple[Session, Units]) -> None:
    session, u = units
    for days in (5, 40, 80):
        add_case(session, u.grids[0], NOW - days * D)
    session.commit()
    assert hotspots(session, AreaScope.district(u.district), NOW) == []
    assert len(hotspots(session, AreaScope.district(u.district), NOW, days=90)) == 1


def test_within_300_m_across_a_grid_boundary(units: tuple[Session, Units]) -> None:
    session, u = units
    left, right = u.grids[0], u.grids[1]  # neighbours in one community, boundary at x = 106.01
    boundary = u.boxes[left][2]
    y = u.centre(left)[1]
    for grid, dx in ((left, -0.0005), (left, -0.0001), (right, 0.0008)):  # ~50–125 m from each other
        add_case(session, grid, NOW - 2 * D, lon=boundary + dx, lat=y)
    # the same three, 2 km apart: nothing
    for grid in (u.grids[4], u.grids[6], u.grids[7]):
        x4, y4 = u.centre(grid)
        add_case(session, grid, NOW - 2 * D, category="city.clutter", lon=x4, lat=y4)
    session.commit()
    items = hotspots(session, AreaScope.district(u.district), NOW)
    assert [(h.kind, h.count, h.place_code, h.place_name) for h in items] == [
        ("proximity", 3, u.communities[0], "东方社区")  # the name people use, not the committee's
    ]
    assert items[0].trend == "up"
    assert hotspots(session, AreaScope.district(u.district), NOW, radius_m=50) == []


def test_a_hotspot_is_found_again_by_its_key_after_more_cases_join(units: tuple[Session, Units]) -> None:
    from data.queries import find_hotspot, hotspot_cases

    session, u = units
    left, right = u.grids[0], u.grids[1]
    boundary, y = u.boxes[left][2], u.centre(left)[1]
    for grid, dx in ((left, -0.0005), (left, -0.0001), (right, 0.0008)):
        add_case(session, grid, NOW - 2 * D, lon=boundary + dx, lat=y)
    for days in (20, 3, 1):
        add_case(session, u.grids[4], NOW - days * D, category="city.clutter")
    session.commit()
    scope = AreaScope.district(u.district)
    near, grid = sorted(hotspots(session, scope, NOW), key=lambda h: h.kind)[::-1]
    assert (near.kind, grid.kind) == ("proximity", "grid")
    assert grid.key == f"grid~city.clutter~{u.grids[4]}"
    assert near.key == f"near~environment.noise~{u.communities[0]}~{near.case_ids[0]}"
    add_case(session, right, NOW - D, lon=boundary + 0.0004, lat=y)  # a fourth joins
    session.commit()
    again = find_hotspot(session, scope, NOW, near.key)
    assert again is not None and again.count == 4 and near.case_ids[0] in again.case_ids
    assert [r.id for r in hotspot_cases(session, scope, again, NOW)] == sorted(again.case_ids, reverse=True)
    found = find_hotspot(session, scope, NOW, grid.key)
    assert found is not None and found.case_ids == grid.case_ids
    # out of scope, or not a hotspot of this window: nothing
    assert grid.key.split("~")[2].startswith(u.streets[1])
    assert find_hotspot(session, AreaScope.of(u.streets[0]), NOW, grid.key) is None
    assert find_hotspot(session, scope, NOW + 40 * D, grid.key) is None
    for bad in ("", "grid", "grid~~x", "near~environment.noise~x~1", "grid~a~b~c~d", "~" * 200):
        assert find_hotspot(session, scope, NOW, bad) is None
