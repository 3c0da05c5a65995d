"""预警叫应: a warning at 黄 (Moderate) or above that covers grids calls each covered grid's worker, who
must answer (已收到, then 巡查完成 / 已转移 N 人 / 需要支援).

The calls are written by the **workers** — after a warning is ingested or updated
(:mod:`workers.ingest.alerts`) and, as a safety net, by the deadlines job — never by a screen: a screen
only writes a 再叫应 (:func:`recall`). Every message goes through the loop's outbox
(:class:`~data.models.OutboxMessage` with ``call_id``), to the grid patrol app's ``[[endpoint]]``
(department :data:`CALL_DEPARTMENT`), signed, at least once, each with its own idempotency key.

- :func:`sync_alert` — make the alert's calls match the alert: a call (and a message) for each covered
  grid that has a worker on the roster; a new round for every open call when an Update raised the level;
  the calling ended (and a ``call_ended`` message sent to the grids already called) when the warning is
  cancelled, expires, drops below 黄 or no longer covers the grid;
- :func:`recall` — 再叫应 by a duty officer: one new message to each *silent* grid (no answer this round)
  in the officer's own scope, audited;
- :func:`grid_key` — each grid's answer key, derived from the app's shared secret: a worker's phone holds
  its own grid's key only, so it cannot answer for another grid.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import shapely
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ..auth.audit import audit
from ..auth.roles import Permission, may
from ..auth.supervision import NotPermitted
from ..auth.users import scope_of
from ..models import (
    SEVERITY_RANK,
    AdminUnit,
    Alert,
    AlertCall,
    AlertEvent,
    AlertGrid,
    GridStaff,
    OutboxMessage,
)
from ..models import UserAccount as Account
from ..names import place_name

CALL_DEPARTMENT = "grid_patrol"  # the grid patrol app: its [[endpoint]] receives the calls
MIN_SEVERITY = "Moderate"  # 黄
ACTIVE_ALERT_STATES = ("new", "acknowledged", "linked")
WORKER_ROLES = ("grid_worker", "grid_chief")  # who is called: the grid worker, else the grid chief
VERSION = 1


def grid_key(secret: str, grid_code: str) -> str:
    """The key a grid's worker signs answers with: HMAC-SHA256(app secret, ``grid:<code>``) in hex."""
    return hmac.new(secret.encode(), b"grid:" + grid_code.encode(), hashlib.sha256).hexdigest()


def _rank(severity: str | None) -> int:
    return SEVERITY_RANK.get(severity or "", 0)


def _is_area(alert: Alert) -> bool:
    """A warning with an area (CAP polygon or circle), not a sensor's point."""
    if not alert.geometry:
        return False
    try:
        geom = shapely.from_wkb(alert.geometry)
    except (shapely.errors.GEOSException, ValueError, TypeError):
        return False
    return geom is not None and not geom.is_empty and geom.geom_type not in ("Point", "MultiPoint")


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite hands back naive UTC
        return value.replace(tzinfo=UTC)
    return value


def end_reason(alert: Alert, now: datetime) -> str | None:
    """Why the alert calls no one (None: it calls its covered grids)."""
    if alert.state == "cancelled":
        return "cancelled"
    expires = _utc(alert.expires)
    if alert.state == "expired" or (expires is not None and expires <= now):
        return "expired"
    if alert.state not in ACTIVE_ALERT_STATES:
        return alert.state  # dismissed
    if _rank(alert.severity) < _rank(MIN_SEVERITY):
        return "below_level"
    if not _is_area(alert):
        return "no_area"
    return None


