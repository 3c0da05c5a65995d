"""A feed's status for the screens (ok / stale / failing / never polled), as one pure function.

Lives in ``data`` so that both the workers and the dashboard can use it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, Protocol

from .models.feeds import FeedHealth

FeedState = Literal["ok", "stale", "failing", "never", "disabled"]

LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "ok": "正常",
        "stale": "数据过期",
        "failing": "异常",
        "never": "从未轮询",
        "disabled": "已停用",
    },
    "en": {
        "ok": "ok",
        "stale": "stale",
        "failing": "failing",
        "never": "never polled",
        "disabled": "disabled",
    },
}


class HasInterval(Protocol):
    """A feed row (``interval_s``) or anything else that says how often the feed is polled."""

    @property
    def interval_s(self) -> int: ...


def feed_status(
    health: FeedHealth | None,
    feed: HasInterval,
    now: datetime,
    stale_after_polls: int = 3,
    enabled: bool = True,
) -> FeedState:
    """Where a feed stands at ``now``.

    - ``never``: no poll has finished (neither a success nor an error) yet;
    - ``stale``: the last success is older than ``stale_after_polls`` poll intervals (or, with no
      success ever, that many polls in a row have failed);
    - ``failing``: the last poll failed, but the data is not stale yet;
    - ``ok``: otherwise.
    """
    if not enabled:
        return "disabled"
    if health is None or (health.last_success_at is None and health.last_error_at is None):
        return "never"
    window = timedelta(seconds=max(1, feed.interval_s) * max(1, stale_after_polls))
    if health.last_success_at is None:
        return "stale" if health.consecutive_failures >= stale_after_polls else "failing"
    if now - health.last_success_at > window:
        return "stale"
    if health.consecutive_failures > 0:
        return "failing"
    return "ok"


def label(state: str, language: str = "zh-CN") -> str:
    return LABELS.get(language, LABELS["zh-CN"]).get(state, state)
