"""The loop's figures and lists for the screens, through an area scope like every query.

- :func:`loop_figures` — for a period: instructions sent (吹哨 / 交办 …), recipients, 报到率
  (recipients that 报到'd / recipients due: answered, or past their 报到 deadline), mean 报到 time, and
  now: 超时未报到 and 未送达;
- :func:`unanswered` — recipients 超时未报到 now, most late first (``/overdue``, the wall's ticker);
  counts and codes only, never the instruction's text;
- :func:`department_report_times` — per department: recipients, 报到 count and mean 报到 time (the
  wall's department ranking);
- :func:`case_loop` — one case's instructions with their recipients and answers (the case page);
- :func:`undelivered_messages` — the outbox messages 未送达 now, by department (``/feeds``).

A recipient is in scope when its case is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ..models import Answer, Case, Instruction, OutboxMessage, Recipient
from ..scope import AreaScope
from .common import count_if, epoch_seconds, rate, require_aware


@dataclass(frozen=True)
class LoopFigures:
    sent: dict[str, int]  # instructions sent in the period, by kind (dispatch, whistle, …)
    recipients: int  # departments called in the period
    due: int  # of those: answered, or past their 报到 deadline
    reported: int  # of those due: 报到 (accepted_at set)
    report_rate: float | None  # 报到率 = reported / due
    mean_report_minutes: float | None  # mean of accepted_at - created_at
    overdue_now: int  # 超时未报到 now (any period)
    undelivered_now: int  # 未送达 now (any period)


def loop_figures(
    session: Session, scope: AreaScope, start: datetime, end: datetime, now: datetime
) -> LoopFigures:
    require_aware(start, end, now)
    in_scope = scope.clause(Case)
    sent = dict(
        session.execute(
            select(Instruction.kind, func.count())
            .join(Case, Case.id == Instruction.case_id)
            .where(in_scope, Instruction.created_at >= start, Instruction.created_at < end)
            .group_by(Instruction.kind)
        ).all()
    )
    due = or_(
        Recipient.accepted_at.is_not(None), Recipient.answered_at.is_not(None), Recipient.report_by <= now
    )
    minutes = (
        epoch_seconds(session, Recipient.accepted_at) - epoch_seconds(session, Recipient.created_at)
    ) / 60.0
    row = session.execute(
        select(
            func.count(),
            count_if(due),
            count_if(and_(due, Recipient.accepted_at.is_not(None))),
            func.avg(minutes),
        )
        .join(Case, Case.id == Recipient.case_id)
        .where(in_scope, Recipient.created_at >= start, Recipient.created_at < end)
    ).one()
    overdue_now = session.scalar(
        select(func.count()).select_from(Recipient).join(Case, Case.id == Recipient.case_id)
        .where(in_scope, Recipient.state == "overdue")
    )  # fmt: skip
    undelivered_now = session.scalar(
        select(func.count()).select_from(Recipient).join(Case, Case.id == Recipient.case_id)
        .where(in_scope, Recipient.state == "undelivered")
    )  # fmt: skip
    recipients, due_n, reported = int(row[0]), int(row[1]), int(row[2])
    return LoopFigures(
        sent={str(k): int(v) for k, v in sent.items()},
        recipients=recipients,
        due=due_n,
        reported=reported,
        report_rate=rate(reported, due_n),
        mean_report_minutes=float(row[3]) if row[3] is not None else None,
        overdue_now=int(overdue_now or 0),
        undelivered_now=int(undelivered_now or 0),
    )


@dataclass(frozen=True)
class Unanswered:
    recipient_id: int
    case_id: int
    case_title: str
    street_code: str | None
    department_code: str
    kind: str
    role: str
    report_by: datetime
    late_minutes: float
    case_number: str = ""  # the case's number in its feed (external_id): shown, never its text


def unanswered(session: Session, scope: AreaScope, now: datetime, limit: int = 100) -> list[Unanswered]:
    """Recipients 超时未报到 now, most late first."""
    require_aware(now)
    rows = session.execute(
        select(
            Recipient.id,
            Recipient.case_id,
            Case.title,
            Case.street_code,
            Recipient.department_code,
            Instruction.kind,
            Recipient.role,
            Recipient.report_by,
            Case.external_id,
        )  # fmt: skip
        .join(Case, Case.id == Recipient.case_id)
        .join(Instruction, Instruction.id == Recipient.instruction_id)
        .where(scope.clause(Case), Recipient.state == "overdue")
        .order_by(Recipient.report_by, Recipient.id)
        .limit(max(1, limit))
    ).all()
    return [
        Unanswered(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], (now - r[7]).total_seconds() / 60.0, r[8])
        for r in rows
    ]


@dataclass(frozen=True)
class DepartmentReport:
    department_code: str
    recipients: int
    reported: int
    mean_report_minutes: float | None


def department_report_times(
    session: Session, scope: AreaScope, start: datetime, end: datetime
) -> list[DepartmentReport]:
    """Per department called in the period: recipients, 报到 and mean 报到 time, fastest first."""
    require_aware(start, end)
    minutes = (
        epoch_seconds(session, Recipient.accepted_at) - epoch_seconds(session, Recipient.created_at)
    ) / 60.0
    rows = session.execute(
        select(
            Recipient.department_code,
            func.count(),
            count_if(Recipient.accepted_at.is_not(None)),
            func.avg(minutes),
        )
        .join(Case, Case.id == Recipient.case_id)
        .where(scope.clause(Case), Recipient.created_at >= start, Recipient.created_at < end)
        .group_by(Recipient.department_code)
    ).all()
    out = [
        DepartmentReport(r[0], int(r[1]), int(r[2]), float(r[3]) if r[3] is not None else None) for r in rows
    ]
    return sorted(
        out, key=lambda d: (d.mean_report_minutes is None, d.mean_report_minutes or 0, d.department_code)
    )


@dataclass
class RecipientView:
    department_code: str
    role: str
    state: str
    report_by: datetime
    delivered_at: datetime | None
    accepted_at: datetime | None
    handler: str
    message_id: str | None
    last_error: str
    answers: list[Answer] = field(default_factory=list)


@dataclass
class InstructionView:
    instruction: Instruction
    recipients: list[RecipientView] = field(default_factory=list)


def case_loop(session: Session, scope: AreaScope, case_id: int) -> list[InstructionView]:
    """The case's instructions (oldest first) with each recipient's state, delivery and answers; nothing
    for a case outside the scope."""
    if session.scalar(select(Case.id).where(Case.id == case_id, scope.clause(Case))) is None:
        return []
    views = {
        i.id: InstructionView(i)
        for i in session.scalars(
            select(Instruction).where(Instruction.case_id == case_id).order_by(Instruction.id)
        )
    }
    rows = session.execute(
        select(Recipient, OutboxMessage.message_id, OutboxMessage.last_error)
        .outerjoin(OutboxMessage, OutboxMessage.recipient_id == Recipient.id)
        .where(Recipient.case_id == case_id)
        .order_by(Recipient.id)
    ).all()
    by_recipient: dict[int, RecipientView] = {}
    for recipient, message_id, last_error in rows:
        view = RecipientView(
            recipient.department_code, recipient.role, recipient.state, recipient.report_by,
            recipient.delivered_at, recipient.accepted_at, recipient.handler, message_id, last_error or "",
        )  # fmt: skip
        by_recipient[recipient.id] = view
        views[recipient.instruction_id].recipients.append(view)
    if by_recipient:
        answers = session.scalars(
            select(Answer)
            .where(Answer.recipient_id.in_(list(by_recipient)))
            .order_by(Answer.received_at, Answer.id)
        )
        for answer in answers:
            if answer.recipient_id is not None:  # (an answer to a call has no recipient)
                by_recipient[answer.recipient_id].answers.append(answer)
    return list(views.values())


@dataclass(frozen=True)
class UndeliveredMessage:
    message_id: str  # the outbox row's idempotency key (what ``gridcc loop resend`` names)
    department_code: str
    attempts: int
    last_error: str  # as the connector reported it: the screen redacts and shortens it
    created_at: datetime  # when the instruction was sent
    last_attempt_at: datetime  # when it was last due (its last attempt ran then)
    case_id: int
    case_number: str
    kind: str


def undelivered_messages(session: Session, scope: AreaScope, limit: int = 200) -> list[UndeliveredMessage]:
    """The outbox messages 未送达 now whose case is in ``scope``, by department, newest first."""
    rows = session.execute(
        select(
            OutboxMessage.message_id,
            OutboxMessage.department_code,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.created_at,
            OutboxMessage.next_attempt_at,
            Case.id,
            Case.external_id,
            Instruction.kind,
        )  # fmt: skip
        .join(Recipient, Recipient.id == OutboxMessage.recipient_id)
        .join(Case, Case.id == Recipient.case_id)
        .join(Instruction, Instruction.id == Recipient.instruction_id)
        .where(scope.clause(Case), OutboxMessage.state == "undelivered")
        .order_by(OutboxMessage.department_code, OutboxMessage.id.desc())
        .limit(max(1, limit))
    ).all()
    return [UndeliveredMessage(*r) for r in rows]
