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
bad_request           400     not JSON, a field missing or wrong (a call's: ``count``, ``text``)
replayed              409     an answer with this ``message_id`` was received already
not_sent              404     ``in_reply_to`` names no instruction sent to this department (a call: to
                              the grid of ``X-Gridcc-Grid``, whose key signed it)
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
from ..models import Alert, AlertCall, AlertEvent, Answer, CaseEvent, OutboxMessage, Recipient
from . import signing
from .calls import grid_key
from .endpoints import EndpointConfig

GRID = "X-Gridcc-Grid"  # 预警叫应: the grid a worker answers for; signed with that grid's key
MAX_EVACUATED = 1_000_000

# which states each answer may follow
ALLOWED: dict[str, frozenset[str]] = {
    "accepted": frozenset({"pending", "delivered", "overdue", "undelivered"}),
    "refused": frozenset({"pending", "delivered", "overdue", "undelivered", "accepted"}),
    "progress": frozenset({"accepted", "progress"}),
    "done": frozenset({"accepted", "progress"}),
}
# 预警叫应: a grid worker's answers to a call (any may follow any while the calling lasts) —
# received 已收到, patrolled 巡查完成, evacuated 已转移 N 人 (``count``), support 需要支援 (``text``)
CALL_KINDS = ("received", "patrolled", "evacuated", "support")


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    layers: tuple[str, ...] = ("loop",)  # what an accepted answer changed (the layer versions to bump)

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
    grid = _header(headers, GRID)
    if grid:  # a grid worker answers with its own grid's key, not the app's secret
        if not (grid.isascii() and grid.isdigit() and len(grid) == 15):
            raise Refused(400, "bad_request", f"header {GRID}: a 15-digit grid code")
        secret = grid_key(secret, grid)
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
    count: int | None = None  # 已转移 N 人


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
    if kind not in ALLOWED and kind not in CALL_KINDS:
        raise Refused(400, "bad_request", f"field 'kind': one of {', '.join([*ALLOWED, *CALL_KINDS])}")
    if kind in CALL_KINDS:
        count = doc.get("count")
        if kind == "evacuated" and (
            isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_EVACUATED
        ):
            raise Refused(400, "bad_request", f"field 'count': a whole number of people, 0–{MAX_EVACUATED}")
        return Parsed(
            field("message_id", 64), field("in_reply_to", 64), kind, field("handler", 100, False),
            field("text", 2000, kind == "support"), count if kind == "evacuated" else None,
        )  # fmt: skip
    parsed = Parsed(
        field("message_id", 64), field("in_reply_to", 64), kind,
        field("handler", 100, kind == "accepted"), field("text", 2000, kind == "refused"),
    )  # fmt: skip
    return parsed


def _apply_call(
    session: Session, department: str, grid: str, answer: Parsed, message: OutboxMessage, sent_at: datetime,
    now: datetime,
) -> AlertCall:  # fmt: skip
    """A grid worker's answer to a call: only for the grid the call went to, only while it lasts."""
    call = session.get(AlertCall, message.call_id, with_for_update=True)
    if call is None or not grid or call.grid_code != grid:  # another grid's key, or the app's own
        raise Refused(404, "not_sent", f"no call {answer.in_reply_to!r} was sent to grid {grid or '?'}")
    if answer.kind not in CALL_KINDS:
        raise Refused(409, "conflict", f"a call is answered with one of {', '.join(CALL_KINDS)}")
    if call.ended_at is not None or '"type":"call_ended"' in message.body:
        raise Refused(409, "conflict", "the calling has ended (the warning was cancelled or is over)")
    session.add(
        Answer(
            message_id=answer.message_id, call_id=call.id, department_code=department, kind=answer.kind,
            text=answer.text, handler=answer.handler, count=answer.count, sent_at=sent_at, received_at=now,
        )
    )  # fmt: skip
    created = message.created_at if message.created_at.tzinfo else message.created_at.replace(tzinfo=UTC)
    round_at = call.round_at if call.round_at.tzinfo else call.round_at.replace(tzinfo=UTC)
    if created >= round_at:  # an answer to an earlier round's call does not answer this round
        if not (answer.kind == "received" and call.state != "calling"):  # 已收到 never undoes 巡查完成
            call.state = answer.kind
        call.answered_at = call.answered_at or now
    if call.delivered_at is None:
        call.delivered_at = now
    if answer.kind == "evacuated" and answer.count is not None:
        call.evacuated = answer.count
    if answer.kind == "support":
        call.note = answer.text
    said = {"evacuated": str(answer.count), "support": answer.text}.get(answer.kind, "")
    detail = f"{call.grid_code}:{answer.kind}" + (f": {said}" if said else "")
    alert = session.get(Alert, call.alert_id)
    if alert is not None:
        session.add(
            AlertEvent(alert_id=alert.id, at=now, kind="call_answer", detail=detail, actor=f"grid:{grid}")
        )
    audit(session, f"grid:{grid}", "call_answer", f"alert:{call.alert_id}", detail[:500], "", now)
    session.flush()
    return call


def _apply(
    session: Session, department: str, answer: Parsed, sent_at: datetime, now: datetime, grid: str = ""
) -> Recipient | AlertCall:
    if session.scalar(select(Answer.id).where(Answer.message_id == answer.message_id)) is not None:
        raise Refused(409, "replayed", f"answer {answer.message_id} was received already")
    message = session.scalar(select(OutboxMessage).where(OutboxMessage.message_id == answer.in_reply_to))
    if message is None or message.department_code != department:
        raise Refused(404, "not_sent", f"no instruction {answer.in_reply_to!r} was sent to {department}")
    if message.call_id is not None:
        return _apply_call(session, department, grid, answer, message, sent_at, now)
    if grid or message.recipient_id is None:  # a grid's key answers calls only
        raise Refused(404, "not_sent", f"no instruction {answer.in_reply_to!r} was sent to grid {grid}")
    if answer.kind not in ALLOWED:
        raise Refused(409, "conflict", f"an instruction is answered with one of {', '.join(ALLOWED)}")
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
                    target = _apply(session, department, answer, sent_at, now, _header(headers, GRID))
            except IntegrityError:  # the same message id committed by a concurrent request
                raise Refused(409, "replayed", f"answer {answer.message_id} was received already") from None
        reply: dict[str, Any] = {"ok": True, "state": target.state, "message_id": answer.message_id}
        if isinstance(target, AlertCall):
            # the wall's 叫应 chip (the ticker) and the map's silent grids follow the alerts version only:
            # hundreds of grids answering in a minute must not rebuild the wall's stats (the loop version)
            return Outcome(200, reply, ("alerts",))
        return Outcome(200, reply)
    except Refused as refusal:
        who = (
            f"dept:{department}" if department else "dept:?" + clean(_header(headers, signing.DEPARTMENT), 40)
        )
        with sessions() as session, session.begin():
            why = f"{refusal.code}: {refusal.message}"
            audit(session, who, "loop_answer_refused", "api:loop/answers", why, remote_addr, now)
        return Outcome(refusal.status, {"error": refusal.code, "message": refusal.message})
