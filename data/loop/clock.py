"""报到 deadlines by urgency, and 超时未报到: recipients that have not answered in time.

紧急 (urgent) and 一般 (normal) are minutes after sending; 复杂 (complex) is a number of working days
(Monday to Friday in the deployment's time zone; the same time of day on the working day that many
working days later).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..models import CaseEvent, Recipient
from ..models.loop import WAITING_STATES
from ..settings import Settings

URGENCIES = ("urgent", "normal", "complex")


def report_deadline(settings: Settings, urgency: str, sent_at: datetime) -> datetime:
    """When a recipient must 报到 for an instruction of ``urgency`` sent at ``sent_at``."""
    if urgency == "urgent":
        return sent_at + timedelta(minutes=settings.loop_report_urgent_minutes)
    if urgency == "normal":
        return sent_at + timedelta(minutes=settings.loop_report_normal_minutes)
    if urgency != "complex":
        raise ValueError(f"unknown urgency {urgency!r}: one of {', '.join(URGENCIES)}")
    local = sent_at.astimezone(settings.tz)
    days = settings.loop_report_complex_working_days
    while days:
        local = local + timedelta(days=1)
        if local.weekday() < 5:
            days -= 1
    while local.weekday() >= 5:  # sent on a weekend: counts from Monday
        local = local + timedelta(days=1)
    return local.astimezone(sent_at.tzinfo)


def mark_overdue(conn: Connection, now: datetime) -> int:
    """Recipients still waiting (pending / delivered) past their 报到 deadline become ``overdue``
    (超时未报到), each with one ``report_overdue`` event on its case; returns how many."""
    rows = conn.execute(
        select(Recipient.id, Recipient.case_id, Recipient.department_code, Recipient.instruction_id).where(
            Recipient.state.in_(WAITING_STATES), Recipient.report_by < now
        )
    ).all()
    if not rows:
        return 0
    moved = 0
    events: list[dict[str, Any]] = []
    for row in rows:
        result = conn.execute(
            update(Recipient)
            .where(Recipient.id == row.id, Recipient.state.in_(WAITING_STATES))
            .values(state="overdue", report_overdue=True)
        )
        if result.rowcount == 1:
            moved += 1
            detail = f"{row.department_code}:{row.instruction_id}"
            events.append(
                {
                    "case_id": row.case_id,
                    "at": now,
                    "kind": "report_overdue",
                    "detail": detail,
                    "actor": "system",
                }
            )
    if events:
        conn.execute(insert(CaseEvent), events)
    return moved
