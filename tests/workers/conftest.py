"""Fixtures for tests that run real ``rq worker`` processes: ``rq_runtime`` (a Runtime on the test's
database and Redis, with a small hierarchy and empty queues) and ``rq_stack`` (the workers it starts,
all stopped at the end)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rq import Queue

from workers.queues import QUEUES
from workers.runtime import Runtime

from ._rq_stack import Stack
from .test_poll_support import make_hierarchy, make_runtime, worker_env


@pytest.fixture
def rq_runtime(database_url: str, engine: object, redis_url: str, tmp_path: Path) -> Iterator[Runtime]:
    rt = make_runtime(database_url, redis_url, tmp_path / "feeds.toml", tmp_path / "var")
    with rt.session_factory() as session, session.begin():
        make_hierarchy(session)
    for queue in QUEUES:
        Queue(queue, connection=rt.redis).empty()
    yield rt
    rt.close()


@pytest.fixture
def rq_stack(rq_runtime: Runtime, tmp_path: Path) -> Iterator[Stack]:
    """Real ``rq worker`` processes on the test's Redis and database (``rq_stack.worker(name)``)."""
    s = rq_runtime.settings
    st = Stack(
        worker_env(s.effective_database_url, s.redis_url, s.effective_feeds_file, s.data_dir),
        s.redis_url,
        tmp_path,
    )
    yield st
    st.stop()
    for queue in QUEUES:
        Queue(queue, connection=rq_runtime.redis).empty()
