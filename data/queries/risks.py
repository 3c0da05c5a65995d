"""The risk ledger (风险台账): risks in scope, the overdue ones (not closed by their date) for ``/overdue``
and the wall, and the counts per kind. The owner's phone is masked unless the caller may see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import nulls_last, select
from sqlalchemy.orm import Session

from ..masking import mask_phone
from ..models import RISK_KINDS, Risk
from ..scope import AreaScope
from .common import require_aware, unit_names
from .labels import label

LEVEL_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class RiskRow:
    id: int
    kind: str
    kind_label: str
    level: str
    level_label: str
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
    ref: str = ""  # 台账编号
    owner_person: str = ""  # 责任人 (``owner`` is the unit, 责任单位)
    owner_phone: str = ""  # masked unless asked for in full
    evidence: str = ""  # 销号佐证
    closed_by: str = ""


@dataclass(frozen=True)
class RiskKindCount:
    kind: str
    kind_label: str
    open: int
    overdue: int
    high: int  # open and high level


def risks(
    session: Session,
    scope: AreaScope,
    now: datetime,
    include_closed: bool = False,
    full_phones: bool = False,
) -> list[RiskRow]:
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
                kind_label=label("risk_kind", r.kind),
                level=r.level,
                level_label=label("risk_level", r.level),
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
                ref=r.ref or "",
                owner_person=r.owner_person,
                owner_phone=(r.owner_phone or "") if full_phones else mask_phone(r.owner_phone),
                evidence=r.evidence,
                closed_by=r.closed_by or "",
            )
        )
    rows.sort(
        key=lambda r: (not r.overdue, r.is_closed, LEVEL_ORDER.get(r.level, 9))
    )  # stable: due date kept
    return rows


def overdue_risks(
    session: Session, scope: AreaScope, now: datetime, full_phones: bool = False
) -> list[RiskRow]:
    """Open risks past their closing date (销号 deadline), by level (high first), most overdue first
    within each level."""
    require_aware(now)
    query = (
        select(Risk.id)
        .where(scope.clause(Risk), Risk.closed_at.is_(None), Risk.due_at.is_not(None), Risk.due_at < now)
        .limit(1)
    )
    if session.execute(query).first() is None:
        return []
    return [r for r in risks(session, scope, now, full_phones=full_phones) if r.overdue]


def risk_counts(session: Session, scope: AreaScope, now: datetime) -> list[RiskKindCount]:
    """Open, overdue and open high-level risks per kind (the five kinds, always all five, in order)."""
    require_aware(now)
    rows = session.execute(
        select(Risk.kind, Risk.level, Risk.due_at).where(scope.clause(Risk), Risk.closed_at.is_(None))
    ).all()
    counts = {k: [0, 0, 0] for k in RISK_KINDS}
    for kind, level, due_at in rows:
        c = counts.setdefault(kind, [0, 0, 0])
        c[0] += 1
        c[1] += due_at is not None and due_at < now
        c[2] += level == "high"
    return [RiskKindCount(k, label("risk_kind", k), *v) for k, v in counts.items()]
