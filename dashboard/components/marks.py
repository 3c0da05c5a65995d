"""Marks several screens draw the same way: a case's colour on a small map (the live map's palette and
rule, ``caseColour`` in ``assets/gridcc_map.js``), a trend's arrow, and a warning level's change in words."""

from __future__ import annotations

from data.text import label

from .map import CASE_COLOURS

TREND_ARROWS = {"up": "↑", "down": "↓", "flat": "→"}
CLOSED_COLOUR = "#a7b4c6"  # a resolved or closed case (the live map draws open cases only)


def case_colour(overdue: bool, due_soon: bool, status: str) -> str:
    """The colour of a case's marker: late, then due soon, then its state's (as the live map draws it)."""
    if overdue:
        return CASE_COLOURS["overdue"]
    if due_soon:
        return CASE_COLOURS["due_soon"]
    if status in ("resolved", "closed"):
        return CLOSED_COLOUR
    return CASE_COLOURS.get(status, CASE_COLOURS["accepted"])


def level_change(detail: str, lang: str) -> str:
    """``"yellow→orange"`` (an alert's raise, as stored) in words: 黄色→橙色; ``""`` when it is not one."""
    before, _, after = detail.partition("→")
    return f"{label('colour', before, lang)}→{label('colour', after, lang)}" if after else ""
