"""The one feed status rule and the two ages beside it: the connection's freshness (time since the last
successful poll — what "stale" is judged on) and the newest record's age (information only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from data.feed_status import FeedAges, feed_ages, feed_status
from data.models import FeedHealth

NOW = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


class _Feed:
    interval_s = 10


def test_a_quiet_feed_is_ok_however_old_its_newest_record() -> None:
    quiet = FeedHealth(
        last_success_at=NOW - timedelta(seconds=4),
        newest_record_at=NOW - timedelta(hours=6),
        consecutive_failures=0,
    )
    assert feed_status(quiet, _Feed(), NOW, stale_after_polls=3) == "ok"
    assert feed_ages(quiet, NOW) == FeedAges(since_success_s=4.0, record_age_s=6 * 3600.0)


def test_stale_is_the_connection_not_the_records() -> None:
    # Records a second old, but no successful poll for 31 s (3 polls of 10 s): stale.
    cut_off = FeedHealth(
        last_success_at=NOW - timedelta(seconds=31),
        newest_record_at=NOW - timedelta(seconds=1),
        last_error_at=NOW,
        consecutive_failures=3,
    )
    assert feed_status(cut_off, _Feed(), NOW, stale_after_polls=3) == "stale"
    assert feed_ages(cut_off, NOW) == FeedAges(since_success_s=31.0, record_age_s=1.0)
    # Exactly at the window's edge it is not stale yet (failing, since the last poll failed).
    edge = FeedHealth(last_success_at=NOW - timedelta(seconds=30), last_error_at=NOW, consecutive_failures=1)
    assert feed_status(edge, _Feed(), NOW, stale_after_polls=3) == "failing"


def test_no_success_and_no_record_yet() -> None:
    assert feed_ages(None, NOW) == FeedAges(None, None)
    failing = FeedHealth(last_error_at=NOW, consecutive_failures=1)
    assert feed_ages(failing, NOW) == FeedAges(None, None)
    assert feed_status(failing, _Feed(), NOW, stale_after_polls=3) == "failing"
