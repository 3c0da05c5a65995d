"""The wall's charts: cases by (top-level) category, and the 30-day trend of received vs closed.

The trend buckets by local (Asia/Shanghai) day portably: the day boundaries are computed in Python and
the database counts each bucket with ``CASE`` sums in one scan, so no dialect date function is used and
any time zone (DST included) is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, func, select
from sqlalchemy.orm import Session

from ..models import Case
from ..scope import AreaScope
from .cohort import period_parts, trend_from_aggregates
from .common import category_index, local_day_bounds, require_aware


@dataclass(frozen=True)
class CategoryCount:
    code: str  # top-level category code ("" for uncategorised)
    name: str
    name_en: str
    count: int  # received in the period
    open: int  # of those, still open


@dataclass(frozen=True)
class TrendPoint:
    day: date  # local day
    received: int  # requested that day
    closed: int  # resolved (办结) that day


def cases_by_category(
    session: Session, scope: AreaScope, start: datetime, end: datetime, *, raw: bool = False
) -> list[CategoryCount]:
    """Cases received in ``[start, end)`` per top-level category, most first (from ``case_daily``,
    :mod:`.cohort`, unless ``raw``)."""
    require_aware(start, end)
    parts = period_parts(session, scope, start, end, "category_code", raw=raw)
    period_rows = [(code, p.received, p.still_open) for code, p in parts.items()]
    cats = category_index(session)
    totals: dict[str, list[int]] = {}
    for code, count, n_open in period_rows:
        info = cats.get(code or "")
        top = info.top_code if info else ""
        acc = totals.setdefault(top, [0, 0])
        acc[0] += count
        acc[1] += n_open
    out = []
    for top, (count, n_open) in totals.items():
        info = cats.get(top)
        out.append(
            CategoryCount(
                top,
                info.name if info else "",  # no category: the screens say 未分类
                info.name_en if info else "",
                count,
                n_open,
            )
        )
    out.sort(key=lambda c: (-c.count, c.code))
    return out


def daily_trend(
    session: Session,
    scope: AreaScope,
    now: datetime,
    tz: ZoneInfo | str = "Asia/Shanghai",
    days: int = 30,
    *,
    raw: bool = False,
) -> list[TrendPoint]:
    """Received and closed (resolved) per local day for the ``days`` days ending today, zero-filled;
    from ``case_daily`` (:mod:`.cohort`) when it keys those days and the scope, unless ``raw``."""
    require_aware(now)
    bounds = local_day_bounds(now, tz, days)
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    counted = None if raw else trend_from_aggregates(session, scope, bounds, zone)
    if counted is not None:
        return [
            TrendPoint(bounds[i].astimezone(zone).date(), counted[i][0], counted[i][1]) for i in range(days)
        ]
    first, last = bounds[0], bounds[-1]

    def buckets(column: Any) -> list[Any]:
        return [
            func.coalesce(func.sum(case((and_(column >= lo, column < hi), 1), else_=0)), 0).cast(Integer)
            for lo, hi in zip(bounds, bounds[1:], strict=False)
        ]

    received = session.execute(
        select(*buckets(Case.requested_at)).where(
            scope.clause(Case), Case.requested_at >= first, Case.requested_at < last
        )
    ).one()
    closed = session.execute(
        select(*buckets(Case.resolved_at)).where(
            scope.clause(Case), Case.resolved_at >= first, Case.resolved_at < last
        )
    ).one()
    return [
        TrendPoint(bounds[i].astimezone(zone).date(), int(received[i]), int(closed[i])) for i in range(days)
    ]
