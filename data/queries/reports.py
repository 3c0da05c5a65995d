"""A leader's report for one area and one period (``/reports``, ``gridcc report``): the KPIs with 环比 and
同比, scorecards of the area's units and of the departments, the share resolved at each level, the top
类案, and the series behind the charts.

Definitions follow :mod:`.kpis` (the period figures are over the cohort of cases *received* in it), and:

- 超期 (overdue) of a period: of its cases with a deadline, those resolved after it, or still unresolved
  with the deadline past at ``now`` — a fact about each case that a past period keeps, so it compares;
- 报到 figures are :func:`.loop.loop_figures`' (instructions sent in the period, 报到率 over those due);
- the level a case was resolved at is ``Case.escalation_level``, where the case is held (community →
  street → district, raised by the deadline job and by 上报 / 下派): of the cohort's resolved cases, the
  share held by the community when resolved is 小事不出社区, by the street 大事不出镇街, and the three
  together are the whole (难事不出区);
- a unit scorecard lists the area's children (a district's streets, a street's communities, a
  community's grids), every one, also those without a case;
- the top 类案 are :func:`.hotspots.hotspots` over the period's days, ending at its end.

The area must lie inside the viewer's scope (:func:`area_scope` refuses anything else): a street leader
asking for another street, or for the district above, gets ``PermissionError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ..models import AdminUnit, Case, CaseMerge, Recipient
from ..names import place_name
from ..scope import AreaScope
from ..states import DONE_STATES
from .charts import CategoryCount, cases_by_category
from .common import (
    CHILD_LEVEL,
    count_if,
    department_name,
    department_names,
    epoch_seconds,
    hours_between,
    in_period,
    level_of,
    place_column,
    rate,
    require_aware,
    unit_names,
)
from .hotspots import Hotspot, hotspots
from .kpis import SATISFIED, kpis
from .loop import loop_figures
from .report_periods import (
    ReportPeriod,
    add_months,
    change,
    last_year_period,
    local_midnight,
    point_change,
    previous_period,
    zone_of,
)

ESCALATION_LEVELS = ("community", "street", "district")
# (key, kind): kind says how a value is shown and compared — a count (relative change), a rate
# (percentage points), hours or minutes (relative change); ``lower_better`` marks figures where a fall
# is good news
KPI_KEYS: tuple[tuple[str, str], ...] = (
    ("received", "count"),
    ("closed", "count"),
    ("closure_rate", "rate"),
    ("on_time_rate", "rate"),
    ("satisfaction_rate", "rate"),
    ("overdue", "count"),
    ("mean_handling_hours", "hours"),
    ("instructions", "count"),
    ("report_rate", "rate"),
    ("mean_report_minutes", "minutes"),
)
LOWER_BETTER = frozenset({"overdue", "mean_handling_hours", "mean_report_minutes"})
# volumes: more or fewer cases is news, neither good nor bad
NEUTRAL = frozenset({"received", "closed", "instructions"})
TOP_CLASSES = 10


def area_scope(viewer: AreaScope, area: str) -> AreaScope:
    """The scope of the report's area: ``area`` itself, when it lies inside the viewer's scope."""
    if not (area.isascii() and area.isdigit()) or len(area) not in (6, 9, 12, 15):
        raise ValueError(f"not a district/street/community/grid code: {area!r}")
    if not viewer.contains(area):
        raise PermissionError(f"area {area} is outside the viewer's scope")
    return AreaScope.of(area)


def default_area(viewer: AreaScope) -> str | None:
    """The widest unit of the viewer's scope (its district, for a district's account)."""
    if not viewer.codes:
        return None
    return sorted(viewer.codes, key=lambda c: (len(c), c))[0]


@dataclass(frozen=True)
class AreaOption:
    code: str
    name: str
    level: str


def area_options(session: Session, viewer: AreaScope) -> list[AreaOption]:
    """The areas a viewer may report on: the units of its scope and, below them, streets and communities
    (district → street → community), in code order."""
    if not viewer.codes:
        return []
    clauses = [AdminUnit.code.like(f"{c}%") for c in sorted(viewer.codes)]
    rows = session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.level)
        .where(or_(*clauses), AdminUnit.level.in_(("district", "street", "community")))
        .order_by(AdminUnit.code)
    ).all()
    names = {r.code: r.name for r in rows}
    return [AreaOption(r.code, place_name(r.code, names) or r.name, r.level) for r in rows]


@dataclass(frozen=True)
class Figures:
    """One period's figures for one area (or one unit, or one department)."""

    received: int = 0
    closed: int = 0
    closure_rate: float | None = None
    judged: int = 0
    on_time: int = 0
    on_time_rate: float | None = None
    rated: int = 0
    satisfied: int = 0
    satisfaction_rate: float | None = None
    overdue: int = 0
    mean_handling_hours: float | None = None
    instructions: int = 0  # loop instructions sent (交办, 吹哨 …)
    recipients: int = 0  # departments called
    report_due: int = 0
    reported: int = 0  # 报到
    report_rate: float | None = None
    mean_report_minutes: float | None = None

    def value(self, key: str) -> float | None:
        value: float | None = getattr(self, key)
        return value


