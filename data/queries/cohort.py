"""The period figures of the cases received in ``[start, end)``, from ``case_daily`` where it can answer.

Every period screen (KPIs, rankings, categories) wants the same additive sums over the cohort of cases
received in the period, grouped by nothing, street, department or category. :func:`period_parts`
answers them so that the cost does not grow with history:

- the whole local days (Asia/Shanghai, :data:`data.case_daily.ZONE`) inside the period are read from
  ``case_daily`` (kept by triggers, so never stale): its month rows for the whole months, its day rows
  for the days around them (a year is twelve rows per street × category × department; the totals of
  whole districts — the city's KPIs and trend — twelve rows per district, from its district rows);
- the ragged ends (the part of a day before the first midnight and after the last — none for "today" or
  "this year", under a day each for "the last 7 days") are read from the case rows by the
  ``(district_code, requested_at)`` index, so the answer is exact for any instant.

The raw path (``raw=True``, or a scope of communities or grids, which ``case_daily`` does not key — such
a scope holds few cases and its own indexes answer it) is the plain query over the case rows; a test
compares both on random scopes and periods.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, and_, case, func, literal, or_, select, true
from sqlalchemy.orm import Session

from ..case_daily import ZONE
from ..models import Case, CaseDaily, CaseMerge
from ..scope import AreaScope
from ..states import DONE_STATES
from .common import count_if, epoch_seconds, in_period, period_group

SATISFIED = ("satisfied", "basic")
KEYED_LENGTHS = frozenset({6, 9})  # district and street codes: the place grain of case_daily


@dataclass
class Parts:
    """Additive sums over a cohort of received cases (the columns of ``case_daily``)."""

    received: int = 0
    done: int = 0
    judged: int = 0
    on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    strict: int = 0
    still_open: int = 0
    handled: int = 0
    handling_s: float = 0.0
    responded: int = 0
    response_s: float = 0.0

    def add(self, values: Any) -> None:
        for f, v in zip(fields(self), values, strict=True):
            setattr(self, f.name, getattr(self, f.name) + (v or 0))


MEASURES = tuple(f.name for f in fields(Parts))


def aggregated(scope: AreaScope) -> bool:
    """Whether ``case_daily`` can answer for the scope (whole districts and streets)."""
    return bool(scope.codes) and all(len(c) in KEYED_LENGTHS for c in scope.codes)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(ZONE)).astimezone(UTC)


def whole_days(start: datetime, end: datetime) -> tuple[date, date] | None:
    """The local days ``[first, last)`` lying wholly inside ``[start, end)``, or None if there are none."""
    first = start.astimezone(ZoneInfo(ZONE)).date()
    if local_midnight(first) < start:
        first += timedelta(days=1)
    last = end.astimezone(ZoneInfo(ZONE)).date()
    return (first, last) if first < last else None


def _seconds(session: Session, start: Any, end: Any) -> Any:
    return epoch_seconds(session, end) - epoch_seconds(session, start)


def _raw_columns(session: Session) -> list[Any]:
    done = Case.status.in_(sorted(DONE_STATES))
    judged = and_(done, Case.resolved_at.is_not(None), Case.deadline_at.is_not(None))
    handled = and_(done, Case.resolved_at.is_not(None), Case.accepted_at.is_not(None))
    responded_at = func.coalesce(Case.first_response_at, Case.resolved_at)
    responded = and_(Case.accepted_at.is_not(None), responded_at.is_not(None))
    zero = literal(0.0, Float)
    return [
        func.count(),
        count_if(done),
        count_if(judged),
        count_if(and_(judged, Case.resolved_at <= Case.deadline_at)),
        count_if(Case.satisfaction.is_not(None)),
        count_if(Case.satisfaction.in_(SATISFIED)),
        count_if(Case.satisfaction == "satisfied"),
        count_if(Case.is_open == true()),
        count_if(handled),
        func.sum(case((handled, _seconds(session, Case.accepted_at, Case.resolved_at)), else_=zero)),
        count_if(responded),
        func.sum(case((responded, _seconds(session, Case.accepted_at, responded_at)), else_=zero)),
    ]


def _raw(
    session: Session, scope: AreaScope, start: datetime, end: datetime, by: str | None, out: dict[Any, Parts]
) -> None:
    if start >= end:
        return
    columns = _raw_columns(session)
    if by is None:
        statement = select(*columns).where(in_period(session, scope, start, end))
        rows = [(None, *session.execute(statement).one())]
    else:
        key = period_group(session, scope, start, end, getattr(Case, by))
        statement = select(key, *columns).where(in_period(session, scope, start, end)).group_by(key)
        rows = [tuple(r) for r in session.execute(statement).all()]
    for key_value, *values in rows:
        out.setdefault(key_value, Parts()).add(values)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def districts_only(scope: AreaScope) -> bool:
    """Whether the scope is whole districts (the city, a district): ``case_daily``'s district rows
    (``span`` ``D`` and ``M``) answer its totals."""
    return bool(scope.codes) and all(len(c) == 6 for c in scope.codes)


def _spans(first: date, last: date, district_rows: bool = False) -> Any:
    """WHERE: the rows covering the local days ``[first, last)``: whole months from month rows, the
    days before the first whole month and after the last from day rows (with ``district_rows``, the
    district grain's: ``D`` and ``M``)."""
    lo = first if first.day == 1 else _next_month(first)
    hi = _month_start(last)
    day_span, month_span = ("D", "M") if district_rows else ("d", "m")
    d, m = CaseDaily.span == day_span, CaseDaily.span == month_span
    if lo >= hi:
        return and_(d, CaseDaily.day >= first, CaseDaily.day < last)
    return or_(
        and_(d, CaseDaily.day >= first, CaseDaily.day < lo),
        and_(m, CaseDaily.day >= lo, CaseDaily.day < hi),
        and_(d, CaseDaily.day >= hi, CaseDaily.day < last),
    )


def _aggregate(
    session: Session, scope: AreaScope, first: date, last: date, by: str | None, out: dict[Any, Parts]
) -> None:
    sums = [func.sum(getattr(CaseDaily, m)) for m in MEASURES]
    where = (scope.clause(CaseDaily), _spans(first, last, by is None and districts_only(scope)))
    if by is None:
        rows = [(None, *session.execute(select(*sums).where(*where)).one())]
    else:
        key = getattr(CaseDaily, by)
        rows = [tuple(r) for r in session.execute(select(key, *sums).where(*where).group_by(key)).all()]
    for key_value, *values in rows:
        if values[0] is None:  # no row at all
            continue
        out.setdefault(key_value or None, Parts()).add(values)


MERGED_CHUNK = 5000


def _merged(
    session: Session, scope: AreaScope, start: datetime, end: datetime, by: str | None, out: dict[Any, Parts]
) -> None:
    """Take out what the cases merged into another (合并, :mod:`data.merge`) added: a matter reported
    through several channels counts once, as its primary. The merged ids come from ``case_merge``
    (small: none at all costs one tiny query), their rows by primary key, whatever path counted them."""
    ids = list(session.scalars(select(CaseMerge.case_id).order_by(CaseMerge.case_id)))
    columns = _raw_columns(session)
    key = getattr(Case, by) if by is not None else literal(None)
    for i in range(0, len(ids), MERGED_CHUNK):
        statement = (
            select(key, *columns)
            .where(
                Case.id.in_(ids[i : i + MERGED_CHUNK]),
                scope.clause(Case),
                Case.requested_at >= start,
                Case.requested_at < end,
            )
            .group_by(key)
        )
        for key_value, *values in session.execute(statement).all():
            if values[0]:
                out.setdefault(key_value, Parts()).add([-(v or 0) for v in values])


def period_parts(
    session: Session,
    scope: AreaScope,
    start: datetime,
    end: datetime,
    by: str | None = None,
    *,
    raw: bool = False,
) -> dict[Any, Parts]:
    """The cohort sums of the cases of ``scope`` received in ``[start, end)``, per value of the case
    column ``by`` (``street_code``, ``department_code``, ``category_code``; None: one key, None). A key
    with no case is absent (with ``by=None`` the single key is always there)."""
    out: dict[Any, Parts] = {None: Parts()} if by is None else {}
    days = None if raw or not aggregated(scope) else whole_days(start, end)
    if days is None:
        _raw(session, scope, start, end, by, out)
    else:
        first, last = days
        _raw(session, scope, start, local_midnight(first), by, out)
        _aggregate(session, scope, first, last, by, out)
        _raw(session, scope, local_midnight(last), end, by, out)
    _merged(session, scope, start, end, by, out)
    return {k: v for k, v in out.items() if v.received or by is None}


def trend_from_aggregates(
    session: Session, scope: AreaScope, bounds: list[datetime], tz: ZoneInfo | str
) -> list[tuple[int, int]] | None:
    """(received, resolved) per day of ``bounds`` (consecutive local midnights) from ``case_daily``, or
    None when it cannot answer (a community or grid scope, or days of another time zone)."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    if zone.key != ZONE or not aggregated(scope):
        return None
    days = [b.astimezone(zone).date() for b in bounds]
    if any(local_midnight(d) != b for d, b in zip(days, bounds, strict=True)):
        return None
    rows = session.execute(
        select(CaseDaily.day, func.sum(CaseDaily.received), func.sum(CaseDaily.resolved))
        .where(
            scope.clause(CaseDaily),
            CaseDaily.span == ("D" if districts_only(scope) else "d"),
            CaseDaily.day >= days[0],
            CaseDaily.day < days[-1],
        )
        .group_by(CaseDaily.day)
    ).all()
    by_day = {r[0]: (int(r[1] or 0), int(r[2] or 0)) for r in rows}
    return [by_day.get(d, (0, 0)) for d in days[:-1]]
