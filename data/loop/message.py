"""The JSON an instruction leaves gridcc as (one per recipient; ``docs/loop.md`` describes it).

It carries what the department needs to act — the case's reference, category, place and the
instruction — and nothing of the reporter (no name, no phone).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..models import Case, Instruction, Recipient

VERSION = 1


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def instruction_body(
    message_id: str, case: Case, instruction: Instruction, recipient: Recipient, source_department: str = ""
) -> str:
    """The message's JSON text (stored in the outbox and sent byte for byte). ``source_department``: the
    department whose feed the case came from (it holds the case in its own system)."""
    doc: dict[str, Any] = {
        "version": VERSION,
        "type": "instruction",
        "message_id": message_id,
        "kind": instruction.kind,
        "instruction_id": instruction.id,
        "department": recipient.department_code,
        "role": recipient.role,
        "urgency": instruction.urgency,
        "text": instruction.text,
        "reason": instruction.reason,
        "limit_hours": instruction.limit_hours,
        "reply_by": _iso(instruction.reply_by),
        "report_by": _iso(recipient.report_by),
        "sent_at": _iso(instruction.created_at),
        "from": {"centre": instruction.from_code, "actor": instruction.actor},
        "case": {
            "id": case.id,
            "feed": case.feed_name,
            "external_id": case.external_id,
            "title": case.title,
            "category": case.category_code,
            "category_name": case.category_name,
            "source_department": source_department,
            "priority": case.priority,
            "status": case.status,
            "address": case.address,
            "lon": case.lon,
            "lat": case.lat,
            "grid_code": case.grid_code or case.community_code or case.street_code,
            "deadline_at": _iso(case.deadline_at),
        },
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
