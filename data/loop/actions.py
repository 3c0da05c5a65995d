"""The centre acts on a case: 交办 dispatch, 转办 re-dispatch, 吹哨 whistle, 上报 report up, 下派 send
down, 督办 supervise with an instruction.

Each function checks the acting account (not disabled, a role that may do it: ``act_on_case`` for duty
officers and leaders, ``supervise`` for 督办) and finds the case in the account's own area scope (a
case outside it is not found, whatever the request names); then, in the caller's transaction, it
writes the :class:`~data.models.Instruction`, its timeline event (``case_event`` kind
``instruction``), one :class:`~data.models.Recipient` and one :class:`~data.models.OutboxMessage` per
department it goes to, and an audit row. The caller commits: the outbox row exists exactly when the
timeline says the instruction was sent. The workers deliver it (``workers.jobs.deliver``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.audit import audit
from ..auth.roles import Permission, may
from ..auth.supervision import CaseNotFound, NotPermitted
from ..auth.users import scope_of
from ..models import (
    Case,
    CaseEvent,
    Category,
    Department,
    Feed,
    Instruction,
    OutboxMessage,
    Recipient,
    UserAccount,
)
from ..settings import Settings
from .clock import URGENCIES, report_deadline
from .message import instruction_body

LEVELS_UP = {"community": "street", "street": "district"}
LEVELS_DOWN = {"district": "street", "street": "community"}
TEXT_MAX = 2000


class ActionError(ValueError):
    """The action cannot be taken as asked (unknown department, missing reason, top level …).

    ``code`` is the text catalogue's key of the words a person reads (the message is English, for
    logs), as :class:`data.desk.errors.DeskRefused` does."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Sent:
    instruction: Instruction
    recipients: list[Recipient]
    messages: list[OutboxMessage]


def _check(actor: UserAccount, permission: Permission, what: str) -> None:
    if actor.disabled or not may(actor.role, permission):
        raise NotPermitted(f"{actor.username} ({actor.role}) may not {what}")


def _case(session: Session, actor: UserAccount, case_id: int) -> Case:
    case = session.scalar(select(Case).where(Case.id == case_id, scope_of(actor).clause(Case)))
    if case is None:
        raise CaseNotFound(f"no case {case_id} in scope")
    return case


def _text(value: str | None, what: str, required: bool, missing: str = "act_need_text") -> str:
    text = (value or "").strip()
    if required and not text:
        raise ActionError(missing, f"{what} is required")
    if len(text) > TEXT_MAX:
        raise ActionError("act_too_long", f"{what} is longer than {TEXT_MAX} characters")
    return text


def _departments(session: Session, codes: Sequence[str]) -> None:
    known = set(session.scalars(select(Department.code).where(Department.code.in_(list(codes)))))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ActionError("act_unknown_department", f"unknown department(s): {', '.join(unknown)}")
    if len(set(codes)) != len(codes):
        raise ActionError("act_lead_is_helper", "a department is named twice")


def _urgency(case: Case, urgency: str | None) -> str:
    value = urgency or (case.priority if case.priority in URGENCIES else "normal")
    if value not in URGENCIES:
        raise ActionError("act_refused", f"unknown urgency {value!r}: one of {', '.join(URGENCIES)}")
    return value


def _centre(actor: UserAccount) -> str:
    codes = sorted(scope_of(actor).codes, key=lambda c: (len(c), c))
    return codes[0] if codes else ""


def new_message_id() -> str:
    return "gc-" + uuid.uuid4().hex


def _send(
    session: Session,
    settings: Settings,
    actor: UserAccount,
    case: Case,
    kind: str,
    now: datetime,
    remote_addr: str,
    recipients: Sequence[tuple[str, str]] = (),
    text: str = "",
    reason: str = "",
    urgency: str = "normal",
    limit_hours: int | None = None,
    reply_by: datetime | None = None,
    to_level: str | None = None,
) -> Sent:
    feed = session.get(Feed, case.feed_name) if case.feed_name else None
    source = (feed.department_code or "") if feed is not None else ""
    instruction = Instruction(
        case_id=case.id, kind=kind, text=text, reason=reason, urgency=urgency, limit_hours=limit_hours,
        reply_by=reply_by, from_code=_centre(actor), to_level=to_level, actor=actor.username, created_at=now,
    )  # fmt: skip
    session.add(instruction)
    session.flush()
    names = ", ".join(f"{code}({role})" for code, role in recipients)
    detail = f"{kind}:{instruction.id}" + (f" → {names}" if names else "")
    detail += "".join(f"; {part}" for part in (reason, text) if part)
    session.add(CaseEvent(case_id=case.id, at=now, kind="instruction", detail=detail, actor=actor.username))
    rows: list[Recipient] = []
    messages: list[OutboxMessage] = []
    deadline = report_deadline(settings, urgency, now)
    for code, role in recipients:
        recipient = Recipient(
            instruction_id=instruction.id, case_id=case.id, department_code=code, role=role, state="pending",
            report_by=reply_by if kind == "supervise" and reply_by is not None else deadline, created_at=now,
        )  # fmt: skip
        session.add(recipient)
        session.flush()
        message_id = new_message_id()
        message = OutboxMessage(
            message_id=message_id, recipient_id=recipient.id, department_code=code,
            body=instruction_body(message_id, case, instruction, recipient, source), state="pending",
            attempts=0, next_attempt_at=now, created_at=now,
        )  # fmt: skip
        session.add(message)
        rows.append(recipient)
        messages.append(message)
    audit_detail = detail if len(detail) <= 500 else detail[:500] + "…"
    audit(session, actor.username, f"loop_{kind}", f"case:{case.id}", audit_detail, remote_addr, now)
    session.flush()
    return Sent(instruction, rows, messages)