def _counted() -> Any:
    """WHERE: the case counts in the period figures — not merged into another (:mod:`data.merge`: the
    primary it was merged into stands for it, as in :func:`.kpis.kpis`)."""
    return Case.id.not_in(select(CaseMerge.case_id))


def _overdue_clause(now: datetime) -> Any:
    resolved_late = and_(Case.resolved_at.is_not(None), Case.resolved_at > Case.deadline_at)
    still_late = and_(Case.resolved_at.is_(None), Case.deadline_at < now)
    return and_(Case.deadline_at.is_not(None), or_(resolved_late, still_late))


def figures(session: Session, scope: AreaScope, start: datetime, end: datetime, now: datetime) -> Figures:
    """The figures of ``scope`` for the cases received in ``[start, end)`` (and the loop's of the
    instructions sent in it)."""
    require_aware(start, end, now)
    k = kpis(session, scope, start, end, now)
    overdue = session.scalar(
        select(count_if(_overdue_clause(now))).where(in_period(session, scope, start, end), _counted())
    )
    loop = loop_figures(session, scope, start, end, now)
    return Figures(
        received=k.received,
        closed=k.closed,
        closure_rate=k.closure_rate,
        judged=k.judged,
        on_time=k.on_time,
        on_time_rate=k.on_time_rate,
        rated=k.rated,
        satisfied=k.satisfied,
        satisfaction_rate=k.satisfaction_rate,
        overdue=int(overdue or 0),
        mean_handling_hours=k.mean_handling_hours,
        instructions=sum(loop.sent.values()),
        recipients=loop.recipients,
        report_due=loop.due,
        reported=loop.reported,
        report_rate=loop.report_rate,
        mean_report_minutes=loop.mean_report_minutes,
    )


@dataclass(frozen=True)
class Compared:
    """One KPI beside the previous period (环比) and the same period last year (同比)."""

    key: str
    kind: str  # count | rate | hours | minutes
    value: float | None
    previous: float | None
    last_year: float | None
    mom: float | None  # 环比: relative change (counts, times) or points (rates); None shows as —
    yoy: float | None  # 同比

    @property
    def lower_better(self) -> bool:
        return self.key in LOWER_BETTER

    @property
    def neutral(self) -> bool:
        return self.key in NEUTRAL


def compare(now_f: Figures, prev_f: Figures, year_f: Figures) -> list[Compared]:
    out = []
    for key, kind in KPI_KEYS:
        value, prev, year = now_f.value(key), prev_f.value(key), year_f.value(key)
        step = point_change if kind == "rate" else change
        out.append(Compared(key, kind, value, prev, year, step(value, prev), step(value, year)))
    return out


@dataclass(frozen=True)
class Scorecard:
    """One row of a scorecard: a unit (code and name) or a department, and its figures."""

    code: str
    name: str
    figures: Figures


def _grouped(
    session: Session, scope: AreaScope, start: datetime, end: datetime, now: datetime, key: Any
) -> dict[Any, Figures]:
    done = Case.status.in_(sorted(DONE_STATES))
    judged = and_(done, Case.resolved_at.is_not(None), Case.deadline_at.is_not(None))
    timed = and_(done, Case.resolved_at.is_not(None), Case.accepted_at.is_not(None))
    handling = case((timed, hours_between(session, Case.accepted_at, Case.resolved_at)), else_=None)
    rows = session.execute(
        select(
            key,
            func.count(),
            count_if(done),
            count_if(judged),
            count_if(and_(judged, Case.resolved_at <= Case.deadline_at)),
            count_if(Case.satisfaction.is_not(None)),
            count_if(Case.satisfaction.in_(SATISFIED)),
            count_if(_overdue_clause(now)),
            func.avg(handling),
        )
        .where(in_period(session, scope, start, end), _counted())
        .group_by(key)
    ).all()
    out: dict[Any, Figures] = {}
    for code, received, closed, judged_n, on_time, rated, satisfied, overdue, mean_h in rows:
        out[code] = Figures(
            received=received,
            closed=closed,
            closure_rate=rate(closed, received),
            judged=judged_n,
            on_time=on_time,
            on_time_rate=rate(on_time, judged_n),
            rated=rated,
            satisfied=satisfied,
            satisfaction_rate=rate(satisfied, rated),
            overdue=overdue,
            mean_handling_hours=float(mean_h) if mean_h is not None else None,
        )
    return out


