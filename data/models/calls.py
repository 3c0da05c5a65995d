"""预警叫应: one :class:`AlertCall` per (warning, covered grid) — the grid's worker is called when a
warning at 黄 (Moderate) or above covers the grid, and must answer.

The messages themselves go through the loop's outbox (:class:`~data.models.OutboxMessage` with
``call_id`` set instead of ``recipient_id``), so a call is delivered, retried, leased and signed as an
instruction is; the answers are :class:`~data.models.Answer` rows with ``call_id`` set.

A call's ``round`` counts the times the warning called: a CAP Update that raises the level starts a
new round (``round_at``), and only an answer to a message of the current round counts as answering it.
``ended_at`` is set when the warning is cancelled (or expires, or no longer covers the grid): the
calling ends, and nothing is sent for it again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

# calling: no answer in this round yet; then the latest answer: received 已收到, patrolled 巡查完成,
# evacuated 已转移 N 人, support 需要支援 (with a note)
CALL_STATES = ("calling", "received", "patrolled", "evacuated", "support")
CALL_ANSWER_KINDS = ("received", "patrolled", "evacuated", "support")


class AlertCall(Base):
    __tablename__ = "alert_call"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    grid_code: Mapped[str] = mapped_column(
        String(15), ForeignKey("admin_unit.code", ondelete="CASCADE"), index=True
    )
    worker_name: Mapped[str] = mapped_column(String(100), default="")  # who was called (the roster's)
    worker_role: Mapped[str] = mapped_column(String(20), default="grid_worker")
    level: Mapped[str] = mapped_column(String(12), default="Moderate")  # the severity of this round
    round: Mapped[int] = mapped_column(Integer, default=1)
    round_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(12), default="calling")
    messages: Mapped[int] = mapped_column(Integer, default=0)  # messages written (calls and 再叫应)
    last_called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the latest message's delivery
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first answer of this round
    evacuated: Mapped[int] = mapped_column(Integer, default=0)  # 已转移 N 人: the latest N
    note: Mapped[str] = mapped_column(Text, default="")  # 需要支援: what is needed
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str] = mapped_column(String(20), default="")  # cancelled | expired | uncovered
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("alert_id", "grid_code", name="uq_alert_call_alert_grid"),)
