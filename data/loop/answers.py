"""A department's answer to an instruction — 报到 (accepted, with who handles it), 退回 (refused, with
the reason), 办理情况 (progress), 办结 (done) — checked and applied.

:func:`receive` is what the inbound endpoint (``POST /api/loop/answers``) calls with the request's
headers and raw body. It refuses, with an HTTP status and a code, and **changes nothing** but one
``loop_answer_refused`` audit row:

====================  ======  ==========================================================
code                  status  when
====================  ======  ==========================================================
unknown_department    401     no ``[[endpoint]]`` for the ``X-Gridcc-Department`` named (or no secret)
bad_signature         401     the signature is not the department's over timestamp + body
stale_timestamp       401     the timestamp is further than the allowed age from now
bad_request           400     not JSON, a field missing or wrong
replayed              409     an answer with this ``message_id`` was received already
not_sent              404     ``in_reply_to`` names no instruction sent to this department
conflict              409     the recipient's state does not allow this answer (e.g. after 办结)
====================  ======  ==========================================================

An accepted answer is one :class:`~data.models.Answer` row, the recipient's new state, a case event
(kind ``answer``) and a ``loop_answer`` audit row, in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..auth.audit import audit, clean
from ..models import Answer, CaseEvent, OutboxMessage, Recipient
from . import signing
from .endpoints import EndpointConfig

# which states each answer may follow
ALLOWED: dict[str, frozenset[str]] = {
    "accepted": frozenset({"pending", "delivered", "overdue", "undelivered"}),
    "refused": frozenset({"pending", "delivered", "overdue", "undelivered", "accepted"}),
    "progress": frozenset({"accepted", "progress"}),
    "done": frozenset({"accepted", "progress"}),
}


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status < 300


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _header(headers: Mapping[str, str], name: str) -> str:
    return (headers.get(name.lower()) or "").strip()


def authenticate(
    endpoints: Mapping[str, EndpointConfig],
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    max_age: int,
) -> str:
    """The department the request is signed by (``headers`` with lower-case names); :class:`Refused`
    otherwise."""
    department = _header(headers, signing.DEPARTMENT)
    endpoint = endpoints.get(department)
    secret = endpoint.secret() if endpoint is not None else ""
    if not secret:
        raise Refused(401, "unknown_department", f"no department {department[:40]!r} may answer here")
    stamp = _header(headers, signing.TIMESTAMP)
    if not signing.valid(secret, stamp, body, _header(headers, signing.SIGNATURE)):
        raise Refused(401, "bad_signature", "the signature is not the department's over timestamp.body")
    try:
        sent = int(stamp)
    except ValueError:
        raise Refused(401, "stale_timestamp", "the timestamp is not Unix seconds") from None
    if abs(now.timestamp() - sent) > max_age:
        raise Refused(401, "stale_timestamp", f"the timestamp is more than {max_age} s from now")
    return department


@dataclass(frozen=True)
class Parsed:
    message_id: str
    in_reply_to: str
    kind: str
    handler: str
    text: str


def parse(body: bytes) -> Parsed:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "bad_request", "the body is not UTF-8 JSON") from None
    if not isinstance(doc, dict):
        raise Refused(400, "bad_request", "the body must be a JSON object")

    def field(name: str, limit: int, required: bool = True) -> str:
        value = doc.get(name, "")
        if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
            raise Refused(400, "bad_request", f"field {name!r}: a string of 1–{limit} characters")
        return value.strip()

    kind = field("kind", 20)
    if kind not in ALLOWED:
        raise Refused(400, "bad_request", f"field 'kind': one of {', '.join(ALLOWED)}")
    parsed = Parsed(
        field("message_id", 64), field("in_reply_to", 64), kind,
        field("handler", 100, kind == "accepted"), field("text", 2000, kind == "refused"),
    )  # fmt: skip
    return parsed


def _apply(session: Session, department: str, answer: Parsed, sent_at: datetime, now: datetime) -> Recipient:
    if session.scalar(select(Answer.id).where(Answer.message_id == answer.message_id)) is not None:
        raise Refused(409, "replayed", f"answer {answer.message_id} was received already")
    message = session.scalar(select(OutboxMessage).where(OutboxMessage.message_id == answer.in_reply_to))
    if message is None or message.department_code != department:
        raise Refused(404, "not_sent", f"no instruction {answer.in_reply_to!r} was sent to {department}")
    recipient = session.get(Recipient, message.recipient_id, with_for_update=True)
    assert recipient is not None
    if recipient.state not in ALLOWED[answer.kind]:
        raise Refused(409, "conflict", f"a {answer.kind} answer cannot follow {recipient.state}")
    where = f"{department}:{recipient.instruction_id}"
    if recipient.delivered_at is None:  # the answer proves the delivery (its mark may still be on its way)
        recipient.delivered_at = now
        session.add(
            CaseEvent(case_id=recipient.case_id, at=now, kind="delivered", detail=where, actor="system")
        )
    session.add(
        Answer(
            message_id=answer.message_id, recipient_id=recipient.id, department_code=department,
            kind=answer.kind, text=answer.text, handler=answer.handler, sent_at=sent_at, received_at=now,
        )
    )  # fmt: skip
    recipient.state = answer.kind
    recipient.answered_at = now
    if answer.kind == "accepted":
        recipient.accepted_at, recipient.handler = now, answer.handler
    recipient.last_answer = answer.text
    said = answer.handler if answer.kind == "accepted" else answer.text
    detail = f"{answer.kind}:{where}" + (f": {said}" if said else "")
    session.add(
        CaseEvent(case_id=recipient.case_id, at=now, kind="answer", detail=detail, actor=f"dept:{department}")
    )
    audit(session, f"dept:{department}", "loop_answer", f"case:{recipient.case_id}", detail[:500], "", now)
    session.flush()
    return recipient


def receive(
    sessions: Callable[[], Session],
    endpoints: Mapping[str, EndpointConfig],
    headers: Mapping[str, str],
    body: bytes,
    max_age: int,
    remote_addr: str = "",
    now: datetime | None = None,
) -> Outcome:
    """Check and apply one answer; see the module's table for the refusals. Header names are
    compared without regard to case."""
    now = now or datetime.now(UTC)
    headers = {str(k).lower(): str(v) for k, v in headers.items()}
    department = ""
    try:
        department = authenticate(endpoints, headers, body, now, max_age)
        answer = parse(body)
        sent_at = datetime.fromtimestamp(int(_header(headers, signing.TIMESTAMP)), UTC)
        with sessions() as session:
            try:
                with session.begin():
                    recipient = _apply(session, department, answer, sent_at, now)
            except IntegrityError:  # the same message id committed by a concurrent request
                raise Refused(409, "replayed", f"answer {answer.message_id} was received already") from None
        return Outcome(200, {"ok": True, "state": recipient.state, "message_id": answer.message_id})
    except Refused as refusal:
        who = (
            f"dept:{department}" if department else "dept:?" + clean(_header(headers, signing.DEPARTMENT), 40)
        )
        with sessions() as session, session.begin():
            why = f"{refusal.code}: {refusal.message}"
            audit(session, who, "loop_answer_refused", "api:loop/answers", why, remote_addr, now)
        return Outcome(refusal.status, {"error": refusal.code, "message": refusal.message})
