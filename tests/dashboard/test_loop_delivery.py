"""After an action the web server enqueues the workers' delivery job by name (it never imports the
workers): the name and the queue must be the workers' own."""

from __future__ import annotations

from pathlib import Path

from rq.job import Job

from dashboard.loop_delivery import DEFAULT_QUEUE, DELIVER_JOB, deliver_soon
from dashboard.services import Services
from data.settings import Settings
from workers import queues
from workers.jobs.deliver import deliver_outbox


def test_deliver_soon_enqueues_the_workers_delivery_job(tmp_path: Path, redis_url: str) -> None:
    svc = Services(Settings(data_dir=tmp_path / "var", redis_url=redis_url))
    job_id = deliver_soon(svc)
    assert job_id is not None
    job = Job.fetch(job_id, connection=svc.redis)
    try:
        assert job.origin == DEFAULT_QUEUE == queues.DEFAULT_QUEUE
        assert job.func_name == DELIVER_JOB and job.func is deliver_outbox
    finally:
        job.delete()


def test_without_redis_the_action_still_stands(tmp_path: Path) -> None:
    svc = Services(Settings(data_dir=tmp_path / "var", redis_url="redis://127.0.0.1:1/0"))
    assert deliver_soon(svc) is None
