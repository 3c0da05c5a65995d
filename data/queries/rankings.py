"""Street and department rankings (the wall's 排名), worst first — the way a leader reads them.

Streets: most overdue now first, then the lowest closure rate, then the lowest on-time rate.
Departments: most overdue now first, then the slowest mean response, then the lowest closure rate.
Period figures are over the cases received in ``[start, end)`` (as in :mod:`.kpis`); overdue and open
are at ``now``. Every street of the scope is listed, including those with no cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from ..models import AdminUnit, Case
from ..scope import AreaScope
from .cohort import Parts, period_parts
from .common import count_if, department_name, department_names, rate, require_aware


@dataclass(frozen=True)
class StreetRank:
    rank: int
    code: str
    name: str
    received: int
    closed: int
    closure_rate: float | None
    on_time_rate: float | None
    open: int
    overdue: int


@dataclass(frozen=True)
class DepartmentRank:
    rank: int
    code: str
    name: str
    received: int
    closed: int
    closure_rate: float | None
    open: int
    overdue: int
    responded: int  # cases with a measurable response
    mean_response_hours: float | None


def _worst_last(value: float | None) -> float:
    """Sort key for rates: low rates first, undefined (None) after every defined one."""
    return 2.0 if value is None else value


def streets_in_scope(session: Session, scope: AreaScope) -> list[tuple[str, str]]:
    """(code, name) of every street that overlaps the scope, by code."""
    districts = sorted({c[:6] for c in scope.codes})
    if not districts:
        return []
    rows = session.execute(
        select(AdminUnit.code, AdminUnit.name)
        .where(AdminUnit.level == "street", AdminUnit.parent_code.in_(districts))
        .order_by(AdminUnit.code)
    ).all()
    return [(r.code, r.name) for r in rows if scope.overlaps(r.code)]


def street_ranking(
    session: Session, scope: AreaScope, start: datetime, end: datetime, now: datetime, *, raw: bool = False
) -> list[StreetRank]:
    """Every street of the scope with received, closure and on-time rates for the period, open and
    overdue now; worst first. The period figures come from ``case_daily`` (:mod:`.cohort`) unless
    ``raw``."""
    require_aware(start, end, now)
    by_period = period_parts(session, scope, start, end, "street_code", raw=raw)
    by_now = _open_now(session, scope, now, Case.street_code)
    rows = []
    for code, name in streets_in_scope(session, scope):
        p = by_period.get(code, Parts())
        n_open, overdue = by_now.get(code, (0, 0))
        closure, on_time = rate(p.done, p.received), rate(p.on_time, p.judged)
        rows.append((code, name, p.received, p.done, closure, on_time, n_open, overdue))
    rows.sort(key=lambda r: (-r[7], _worst_last(r[4]), _worst_last(r[5]), r[0]))
    return [StreetRank(i + 1, *r) for i, r in enumerate(rows)]


def department_ranking(
    session: Session, scope: AreaScope, start: datetime, end: datetime, now: datetime, *, raw: bool = False
) -> list[DepartmentRank]:
    """Departments holding cases in the scope: closure rate for the period, open and overdue now, and
    mean response time (accepted → first assigned / in-progress event, or resolution when the case
    skipped both) over the period's cases; worst first. Departments with no case are left out.
    The first assigned / in-progress moment is the one stored on the case (:mod:`data.first_response`);
    the period figures come from ``case_daily`` (:mod:`.cohort`) unless ``raw``."""
    require_aware(start, end, now)
    by_period = period_parts(session, scope, start, end, "department_code", raw=raw)
    names = department_names(session)
    by_now = _open_now(session, scope, now, Case.department_code)
    rows = []
    for code in sorted({*by_period, *by_now}, key=lambda c: c or ""):
        p = by_period.get(code, Parts())
        n_open, overdue = by_now.get(code, (0, 0))
        rows.append(
            (
                code or "",
                department_name(names, code, unknown="未指定部门"),
                p.received,
                p.done,
                rate(p.done, p.received),
                n_open,
                overdue,
                p.responded,
                p.response_s / p.responded / 3600.0 if p.responded else None,
            )
        )
    rows.sort(key=lambda r: (-r[6], -(r[8] if r[8] is not None else -1.0), _worst_last(r[4]), r[0]))
    return [DepartmentRank(i + 1, *r) for i, r in enumerate(rows)]


def _open_now(session: Session, scope: AreaScope, now: datetime, key: Any) -> dict[Any, Any]:
    """(open, overdue) cases now, per value of ``key`` (a street or department column)."""
    rows = session.execute(
        select(key, func.count(), count_if(Case.deadline_at < now))
        .where(scope.clause(Case), Case.is_open == true())
        .group_by(key)
    ).all()
    return {r[0]: r[1:] for r in rows}
