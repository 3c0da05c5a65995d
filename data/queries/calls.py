"""预警叫应 as the screens read it, always through the viewer's scope (a grid is in scope when its code
starts with one of the scope's codes): per warning, how many covered grids answered; the grids with
their state; and, for the duty officer, each call with its worker (the phone from the roster, for the
caller to mask or show)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..models import AdminUnit, Alert, AlertCall, GridStaff
from ..names import place_name
from ..scope import AreaScope

ACTIVE_ALERT_STATES = ("new", "acknowledged", "linked")


def _in_scope(scope: AreaScope) -> Any:
    return or_(*[AlertCall.grid_code.startswith(c, autoescape=True) for c in sorted(scope.codes)])


@dataclass(frozen=True)
class CallCount:
    """One warning's calling in a scope: ``answered`` of ``total`` covered grids answered this round."""

    alert_id: int
    event: str
    colour: str
    severity: str
    kind: str
    answered: int
    total: int
    evacuated: int  # 已转移: people, summed over the grids
    support: int  # grids that asked for support

    @property
    def silent(self) -> int:
        return self.total - self.answered


def call_counts(session: Session, scope: AreaScope, alert_ids: list[int] | None = None) -> list[CallCount]:
    """The warnings calling now (open calls in scope), most silent grids first."""
    if not scope.codes:
        return []
    columns = (Alert.id, Alert.event, Alert.colour, Alert.severity, Alert.kind, AlertCall.state)
    stmt = (
        select(*columns, AlertCall.evacuated)
        .join(AlertCall, AlertCall.alert_id == Alert.id)
        .where(AlertCall.ended_at.is_(None), Alert.state.in_(ACTIVE_ALERT_STATES), _in_scope(scope))
    )  # fmt: skip
    if alert_ids is not None:
        stmt = stmt.where(Alert.id.in_(alert_ids))
    found: dict[int, dict[str, Any]] = {}
    for alert_id, event, colour, severity, kind, state, evacuated in session.execute(stmt):
        row = found.setdefault(
            alert_id,
            {
                "event": event,
                "colour": colour,
                "severity": severity,
                "kind": kind,
                "a": 0,
                "t": 0,
                "e": 0,
                "s": 0,
            },
        )
        row["t"] += 1
        row["a"] += state != "calling"
        row["e"] += evacuated or 0
        row["s"] += state == "support"
    out = [
        CallCount(i, r["event"], r["colour"] or "", r["severity"], r["kind"], r["a"], r["t"], r["e"], r["s"])
        for i, r in found.items()
    ]
    return sorted(out, key=lambda c: (-c.silent, -c.total, c.alert_id))


def call_grids(session: Session, scope: AreaScope, alert_ids: list[int]) -> dict[int, dict[str, str]]:
    """Per warning, each open call's grid in scope → its state (``calling`` is silent)."""
    if not scope.codes or not alert_ids:
        return {}
    out: dict[int, dict[str, str]] = defaultdict(dict)
    for alert_id, grid, state in session.execute(
        select(AlertCall.alert_id, AlertCall.grid_code, AlertCall.state).where(
            AlertCall.alert_id.in_(alert_ids), AlertCall.ended_at.is_(None), _in_scope(scope)
        )
    ):
        out[alert_id][grid] = state
    return dict(out)


@dataclass(frozen=True)
class CallRow:
    """One grid's call for the duty officer: the worker's ``phone`` as stored (the caller masks it)."""

    call_id: int
    grid_code: str
    grid_name: str
    worker_name: str
    worker_role: str
    phone: str
    state: str
    round: int
    level: str
    messages: int
    last_called_at: datetime | None
    delivered_at: datetime | None
    answered_at: datetime | None
    evacuated: int
    note: str


def alert_calls(session: Session, scope: AreaScope, alert_id: int) -> list[CallRow]:
    """The open calls of one warning in scope: the silent grids first, then by grid code."""
    if not scope.codes:
        return []
    calls = list(
        session.scalars(
            select(AlertCall)
            .where(AlertCall.alert_id == alert_id, AlertCall.ended_at.is_(None), _in_scope(scope))
            .order_by(AlertCall.grid_code)
        )
    )
    codes = sorted({c.grid_code for c in calls})
    wanted = sorted({x for code in codes for x in (code, code[:12])})
    names: dict[str, str] = {}
    phones: dict[tuple[str, str], str] = {}
    for i in range(0, len(wanted), 500):
        names.update(
            session.execute(
                select(AdminUnit.code, AdminUnit.name).where(AdminUnit.code.in_(wanted[i : i + 500]))
            ).all()
        )
    for i in range(0, len(codes), 500):
        for unit, name, phone in session.execute(
            select(GridStaff.unit_code, GridStaff.name, GridStaff.phone).where(
                GridStaff.unit_code.in_(codes[i : i + 500])
            )
        ):
            phones.setdefault((unit, name), phone or "")
    rows = [
        CallRow(
            c.id,
            c.grid_code,
            place_name(c.grid_code, names),
            c.worker_name,
            c.worker_role,
            phones.get((c.grid_code, c.worker_name), ""),
            c.state,
            c.round,
            c.level,
            c.messages,
            c.last_called_at,
            c.delivered_at,
            c.answered_at,
            c.evacuated,
            c.note,
        )  # fmt: skip
        for c in calls
    ]
    return sorted(rows, key=lambda r: (r.state != "calling", r.grid_code))
