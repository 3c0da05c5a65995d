"""The marks the small maps, the hotspot lists and the alert screens share (dashboard/components/marks.py)."""

from __future__ import annotations

from dashboard.components.map import CASE_COLOURS
from dashboard.components.marks import CLOSED_COLOUR, TREND_ARROWS, case_colour, level_change


def test_a_case_is_coloured_as_the_live_map_colours_it() -> None:
    for status in ("reported", "accepted", "assigned", "in_progress", "returned"):
        assert case_colour(False, False, status) == CASE_COLOURS[status]
    assert case_colour(True, True, "in_progress") == CASE_COLOURS["overdue"]  # late wins
    assert case_colour(False, True, "accepted") == CASE_COLOURS["due_soon"]
    assert case_colour(False, False, "closed") == case_colour(False, False, "resolved") == CLOSED_COLOUR
    assert case_colour(False, False, "something new") == CASE_COLOURS["accepted"]  # as caseColour's fallback


def test_a_level_change_in_words_and_the_arrows() -> None:
    assert level_change("yellow→orange", "zh-CN") == "黄色→橙色"
    assert level_change("yellow→orange", "en") != "黄色→橙色"
    assert level_change("no change here", "zh-CN") == ""
    assert set(TREND_ARROWS) == {"up", "down", "flat"}
