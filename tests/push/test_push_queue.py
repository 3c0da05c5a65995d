"""A push has a client waiting on it: every gridcc worker serves the push queue first, and the web tier
names the job by a path that exists (it may not import the workers to check)."""

from __future__ import annotations

import importlib

from data.push.queue import INGEST_JOB, PUSH_QUEUE
from gridcc.cli.serve import _worker_argv


def test_every_worker_listens_to_the_push_queue_first() -> None:
    argv = _worker_argv("redis://x", "w")  # what `gridcc worker` and the demo's supervised workers run
    queues = [a for a in argv if a.startswith("gridcc-")]
    assert queues[0] == PUSH_QUEUE and len(queues) == 3, argv


def test_the_job_the_web_tier_names_exists() -> None:
    module, _, name = INGEST_JOB.rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))
