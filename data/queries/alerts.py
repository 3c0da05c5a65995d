"""Active alerts with the grids (and grid workers) they cover, acknowledgement, and the wall's ticker.

An alert is in scope when its own place (the grid of its centre) is, or when it covers a grid that is
(``alert_grid``): a district-wide rain warning centred elsewhere still shows in every street it covers.
Only the covered grids inside the scope are listed with it.

An unacknowledged Severe/Extreme alert left alone is escalated by the deadline job (``escalated_at`` and
an ``escalated`` event, :mod:`workers.jobs.deadlines`); an update that raised its severity leaves a
``raised`` event and makes an acknowledged alert new again. Both are on each :class:`AlertRow`, and
:func:`escalated_alerts` lists the escalated ones; :func:`alert_history` pages through past alerts with
their acknowledgements and linked cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, func, or_, select, update
from sqlalchemy.orm import Session

from ..masking import mask_phone
from ..models import AdminUnit, Alert, AlertEvent, AlertGrid, Case, GridStaff
from ..names import place_name
from ..scope import AreaScope
from .common import require_aware

# a linked alert (turned into a case) is still active: its card shows the case (the map's layer too)
ACTIVE_STATES = ("new", "acknowledged", "linked")
SEVERITY_ORDER = {"Extreme": 0, "Severe": 1, "Moderate": 2, "Minor": 3}


@dataclass(frozen=True)
class GridWorker:
    name: str
    phone: str  # masked


@dataclass(frozen=True)
class CoveredGrid:
    code: str
    name: str
    workers: list[GridWorker] = field(default_factory=list)


@dataclass(frozen=True)
class AlertRow:
    id: int
    kind: str
    event: str
    headline: str
    area_desc: str
    severity: str
    colour: str
    state: str
    unacknowledged: bool
    sent_at: datetime | None
    onset: datetime | None
    expires: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    lon: float | None
    lat: float | None
    grid_code: str | None
    grids: list[CoveredGrid] = field(default_factory=list)
    escalated: bool = False  # left unacknowledged at Severe/Extreme past the limit: 已升级
    escalated_at: datetime | None = None
    escalation_detail: str = ""  # the last ``escalated`` event's raw detail (label: "alert_event")
    raised_at: datetime | None = None  # an update last raised the severity then
    raised_detail: str = ""  # "yellow→orange": the last ``raised`` event's detail
    case_id: int | None = None  # the case it was turned into (预警转案件), if any
    case_number: str = ""  # that case's number


@dataclass(frozen=True)
class AckRow:
    at: datetime
    actor: str


@dataclass(frozen=True)
class AlertEventRow:  # kind: a code, labelled by the screens (alert_event)
    at: datetime
    kind: str  # created | updated | raised | acknowledged | escalated | expired | cancelled
    detail: str  # raw: a message id, "yellow→orange", the escalation's reason
    actor: str


@dataclass(frozen=True)
class HistoryRow:
    """One past (or present) alert for the history list: what it was, how it ended, who acknowledged it
    (every acknowledgement, the level it was at is in the events), and the case it was linked to."""

    id: int
    kind: str
    event: str
    headline: str
    area_desc: str
    severity: str
    colour: str
    state: str
    sent_at: datetime | None
    expires: datetime | None
    escalated_at: datetime | None
    raised_at: datetime | None
    acknowledgements: list[AckRow]
    case_id: int | None
    case_number: str | None  # the linked case's number (its feed's identifier)
    case_title: str | None
    timeline: list[AlertEventRow] = field(default_factory=list)  # every event, oldest first


# what an alert row and a history row both carry, straight from the alert
_COMMON = (
    "id", "kind", "event", "headline", "area_desc", "severity", "colour", "state", "sent_at", "expires",
    "escalated_at", "raised_at",
)  # fmt: skip


def _common(alert: Alert) -> dict[str, Any]:
    return {name: getattr(alert, name) for name in _COMMON}


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class TickerItem:
    """An active alert for the ticker: codes and the feed's own words (plain text: the UI shows them
    as text, never as HTML); the wall puts them in a sentence (``【暴雨橙色预警】…``)."""

    id: int
    at: datetime
    kind: str
    event: str
    headline: str  # the feed's headline, else its event; "" when it gave neither
    colour: str
    severity: str
    unacknowledged: bool
    raised: bool = False  # an update raised its level and no one has acknowledged it since: 升级
    escalated: bool = False  # left unacknowledged past its limit and escalated: 超时未确认


def alert_scope_clause(scope: AreaScope) -> ColumnElement[bool]:
    """Alerts whose place is in scope or that cover a grid in scope."""
    if not scope.codes:
        return false()
    covers = exists().where(
        AlertGrid.alert_id == Alert.id, or_(*[AlertGrid.grid_code.startswith(c) for c in sorted(scope.codes)])
    )
    return or_(scope.clause(Alert), covers)


def _active(now: datetime) -> ColumnElement[bool]:
    return and_(Alert.state.in_(ACTIVE_STATES), or_(Alert.expires.is_(None), Alert.expires > now))


def _time(alert: Any) -> datetime:
    return alert.sent_at or alert.onset or alert.created_at


def active_alerts(session: Session, scope: AreaScope, now: datetime) -> list[AlertRow]:
    """Active (new or acknowledged, not expired) alerts in scope: unacknowledged first, then by severity,
    then newest first; each with its covered grids in scope and their grid workers (phones masked)."""
    require_aware(now)
    alerts = list(session.execute(select(Alert).where(alert_scope_clause(scope), _active(now))).scalars())
    if not alerts:
        return []
    ids = [a.id for a in alerts]
    covered: dict[int, list[str]] = {}
    for alert_id, grid in session.execute(
        select(AlertGrid.alert_id, AlertGrid.grid_code)
        .where(AlertGrid.alert_id.in_(ids))
        .order_by(AlertGrid.grid_code)
    ):
        if scope.contains(grid):
            covered.setdefault(alert_id, []).append(grid)
    last = _last_events(session, ids, ("escalated", "raised"))
    linked = sorted({a.case_id for a in alerts if a.case_id is not None})
    numbers: dict[int, str] = {}
    if linked:
        query = select(Case.id, Case.external_id).where(Case.id.in_(linked))
        numbers = {r.id: r.external_id for r in session.execute(query)}
    grids = sorted({g for gs in covered.values() for g in gs})
    names: dict[str, str] = {}
    workers: dict[str, list[GridWorker]] = {}
    for i in range(0, len(grids), 500):
        chunk = grids[i : i + 500]
        units = sorted({*chunk, *(g[:12] for g in chunk)})  # a grid is named with its community
        names.update(
            session.execute(select(AdminUnit.code, AdminUnit.name).where(AdminUnit.code.in_(units))).all()
        )
        for s in session.execute(
            select(GridStaff.unit_code, GridStaff.name, GridStaff.phone)
            .where(GridStaff.unit_code.in_(chunk), GridStaff.role == "grid_worker")
            .order_by(GridStaff.id)
        ):
            workers.setdefault(s.unit_code, []).append(GridWorker(s.name, mask_phone(s.phone)))
    rows = [
        AlertRow(
            **_common(a),
            unacknowledged=a.state == "new",
            onset=a.onset,
            acknowledged_by=a.acknowledged_by,
            acknowledged_at=a.acknowledged_at,
            lon=a.lon,
            lat=a.lat,
            grid_code=a.grid_code,
            grids=[CoveredGrid(g, place_name(g, names), workers.get(g, [])) for g in covered.get(a.id, [])],
            escalated=a.escalated_at is not None and a.state == "new",
            escalation_detail=last.get((a.id, "escalated"), ""),
            raised_detail=last.get((a.id, "raised"), ""),
            case_id=a.case_id,
            case_number=numbers.get(a.case_id, "") if a.case_id is not None else "",
        )
        for a in sorted(
            alerts, key=lambda a: (a.state != "new", SEVERITY_ORDER.get(a.severity, 9), -_time(a).timestamp())
        )
    ]
    return rows


def _last_events(session: Session, ids: list[int], kinds: tuple[str, ...]) -> dict[tuple[int, str], str]:
    """The detail of the latest event of each kind per alert."""
    found: dict[tuple[int, str], str] = {}
    for i in range(0, len(ids), 500):
        for alert_id, kind, detail in session.execute(
            select(AlertEvent.alert_id, AlertEvent.kind, AlertEvent.detail)
            .where(AlertEvent.alert_id.in_(ids[i : i + 500]), AlertEvent.kind.in_(kinds))
            .order_by(AlertEvent.id)
        ):
            found[(alert_id, kind)] = detail
    return found


def escalated_alerts(session: Session, scope: AreaScope, now: datetime) -> list[AlertRow]:
    """Active alerts in scope escalated and still unacknowledged (for the wall and /duty), as in
    :func:`active_alerts` order."""
    return [a for a in active_alerts(session, scope, now) if a.escalated]


def alert_history(
    session: Session,
    scope: AreaScope,
    start: datetime,
    end: datetime,
    page: int = 1,
    page_size: int = 50,
) -> HistoryPage:
    """Alerts in scope sent (or, without a sent time, created) in ``[start, end)``, every state, newest
    first, one page (``page`` from 1) with the total, each with its acknowledgements and linked case."""
    require_aware(start, end)
    page, page_size = max(1, page), max(1, min(page_size, 500))
    when = func.coalesce(Alert.sent_at, Alert.created_at)
    where = and_(alert_scope_clause(scope), when >= start, when < end)
    total = session.scalar(select(func.count()).select_from(Alert).where(where)) or 0
    alerts = list(
        session.execute(
            select(Alert)
            .where(where)
            .order_by(when.desc(), Alert.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        ).scalars()
    )
    ids = [a.id for a in alerts]
    acks: dict[int, list[AckRow]] = {}
    timelines: dict[int, list[AlertEventRow]] = {}
    if ids:
        for alert_id, at, kind, detail, actor in session.execute(
            select(AlertEvent.alert_id, AlertEvent.at, AlertEvent.kind, AlertEvent.detail, AlertEvent.actor)
            .where(AlertEvent.alert_id.in_(ids))
            .order_by(AlertEvent.id)
        ):
            timelines.setdefault(alert_id, []).append(AlertEventRow(at, kind, detail, actor))
            if kind == "acknowledged":
                acks.setdefault(alert_id, []).append(AckRow(at, actor))
    case_ids = sorted({a.case_id for a in alerts if a.case_id is not None})
    cases = (
        {
            r.id: r
            for r in session.execute(
                select(Case.id, Case.external_id, Case.title).where(Case.id.in_(case_ids))
            )
        }
        if case_ids
        else {}
    )
    rows = [
        HistoryRow(
            **_common(a),
            acknowledgements=acks.get(a.id, []),
            case_id=a.case_id,
            case_number=cases[a.case_id].external_id if a.case_id in cases else None,
            case_title=cases[a.case_id].title if a.case_id in cases else None,
            timeline=timelines.get(a.id, []),
        )
        for a in alerts
    ]
    return HistoryPage(rows, total, page, page_size)


def acknowledge_alert(session: Session, scope: AreaScope, alert_id: int, actor: str, now: datetime) -> bool:
    """Acknowledge a new alert in scope: set its state (``linked`` again when it is linked to a case,
    as after a raise of its severity) and write an ``acknowledged`` event with who and when. False (and
    nothing written) when the alert is missing, out of scope or not new — also when two people press at
    once: the conditional UPDATE lets only one through. The caller commits."""
    require_aware(now)
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.state == "new", alert_scope_clause(scope))
        .values(
            state=case((Alert.case_id.is_not(None), "linked"), else_="acknowledged"),
            acknowledged_by=actor,
            acknowledged_at=now,
            modified_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    session.add(
        AlertEvent(alert_id=alert_id, at=now, kind="acknowledged", actor=actor, detail=f"{actor} 确认")
    )
    session.flush()
    return True


def ticker(session: Session, scope: AreaScope, now: datetime, limit: int = 20) -> list[TickerItem]:
    """Active alerts for the wall's ticker, newest first."""
    require_aware(now)
    alerts = list(session.execute(select(Alert).where(alert_scope_clause(scope), _active(now))).scalars())
    alerts.sort(key=lambda a: (-_time(a).timestamp(), -a.id))
    return [
        TickerItem(
            a.id,
            _time(a),
            a.kind,
            a.event or "",
            a.headline or a.event or "",
            a.colour,
            a.severity,
            a.state == "new",
            raised=a.state == "new" and a.raised_at is not None,
            escalated=a.state == "new" and a.escalated_at is not None,
        )
        for a in alerts[:limit]
    ]
