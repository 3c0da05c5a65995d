"""Fresh worker names, and the registrations of killed workers marked dead at once (RQ refuses a name
whose registration is alive, and a SIGKILLed worker's lives on for minutes), on the real Redis."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
import redis
from rq import Worker

from workers.queues import QUEUES
from workers.worker_names import forget_dead_workers, fresh_name

PREFIX = "gridcc-test-names"


def _registered(conn: redis.Redis, name: str, pid: int) -> Worker:
    worker = Worker(list(QUEUES), connection=conn, name=name)
    worker.pid = pid
    worker.register_birth()
    return worker


@pytest.fixture
def pids() -> Iterator[tuple[int, int]]:
    """A process that has exited (a killed worker's) and one still running (a live worker's)."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield dead.pid, alive.pid
    alive.kill()
    alive.wait()


def test_fresh_names_differ_and_keep_the_prefix() -> None:
    names = {fresh_name(PREFIX) for _ in range(50)}
    assert len(names) == 50
    assert all(n.startswith(PREFIX + "-") for n in names)


def test_dead_workers_of_the_prefix_are_forgotten(redis_url: str, redis_conn: redis.Redis, pids) -> None:  # type: ignore[no-untyped-def]
    dead_pid, alive_pid = pids
    dead = _registered(redis_conn, f"{PREFIX}-{dead_pid}-aaaaaa", dead_pid)
    alive = _registered(redis_conn, f"{PREFIX}-{alive_pid}-bbbbbb", alive_pid)
    other = _registered(redis_conn, f"other-{dead_pid}-cccccc", dead_pid)  # not ours to judge
    try:
        assert forget_dead_workers(redis_url, PREFIX) == [dead.name]
        names = {w.name for w in Worker.all(connection=redis_conn)}
        assert dead.name not in names and {alive.name, other.name} <= names
        # the name is free again at once: RQ no longer refuses it
        _registered(redis_conn, dead.name, alive_pid).register_death()
    finally:
        for w in (alive, other):
            w.register_death()


def test_nothing_happens_when_redis_is_away(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert forget_dead_workers(f"unix://{tmp_path / 'none.sock'}", PREFIX) == []
