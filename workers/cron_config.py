"""The module given to ``rq cron`` (``rq cron --url $GRIDCC_REDIS_URL workers.cron_config``).

Builds ``Settings()`` from the environment, reads the feeds file and registers one ``poll_feed`` per
enabled feed at its interval, plus ``check_deadlines`` every 60 s and ``deliver_outbox`` (the loop's
instructions to the departments) every 5 s. ``rq cron`` cannot attach a retry
policy to what it enqueues, so a poll that fails on the network gives itself the policy of
:func:`workers.queues.poll_retry` before it raises (see ``workers.jobs.poll``).
"""

from __future__ import annotations

import logging

from rq import cron

from data.settings import Settings

from .feeds.config import FeedConfig, FeedConfigError, load_feeds
from .jobs.deadlines import check_deadlines
from .jobs.deliver import deliver_outbox
from .jobs.poll import poll_feed
from .queues import DEFAULT_QUEUE, DELIVER_JOB_TIMEOUT, FEEDS_QUEUE, POLL_JOB_TIMEOUT

DEADLINES_INTERVAL = 60
DELIVER_INTERVAL = 5

log = logging.getLogger(__name__)


def register_all(settings: Settings) -> list[FeedConfig]:
    """Register the schedule; returns the feeds registered."""
    path = settings.effective_feeds_file
    feeds: list[FeedConfig] = []
    if path.exists():
        try:
            feeds = [f for f in load_feeds(path) if f.enabled]
        except FeedConfigError as exc:
            log.error("no feed polled: %s", exc)
    else:
        log.warning("no feeds file at %s: no feed polled", path)
    for feed in feeds:
        cron.register(
            poll_feed,
            FEEDS_QUEUE,
            args=(feed.name,),
            interval=feed.interval,
            job_timeout=POLL_JOB_TIMEOUT,
            result_ttl=max(60, 10 * feed.interval),
            failure_ttl=86_400,
            name=f"poll_feed:{feed.name}",
        )
    cron.register(
        check_deadlines, DEFAULT_QUEUE, interval=DEADLINES_INTERVAL, job_timeout=600, result_ttl=600
    )
    cron.register(
        deliver_outbox,
        DEFAULT_QUEUE,
        interval=DELIVER_INTERVAL,
        job_timeout=DELIVER_JOB_TIMEOUT,
        result_ttl=60,
        failure_ttl=86_400,
        name="deliver_outbox",
    )
    return feeds


register_all(Settings())
