"""Deadlines, due-soon, supervision cards and escalation levels (DESIGN §3), as pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

DUE_SOON_FRACTION = 0.8
ESCALATE_TO_STREET_FRACTION = 0.5
RED_CARD_EXTRA_FRACTION = 0.5
LEVEL_ORDER = ("community", "street", "district")
LATEST = datetime.max.replace(tzinfo=UTC)  # a deadline past the calendar's end is held there


@dataclass(frozen=True)
class Clock:
    """The deadline facts of one case at one moment."""

    deadline_at: datetime
    due_soon: bool
    overdue: bool
    supervision: str  # none | yellow | red
    escalation_level: str  # community | street | district


class Moments(NamedTuple):
    """When the facts of a case accepted at ``accepted`` with deadline ``deadline`` move up: held at the
    street from ``street``, due soon from ``due_soon``, overdue (yellow card, district) after ``overdue``,
    red card after ``red``. In whatever arithmetic the two are given in: datetimes, or epoch seconds as
    SQL expressions (the deadline job's filter), so the fractions live here only."""

    street: Any
    due_soon: Any
    overdue: Any
    red: Any


def moments(accepted: Any, deadline: Any) -> Moments:
    limit = deadline - accepted
    return Moments(
        street=accepted + limit * ESCALATE_TO_STREET_FRACTION,
        due_soon=accepted + limit * DUE_SOON_FRACTION,
        overdue=deadline,
        red=deadline + limit * RED_CARD_EXTRA_FRACTION,
    )


def deadline(accepted_at: datetime, limit_hours: float) -> datetime:
    return _later(accepted_at, timedelta(hours=limit_hours))


def _later(when: datetime, by: timedelta) -> datetime:
    """``when + by``, held at :data:`LATEST` instead of overflowing (an accepted time of 9999-12-31)."""
    try:
        return when + by
    except OverflowError:
        return LATEST if when.tzinfo is not None else LATEST.replace(tzinfo=None)


def evaluate(accepted_at: datetime, limit_hours: float, now: datetime, is_open: bool) -> Clock:
    """Where a case accepted at ``accepted_at`` with this limit stands at ``now``.

    Due soon at 80 % of the limit; overdue past the deadline while not resolved; yellow card when
    overdue, red when overdue by more than half the limit again; held at community level, at street
    level once 50 % of the limit has passed unresolved, at district level once overdue.
    """
    limit = timedelta(hours=limit_hours)
    due = _later(accepted_at, limit)
    elapsed = now - accepted_at
    if not is_open:
        return Clock(due, False, False, "none", "community")
    overdue = now > due
    due_soon = not overdue and elapsed >= limit * DUE_SOON_FRACTION
    if now > _later(due, limit * RED_CARD_EXTRA_FRACTION):
        card = "red"
    elif overdue:
        card = "yellow"
    else:
        card = "none"
    if overdue:
        level = "district"
    elif elapsed >= limit * ESCALATE_TO_STREET_FRACTION:
        level = "street"
    else:
        level = "community"
    return Clock(due, due_soon, overdue, card, level)


def higher_level(a: str, b: str) -> str:
    """Escalation never goes back down: the higher of two levels."""
    return a if LEVEL_ORDER.index(a) >= LEVEL_ORDER.index(b) else b
