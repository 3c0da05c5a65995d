"""After an action that wrote outbox rows: bump the ``loop`` layer version (the wall's loop figures
count the instruction at once) and ask the workers to deliver them now, not at the next ``rq cron`` run
(every 5 s). Best effort: with Redis away the cron run (or the next one after Redis is back) delivers
them and bumps the version; the outbox row, written in the action's transaction, is what is never lost."""

from __future__ import annotations

from rq import Queue

from layers import versions

from .redis_or import redis_or
from .services import Services

# workers.queues.DEFAULT_QUEUE and the job (the dashboard never imports the workers: by name, as RQ allows)
DEFAULT_QUEUE = "gridcc-default"
DELIVER_JOB = "workers.jobs.deliver.deliver_outbox"
DELIVER_JOB_TIMEOUT = 300


def deliver_soon(svc: Services) -> str | None:
    """Bump the ``loop`` version and enqueue one delivery run: its job id, or None when Redis could not be
    reached."""

    def enqueue() -> str:
        versions.bump(svc.redis, ["loop"])
        job = Queue(DEFAULT_QUEUE, connection=svc.redis).enqueue(
            DELIVER_JOB, job_timeout=DELIVER_JOB_TIMEOUT, description="deliver_outbox()"
        )
        return str(job.id)

    return redis_or(None, enqueue, also=(RuntimeError,))
