"""Faults the demo survives by itself: SIGKILL of its embedded Redis and of a worker.

A stack of its own (not the browser tests' shared one): the kills here would disturb their screens.

* Redis: the supervisor starts a new ``redis-server``; what was written before the kill (a layer version,
  a queued RQ job) is there after it (append-only file); cron and the workers reconnect and every feed is
  polled again.
* A worker: the supervisor starts a new one, which registers under a fresh name (RQ refuses a name whose
  key the dead worker left behind) while the dead one's registration is cleaned up.

Deadlines are generous (the machine is shared); the times measured are printed.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TypeVar

import psutil
import pytest
import redis
from rq import Queue, SimpleWorker, Worker
from sqlalchemy import select

from data.db import make_engine, make_sessionmaker
from data.models import FeedHealth
from data.settings import Settings
from gridcc.cli.serve import DEMO_PUSH_WORKERS
from layers import versions
from tests.stack import Demo

pytestmark = pytest.mark.slow

T = TypeVar("T")
DEMO_WORKERS = Settings().workers + DEMO_PUSH_WORKERS  # on every queue, and push-only
PARKED = "gridcc-test-parked"  # a queue no demo worker listens to: its job stays queued


def wait_for(what: str, probe: Callable[[], T | None], deadline_s: float) -> tuple[T, float]:
    """Poll ``probe`` until it returns something (or fail after ``deadline_s``); return it and how long."""
    start = time.monotonic()
    while True:
        try:
            value = probe()
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, psutil.Error):
            value = None
        if value:
            return value, time.monotonic() - start
        if time.monotonic() - start > deadline_s:
            raise AssertionError(f"{what}: not within {deadline_s:.0f} s")
        time.sleep(0.25)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    d = Demo(tmp_path_factory.mktemp("faults") / "var")
    d.start()
    yield d
    try:
        d.stop()
    finally:
        d.kill_all()


def dead(proc: psutil.Process) -> bool:
    """Gone, or a zombie its parent has not reaped yet (psutil's wait() is for one's own children)."""
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def feeds_polled_since(demo: Demo, since: datetime) -> set[str]:
    engine = make_engine(demo.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            rows = session.scalars(select(FeedHealth).where(FeedHealth.last_poll_at > since)).all()
            return {row.feed_name for row in rows}
    finally:
        engine.dispose()


def test_redis_killed_is_restarted_and_keeps_queues_and_versions(demo: Demo) -> None:
    conn = redis.Redis.from_url(demo.redis_url, socket_timeout=5)
    # every feed has been polled once: the stack is working
    wait_for("first polls", lambda: len(feeds_polled_since(demo, datetime(2000, 1, 1, tzinfo=UTC))) >= 3, 180)

    versions.bump(conn, ["units"])
    units = versions.read(conn)["units"]
    job = Queue(PARKED, connection=conn).enqueue("builtins.len", "abcd")
    # the append-only file has both (written by the server before it answers the next command's
    # event-loop turn; SIGKILL loses nothing the kernel already has)
    aof = demo.data_dir / "appendonly.aof"
    wait_for("job in the append-only file", lambda: aof.exists() and job.id.encode() in aof.read_bytes(), 30)

    old = demo.redis_server()
    assert old is not None
    old.send_signal(signal.SIGKILL)
    wait_for("redis-server dead", lambda: dead(old), 30)
    killed_at = datetime.now(UTC)

    def new_server() -> bool:
        server = demo.redis_server()
        return bool(server and server.pid != old.pid and conn.ping())

    _, took = wait_for("a new redis-server answering", new_server, 60)
    print(f"redis-server answered again {took:.1f} s after SIGKILL")

    assert versions.read(conn)["units"] == units
    parked = Queue(PARKED, connection=conn)
    assert job.id in parked.job_ids
    SimpleWorker([parked], connection=conn).work(burst=True)
    assert parked.fetch_job(job.id).return_value() == 4  # type: ignore[union-attr]

    # cron and the workers reconnected: every feed polled again
    before = feeds_polled_since(demo, datetime(2000, 1, 1, tzinfo=UTC))

    def all_polled_again() -> set[str] | None:
        polled = feeds_polled_since(demo, killed_at)
        return polled if polled >= before else None

    polled, took = wait_for("every feed polled again", all_polled_again, 90)
    print(f"all {len(polled)} feeds polled again {took:.1f} s after Redis answered")


def test_worker_killed_comes_back_under_a_fresh_name(demo: Demo) -> None:
    conn = redis.Redis.from_url(demo.redis_url, socket_timeout=5)

    def live_workers() -> dict[str, int]:
        alive = {p.pid for p in demo.descendants()}
        return {w.name: w.pid for w in Worker.all(connection=conn) if w.pid in alive}

    def every() -> dict[str, int] | None:
        found = live_workers()
        return found if len(found) >= DEMO_WORKERS else None

    workers, _ = wait_for("every worker of the demo registered", every, 60)
    # one on every queue (the push-only worker does not take the poll below)
    name, pid = sorted((n, p) for n, p in workers.items() if n.startswith("gridcc-worker-"))[0]
    victim = psutil.Process(pid)
    os.kill(pid, signal.SIGKILL)
    wait_for("worker dead", lambda: dead(victim), 30)

    def replacement() -> set[str]:
        return set(live_workers()) - set(workers)

    fresh, took = wait_for("a new worker registered", replacement, 60)
    print(f"a new worker ({', '.join(fresh)}) registered {took:.1f} s after SIGKILL")
    assert name not in fresh
    # the dead one's registration is gone (or marked dead), not left to expire for minutes
    assert name not in {w.name for w in Worker.all(connection=conn)}
    # and the new one takes jobs: a poll enqueued now is run
    job = Queue("gridcc-default", connection=conn).enqueue("builtins.len", "ab")
    status, _ = wait_for("job run", lambda: job.get_status(refresh=True) == "finished", 60)
    assert status


@pytest.fixture(autouse=True)
def _clean_parked(demo: Demo) -> Iterator[None]:
    yield
    conn = redis.Redis.from_url(demo.redis_url)
    Queue(PARKED, connection=conn).delete(delete_jobs=True)
