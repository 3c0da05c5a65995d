"""The outbox's bookkeeping (the workers send; this records): claim due rows under a lease, record a
delivery or a failure, send again.

A row is **claimed** by one conditional UPDATE that succeeds only while the row is still pending, due,
and not leased by anyone else (or its lease has run out); the claim counts the attempt and sets
``leased_until``. A worker killed while it sends leaves the lease to run out, and the row is claimed
again — the department may then see the message twice, with the same idempotency key
(``message_id``), and keeps one. Nothing is ever deleted: a row ends ``delivered`` or ``undelivered``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from ..auth.audit import audit
from ..models import AlertCall, CaseEvent, OutboxMessage, Recipient
from ..models.loop import WAITING_STATES

MAX_BACKOFF = 3600.0


@dataclass(frozen=True)
class Claimed:
    id: int
    message_id: str
    department_code: str
    body: str
    attempts: int
    leased_until: datetime


def backoff(base: float, attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: base, 2·base, 4·base … (≤ 1 hour)."""
    return float(min(MAX_BACKOFF, base * 2 ** max(0, attempts - 1)))


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        OutboxMessage.state == "pending",
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.leased_until.is_(None), OutboxMessage.leased_until < now),
    )


def claim_due(session: Session, now: datetime, lease_seconds: float, limit: int = 100) -> list[Claimed]:
    """Claim up to ``limit`` due rows for this worker (each claim its own committed UPDATE)."""
    ids = list(
        session.scalars(
            select(OutboxMessage.id).where(*_due(now)).order_by(OutboxMessage.next_attempt_at).limit(limit)
        )
    )
    session.rollback()
    claimed: list[Claimed] = []
    until = now + timedelta(seconds=lease_seconds)
    for row_id in ids:
        with session.begin():
            result = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, *_due(now))
                .values(leased_until=until, attempts=OutboxMessage.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another worker has it
            row = session.execute(
                select(
                    OutboxMessage.message_id, OutboxMessage.department_code, OutboxMessage.body,
                    OutboxMessage.attempts,
                ).where(OutboxMessage.id == row_id)
            ).one()  # fmt: skip
        claimed.append(Claimed(row_id, row.message_id, row.department_code, row.body, row.attempts, until))
    return claimed


def _recipient_case(session: Session, recipient_id: int) -> tuple[Recipient, int]:
    recipient = session.get(Recipient, recipient_id, with_for_update=True)  # as an answer locks it
    assert recipient is not None
    return recipient, recipient.case_id


def _event(session: Session, recipient: Recipient, now: datetime, kind: str, extra: str = "") -> None:
    detail = f"{recipient.department_code}:{recipient.instruction_id}" + (f": {extra}" if extra else "")
    session.add(CaseEvent(case_id=recipient.case_id, at=now, kind=kind, detail=detail, actor="system"))


def mark_delivered(session: Session, row_id: int, now: datetime, receipt: str = "") -> bool:
    """The department took the message (2xx): the row is delivered, its recipient too (unless an answer
    came first and said so already), with a ``delivered`` event (its detail ends with the department's
    ``receipt`` when it gave one: ``police:12: service_request_id=GA-2026-000031``). The caller
    commits."""
    row = session.get(OutboxMessage, row_id, with_for_update=True)
    if row is None or row.state == "delivered":
        return False
    row.state, row.delivered_at, row.leased_until, row.last_error = "delivered", now, None, ""
    if row.call_id is not None:  # 预警叫应: the call has reached the worker's app
        call = session.get(AlertCall, row.call_id, with_for_update=True)
        if call is not None:
            call.delivered_at = now
        return True
    assert row.recipient_id is not None
    recipient, _case = _recipient_case(session, row.recipient_id)
    if recipient.delivered_at is None:
        recipient.delivered_at = now
        if recipient.state in ("pending", "undelivered"):
            recipient.state = "delivered"
        _event(session, recipient, now, "delivered", receipt)
    return True


def mark_failed(
    session: Session, row_id: int, now: datetime, error: str, max_attempts: int, base_seconds: float,
    final: bool = False,
) -> str:  # fmt: skip
    """An attempt failed: retry later with backoff, or — after ``max_attempts`` (or ``final``, e.g. no
    endpoint configured) — mark it 未送达 with the error, on the row, its recipient and the timeline.
    Returns the row's new state. The caller commits."""
    row = session.get(OutboxMessage, row_id, with_for_update=True)
    if row is None or row.state != "pending":
        return row.state if row is not None else "gone"
    row.last_error = error[:2000]
    row.leased_until = None
    if final or row.attempts >= max_attempts:
        row.state = "undelivered"
        if row.recipient_id is None:  # a call: the duty officer sees the grid silent and calls again
            return "undelivered"
        recipient, _case = _recipient_case(session, row.recipient_id)
        if recipient.state == "pending" and recipient.delivered_at is None:
            recipient.state = "undelivered"
        _event(session, recipient, now, "undelivered", f"{row.attempts} attempt(s); {error[:500]}")
        return "undelivered"
    row.next_attempt_at = now + timedelta(seconds=backoff(base_seconds, row.attempts))
    return "pending"


def release(session: Session, row_id: int, not_before: datetime) -> None:
    """Give back a claimed row unsent (its department just failed on another message of this run): the
    attempt is not counted, and it is due again at ``not_before``. The caller commits."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.state == "pending")
        .values(leased_until=None, attempts=OutboxMessage.attempts - 1, next_attempt_at=not_before)
        .execution_options(synchronize_session=False)
    )


def resend(
    session: Session, message_id: str, actor: str, now: datetime, remote_addr: str = ""
) -> OutboxMessage:
    """Send an undelivered message again (same idempotency key), from now, with fresh attempts; audited
    as ``loop_resend`` and written to the timeline. The caller commits."""
    row = session.scalar(select(OutboxMessage).where(OutboxMessage.message_id == message_id))
    if row is None:
        raise LookupError(f"no outbox message {message_id!r}")
    if row.state != "undelivered":
        raise ValueError(f"message {message_id} is {row.state}: only an undelivered message is sent again")
    row.state, row.attempts, row.next_attempt_at, row.leased_until = "pending", 0, now, None
    if row.recipient_id is None:  # a call (预警叫应)
        audit(session, actor, "loop_resend", f"message:{message_id}", row.department_code, remote_addr, now)
        return row
    recipient, _case = _recipient_case(session, row.recipient_id)
    if recipient.state == "undelivered":
        recipient.state = "pending"
    _event(session, recipient, now, "resend", f"by {actor}")
    audit(session, actor, "loop_resend", f"message:{message_id}", recipient.department_code, remote_addr, now)
    return row


def undelivered(session: Session, limit: int = 200) -> list[OutboxMessage]:
    """The undelivered messages, newest first (for ``gridcc loop undelivered`` and ``/feeds``)."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.state == "undelivered")
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def pending_count(session: Session, now: datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(OutboxMessage).where(*_due(now))) or 0)


__all__ = ["WAITING_STATES", "Claimed", "backoff", "claim_due", "mark_delivered", "mark_failed", "resend"]
