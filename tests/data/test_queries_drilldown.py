"""The overdue drill-down: counts add up from grid to district, due-soon boundary, late cases sorted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from data.queries import AreaScope, overdue_by_unit, overdue_cases
from data.text import label
from tests.data.helpers import Units, add_case, build_units

NOW = datetime(2025, 6, 15, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def world(session_factory) -> Iterator[tuple[Session, Units]]:  # type: ignore[no-untyped-def]
    session = session_factory()
    u = build_units(session)
    g = u.grids  # 8 grids: street A = g[0..3], street B = g[4..7]
    # limit 10 h: overdue when accepted more than 10 h ago; due soon from 8 h
    add_case(
        session, g[0], NOW - 30 * H, limit_hours=10, escalation_level="district", supervision="red"
    )  # 20 h late
    add_case(
        session, g[0], NOW - 12 * H, limit_hours=10, escalation_level="district", supervision="yellow"
    )  # 2 h
    add_case(session, g[1], NOW - 8 * H, limit_hours=10)  # exactly 80 %: due soon
    add_case(session, g[1], NOW - 7.9 * H, limit_hours=10)  # not yet
    add_case(
        session, g[2], NOW - 11 * H, limit_hours=10, department="police", escalation_level="district"
    )  # 1 h
    add_case(session, g[2], NOW - 11 * H, limit_hours=10, status="closed", resolved_at=NOW - 1 * H)  # closed
    add_case(session, g[5], NOW - 50 * H, limit_hours=10)  # street B, 40 h late
    add_case(session, g[6], NOW - 9 * H, limit_hours=10)  # street B, due soon
    add_case(session, u.streets[0], NOW - 15 * H, limit_hours=10)  # placed at street level only, 5 h late
    add_case(session, g[3], NOW, limit_hours=None, status="reported")  # no deadline yet
    session.commit()
    yield session, u
    session.close()


def _totals(rows: list) -> tuple[int, int, int]:  # type: ignore[type-arg]
    return sum(r.overdue for r in rows), sum(r.due_soon for r in rows), sum(r.open for r in rows)


def test_district_to_streets(world: tuple[Session, Units]) -> None:
    session, u = world
    rows = overdue_by_unit(session, AreaScope.district(u.district), u.district, NOW)
    by_code = {r.code: r for r in rows}
    a, b = by_code[u.streets[0]], by_code[u.streets[1]]
    assert (a.overdue, a.due_soon, a.open) == (4, 1, 7)
    assert (b.overdue, b.due_soon, b.open) == (1, 1, 2)
    assert a.name == "巴川街道" and a.level == "street" and a.has_children
    assert [r.code for r in rows] == [u.streets[0], u.streets[1]]  # most overdue first
    assert _totals(rows) == (5, 2, 9)


def test_counts_add_up_from_grid_to_district(world: tuple[Session, Units]) -> None:
    session, u = world
    scope = AreaScope.district(u.district)
    streets = overdue_by_unit(session, scope, u.district, NOW)
    for street in streets:
        communities = overdue_by_unit(session, scope, street.code, NOW)
        assert _totals(communities) == (street.overdue, street.due_soon, street.open)
        for community in communities:
            if not community.code:
                continue
            grids = overdue_by_unit(session, scope, community.code, NOW)
            assert [g.level for g in grids] == ["grid"] * 2 and not any(g.has_children for g in grids)
            assert _totals(grids) == (community.overdue, community.due_soon, community.open)
    # the street-level-only case shows as its own row under street A
    communities = overdue_by_unit(session, scope, u.streets[0], NOW)
    assert [(r.code, r.name, r.overdue) for r in communities if not r.code] == [("", "未落到下级", 1)]
    assert overdue_by_unit(session, scope, u.grids[0], NOW) == []


def test_scope_limits_children_and_counts(world: tuple[Session, Units]) -> None:
    session, u = world
    scope = AreaScope.of(u.streets[1])
    rows = overdue_by_unit(session, scope, u.district, NOW)
    assert [(r.code, r.overdue, r.due_soon, r.open) for r in rows] == [(u.streets[1], 1, 1, 2)]
    assert overdue_by_unit(session, scope, u.streets[0], NOW) == []
    assert overdue_cases(session, scope, u.streets[0], NOW) == []
    grid_scope = AreaScope.of(u.grids[1])
    rows = overdue_by_unit(session, grid_scope, u.communities[0], NOW)
    assert [(r.code, r.due_soon, r.open) for r in rows] == [(u.grids[1], 1, 2)]


def test_overdue_cases_sorted_by_lateness_with_who_and_where(world: tuple[Session, Units]) -> None:
    session, u = world
    rows = overdue_cases(session, AreaScope.district(u.district), u.district, NOW)
    assert [round(r.hours_late or 0, 3) for r in rows] == [40.0, 20.0, 5.0, 2.0, 1.0]
    first_a = rows[1]
    assert first_a.grid_name == u.names[u.grids[0]]
    assert (first_a.escalation_level, first_a.supervision) == (
        "district",
        "red",
    )  # codes: the screens label them
    assert (label("escalation", "district"), label("supervision", "red")) == ("区县", "红牌督办")
    assert rows[3].supervision == "yellow"
    assert rows[4].department_name == "区公安分局"
    assert first_a.department_name == "区生态环境局"
    assert first_a.status == "accepted" and first_a.overdue and not first_a.due_soon
    assert [
        r.hours_late for r in overdue_cases(session, AreaScope.district(u.district), u.district, NOW, 2)
    ] == [
        pytest.approx(40.0),
        pytest.approx(20.0),
    ]
    in_grid = overdue_cases(session, AreaScope.district(u.district), u.grids[0], NOW)
    assert len(in_grid) == 2