def _loop_grouped(
    session: Session, scope: AreaScope, start: datetime, end: datetime, now: datetime, key: Any
) -> dict[Any, tuple[int, int, int, float | None]]:
    """Per ``key``: (recipients, due, 报到, mean 报到 minutes) of the instructions sent in the period."""
    due = or_(
        Recipient.accepted_at.is_not(None), Recipient.answered_at.is_not(None), Recipient.report_by <= now
    )
    minutes = (
        epoch_seconds(session, Recipient.accepted_at) - epoch_seconds(session, Recipient.created_at)
    ) / 60.0
    rows = session.execute(
        select(key, func.count(), count_if(due), count_if(and_(due, Recipient.accepted_at.is_not(None))),
               func.avg(minutes))
        .join(Case, Case.id == Recipient.case_id)
        .where(scope.clause(Case), Recipient.created_at >= start, Recipient.created_at < end)
        .group_by(key)
    ).all()  # fmt: skip
    return {r[0]: (int(r[1]), int(r[2]), int(r[3]), float(r[4]) if r[4] is not None else None) for r in rows}


def _with_loop(f: Figures, loop: tuple[int, int, int, float | None] | None) -> Figures:
    if loop is None:
        return f
    recipients, due, reported, mean = loop
    return Figures(
        **{**f.__dict__, "recipients": recipients, "report_due": due, "reported": reported,
           "report_rate": rate(reported, due), "mean_report_minutes": mean}
    )  # fmt: skip


def unit_scorecard(
    session: Session, area: str, start: datetime, end: datetime, now: datetime
) -> list[Scorecard]:
    """Every child unit of ``area`` (streets of a district …) with its figures, in code order."""
    level = level_of(area)
    child = CHILD_LEVEL.get(level)
    if child is None:
        return []
    children = session.execute(
        select(AdminUnit.code, AdminUnit.name)
        .where(AdminUnit.parent_code == area, AdminUnit.level == child)
        .order_by(AdminUnit.code)
    ).all()
    if not children:
        return []
    scope = AreaScope.of(area)
    column = place_column(Case, children[0].code)
    by_unit = _grouped(session, scope, start, end, now, column)
    loops = _loop_grouped(session, scope, start, end, now, column)
    names = unit_names(session, [area, *[c.code for c in children]])
    return [
        Scorecard(c.code, place_name(c.code, names) or c.name, _with_loop(by_unit.get(c.code, Figures()),
                                                                           loops.get(c.code)))
        for c in children
    ]  # fmt: skip


def department_scorecard(
    session: Session, scope: AreaScope, start: datetime, end: datetime, now: datetime
) -> list[Scorecard]:
    """Every department holding a case received in the period, or called by an instruction sent in it,
    with its figures; most cases first. The 报到 figures are the department's as a recipient."""
    by_dep = _grouped(session, scope, start, end, now, Case.department_code)
    loops = _loop_grouped(session, scope, start, end, now, Recipient.department_code)
    names = department_names(session)
    rows = [
        Scorecard(code or "", department_name(names, code), _with_loop(by_dep.get(code, Figures()),
                                                                      loops.get(code)))
        for code in {*by_dep, *loops}
    ]  # fmt: skip
    rows.sort(key=lambda s: (-s.figures.received, -s.figures.recipients, s.code))
    return rows


@dataclass(frozen=True)
class LevelShare:
    level: str  # community | street | district
    closed: int  # resolved while held at this level
    share: float | None  # of all resolved in the period


