"""The risk ledger (风险台账): risks in scope, and the overdue ones (not closed by their date)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import nulls_last, select
from sqlalchemy.orm import Session

from ..models import Risk
from ..scope import AreaScope
from .common import require_aware, unit_names

LEVEL_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class RiskRow:
    id: int
    kind: str
    level: str
    title: str
    description: str
    owner: str
    measures: str
    due_at: datetime | None
    closed_at: datetime | None
    is_closed: bool
    overdue: bool
    days_left: float | None  # negative when overdue; None when closed or without a date
    street_name: str
    community_name: str
    grid_code: str | None
    grid_name: str
    lon: float | None
    lat: float | None


def risks(session: Session, scope: AreaScope, now: datetime, include_closed: bool = False) -> list[RiskRow]:
    """Risks of the scope: overdue first, then by level (high first), then by due date."""
    require_aware(now)
    query = select(Risk).where(scope.clause(Risk))
    if not include_closed:
        query = query.where(Risk.closed_at.is_(None))
    items = list(session.execute(query.order_by(nulls_last(Risk.due_at.asc()), Risk.id)).scalars())
    names = unit_names(session, [c for r in items for c in (r.street_code, r.community_code, r.grid_code)])
    rows = []
    for r in items:
        is_closed = r.closed_at is not None
        overdue = not is_closed and r.due_at is not None and r.due_at < now
        days_left = (
            (r.due_at - now).total_seconds() / 86400 if r.due_at is not None and not is_closed else None
        )
        rows.append(
            RiskRow(
                id=r.id,
                kind=r.kind,
                level=r.level,
                title=r.title,
                description=r.description,
                owner=r.owner,
                measures=r.measures,
                due_at=r.due_at,
                closed_at=r.closed_at,
                is_closed=is_closed,
                overdue=overdue,
                days_left=days_left,
                street_name=names.get(r.street_code or "", ""),
                community_name=names.get(r.community_code or "", ""),
                grid_code=r.grid_code,
                grid_name=names.get(r.grid_code or "", ""),
                lon=r.lon,
                lat=r.lat,
            )
        )
    rows.sort(
        key=lambda r: (not r.overdue, r.is_closed, LEVEL_ORDER.get(r.level, 9))
    )  # stable: due date kept
    return rows


def overdue_risks(session: Session, scope: AreaScope, now: datetime) -> list[RiskRow]:
    """Open risks past their closing date, most overdue first within each level."""
    return [r for r in risks(session, scope, now) if r.overdue]
