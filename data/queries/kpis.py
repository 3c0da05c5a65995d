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

from sqlalchemy import and_, case, func, select, true
from sqlalchemy.orm import Session

from ..models import Case, CaseMerge
from ..scope import AreaScope
from ..states import DONE_STATES
from .common import count_if, hours_between, in_period, rate, require_aware

SATISFIED = ("satisfied", "basic")


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


def kpis(session: Session, scope: AreaScope, start: datetime, end: datetime, now: datetime) -> Kpis:
    """The KPIs of ``scope`` for the cases received in ``[start, end)``, and open/overdue at ``now``."""
    require_aware(start, end, now)
    done = Case.status.in_(sorted(DONE_STATES))
    judged = and_(done, Case.resolved_at.is_not(None), Case.deadline_at.is_not(None))
    resolved_timed = and_(done, Case.resolved_at.is_not(None), Case.accepted_at.is_not(None))
    handling = case((resolved_timed, hours_between(session, Case.accepted_at, Case.resolved_at)), else_=None)
    period = select(
        func.count(),
        count_if(done),
        count_if(judged),
        count_if(and_(judged, Case.resolved_at <= Case.deadline_at)),
        count_if(Case.satisfaction.is_not(None)),
        count_if(Case.satisfaction.in_(SATISFIED)),
        count_if(Case.satisfaction == "satisfied"),
        func.avg(handling),
    ).where(in_period(session, scope, start, end), Case.id.not_in(select(CaseMerge.case_id)))
    received, closed, n_judged, on_time, rated, satisfied, strict, mean_h = session.execute(period).one()

    current = select(func.count(), count_if(Case.deadline_at < now)).where(
        scope.clause(Case), Case.is_open == true()
    )
    n_open, n_overdue = session.execute(current).one()
    return Kpis(
        received=received,
        closed=closed,
        closure_rate=rate(closed, received),
        judged=n_judged,
        on_time=on_time,
        on_time_rate=rate(on_time, n_judged),
        rated=rated,
        satisfied=satisfied,
        satisfaction_rate=rate(satisfied, rated),
        satisfied_strict_rate=rate(strict, rated),
        open=n_open,
        overdue=n_overdue,
        mean_handling_hours=float(mean_h) if mean_h is not None else None,
    )
