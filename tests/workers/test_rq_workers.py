"""Real ``rq worker`` (and ``rq cron``) processes against the real Redis and the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from data.models import Case, Feed, FeedHealth, Quarantine
from workers.queues import FEEDS_QUEUE, QUEUES, WORKER_CLASS, enqueue_poll
from workers.runtime import Runtime

from .test_poll_support import (
    GRID_B,
    POINT_B,
    feed_server,
    make_hierarchy,
    make_runtime,
    open311_feed,
    request,
    worker_env,
    write_feeds,
)

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

pytestmark = pytest.mark.slow


def wait_until(predicate: Callable[[], object], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


class Stack:
    """The test's processes and servers, all stopped at the end."""

    def __init__(self, env: dict[str, str], redis_url: str, logs: Path) -> None:
        self.env, self.redis_url, self.logs = env, redis_url, logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *argv: str, name: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        argv = [str(BIN / "rq"), "worker", "--url", self.redis_url, "-w", WORKER_CLASS, "--with-scheduler"]
        return self.start(*argv, "--name", f"{name}-{os.getpid()}-{time.monotonic_ns()}", *QUEUES, name=name)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def runtime(database_url: str, engine: object, redis_url: str, tmp_path: Path) -> Iterator[Runtime]:
    rt = make_runtime(database_url, redis_url, tmp_path / "feeds.toml", tmp_path / "var")
    with rt.session_factory() as session, session.begin():
        make_hierarchy(session)
    for queue in QUEUES:
        Queue(queue, connection=rt.redis).empty()
    yield rt
    rt.close()


@pytest.fixture
def stack(runtime: Runtime, tmp_path: Path) -> Iterator[Stack]:
    s = runtime.settings
    env = worker_env(s.effective_database_url, s.redis_url, s.effective_feeds_file, s.data_dir)
    st = Stack(env, s.redis_url, tmp_path)
    yield st
    st.stop()
    for queue in QUEUES:
        Queue(queue, connection=runtime.redis).empty()


def finished(job: Job) -> bool:
    return job.get_status(refresh=True) in ("finished", "failed")


def count_cases(rt: Runtime) -> int:
    with rt.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def test_poll_through_a_real_worker(runtime: Runtime, stack: Stack) -> None:
    with feed_server() as (base, state):
        write_feeds(runtime.settings.effective_feeds_file, [open311_feed(base)])
        state.put(request("W1", T0, point=POINT_B), request("W2", T0 + timedelta(seconds=1)))
        stack.worker("w1")
        job = enqueue_poll(runtime.redis, "hotline")
        wait_until(lambda: finished(job), what="the poll job")
        assert job.get_status() == "finished", (stack.logs / "w1.log").read_text()
        assert job.return_value()["new"] == 2  # type: ignore[index]
    with runtime.session_factory() as session:
        case = session.scalars(select(Case).where(Case.external_id == "W1")).one()
        assert case.grid_code == GRID_B


def test_sigkill_mid_poll_leaves_no_partial_batch(runtime: Runtime, stack: Stack) -> None:
    with feed_server() as (base, state):
        write_feeds(runtime.settings.effective_feeds_file, [open311_feed(base, page_size=5, timeout=2)])
        state.put(*(request(f"K{i:02d}", T0 + timedelta(seconds=i)) for i in range(12)))
        state.mode, state.stall_page = "stall", 2
        victim = stack.worker("victim")
        enqueue_poll(runtime.redis, "hotline")
        assert state.stalled.wait(60), "the poll never reached the stalled page"
        victim.send_signal(signal.SIGKILL)  # page 1 was fetched and parsed; nothing was committed
        victim.wait(10)
        assert count_cases(runtime) == 0
        with runtime.session_factory() as session:
            feed = session.get(Feed, "hotline")
            health = session.get(FeedHealth, "hotline")
            assert feed is not None and feed.cursor is None
            assert health is not None and (health.received, health.new) == (0, 0)

        state.mode = "ok"
        state.release.set()
        stack.worker("survivor")
        # The dead poll's lock expires on its own (no heartbeat); polls until then return "locked".
        results: list[dict[str, object]] = []

        def one_poll_done() -> bool:
            job = enqueue_poll(runtime.redis, "hotline")
            wait_until(lambda: finished(job), what="a poll")
            results.append(job.return_value() or {})
            return results[-1].get("status") == "ok"

        wait_until(one_poll_done, timeout=90, what="a poll after the lock expired")
        assert results[-1]["new"] == 12 and results[-1]["received"] == 12
    assert count_cases(runtime) == 12
    with runtime.session_factory() as session:
        health = session.get(FeedHealth, "hotline")
        assert health is not None and (health.received, health.new, health.updated) == (12, 12, 0)
        ids = list(session.scalars(select(Case.external_id)))
        assert sorted(ids) == [f"K{i:02d}" for i in range(12)]


def test_failing_feeds_do_not_hold_up_the_others_under_rq_cron(runtime: Runtime, stack: Stack) -> None:
    with ExitStack() as servers:
        good_base, good = servers.enter_context(feed_server())
        e500_base, e500 = servers.enter_context(feed_server())
        junk_base, junk = servers.enter_context(feed_server())
        e500.mode, junk.mode = "error500", "garbage"
        write_feeds(
            runtime.settings.effective_feeds_file,
            [
                open311_feed(good_base, "good"),
                open311_feed(e500_base, "broken"),
                open311_feed(junk_base, "junk"),
            ],
        )
        stack.worker("w1")
        stack.worker("w2")
        stack.start(str(BIN / "rq"), "cron", "--url", stack.redis_url, "workers.cron_config", name="cron")
        for i in range(5):
            good.put(request(f"G{i}", datetime.now(UTC)))
            wanted = i + 1
            wait_until(lambda n=wanted: count_cases(runtime) == n, timeout=30, what=f"case G{i} on the wall")
        wait_until(
            lambda: e500.hits.get("/requests.json", 0) >= 3, timeout=30, what="polls of the broken feed"
        )
        wait_until(lambda: junk.hits.get("/requests.json", 0) >= 3, timeout=30, what="polls of the junk feed")
        registry = ScheduledJobRegistry(FEEDS_QUEUE, connection=runtime.redis)
        retried = [Job.fetch(i, connection=runtime.redis) for i in registry.get_job_ids()]
        assert any(j.args == ("broken",) and j.retries_left is not None for j in retried)
        stack.stop()  # before the servers go: later polls would only see connections refused

    with runtime.session_factory() as session:
        health = {h.feed_name: h for h in session.scalars(select(FeedHealth))}
        assert health["good"].consecutive_failures == 0 and health["good"].new == 5
        assert health["broken"].consecutive_failures >= 2 and "HTTP 500" in (
            health["broken"].last_error or ""
        )
        assert health["broken"].last_success_at is None
        assert health["junk"].consecutive_failures >= 2 and "document rejected" in (
            health["junk"].last_error or ""
        )
        # the same garbage on every poll: quarantined once, however often it came
        assert session.scalar(select(func.count()).where(Quarantine.feed_name == "junk")) == 1
