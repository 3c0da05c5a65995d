"""The periods of a report (日报, 周报, 月报, 季报, 年报, or custom days) and the two it is compared with.

A period is a run of whole local days (Asia/Shanghai by default) ``[first, last]``, turned into a
half-open UTC interval ``[start, end)`` for the queries. Weeks start on Monday. A period that is still
running is cut at ``now`` (its figures are "to date"), and so are the periods it is compared with, to
the same elapsed length, so a half-finished week is never set against a whole one:

- 环比 (the previous period): the period just before, of the same kind — the previous day, week, month,
  quarter or year; for a custom period the same number of days just before. Its length is that of the
  compared period as far as it has run, never past the start of the period itself (February after
  March is February whole, not three days of March);
- 同比 (the same period last year): day → the same date a year before (29 February → 28 February);
  week → 52 weeks before (Monday stays Monday); month, quarter, year → the same calendar period a year
  before (February 2028's 29 days against February 2027's 28); custom → the same dates a year before.

No database here: plain date arithmetic, tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIOD_KINDS = ("day", "week", "month", "quarter", "year", "custom")
MAX_CUSTOM_DAYS = 3 * 366


@dataclass(frozen=True)
class ReportPeriod:
    """One period: its kind, its local days and the UTC interval the queries read."""

    kind: str
    first: date  # first local day
    last: date  # last local day (inclusive)
    start: datetime  # UTC, local midnight of ``first``
    end: datetime  # UTC, exclusive: local midnight after ``last``, or ``now`` while it runs
    full_end: datetime  # UTC, local midnight after ``last`` (== end once the period is over)

    @property
    def running(self) -> bool:
        """Whether the period was cut at ``now`` (its figures are "to date")."""
        return self.end < self.full_end

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def zone_of(tz: ZoneInfo | str) -> ZoneInfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _make(kind: str, first: date, last: date, zone: ZoneInfo, cut: datetime | None) -> ReportPeriod:
    start, full_end = local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)
    end = full_end if cut is None else max(start, min(full_end, cut))
    return ReportPeriod(kind, first, last, start, end, full_end)


def _month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def calendar_days(kind: str, anchor: date) -> tuple[date, date]:
    """The first and last local day of the ``kind`` period holding ``anchor`` (not ``custom``)."""
    if kind == "day":
        return anchor, anchor
    if kind == "week":
        first = anchor - timedelta(days=anchor.weekday())  # Monday
        return first, first + timedelta(days=6)
    if kind == "month":
        first = _month_start(anchor)
        return first, add_months(first, 1) - timedelta(days=1)
    if kind == "quarter":
        first = date(anchor.year, (anchor.month - 1) // 3 * 3 + 1, 1)
        return first, add_months(first, 3) - timedelta(days=1)
    if kind == "year":
        return date(anchor.year, 1, 1), date(anchor.year, 12, 31)
    raise ValueError(f"unknown period {kind!r}: one of {', '.join(PERIOD_KINDS)}")


def report_period(
    kind: str,
    now: datetime,
    tz: ZoneInfo | str = "Asia/Shanghai",
    *,
    anchor: date | None = None,
    first: date | None = None,
    last: date | None = None,
) -> ReportPeriod:
    """The ``kind`` period holding the local day ``anchor``; without an anchor, the last complete one
    (yesterday, last week, last month …: the briefing a meeting takes). ``custom`` takes ``first`` and
    ``last`` (inclusive local days). A period still running at ``now`` is cut there; a period wholly in
    the future raises ``ValueError``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = zone_of(tz)
    today = now.astimezone(zone).date()
    if kind == "custom":
        if first is None or last is None:
            raise ValueError("a custom period needs its first and last day")
        if last < first:
            raise ValueError("a custom period ends before it starts")
        if (last - first).days + 1 > MAX_CUSTOM_DAYS:
            raise ValueError(f"a custom period is at most {MAX_CUSTOM_DAYS} days")
        lo, hi = first, last
    elif anchor is None:
        this_first, _ = calendar_days(kind, today)
        lo, hi = calendar_days(kind, this_first - timedelta(days=1))
    else:
        lo, hi = calendar_days(kind, anchor)
    if lo > today:
        raise ValueError("the period has not started yet")
    return _make(kind, lo, hi, zone, now)


def _elapsed_cut(base: ReportPeriod, start: datetime, limit: datetime) -> datetime:
    """The end of a compared period starting at ``start``: as long as ``base`` has run, not past ``limit``."""
    return min(start + (base.end - base.start), limit)


def previous_period(period: ReportPeriod, tz: ZoneInfo | str = "Asia/Shanghai") -> ReportPeriod:
    """环比: the period just before ``period``, of the same kind (see the module)."""
    zone = zone_of(tz)
    if period.kind in ("month", "quarter", "year"):
        months = {"month": 1, "quarter": 3, "year": 12}[period.kind]
        first = add_months(period.first, -months)
        last = period.first - timedelta(days=1)
    else:
        first = period.first - timedelta(days=period.days)
        last = period.first - timedelta(days=1)
    start = local_midnight(first, zone)
    return _make(period.kind, first, last, zone, _elapsed_cut(period, start, period.start))


def last_year_period(period: ReportPeriod, tz: ZoneInfo | str = "Asia/Shanghai") -> ReportPeriod:
    """同比: the same period a year before (see the module)."""
    zone = zone_of(tz)
    if period.kind == "week":
        first = period.first - timedelta(weeks=52)
        last = period.last - timedelta(weeks=52)
    elif period.kind in ("month", "quarter", "year"):
        first = _year_back(period.first)
        last = calendar_days(period.kind, first)[1]
    else:
        first, last = _year_back(period.first), _year_back(period.last)
    start = local_midnight(first, zone)
    full_end = local_midnight(last + timedelta(days=1), zone)
    return _make(period.kind, first, last, zone, _elapsed_cut(period, start, full_end))


def change(current: float | None, before: float | None) -> float | None:
    """Relative change ``(current - before) / before`` for counts; None (shown ``—``) when ``before`` is
    zero or either side is missing: a rise from nothing has no percentage."""
    if current is None or before is None or before == 0:
        return None
    return (current - before) / before


def point_change(current: float | None, before: float | None) -> float | None:
    """Difference of two rates (percentage points as a fraction); None when either is missing."""
    if current is None or before is None:
        return None
    return current - before
