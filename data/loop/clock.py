"""报到 deadlines by urgency, and 超时未报到: recipients that have not answered in time.

紧急 (urgent) and 一般 (normal) are minutes after sending; 复杂 (complex) is a number of working days
(Monday to Friday in the deployment's time zone; the same time of day on the working day that many
working days later).

An instruction left 超时未报到 escalates its case like an overdue case: once its recipients have been
unanswered for ``Settings.loop_report_escalate_factor`` times the 报到 window (report_by − sent) past
report_by, the case moves one level up (community → street → district), once per instruction, with one
``escalation`` event whose detail is ``<from>→<to> loop:<instruction id>:<departments>``
(:func:`escalate_unanswered`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..deadlines import LEVEL_ORDER
from ..models import Case, CaseEvent, Recipient
from ..models.loop import WAITING_STATES
from ..settings import Settings

URGENCIES = ("urgent", "normal", "complex")
ESCALATION_TAG = "loop:"  # the detail of an escalation by an unanswered instruction: "a→b loop:12:police"


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


def escalation_instruction(detail: str) -> int | None:
    """The instruction id an ``escalation`` event's detail names (``community→street loop:12:police``),
    or None for an escalation by the case's own clock (``community→street``)."""
    _, _, tag = detail.partition(" ")
    if not tag.startswith(ESCALATION_TAG):
        return None
    head = tag.removeprefix(ESCALATION_TAG).split(":", 1)[0]
    return int(head) if head.isdecimal() else None


def escalate_unanswered(conn: Connection, now: datetime, factor: float) -> int:
    """Open cases with an instruction still 超时未报到 ``factor`` × its 报到 window after its 报到
    deadline move one level up, once per instruction (an ``escalation`` event names it); a case held
    at the district already stays. Returns how many escalations were made."""
    rows = conn.execute(
        select(
            Recipient.case_id,
            Recipient.instruction_id,
            Recipient.department_code,
            Recipient.report_by,
            Recipient.created_at,
        )
        .join(Case, Case.id == Recipient.case_id)
        .where(Recipient.state == "overdue", Recipient.report_by < now, Case.is_open.is_(True))
        .order_by(Recipient.instruction_id, Recipient.id)
    ).all()
    due: dict[int, tuple[int, list[str]]] = {}  # instruction → (case, departments still unanswered)
    for row in rows:
        window = max(row.report_by - row.created_at, timedelta(0))
        if now - row.report_by > window * factor:
            due.setdefault(row.instruction_id, (row.case_id, []))[1].append(row.department_code)
    if not due:
        return 0
    cases = {case_id for case_id, _ in due.values()}
    done = {
        escalation_instruction(detail)
        for detail in conn.scalars(
            select(CaseEvent.detail).where(
                CaseEvent.case_id.in_(cases),
                CaseEvent.kind == "escalation",
                CaseEvent.detail.like(f"% {ESCALATION_TAG}%"),
            )
        )
    }
    levels = dict(conn.execute(select(Case.id, Case.escalation_level).where(Case.id.in_(cases))).all())
    moved = 0
    for instruction_id, (case_id, departments) in due.items():
        old = levels.get(case_id, "district")
        if instruction_id in done or old not in LEVEL_ORDER[:-1]:
            continue
        new = LEVEL_ORDER[LEVEL_ORDER.index(old) + 1]
        result = conn.execute(
            update(Case)
            .where(Case.id == case_id, Case.escalation_level == old)
            .values(escalation_level=new, modified_at=now)
        )
        if result.rowcount != 1:
            continue
        levels[case_id] = new
        moved += 1
        detail = f"{old}→{new} {ESCALATION_TAG}{instruction_id}:{','.join(departments)}"
        conn.execute(
            insert(CaseEvent).values(
                case_id=case_id, at=now, kind="escalation", detail=detail, actor="system"
            )
        )
    return moved
