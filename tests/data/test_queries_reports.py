"""The report's queries on a seeded week (SQLite, and PostgreSQL when configured), every figure worked out
by hand: the KPIs with 环比 and 同比, the scorecards, the level shares, the trend; a period with no case;
and a street's viewer refused another street's area.

The week is Monday 2026-11-23 to Sunday 2026-11-29 (Asia/Shanghai); ``now`` is 2026-12-06 10:00.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from data.models import Case, CaseMerge, Instruction, Recipient
from data.queries import AreaScope, format_rate
from data.queries.report_periods import report_period
from data.queries.reports import area_options, area_scope, build_report, figures
from tests.data.helpers import Units, add_case, build_units

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 6, 10, tzinfo=SH).astimezone(UTC)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)  # type: ignore[misc]


def _called(session: Session, case_id: int, at: datetime, accepted_after: timedelta | None) -> None:
    ins = Instruction(case_id=case_id, kind="dispatch", actor="t", created_at=at)
    session.add(ins)
    session.flush()
    session.add(
        Recipient(
            instruction_id=ins.id,
            case_id=case_id,
            department_code="ecology",
            report_by=at + timedelta(hours=2),
            accepted_at=at + accepted_after if accepted_after else None,
            state="accepted" if accepted_after else "overdue",
            created_at=at,
        )
    )
    session.flush()


@pytest.fixture
def world(session_factory) -> Iterator[tuple[Session, Units]]:  # type: ignore[no-untyped-def]
    session = session_factory()
    units = build_units(session)
    a1 = units.grids_of(units.streets[0])[0]
    b1 = units.grids_of(units.streets[1])[0]
    # the week (limit 72 h each)
    c1 = add_case(
        session,
        a1,
        sh(2026, 11, 23, 0, 10),
        status="closed",
        resolved_at=sh(2026, 11, 24, 0, 10),
        satisfaction="satisfied",
    )  # 24 h, first minutes
    add_case(
        session,
        a1,
        sh(2026, 11, 29, 23, 50),
        status="resolved",
        resolved_at=sh(2026, 12, 4, 3, 50),
        satisfaction="basic",
        escalation_level="street",
    )  # 100 h: late; last minutes of the week
    add_case(session, a1, sh(2026, 11, 25, 10), status="in_progress")  # open past its deadline: overdue
    add_case(
        session,
        b1,
        sh(2026, 11, 24, 10),
        status="closed",
        resolved_at=sh(2026, 11, 26, 10),
        satisfaction="unsatisfied",
        department="city_management",
    )  # 48 h
    # the week before
    c5 = add_case(
        session,
        a1,
        sh(2026, 11, 22, 23, 59),
        status="closed",
        resolved_at=sh(2026, 11, 23, 9, 59),
        satisfaction="satisfied",
    )  # 10 h
    add_case(session, b1, sh(2026, 11, 18, 10), status="resolved", resolved_at=sh(2026, 11, 21, 18))  # 80 h
    # the same week last year (Monday 2025-11-24)
    add_case(session, a1, sh(2025, 11, 26, 8), status="closed", resolved_at=sh(2025, 11, 26, 13))  # 5 h
    # the week after
    add_case(session, a1, sh(2026, 11, 30, 0, 0), status="accepted")
    _called(session, c1.id, sh(2026, 11, 23, 1), timedelta(minutes=30))
    _called(session, c5.id, sh(2026, 11, 20, 1), None)  # never 报到
    session.commit()  # fmt: skip
    yield session, units
    session.close()


def _week(now: datetime = NOW):  # type: ignore[no-untyped-def]
    return report_period("week", now, SH)


def test_the_week_against_the_week_before_and_last_year(world: tuple[Session, Units]) -> None:
    session, units = world
    period = _week()
    assert (period.first, period.last) == (date(2026, 11, 23), date(2026, 11, 29))
    r = build_report(session, AreaScope.of(units.district), units.district, period, NOW, SH)
    f = r.figures
    assert (f.received, f.closed, f.closure_rate) == (4, 3, 0.75)
    assert (f.judged, f.on_time) == (3, 2)
    assert (f.rated, f.satisfied) == (3, 2)
    assert f.overdue == 2  # one resolved late, one still open past its deadline
    assert f.mean_handling_hours == pytest.approx((24 + 100 + 48) / 3)
    assert (f.instructions, f.recipients, f.reported, f.report_rate) == (1, 1, 1, 1.0)
    assert f.mean_report_minutes == pytest.approx(30)
    p = r.figures_previous
    assert (p.received, p.closed, p.on_time_rate, p.satisfaction_rate, p.overdue) == (2, 2, 0.5, 1.0, 1)
    assert p.mean_handling_hours == pytest.approx(45)
    assert (p.report_due, p.reported, p.report_rate) == (1, 0, 0.0)
    y = r.figures_last_year
    assert (y.received, y.closed, y.satisfaction_rate, y.overdue) == (1, 1, None, 0)
    assert y.mean_handling_hours == pytest.approx(5)
    by = {k.key: k for k in r.kpis}
    assert (by["received"].mom, by["received"].yoy) == (1.0, 3.0)  # 4 vs 2, 4 vs 1
    assert by["closure_rate"].mom == pytest.approx(-0.25)  # 75 % vs 100 %: points
    assert by["satisfaction_rate"].yoy is None  # nothing rated last year: —
    assert format_rate(by["satisfaction_rate"].yoy) == "—"
    assert by["overdue"].mom == 1.0 and by["overdue"].yoy is None  # 2 vs 1; 2 vs 0: —
    assert by["report_rate"].mom == pytest.approx(1.0)
    # resolved at each level: two of three by the community, one by the street
    assert [(s.level, s.closed) for s in r.levels] == [("community", 2), ("street", 1), ("district", 0)]
    assert [s.share for s in r.levels] == [pytest.approx(2 / 3), pytest.approx(1 / 3), 0.0]
    # the streets of the district, every one
    assert [(u.code, u.figures.received, u.figures.closed, u.figures.overdue) for u in r.units] == [
        (units.streets[0], 3, 2, 2),
        (units.streets[1], 1, 1, 0),
    ]
    assert r.units[0].figures.report_rate == 1.0 and r.units[1].figures.report_rate is None
    deps = {d.code: d.figures for d in r.departments}
    assert (deps["ecology"].received, deps["ecology"].recipients) == (3, 1)
    assert (deps["city_management"].received, deps["city_management"].satisfaction_rate) == (1, 0.0)
    # the trend: received and resolved per local day
    assert [b.label for b in r.trend][0] == "2026-11-23" and len(r.trend) == 7
    assert [b.received for b in r.trend] == [1, 1, 1, 0, 0, 0, 1]
    assert [b.closed for b in r.trend] == [1, 1, 0, 1, 0, 0, 0]
    assert sum(c.count for c in r.categories) == 4
    # top 类案: the week's three noise cases of one grid are one class (the fourth is another street's)
    assert [(h.place_code, h.count) for h in r.classes] == [(units.grids_of(units.streets[0])[0], 3)]


def test_a_merged_case_counts_once(world: tuple[Session, Units]) -> None:
    """The same matter through a second channel, merged into the first: left out of every figure."""
    session, units = world
    a1 = units.grids_of(units.streets[0])[0]
    primary = session.query(Case).filter(Case.external_id == "T1").one()
    twin = add_case(
        session,
        a1,
        sh(2026, 11, 23, 0, 20),
        status="closed",
        resolved_at=sh(2026, 11, 28),
        escalation_level="street",
    )  # late, and at the street: would change every figure
    session.add(CaseMerge(case_id=twin.id, primary_id=primary.id, merged_by="t"))
    session.commit()
    r = build_report(session, AreaScope.of(units.district), units.district, _week(), NOW, SH)
    assert (r.figures.received, r.figures.closed, r.figures.overdue) == (4, 3, 2)
    assert [(u.figures.received, u.figures.overdue) for u in r.units] == [(3, 2), (1, 0)]
    assert [s.closed for s in r.levels] == [2, 1, 0]
    assert [b.received for b in r.trend] == [1, 1, 1, 0, 0, 0, 1]
    assert [b.closed for b in r.trend] == [1, 1, 0, 1, 0, 0, 0]


def test_a_street_report_lists_its_communities(world: tuple[Session, Units]) -> None:
    session, units = world
    street = units.streets[0]
    r = build_report(session, AreaScope.of(units.district), street, _week(), NOW, SH)
    assert r.figures.received == 3 and r.area_level == "street"
    assert [u.code for u in r.units] == [c for c in units.communities if c.startswith(street)]
    assert [u.figures.received for u in r.units] == [3, 0]
    assert r.units[1].figures.closure_rate is None  # no case: — not a division by zero


def test_a_period_with_no_case_has_no_rate_and_no_change(world: tuple[Session, Units]) -> None:
    session, units = world
    day = report_period("day", NOW, SH, anchor=date(2026, 11, 27))  # a Friday with nothing
    r = build_report(session, AreaScope.of(units.district), units.district, day, NOW, SH)
    assert r.figures.received == 0
    for k in r.kpis:
        assert k.mom is None and k.yoy is None, k
    assert r.figures.closure_rate is None and r.figures.mean_handling_hours is None
    assert [s.share for s in r.levels] == [None, None, None]
    assert r.classes == []
    empty = figures(session, AreaScope.of(units.district), day.start, day.end, NOW)
    assert empty.report_rate is None


def test_a_street_viewer_cannot_report_on_another_street(world: tuple[Session, Units]) -> None:
    session, units = world
    mine, other = units.streets
    viewer = AreaScope.of(mine)
    with pytest.raises(PermissionError):
        build_report(session, viewer, other, _week(), NOW, SH)
    with pytest.raises(PermissionError):
        build_report(session, viewer, units.district, _week(), NOW, SH)  # the district above: refused
    with pytest.raises(PermissionError):
        area_scope(viewer, other + "001")  # a community of the other street
    with pytest.raises(ValueError):
        area_scope(viewer, "5001510O1")
    assert area_scope(viewer, units.communities[0]).codes == {units.communities[0]}
    codes = [o.code for o in area_options(session, viewer)]
    assert codes[0] == mine and all(c.startswith(mine) for c in codes)
    assert not any(c.startswith(other) for c in codes)
