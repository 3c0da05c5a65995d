"""Queue names, the retry policy of polls, and how a poll is enqueued by hand."""

from __future__ import annotations

import redis
from rq import Queue, Retry
from rq.job import Job

from data.push.queue import PUSH_QUEUE

FEEDS_QUEUE = "gridcc-feeds"  # poll_feed jobs
DEFAULT_QUEUE = "gridcc-default"  # check_deadlines, deliver_outbox and other housekeeping
# A push (workers.jobs.push) has a client waiting for its answer: every worker serves it first.
QUEUES = (PUSH_QUEUE, FEEDS_QUEUE, DEFAULT_QUEUE)

# Workers run jobs in their own process (no fork per job), so the per-process runtime (engine,
# Redis client, grid locator) is built once, and give memory back after each job (workers.worker);
# start them with --worker-class WORKER_CLASS.
WORKER_CLASS = "workers.worker.GridccWorker"

POLL_RETRY_MAX = 3
POLL_RETRY_INTERVALS = (5, 15, 45)
POLL_JOB_TIMEOUT = 600  # seconds; a poll's HTTP requests have their own, much shorter, timeouts
DELIVER_JOB_TIMEOUT = 300  # a run stops claiming after ~50 s; each request has its endpoint's timeout


def poll_retry() -> Retry:
    """Retries with backoff for a poll that failed on the network (needs a worker --with-scheduler)."""
    return Retry(max=POLL_RETRY_MAX, interval=list(POLL_RETRY_INTERVALS))


def enqueue_poll(conn: redis.Redis, name: str) -> Job:
    """Enqueue one poll of a feed now, with the retry policy."""
    return Queue(FEEDS_QUEUE, connection=conn).enqueue(
        "workers.jobs.poll.poll_feed",
        name,
        retry=poll_retry(),
        job_timeout=POLL_JOB_TIMEOUT,
        description=f"poll_feed({name!r})",
    )


def enqueue_deadlines(conn: redis.Redis) -> Job:
    return Queue(DEFAULT_QUEUE, connection=conn).enqueue("workers.jobs.deadlines.check_deadlines")


def enqueue_delivery(conn: redis.Redis) -> Job:
    """Deliver the loop's due outbox rows now (``rq cron`` also runs it every few seconds)."""
    return Queue(DEFAULT_QUEUE, connection=conn).enqueue(
        "workers.jobs.deliver.deliver_outbox", job_timeout=DELIVER_JOB_TIMEOUT, description="deliver_outbox()"
    )
