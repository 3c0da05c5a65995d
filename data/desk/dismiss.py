"""排除 / 忽略: an alert dismissed with a reason — it leaves the active lists (``/duty``, the wall, the
map), its ``dismissed`` event says who and why, and a ``desk_alert_dismiss`` audit row is written.

Who may: whoever may acknowledge alerts (``ack_alert``: the duty officer), on an alert of the account's
own scope that is still open (new or acknowledged, not linked to a case)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from ..auth.audit import audit
from ..auth.roles import Permission
from ..auth.users import scope_of
from ..models import Alert, AlertEvent, UserAccount
from .alerts import OPEN_ALERT_STATES, open_alert
from .errors import AlertNotFound, DeskRefused
from .fields import REASON_MAX, clean_text
from .filing import check_actor

# 误报（排除）, 已处置/无需处置（忽略）, 重复预警, 其他（写明原因）
DISMISS_REASONS = ("false_alarm", "no_action", "duplicate", "other")
LAYERS = ("alerts", "kpis")


@dataclass(frozen=True)
class Dismissed:
    alert_id: int
    reason: str
    note: str
    layers: tuple[str, ...] = LAYERS


def dismiss_alert(
    session: Session,
    actor: UserAccount | None,
    alert_id: object,
    reason: object,
    note: object,
    now: datetime,
    remote_addr: str = "",
) -> Dismissed:
    """Dismiss the alert as ``actor``: ``reason`` one of :data:`DISMISS_REASONS` (``other`` needs the
    note). :class:`NotPermitted`, :class:`AlertNotFound` or :class:`DeskRefused`, and nothing written,
    when it cannot be. The caller commits and bumps :attr:`Dismissed.layers`."""
    user = check_actor(actor, Permission.ACK_ALERT, "dismiss alerts")
    alert = open_alert(session, scope_of(user), alert_id, now)
    if reason not in DISMISS_REASONS:
        raise DeskRefused(
            "bad_reason", f"unknown reason {str(reason)[:20]!r}: one of {', '.join(DISMISS_REASONS)}"
        )
    text = clean_text(note, "reason", REASON_MAX, required=reason == "other")
    done = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.case_id.is_(None), Alert.state.in_(OPEN_ALERT_STATES))
        .values(state="dismissed", modified_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        raise AlertNotFound(f"alert {alert.id} is no longer open")
    detail = f"{reason}: {text}" if text else str(reason)
    session.add(AlertEvent(alert_id=alert.id, at=now, kind="dismissed", detail=detail, actor=user.username))
    audit(session, user.username, "desk_alert_dismiss", f"alert:{alert.id}", detail, remote_addr, now)
    session.flush()
    return Dismissed(alert.id, str(reason), text)