def _workers(session: Session, grids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Who is called in each grid: its (first) grid worker, else its grid chief — (name, role)."""
    wanted = sorted(set(grids))
    found: dict[str, tuple[str, str]] = {}
    for i in range(0, len(wanted), 500):
        rows = session.execute(
            select(GridStaff.unit_code, GridStaff.role, GridStaff.name)
            .where(GridStaff.unit_code.in_(wanted[i : i + 500]), GridStaff.role.in_(WORKER_ROLES))
            .order_by(GridStaff.unit_code, GridStaff.id)
        ).all()
        for code, role, name in rows:
            if code not in found or (role == "grid_worker" and found[code][1] != "grid_worker"):
                found[code] = (name, role)
    return found


def _grid_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    wanted = sorted({c for code in codes for c in (code, code[:12])})
    names: dict[str, str] = {}
    for i in range(0, len(wanted), 500):
        names.update(
            session.execute(
                select(AdminUnit.code, AdminUnit.name).where(AdminUnit.code.in_(wanted[i : i + 500]))
            ).all()
        )
    return names


def _iso(value: datetime | None) -> str | None:
    value = _utc(value)
    return value.isoformat() if value is not None else None


def call_body(
    message_id: str,
    kind: str,
    alert: Alert,
    call: AlertCall,
    grid_name: str,
    now: datetime,
    recall: bool = False,
) -> str:
    """The JSON a call (``type`` ``call``) or its end (``call_ended``) leaves gridcc as: the warning, the
    grid and the worker's name — never a phone."""
    doc: dict[str, Any] = {
        "version": VERSION,
        "type": kind,
        "message_id": message_id,
        "call_id": call.id,
        "round": call.round,
        "recall": recall,  # 再叫应: the duty officer calls a silent grid again
        "level": call.level,
        "sent_at": now.isoformat(),
        "grid": {"code": call.grid_code, "name": grid_name},
        "worker": {"name": call.worker_name, "role": call.worker_role},
        "alert": {
            "id": alert.id,
            "event": alert.event,
            "severity": alert.severity,
            "colour": alert.colour,
            "headline": alert.headline,
            "area": alert.area_desc,
            "onset": _iso(alert.onset),
            "expires": _iso(alert.expires),
        },
        "answers": ["received", "patrolled", "evacuated", "support"] if kind == "call" else [],
        "end_reason": call.end_reason if kind == "call_ended" else "",
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _message(
    session: Session, alert: Alert, call: AlertCall, grid_name: str, now: datetime, kind: str = "call",
    recall: bool = False,
) -> OutboxMessage:  # fmt: skip
    message_id = f"gc-call-{uuid.uuid4().hex}"
    message = OutboxMessage(
        message_id=message_id, call_id=call.id, department_code=CALL_DEPARTMENT,
        body=call_body(message_id, kind, alert, call, grid_name, now, recall), state="pending", attempts=0,
        next_attempt_at=now, last_error="", created_at=now,
    )  # fmt: skip
    session.add(message)
    if kind == "call":
        call.messages = (call.messages or 0) + 1
        call.last_called_at = now
    return message


def _event(
    session: Session, alert: Alert, now: datetime, kind: str, detail: str, actor: str = "system"
) -> None:
    session.add(AlertEvent(alert_id=alert.id, at=now, kind=kind, detail=detail[:2000], actor=actor))


def _end(
    session: Session, alert: Alert, call: AlertCall, reason: str, name: str, now: datetime
) -> OutboxMessage | None:
    """End one call: its unsent messages are cancelled; a grid already called is told it ended."""
    call.ended_at, call.end_reason = now, reason
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.call_id == call.id, OutboxMessage.state == "pending")
        .values(state="cancelled", leased_until=None, last_error=f"call ended: {reason}")
        .execution_options(synchronize_session=False)
    )
    if call.delivered_at is None:
        return None  # nothing reached the worker: nothing to take back
    return _message(session, alert, call, name, now, kind="call_ended")


def _new_call(session: Session, alert: Alert, grid: str, worker: tuple[str, str], now: datetime) -> AlertCall:
    call = AlertCall(
        alert_id=alert.id, grid_code=grid, worker_name=worker[0], worker_role=worker[1], level=alert.severity,
        round=1, round_at=now, state="calling", messages=0, evacuated=0, note="", end_reason="",
        created_at=now,
    )  # fmt: skip
    session.add(call)
    session.flush()
    return call


def _new_round(call: AlertCall, alert: Alert, now: datetime) -> None:
    call.round = (call.round or 0) + 1
    call.round_at, call.level, call.state, call.answered_at = now, alert.severity, "calling", None
    call.ended_at, call.end_reason = None, ""


@dataclass
class Synced:
    """What :func:`sync_alert` wrote: the messages (calls and ends) and how many calls of each sort."""

    messages: list[OutboxMessage]
    called: int = 0  # first calls
    raised: int = 0  # calls again at a higher level
    ended: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.messages or self.called or self.raised or self.ended)


