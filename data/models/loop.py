"""The loop (网格吹哨、部门报到): instructions sent from a centre, their recipients, the outbox that
delivers them, and the answers that come back.

- :class:`Instruction` — one 交办 / 转办 / 吹哨 / 上报 / 下派 / 督办 on a case, by one account;
- :class:`Recipient` — one row per (instruction, department) with its state
  (:data:`RECIPIENT_STATES`) and its 报到 deadline;
- :class:`OutboxMessage` — what must leave gridcc, written in the same transaction as the instruction
  and its timeline event; ``message_id`` is the idempotency key the department deduplicates on;
- :class:`Answer` — each answer a department sent (its own ``message_id`` is unique: a replay is
  refused).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

# dispatch 交办 | redispatch 转办 | whistle 吹哨 | report_up 上报 | send_down 下派 | supervise 督办
INSTRUCTION_KINDS = ("dispatch", "redispatch", "whistle", "report_up", "send_down", "supervise")
# the kinds that go to departments (上报 / 下派 move the case between centres inside gridcc)
OUTBOUND_KINDS = ("dispatch", "redispatch", "whistle", "supervise")
# pending → delivered → accepted 报到 | refused 退回 | progress 办理情况 | done 办结;
# undelivered 未送达 (after the last retry); overdue 超时未报到 (no answer by report_by)
RECIPIENT_STATES = (
    "pending",
    "delivered",
    "accepted",
    "refused",
    "progress",
    "done",
    "undelivered",
    "overdue",
)
WAITING_STATES = ("pending", "delivered")  # no answer yet: these become overdue past report_by
RECIPIENT_ROLES = ("sole", "lead", "helper")  # 交办 / 督办: sole; 吹哨: lead 牵头 and helpers 协办
ANSWER_KINDS = ("accepted", "refused", "progress", "done")
OUTBOX_STATES = ("pending", "delivered", "undelivered", "cancelled")  # cancelled: its call ended unsent


class Instruction(Base):
    __tablename__ = "loop_instruction"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")  # the instruction; may name people
    reason: Mapped[str] = mapped_column(Text, default="")  # 转办 / 上报 / 下派
    urgency: Mapped[str] = mapped_column(String(10), default="normal")  # urgent | normal | complex
    limit_hours: Mapped[int | None] = mapped_column(Integer)  # 交办: the handling time limit
    reply_by: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 督办: the reply deadline
    from_code: Mapped[str] = mapped_column(String(15), default="")  # the acting centre (unit code)
    to_level: Mapped[str | None] = mapped_column(String(10))  # 上报 / 下派: the case's new level
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Recipient(Base):
    __tablename__ = "loop_recipient"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instruction_id: Mapped[int] = mapped_column(
        ForeignKey("loop_instruction.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("department.code"), index=True)
    role: Mapped[str] = mapped_column(String(10), default="sole")
    state: Mapped[str] = mapped_column(String(12), default="pending")
    report_by: Mapped[datetime] = mapped_column(UTCDateTime)  # the 报到 deadline
    report_overdue: Mapped[bool] = mapped_column(Boolean, default=False)  # was 超时未报到 once
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 报到
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the latest answer
    handler: Mapped[str] = mapped_column(String(100), default="")  # who will handle it (报到)
    last_answer: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_loop_recipient_state_report_by", "state", "report_by"),)


class OutboxMessage(Base):
    __tablename__ = "loop_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)  # the idempotency key
    # an instruction's recipient, or (预警叫应) a call to a grid's worker: exactly one is set
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("loop_recipient.id", ondelete="CASCADE"), index=True
    )
    call_id: Mapped[int | None] = mapped_column(ForeignKey("alert_call.id", ondelete="CASCADE"), index=True)
    department_code: Mapped[str] = mapped_column(String(40), index=True)
    body: Mapped[str] = mapped_column(Text)  # the JSON sent, byte for byte (UTF-8)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a worker holds it until then
    last_error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_loop_outbox_state_next", "state", "next_attempt_at"),)


class Answer(Base):
    """One answer a department sent to an instruction (accepted by the inbound endpoint)."""

    __tablename__ = "loop_answer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)  # the department's: replays refused
    # an answer to an instruction (its recipient) or to a call (预警叫应): exactly one is set
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("loop_recipient.id", ondelete="CASCADE"), index=True
    )
    call_id: Mapped[int | None] = mapped_column(ForeignKey("alert_call.id", ondelete="CASCADE"), index=True)
    count: Mapped[int | None] = mapped_column(Integer)  # 已转移 N 人: N
    department_code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text, default="")
    handler: Mapped[str] = mapped_column(String(100), default="")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the department's timestamp
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
