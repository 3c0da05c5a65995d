"""An active alert in an account's scope, as the desk's alert actions find it (a forged id, an alert of
another street, an expired, dismissed or already converted one: not found)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..models import Alert
from ..queries.alerts import alert_scope_clause
from ..scope import AreaScope
from .errors import AlertNotFound

OPEN_ALERT_STATES = ("new", "acknowledged")  # what may still be converted or dismissed


def alert_id_of(value: object) -> int:
    """The alert id the browser sent, as a number (:class:`AlertNotFound` for anything else)."""
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdecimal() or len(text) > 12:
        raise AlertNotFound(f"no alert {str(value)[:20]!r}")
    return int(text)


def open_alert(session: Session, scope: AreaScope, value: object, now: datetime) -> Alert:
    """The alert named ``value`` when it is in ``scope``, new or acknowledged, not expired and not yet
    linked to a case."""
    alert_id = alert_id_of(value)
    alert = session.scalar(
        select(Alert).where(
            Alert.id == alert_id,
            alert_scope_clause(scope),
            Alert.state.in_(OPEN_ALERT_STATES),
            Alert.case_id.is_(None),
            or_(Alert.expires.is_(None), Alert.expires > now),
        )
    )
    if alert is None:
        raise AlertNotFound(f"no open alert {alert_id} in scope")
    return alert
