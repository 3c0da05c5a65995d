"""The leader's overdue drill-down: district → street → community → grid → the cases behind the number.

Overdue and due-soon are computed at ``now`` from the stored deadline (not from the flags the deadline
job keeps, which may lag by a minute): overdue when open and ``deadline_at < now``; due soon when open,
not overdue, and 80 % of the limit (``accepted_at`` → ``deadline_at``) has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, true
from sqlalchemy.orm import Session

from ..deadlines import DUE_SOON_FRACTION
from ..models import AdminUnit, Case
from ..scope import AreaScope
from .common import (
    CASE_ROW_COLUMNS,
    CHILD_LEVEL,
    CaseRow,
    case_rows,
    count_if,
    epoch_seconds,
    level_of,
    place_column,
    require_aware,
)

NOT_PLACED_BELOW = "未落到下级"


@dataclass(frozen=True)
class UnitCount:
    code: str  # "" for the cases of the parent not placed in any child
    name: str
    level: str
    overdue: int
    due_soon: int
    open: int
    has_children: bool


def due_soon_clause(session: Session, now: datetime) -> Any:
    """SQL: open-and-not-overdue is left to the caller; this is "80 % of the limit has passed"."""
    deadline = epoch_seconds(session, Case.deadline_at)
    accepted = epoch_seconds(session, Case.accepted_at)
    return and_(
        Case.deadline_at >= now,
        Case.accepted_at.is_not(None),
        deadline * DUE_SOON_FRACTION + accepted * (1 - DUE_SOON_FRACTION) <= now.timestamp(),
    )


def overdue_by_unit(session: Session, scope: AreaScope, parent_code: str, now: datetime) -> list[UnitCount]:
    """The children of ``parent_code`` that overlap the scope, each with its overdue, due-soon and open
    counts at ``now``, most overdue first. Cases of the parent not placed in any child get one extra row
    (code ``""``), so the children always add up to the parent."""
    require_aware(now)
    level = level_of(parent_code)
    child_level = CHILD_LEVEL.get(level)
    if child_level is None or not scope.overlaps(parent_code):
        return []
    children = [
        (r.code, r.name)
        for r in session.execute(
            select(AdminUnit.code, AdminUnit.name).where(AdminUnit.parent_code == parent_code)
        )
        if scope.overlaps(r.code)
    ]
    child_col = getattr(Case, f"{child_level}_code")
    counts = {
        r[0]: r[1:]
        for r in session.execute(
            select(
                child_col,
                count_if(Case.deadline_at < now),
                count_if(due_soon_clause(session, now)),
                func.count(),
            )
            .where(scope.clause(Case), place_column(Case, parent_code) == parent_code, Case.is_open == true())
            .group_by(child_col)
        )
    }
    has_grandchildren = child_level != "grid"
    rows = []
    for code, name in children:
        overdue, due_soon, n_open = counts.pop(code, (0, 0, 0))
        rows.append(UnitCount(code, name, child_level, overdue, due_soon, n_open, has_grandchildren))
    leftover = list(counts.values())  # cases in no listed child (unplaced below, or unknown code)
    if leftover:
        overdue, due_soon, n_open = (sum(v[i] for v in leftover) for i in range(3))
        rows.append(UnitCount("", NOT_PLACED_BELOW, child_level, overdue, due_soon, n_open, False))
    rows.sort(key=lambda u: (-u.overdue, -u.due_soon, -u.open, u.code == "", u.code))
    return rows


def overdue_cases(
    session: Session, scope: AreaScope, unit_code: str, now: datetime, limit: int = 200
) -> list[CaseRow]:
    """The open, overdue cases of a unit in scope, latest deadline last: the most late first."""
    require_aware(now)
    if not scope.overlaps(unit_code):
        return []
    rows = session.execute(
        select(*CASE_ROW_COLUMNS)
        .where(
            scope.clause(Case),
            place_column(Case, unit_code) == unit_code,
            Case.is_open == true(),
            Case.deadline_at < now,
        )
        .order_by(Case.deadline_at, Case.id)
        .limit(limit)
    ).all()
    return case_rows(session, rows, now)
