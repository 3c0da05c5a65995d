"""How a case's deadline facts move, and the timeline events each move writes.

Shared by the ingest (a case that arrives already late gets its events at once) and by
``check_deadlines`` (every minute). Escalation and supervision cards only go up: once a case has been
escalated to the street or given a red card, that stays on its record.

Event kinds (``case_event.kind``) and their ``detail``:

- ``due_soon``: ``"deadline <ISO-8601 UTC>"`` — 80 % of the time limit has passed;
- ``overdue``: ``"deadline <ISO-8601 UTC>"`` — the deadline has passed, not resolved;
- ``supervision``: ``"yellow"`` or ``"red"`` — a supervision (督办) card;
- ``escalation``: ``"community→street"`` or ``"street→district"`` — one step each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from data.deadlines import LEVEL_ORDER, Clock, higher_level

CARD_ORDER = ("none", "yellow", "red")


@dataclass(frozen=True)
class Facts:
    due_soon: bool
    overdue: bool
    supervision: str
    escalation_level: str


def _higher_card(a: str, b: str) -> str:
    return a if CARD_ORDER.index(a) >= CARD_ORDER.index(b) else b


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def advance(old: Facts, clock: Clock) -> tuple[Facts, list[tuple[str, str]]]:
    """The new facts and the ``(kind, detail)`` events of the move from ``old`` to ``clock``."""
    events: list[tuple[str, str]] = []
    if clock.due_soon and not old.due_soon and not old.overdue:
        events.append(("due_soon", f"deadline {_iso(clock.deadline_at)}"))
    if clock.overdue and not old.overdue:
        events.append(("overdue", f"deadline {_iso(clock.deadline_at)}"))
    card = _higher_card(old.supervision, clock.supervision)
    for step in CARD_ORDER[CARD_ORDER.index(old.supervision) + 1 : CARD_ORDER.index(card) + 1]:
        events.append(("supervision", step))
    level = higher_level(old.escalation_level, clock.escalation_level)
    start, stop = LEVEL_ORDER.index(old.escalation_level), LEVEL_ORDER.index(level)
    for i in range(start, stop):
        events.append(("escalation", f"{LEVEL_ORDER[i]}→{LEVEL_ORDER[i + 1]}"))
    return Facts(clock.due_soon, clock.overdue, card, level), events
