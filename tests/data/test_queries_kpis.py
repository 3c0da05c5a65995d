"""KPIs on hand-made cases: exact numbers, scope, Asia/Shanghai period boundaries, zero denominators."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from data.queries import AreaScope, format_rate, kpis, period_today, period_year
from tests.data.helpers import Units, add_case, build_units

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 15, 10, 0, tzinfo=SH).astimezone(UTC)  # 02:00 UTC


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)  # type: ignore[misc]


@pytest.fixture
def world(session_factory) -> Iterator[tuple[Session, Units]]:  # type: ignore[no-untyped-def]
    session = session_factory()
    units = build_units(session)
    a, b = units.grids_of(units.streets[0])[0], units.grids_of(units.streets[1])[0]
    acc1 = sh(2025, 3, 1, 8)
    acc2 = sh(2025, 3, 2, 8)
    acc3 = sh(2025, 3, 3, 8)
    add_case(
        session, a, acc1, status="closed", resolved_at=acc1 + timedelta(hours=24), satisfaction="satisfied"
    )
    add_case(session, a, acc2, status="closed", resolved_at=acc2 + timedelta(hours=96), satisfaction="basic")
    add_case(session, a, acc3, status="resolved", resolved_at=acc3 + timedelta(hours=48))
    add_case(session, a, NOW - timedelta(hours=100), status="in_progress")  # overdue now
    add_case(session, a, NOW - timedelta(hours=20), status="accepted")
    new_year = sh(2025, 1, 1, 0, 30)  # 2024-12-31 16:30 UTC: in 2025 locally
    add_case(
        session,
        a,
        new_year,
        status="closed",
        resolved_at=new_year + timedelta(hours=12),
        satisfaction="unsatisfied",
    )
    add_case(session, a, sh(2025, 6, 15, 0, 30), status="accepted")  # today locally, 2025-06-14 UTC
    add_case(session, a, sh(2025, 6, 14, 23, 50), status="accepted")  # yesterday locally, same UTC day
    old = sh(2024, 12, 31, 23, 30)
    add_case(session, a, old, status="closed", resolved_at=old + timedelta(hours=1), satisfaction="satisfied")
    # the other street
    add_case(
        session, b, acc1, status="closed", resolved_at=acc1 + timedelta(hours=5), satisfaction="satisfied"
    )
    add_case(session, b, NOW - timedelta(hours=200), status="assigned")
    session.commit()
    yield session, units
    session.close()


def test_periods_are_local_days_and_years() -> None:
    start, end = period_today(NOW, "Asia/Shanghai")
    assert start == datetime(2025, 6, 14, 16, tzinfo=UTC)
    assert end == datetime(2025, 6, 15, 16, tzinfo=UTC)
    start, end = period_year(NOW, SH)
    assert start == datetime(2024, 12, 31, 16, tzinfo=UTC)
    assert end == datetime(2025, 12, 31, 16, tzinfo=UTC)


def test_year_kpis_of_one_street(world: tuple[Session, Units]) -> None:
    session, units = world
    start, end = period_year(NOW, SH)
    k = kpis(session, AreaScope.of(units.streets[0]), start, end, NOW)
    assert k.received == 8
    assert k.closed == 4
    assert k.closure_rate == 0.5
    assert (k.judged, k.on_time, k.on_time_rate) == (4, 3, 0.75)
    assert (k.rated, k.satisfied) == (3, 2)
    assert k.satisfaction_rate == pytest.approx(2 / 3)
    assert k.satisfied_strict_rate == pytest.approx(1 / 3)
    assert (k.open, k.overdue) == (4, 1)
    assert k.mean_handling_hours == pytest.approx(45.0)


def test_today_counts_by_shanghai_midnight(world: tuple[Session, Units]) -> None:
    session, units = world
    start, end = period_today(NOW, SH)
    k = kpis(session, AreaScope.of(units.streets[0]), start, end, NOW)
    assert k.received == 1
    assert k.closure_rate == 0.0
    assert k.on_time_rate is None and k.satisfaction_rate is None and k.mean_handling_hours is None
    assert format_rate(k.on_time_rate) == "—"
    assert format_rate(k.closure_rate) == "0.0%"


def test_district_scope_includes_both_streets(world: tuple[Session, Units]) -> None:
    session, units = world
    start, end = period_year(NOW, SH)
    k = kpis(session, AreaScope.district(units.district), start, end, NOW)
    assert (k.received, k.closed, k.open, k.overdue) == (10, 5, 5, 2)


def test_empty_scope_has_no_rates(world: tuple[Session, Units]) -> None:
    session, units = world
    start, end = period_year(NOW, SH)
    k = kpis(session, AreaScope.of(units.communities[-1]), start, end, NOW)
    assert (k.received, k.open, k.overdue) == (0, 0, 0)
    assert k.closure_rate is None and k.on_time_rate is None and k.satisfaction_rate is None


def test_naive_times_are_refused(world: tuple[Session, Units]) -> None:
    session, units = world
    with pytest.raises(ValueError, match="aware"):
        kpis(session, AreaScope.district(units.district), datetime(2025, 1, 1), datetime(2026, 1, 1), NOW)
