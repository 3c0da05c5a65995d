"""A feed's status for the screens (ok / stale / failing / never polled), as one pure function, and
the two ages an operator reads beside it.

- **freshness of the connection**: the time since the feed's last successful poll. That is what
  "stale" is judged on: a feed is stale when it has not been read successfully for a while.
- **age of the newest record**: the time since the newest record the feed has sent was updated at its
  source. A quiet feed (polled fine, nothing new for hours) has an old newest record; that is
  information, never an error, and never makes a feed stale.

Lives in ``data`` so that both the workers and the dashboard can use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from . import text
from .models.feeds import FeedHealth

FeedState = Literal["ok", "stale", "failing", "never", "disabled", "paused"]


class HasInterval(Protocol):
    """A feed row (``interval_s``) or anything else that says how often the feed is polled."""

    @property
    def interval_s(self) -> int: ...


@dataclass(frozen=True)
class FeedAges:
    """A feed's two ages at ``now``, in seconds (None: no successful poll / no record yet)."""

    since_success_s: float | None  # freshness of the connection: what "stale" is judged on
    record_age_s: float | None  # age of the newest record: information only


def feed_ages(health: FeedHealth | None, now: datetime) -> FeedAges:
    if health is None:
        return FeedAges(None, None)
    success, newest = health.last_success_at, health.newest_record_at
    return FeedAges(
        (now - success).total_seconds() if success is not None else None,
        (now - newest).total_seconds() if newest is not None else None,
    )


def feed_status(
    health: FeedHealth | None,
    feed: HasInterval,
    now: datetime,
    stale_after_polls: int = 3,
    enabled: bool = True,
    paused: bool = False,
) -> FeedState:
    """Where a feed stands at ``now``.

    - ``disabled``: the feeds file disables it (or no longer lists it);
    - ``paused``: an admin paused it (its polls are skipped): never ``stale`` while so;
    - ``never``: no poll has finished (neither a success nor an error) yet;
    - ``stale``: the last success is older than ``stale_after_polls`` poll intervals (or, with no
      success ever, that many polls in a row have failed);
    - ``failing``: the last poll failed, but the data is not stale yet;
    - ``ok``: otherwise.

    Only the connection's freshness counts: how old the newest record is does not (a quiet feed is ok).
    """
    if not enabled:
        return "disabled"
    if paused:
        return "paused"
    if health is None or (health.last_success_at is None and health.last_error_at is None):
        return "never"
    window = timedelta(seconds=max(1, feed.interval_s) * max(1, stale_after_polls))
    since_success = feed_ages(health, now).since_success_s
    if since_success is None:
        return "stale" if health.consecutive_failures >= stale_after_polls else "failing"
    if since_success > window.total_seconds():
        return "stale"
    if health.consecutive_failures > 0:
        return "failing"
    return "ok"


def label(state: str, language: str = "zh-CN") -> str:
    """The state's word for people (``数据过期``), from the text catalogue."""
    return text.label("feed_status", state, language)