def sync_alert(session: Session, alert: Alert, now: datetime) -> Synced:
    """Make the alert's calls match the alert (see the module's docstring). The caller commits."""
    out = Synced([])
    calls = {c.grid_code: c for c in session.scalars(select(AlertCall).where(AlertCall.alert_id == alert.id))}
    reason = end_reason(alert, now)
    covered = (
        set()
        if reason is not None
        else set(session.scalars(select(AlertGrid.grid_code).where(AlertGrid.alert_id == alert.id)))
    )
    names = _grid_names(session, set(calls) | covered)
    for grid, existing in calls.items():
        if existing.ended_at is None and grid not in covered:
            sent = _end(session, alert, existing, reason or "uncovered", place_name(grid, names), now)
            out.ended += 1
            if sent is not None:
                out.messages.append(sent)
    if not covered:
        if out.ended:
            _event(session, alert, now, "call_ended", f"{out.ended} grid(s): {reason or 'uncovered'}")
        return out
    workers = _workers(session, covered)
    for grid in sorted(covered):
        call = calls.get(grid)
        if call is None:
            if grid not in workers:
                continue  # no one on the roster to call
            call = _new_call(session, alert, grid, workers[grid], now)
            out.called += 1
        elif call.ended_at is not None or _rank(alert.severity) > _rank(call.level):
            out.raised += call.ended_at is None
            out.called += call.ended_at is not None
            _new_round(call, alert, now)
            if grid in workers:  # the roster may have changed since
                call.worker_name, call.worker_role = workers[grid]
        else:
            call.level = alert.severity  # a lowering (still 黄 or above) is not a new call
            continue
        out.messages.append(_message(session, alert, call, place_name(grid, names), now))
    if out.called or out.raised:
        level = alert.colour or alert.severity
        detail = f"{out.called} called, {out.raised} called again ({level})" + (
            f", {out.ended} ended" if out.ended else ""
        )
        _event(session, alert, now, "call", detail)
    elif out.ended:
        _event(session, alert, now, "call_ended", f"{out.ended} grid(s): uncovered")
    return out


def sync_alerts(session: Session, now: datetime) -> Synced:
    """The deadlines job's safety net: every alert that calls or has open calls, synced (a roster loaded
    after the warning came, an expiry, a call written by a run that crashed before its commit)."""
    total = Synced([])
    open_ids = select(AlertCall.alert_id).where(AlertCall.ended_at.is_(None))
    alerts = session.scalars(
        select(Alert).where(
            or_(
                Alert.id.in_(open_ids),
                (Alert.state.in_(ACTIVE_ALERT_STATES))
                & Alert.severity.in_([s for s, r in SEVERITY_RANK.items() if r >= _rank(MIN_SEVERITY)]),
            )
        )
    ).all()
    for alert in alerts:
        synced = sync_alert(session, alert, now)
        total.messages += synced.messages
        total.called += synced.called
        total.raised += synced.raised
        total.ended += synced.ended
    return total


class CallsNotFound(LookupError):
    """No open call of that alert in the account's scope (an alert of another street, or none)."""


def recall(
    session: Session, actor: Account, alert_id: int, now: datetime, remote_addr: str = ""
) -> list[OutboxMessage]:
    """再叫应: call again each silent grid (no answer this round) of the alert **in the actor's scope**,
    except those whose last message has not left yet. Audited ``call_recall``. The caller commits."""
    if actor.disabled or not may(actor.role, Permission.ACK_ALERT):
        raise NotPermitted(f"{actor.username} ({actor.role}) may not call grids again")
    scope = scope_of(actor)
    if not scope.codes:
        raise CallsNotFound(f"no calls of alert {alert_id} in scope")
    in_scope = or_(*[AlertCall.grid_code.startswith(c, autoescape=True) for c in sorted(scope.codes)])
    calls = list(
        session.scalars(
            select(AlertCall)
            .where(AlertCall.alert_id == alert_id, AlertCall.ended_at.is_(None), in_scope)
            .order_by(AlertCall.grid_code)
            .with_for_update()
        )
    )
    alert = session.get(Alert, alert_id)
    if not calls or alert is None:
        raise CallsNotFound(f"no calls of alert {alert_id} in scope")
    waiting = set(
        session.scalars(
            select(OutboxMessage.call_id).where(
                OutboxMessage.call_id.in_([c.id for c in calls]), OutboxMessage.state == "pending"
            )
        )
    )
    silent = [c for c in calls if c.state == "calling" and c.id not in waiting]
    names = _grid_names(session, [c.grid_code for c in silent])
    messages = [_message(session, alert, c, place_name(c.grid_code, names), now, recall=True) for c in silent]
    detail = f"{len(messages)} grid(s): " + ",".join(c.grid_code for c in silent)
    audit(session, actor.username, "call_recall", f"alert:{alert_id}", detail[:500], remote_addr, now)
    if messages:
        _event(session, alert, now, "call_recall", detail, actor.username)
    session.flush()
    return messages