def level_shares(session: Session, scope: AreaScope, start: datetime, end: datetime) -> list[LevelShare]:
    """Of the period's resolved cases, how many were resolved at each level (小事不出社区 …)."""
    require_aware(start, end)
    rows = dict(
        session.execute(
            select(Case.escalation_level, func.count())
            .where(in_period(session, scope, start, end), Case.status.in_(sorted(DONE_STATES)), _counted())
            .group_by(Case.escalation_level)
        ).all()
    )
    total = sum(int(v) for v in rows.values())
    return [
        LevelShare(lv, int(rows.get(lv, 0)), rate(int(rows.get(lv, 0)), total)) for lv in ESCALATION_LEVELS
    ]


@dataclass(frozen=True)
class Bucket:
    """One bar of the report's trend: a local day (or month, for long periods), received and resolved."""

    label: str  # ISO day (2026-11-30) or month (2026-11)
    received: int
    closed: int  # resolved in the bucket (any cohort)


def trend(session: Session, scope: AreaScope, period: ReportPeriod, tz: Any) -> list[Bucket]:
    """Received and resolved per local day of the period (per month beyond 62 days), zero-filled."""
    zone = zone_of(tz)
    edges: list[tuple[str, datetime]] = []
    if period.days <= 62:
        day = period.first
        while day <= period.last:
            edges.append((day.isoformat(), local_midnight(day, zone)))
            day += timedelta(days=1)
    else:
        month = date(period.first.year, period.first.month, 1)
        while month <= period.last:
            edges.append((month.strftime("%Y-%m"), local_midnight(max(month, period.first), zone)))
            month = add_months(month, 1)
    bounds = [at for _, at in edges] + [period.full_end]
    spans = [(max(lo, period.start), min(hi, period.end)) for lo, hi in zip(bounds, bounds[1:], strict=False)]

    def buckets(column: Any) -> list[Any]:
        return [count_if(and_(column >= lo, column < hi)) for lo, hi in spans]

    received = session.execute(
        select(*buckets(Case.requested_at)).where(
            scope.clause(Case), Case.requested_at >= period.start, Case.requested_at < period.end, _counted()
        )
    ).one()
    closed = session.execute(
        select(*buckets(Case.resolved_at)).where(
            scope.clause(Case), Case.resolved_at >= period.start, Case.resolved_at < period.end, _counted()
        )
    ).one()
    return [Bucket(label, int(received[i]), int(closed[i])) for i, (label, _) in enumerate(edges)]


@dataclass(frozen=True)
class Report:
    area: str
    area_name: str
    area_level: str
    period: ReportPeriod
    previous: ReportPeriod  # 环比
    last_year: ReportPeriod  # 同比
    figures: Figures
    figures_previous: Figures
    figures_last_year: Figures
    kpis: list[Compared]
    units: list[Scorecard]
    departments: list[Scorecard]
    levels: list[LevelShare]
    classes: list[Hotspot]
    categories: list[CategoryCount]
    trend: list[Bucket]
    generated_at: datetime


def build_report(
    session: Session, viewer: AreaScope, area: str, period: ReportPeriod, now: datetime, tz: Any
) -> Report:
    """The whole report; ``PermissionError`` for an area outside ``viewer``, ``ValueError`` for a code that
    is malformed or unknown."""
    scope = area_scope(viewer, area)
    names = unit_names(session, [area[:n] for n in (6, 9, 12, 15) if n <= len(area)])
    if area not in names:
        raise ValueError(f"unknown area {area}")
    prev, year = previous_period(period, tz), last_year_period(period, tz)
    current = figures(session, scope, period.start, period.end, now)
    before = figures(session, scope, prev.start, prev.end, now)
    last = figures(session, scope, year.start, year.end, now)
    # hotspots() reads (now - days, now]: ending a microsecond before the period's end makes it the
    # period's own [start, end) (a case received at the next period's first instant is not this one's)
    span = (period.end - period.start).total_seconds() / 86400
    until = period.end - timedelta(microseconds=1)
    classes = hotspots(session, scope, until, days=span)[:TOP_CLASSES] if span > 0 else []
    return Report(
        area=area,
        area_name=place_name(area, names),
        area_level=level_of(area),
        period=period,
        previous=prev,
        last_year=year,
        figures=current,
        figures_previous=before,
        figures_last_year=last,
        kpis=compare(current, before, last),
        units=unit_scorecard(session, area, period.start, period.end, now),
        departments=department_scorecard(session, scope, period.start, period.end, now),
        levels=level_shares(session, scope, period.start, period.end),
        classes=classes,
        categories=cases_by_category(session, scope, period.start, period.end),
        trend=trend(session, scope, period, tz),
        generated_at=now,
    )
