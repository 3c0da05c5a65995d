"""The KPI band: received, closure rate, on-time rate, satisfaction, open, overdue, handling time.

Definitions (the period is ``[start, end)``; the period KPIs are over the cohort of cases *received*
in it, so every rate's numerator is a subset of its denominator):

- received 受理数: cases with ``requested_at`` in the period, a matter reported through several
  channels once (a case merged into another, :mod:`data.merge`, is left out of every period KPI: the
  primary it was merged into stands for it);
- closure rate 办结率: of those, status resolved or closed / received;
- on-time closure rate 按期办结率: of the resolved or closed ones that have a deadline, those with
  ``resolved_at <= deadline_at`` / those (a case resolved without ever getting a deadline cannot be
  judged and is left out of both);
- satisfaction rate 满意率: (满意 satisfied + 基本满意 basic) / rated — as Chinese 12345 practice counts
  it; ``satisfied_strict_rate`` gives 满意 alone;
- mean handling time: mean of ``resolved_at - accepted_at`` in hours over the resolved ones;
- open 在办 and overdue 超期 are *now*, not per period: open cases, and open cases past their deadline.

Rates with a zero denominator are None (shown as ``—``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from ..models import Case
from ..scope import AreaScope
from .cohort import SATISFIED, period_parts
from .common import count_if, rate, require_aware

__all__ = ["SATISFIED", "Kpis", "kpis"]


@dataclass(frozen=True)
class Kpis:
    received: int
    closed: int  # resolved or closed, of those received
    closure_rate: float | None
    judged: int  # resolved with a deadline
    on_time: int
    on_time_rate: float | None
    rated: int
    satisfied: int  # satisfied + basic
    satisfaction_rate: float | None
    satisfied_strict_rate: float | None
    open: int
    overdue: int
    mean_handling_hours: float | None


def kpis(
    session: Session, scope: AreaScope, start: datetime, end: datetime, now: datetime, *, raw: bool = False
) -> Kpis:
    """The KPIs of ``scope`` for the cases received in ``[start, end)``, and open/overdue at ``now``.
    The period figures come from ``case_daily`` (:mod:`.cohort`) unless ``raw``."""
    require_aware(start, end, now)
    p = period_parts(session, scope, start, end, raw=raw)[None]
    current = select(func.count(), count_if(Case.deadline_at < now)).where(
        scope.clause(Case), Case.is_open == true()
    )
    n_open, n_overdue = session.execute(current).one()
    return Kpis(
        received=p.received,
        closed=p.done,
        closure_rate=rate(p.done, p.received),
        judged=p.judged,
        on_time=p.on_time,
        on_time_rate=rate(p.on_time, p.judged),
        rated=p.rated,
        satisfied=p.satisfied,
        satisfaction_rate=rate(p.satisfied, p.rated),
        satisfied_strict_rate=rate(p.strict, p.rated),
        open=n_open,
        overdue=n_overdue,
        mean_handling_hours=p.handling_s / p.handled / 3600.0 if p.handled else None,
    )
