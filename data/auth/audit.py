"""The audit log: who did what, when, from where (``audit_log``).

Actions written by gridcc (``action`` column):

- sign-in: ``signin``, ``signin_failed``, ``signout``;
- accounts: ``user_add``, ``user_disable``, ``user_enable``, ``user_password``, ``user_role``,
  ``user_scope``, ``wall_link``, ``wall_link_revoke``;
- cases and alerts: ``supervise``, ``supervise_cancel``, ``alert_ack``, ``personal_view``;
- exports: ``export`` (the filters and the row count), ``export_refused`` (a wall, a street outside the
  scope);
- imports: ``staff_load`` (a roster replaced the staff of its grids), ``risks_load``;
- the risk ledger: ``risk_add``, ``risk_edit``, ``risk_assign``, ``risk_close``;
- the loop: ``loop_dispatch``, ``loop_redispatch``, ``loop_whistle``, ``loop_report_up``,
  ``loop_send_down``, ``loop_supervise`` (an account's action), ``loop_answer`` (a department's answer
  accepted), ``loop_answer_refused`` (refused, with the reason), ``loop_resend`` (an admin sent an
  undelivered instruction again);
- the duty desk: ``desk_file`` (登记: a case filed by hand), ``desk_alert_case`` (an alert turned into a
  linked case), ``desk_alert_dismiss`` (an alert dismissed, with the reason);
- push keys: ``push_key_create``, ``push_key_revoke`` (``gridcc keys``, the demo's first start);
- the case search: ``search_phone`` (a case searched by the reporter's phone: the number masked, the
  count found), ``search_phone_refused`` (by a role that may not see personal data);
- feeds: ``feed_change`` (paused or resumed by an admin or on the console, or changed by the feeds file:
  actor ``catalogue``).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import AuditLog

ACTIONS = (
    "signin",
    "signin_failed",
    "signout",
    "user_add",
    "user_disable",
    "user_enable",
    "user_password",
    "user_role",
    "user_scope",
    "wall_link",
    "wall_link_revoke",
    "supervise",
    "supervise_cancel",
    "alert_ack",
    "personal_view",
    "export",
    "export_refused",
    "feed_change",
    "staff_load",
    "risks_load",
    "risk_add",
    "risk_edit",
    "risk_assign",
    "risk_close",
    "loop_dispatch",
    "loop_redispatch",
    "loop_whistle",
    "loop_report_up",
    "loop_send_down",
    "loop_supervise",
    "loop_supervise_class",
    "loop_answer",
    "loop_answer_refused",
    "loop_resend",
    "desk_file",
    "desk_alert_case",
    "desk_alert_dismiss",
    "case_merge",
    "case_unmerge",
    "push_key_create",
    "push_key_revoke",
    "search_phone",
    "search_phone_refused",
)


def clean(value: str | None, limit: int) -> str:
    """Untrusted text (a typed user name, a header) made safe to store: no control characters, bounded."""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else "?" for ch in (value or ""))
    return text[:limit]


def audit(
    session: Session,
    actor: str,
    action: str,
    target: str = "",
    detail: str = "",
    remote_addr: str | None = "",
    now: datetime | None = None,
) -> AuditLog:
    """Add one audit row to ``session`` (it is written with the caller's transaction)."""
    row = AuditLog(
        actor=clean(actor, 100) or "?",
        action=clean(action, 60),
        target=clean(target, 200),
        detail=clean(detail, 2000),
        remote_addr=clean(remote_addr, 60),
    )
    if now is not None:
        row.at = now
    session.add(row)
    return row


def audit_rows(
    session: Session, actor: str | None = None, action: str | None = None, limit: int = 100
) -> list[AuditLog]:
    """The newest rows first, optionally only one actor's or one action's."""
    stmt = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(max(1, limit))
    if actor:
        stmt = stmt.where(AuditLog.actor == actor)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    return list(session.scalars(stmt))