def dispatch(
    session: Session, settings: Settings, actor: UserAccount, case_id: int, department: str, text: str,
    now: datetime, limit_hours: int | None = None, urgency: str | None = None, remote_addr: str = "",
) -> Sent:  # fmt: skip
    """交办: hand the case to ``department`` with a handling time limit (default: the category's for the
    case's priority) and an instruction."""
    _check(actor, Permission.ACT_ON_CASE, "dispatch cases")
    case = _case(session, actor, case_id)
    _departments(session, [department])
    level = _urgency(case, urgency)
    if limit_hours is None and case.category_code:
        category = session.get(Category, case.category_code)
        if category is not None:
            limit_hours = category.limit_hours(level)
    if limit_hours is not None and not 1 <= limit_hours <= 24 * 365:
        raise ActionError("act_bad_hours", "the time limit must be between 1 hour and a year")
    body = _text(text, "the instruction", False)
    return _send(
        session, settings, actor, case, "dispatch", now, remote_addr, [(department, "sole")], body,
        urgency=level, limit_hours=limit_hours,
    )  # fmt: skip


def redispatch(
    session: Session, settings: Settings, actor: UserAccount, case_id: int, department: str, reason: str,
    now: datetime, text: str = "", urgency: str | None = None, remote_addr: str = "",
) -> Sent:  # fmt: skip
    """转办: hand the case to another department, with the reason."""
    _check(actor, Permission.ACT_ON_CASE, "re-dispatch cases")
    case = _case(session, actor, case_id)
    _departments(session, [department])
    why = _text(reason, "the reason", True, missing="act_need_reason")
    return _send(
        session, settings, actor, case, "redispatch", now, remote_addr, [(department, "sole")],
        _text(text, "the instruction", False), why, _urgency(case, urgency),
    )  # fmt: skip


def whistle(
    session: Session, settings: Settings, actor: UserAccount, case_id: int, lead: str, helpers: Sequence[str],
    text: str, now: datetime, urgency: str | None = None, remote_addr: str = "",
) -> Sent:  # fmt: skip
    """吹哨: call a lead department (牵头) and any helpers (协办) to the case; each must 报到 by the
    deadline of the urgency."""
    _check(actor, Permission.ACT_ON_CASE, "whistle")
    case = _case(session, actor, case_id)
    codes = [lead, *helpers]
    _departments(session, codes)
    recipients = [(lead, "lead"), *((h, "helper") for h in helpers)]
    return _send(
        session, settings, actor, case, "whistle", now, remote_addr, recipients,
        _text(text, "the instruction", False), urgency=_urgency(case, urgency),
    )  # fmt: skip


def _move(
    session: Session, settings: Settings, actor: UserAccount, case_id: int, reason: str, now: datetime,
    remote_addr: str, kind: str, levels: dict[str, str], what: str, direction: str,
) -> Sent:  # fmt: skip
    _check(actor, Permission.ACT_ON_CASE, what)
    case = _case(session, actor, case_id)
    why = _text(reason, "the reason", True, missing="act_need_reason")
    level = levels.get(case.escalation_level)
    if level is None:
        raise ActionError(
            f"act_no_level_{direction}",
            f"case {case_id} is held at {case.escalation_level}: there is no level {direction}",
        )
    sent = _send(session, settings, actor, case, kind, now, remote_addr, reason=why, to_level=level)
    case.escalation_level = level
    return sent


def report_up(
    session: Session, settings: Settings, actor: UserAccount, case_id: int, reason: str, now: datetime,
    remote_addr: str = "",
) -> Sent:  # fmt: skip
    """上报: hold the case one level up (community → street → district), with the reason."""
    return _move(
        session, settings, actor, case_id, reason, now, remote_addr, "report_up", LEVELS_UP,
        "report cases up", "above",
    )  # fmt: skip


def send_down(
    session: Session, settings: Settings, actor: UserAccount, case_id: int, reason: str, now: datetime,
    remote_addr: str = "",
) -> Sent:  # fmt: skip
    """下派: hand the case to the centre one level down (district → street → community)."""
    return _move(
        session, settings, actor, case_id, reason, now, remote_addr, "send_down", LEVELS_DOWN,
        "send cases down", "below",
    )  # fmt: skip


def supervise(
    session: Session, settings: Settings, actor: UserAccount, case_id: int, text: str, reply_by: datetime,
    now: datetime, department: str | None = None, remote_addr: str = "",
) -> Sent:  # fmt: skip
    """督办 with an instruction: sent to ``department`` (default: the case's own), which must reply by
    ``reply_by``. Leaders only."""
    _check(actor, Permission.SUPERVISE, "supervise cases")
    case = _case(session, actor, case_id)
    target = department or case.department_code
    if not target:
        raise ActionError(
            "act_need_department", f"case {case_id} has no department: name the one to supervise"
        )
    _departments(session, [target])
    if reply_by <= now:
        raise ActionError("act_bad_reply", "the reply deadline must be in the future")
    return _send(
        session, settings, actor, case, "supervise", now, remote_addr, [(target, "sole")],
        _text(text, "the instruction", True), urgency=_urgency(case, None), reply_by=reply_by,
    )  # fmt: skip
