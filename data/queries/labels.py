"""Labels of the codes the queries return: read from the one text catalogue (:mod:`data.text`)."""

from __future__ import annotations

from ..text import EMPTY as DASH
from ..text import label, percent

KINDS = (
    "status",
    "escalation",
    "supervision",
    "satisfaction",
    "level",
    "staff_role",
    "colour",
    "alert_state",
    "alert_event",
    "alert_kind",
    "risk_kind",
    "risk_level",
    "feed_status",
    "trend",
    "audit_action",
    "instruction_kind",
    "recipient_state",
    "recipient_role",
    "loop_event",
)

__all__ = ["DASH", "KINDS", "format_rate", "label"]


def format_rate(rate: float | None, digits: int = 1) -> str:
    """98.8 % style; ``—`` when the rate is undefined (zero denominator)."""
    return percent(rate, digits=digits)
