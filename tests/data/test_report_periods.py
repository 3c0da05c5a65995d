"""Report periods and their 环比 / 同比 at the edges: weeks start on Monday in Asia/Shanghai, month ends,
leap years, a running period compared to the same elapsed length, and no division by zero."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from data.queries.labels import format_rate
from data.queries.report_periods import (
    change,
    last_year_period,
    point_change,
    previous_period,
    report_period,
)

SH = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)  # type: ignore[misc]


def test_a_week_starts_on_monday_in_shanghai_not_in_utc() -> None:
    # Monday 2026-11-30 00:30 in Shanghai is still Sunday 16:30 in UTC
    now = sh(2026, 11, 30, 0, 30)
    week = report_period("week", now, SH, anchor=now.astimezone(SH).date())
    assert (week.first, week.last) == (date(2026, 11, 30), date(2026, 12, 6))
    assert week.start == datetime(2026, 11, 29, 16, tzinfo=UTC)
    assert week.running and week.end == now  # cut at now: half an hour of figures
    prev = previous_period(week, SH)
    assert (prev.first, prev.start) == (date(2026, 11, 23), datetime(2026, 11, 22, 16, tzinfo=UTC))
    assert prev.end == sh(2026, 11, 23, 0, 30)  # the same half hour of last week
    # without an anchor: the last complete week, Monday to Sunday
    last = report_period("week", now, SH)
    assert (last.first, last.last, last.running) == (date(2026, 11, 23), date(2026, 11, 29), False)
    assert last.end == datetime(2026, 11, 29, 16, tzinfo=UTC)


def test_week_last_year_is_52_weeks_back_monday_to_monday() -> None:
    week = report_period("week", sh(2026, 12, 6, 10), SH)
    year = last_year_period(week, SH)
    assert (year.first, year.last) == (date(2025, 11, 24), date(2025, 11, 30))
    assert year.first.weekday() == 0 and not year.running


def test_month_ends_and_the_previous_month_of_another_length() -> None:
    now = sh(2026, 4, 2, 9)
    march = report_period("month", now, SH)  # the last complete month
    assert (march.first, march.last, march.days) == (date(2026, 3, 1), date(2026, 3, 31), 31)
    feb = previous_period(march, SH)
    assert (feb.first, feb.last) == (date(2026, 2, 1), date(2026, 2, 28))
    assert (feb.start, feb.end) == (sh(2026, 2, 1), sh(2026, 3, 1))  # February whole, no day of March
    anchored = report_period("month", now, SH, anchor=date(2026, 1, 31))
    assert (anchored.first, anchored.last) == (date(2026, 1, 1), date(2026, 1, 31))
    assert previous_period(anchored, SH).first == date(2025, 12, 1)  # across the year


def test_a_running_month_is_compared_to_the_same_days_of_the_month_before() -> None:
    now = sh(2026, 3, 10, 12)
    march = report_period("month", now, SH, anchor=date(2026, 3, 10))
    assert march.running and march.end == now
    feb = previous_period(march, SH)
    assert (feb.start, feb.end) == (sh(2026, 2, 1), sh(2026, 2, 10, 12))
    year = last_year_period(march, SH)
    assert (year.start, year.end) == (sh(2025, 3, 1), sh(2025, 3, 10, 12))


def test_leap_years() -> None:
    now = sh(2028, 3, 5, 8)
    day = report_period("day", now, SH, anchor=date(2028, 2, 29))
    year = last_year_period(day, SH)
    assert (year.first, year.last) == (date(2027, 2, 28), date(2027, 2, 28))
    feb = report_period("month", now, SH, anchor=date(2028, 2, 1))
    assert feb.days == 29
    feb_before = last_year_period(feb, SH)
    assert (feb_before.first, feb_before.last, feb_before.days) == (date(2027, 2, 1), date(2027, 2, 28), 28)
    assert feb_before.end == sh(2027, 3, 1)
    # the day before 1 March of a leap year is 29 February
    assert previous_period(report_period("day", now, SH, anchor=date(2028, 3, 1)), SH).first == date(
        2028, 2, 29
    )
    y2028 = report_period("year", sh(2029, 1, 2), SH)
    assert (y2028.first, y2028.last, y2028.days) == (date(2028, 1, 1), date(2028, 12, 31), 366)
    assert previous_period(y2028, SH).days == 365


def test_quarters_and_custom_periods() -> None:
    now = sh(2026, 7, 3)
    q2 = report_period("quarter", now, SH)
    assert (q2.first, q2.last) == (date(2026, 4, 1), date(2026, 6, 30))
    assert (previous_period(q2, SH).first, previous_period(q2, SH).last) == (
        date(2026, 1, 1),
        date(2026, 3, 31),
    )
    custom = report_period("custom", now, SH, first=date(2026, 6, 10), last=date(2026, 6, 19))
    prev = previous_period(custom, SH)
    assert (prev.first, prev.last) == (date(2026, 5, 31), date(2026, 6, 9))
    with pytest.raises(ValueError):
        report_period("custom", now, SH, first=date(2026, 6, 19), last=date(2026, 6, 10))
    with pytest.raises(ValueError):
        report_period("day", now, SH, anchor=date(2026, 7, 4))  # tomorrow
    with pytest.raises(ValueError):
        report_period("fortnight", now, SH)


def test_changes_never_divide_by_zero_and_show_as_a_dash() -> None:
    assert change(4, 2) == 1.0
    assert change(0, 5) == -1.0
    assert change(3, 0) is None and change(0, 0) is None
    assert change(None, 3) is None
    assert point_change(0.75, 1.0) == -0.25
    assert point_change(0.5, None) is None
    assert format_rate(change(3, 0)) == "—"
