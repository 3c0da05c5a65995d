"""Charts and rankings: top-level categories, the zero-filled local-day trend, street and department order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from data.queries import (
    AreaScope,
    cases_by_category,
    daily_trend,
    department_ranking,
    period_year,
    street_ranking,
)
from tests.data.helpers import Units, add_case, build_units

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 15, 10, 0, tzinfo=SH).astimezone(UTC)
H = timedelta(hours=1)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)  # type: ignore[misc]


@pytest.fixture
def world(session_factory) -> Iterator[tuple[Session, Units]]:  # type: ignore[no-untyped-def]
    session = session_factory()
    u = build_units(session)
    a, b = u.grids[0], u.grids[5]
    t0 = sh(2025, 6, 14, 23, 50)  # late on the 14th locally (15:50 UTC)
    # street A: two noise (environment), one sewage (environment), one clutter (city), one uncategorised
    add_case(
        session,
        a,
        t0,
        status="closed",
        resolved_at=sh(2025, 6, 15, 0, 10),
        events=[(t0 + 0.05 * H, "assigned")],
    )
    add_case(
        session,
        a,
        sh(2025, 6, 1, 9),
        status="in_progress",
        limit_hours=1000,
        events=[(sh(2025, 6, 1, 11), "assigned")],
    )
    add_case(
        session,
        a,
        sh(2025, 6, 2, 9),
        category="environment.sewage",
        status="resolved",
        resolved_at=sh(2025, 6, 2, 14),
    )
    add_case(
        session, a, sh(2025, 6, 3, 9), category="city.clutter", department="city_management", limit_hours=1000
    )
    add_case(session, a, sh(2025, 6, 4, 9), category=None, department=None, limit_hours=1000)  # type: ignore[arg-type]
    # street B: one overdue case
    add_case(session, b, NOW - 100 * H, category="city.clutter", department="city_management")
    session.commit()
    yield session, u
    session.close()


def test_cases_by_top_level_category(world: tuple[Session, Units]) -> None:
    session, u = world
    rows = cases_by_category(session, AreaScope.of(u.streets[0]), *period_year(NOW, SH))
    assert [(r.code, r.name, r.count, r.open) for r in rows] == [
        ("environment", "生态环境", 3, 1),
        ("", "", 1, 1),  # no category: a code, not a label (the wall says 未分类)
        ("city", "城市管理", 1, 1),
    ]


def test_trend_is_zero_filled_by_local_day(world: tuple[Session, Units]) -> None:
    session, u = world
    points = daily_trend(session, AreaScope.of(u.streets[0]), NOW, "Asia/Shanghai", days=30)
    assert len(points) == 30
    assert points[0].day == date(2025, 5, 17) and points[-1].day == date(2025, 6, 15)
    by_day = {p.day: (p.received, p.closed) for p in points}
    assert by_day[date(2025, 6, 14)] == (1, 0)  # 23:50 local, not the next day
    assert by_day[date(2025, 6, 15)] == (0, 1)  # resolved 00:10 local
    assert by_day[date(2025, 6, 2)] == (1, 1)
    assert sum(p.received for p in points) == 5
    assert by_day[date(2025, 6, 10)] == (0, 0)


def test_street_ranking_lists_every_street_worst_first(world: tuple[Session, Units]) -> None:
    session, u = world
    rows = street_ranking(session, AreaScope.district(u.district), *period_year(NOW, SH), NOW)
    assert [(r.rank, r.code, r.name, r.received, r.overdue, r.open) for r in rows] == [
        (1, u.streets[1], "东城街道", 1, 1, 1),
        (2, u.streets[0], "巴川街道", 5, 0, 3),
    ]
    assert rows[1].closure_rate == pytest.approx(2 / 5)
    assert rows[1].on_time_rate == 1.0
    assert rows[0].closure_rate == 0.0 and rows[0].on_time_rate is None
    only_a = street_ranking(session, AreaScope.of(u.streets[0]), *period_year(NOW, SH), NOW)
    assert [r.code for r in only_a] == [u.streets[0]]


def test_department_ranking_response_times(world: tuple[Session, Units]) -> None:
    session, u = world
    rows = department_ranking(session, AreaScope.district(u.district), *period_year(NOW, SH), NOW)
    by_code = {r.code: r for r in rows}
    eco = by_code["ecology"]
    # accepted → first assigned event: 3 min and 2 h; the sewage case skipped to resolution: 5 h
    assert eco.responded == 3
    assert eco.mean_response_hours == pytest.approx((0.05 + 2 + 5) / 3)
    assert (eco.received, eco.closed, eco.open, eco.overdue) == (3, 2, 1, 0)
    cm = by_code["city_management"]
    assert (cm.received, cm.open, cm.overdue, cm.responded, cm.mean_response_hours) == (2, 2, 1, 0, None)
    assert rows[0].code == "city_management"  # the one with an overdue case leads
    assert by_code[""].name == "未指定部门"
