"""Real ``rq worker`` (and ``rq cron``) processes against the real Redis and the test database."""

from __future__ import annotations

import signal
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from data.models import Case, Feed, FeedHealth, Quarantine
from workers.jobs.poll import HEARTBEAT_S, LOCK_PREFIX, LOCK_TTL
from workers.queues import FEEDS_QUEUE, enqueue_poll
from workers.runtime import Runtime

from ._rq_stack import BIN, Stack, finished, wait_until
from .test_poll_support import (
    GRID_B,
    POINT_B,
    feed_server,
    open311_feed,
    request,
    write_feeds,
)

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

pytestmark = pytest.mark.slow


def count_cases(rt: Runtime) -> int:
    with rt.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def test_poll_through_a_real_worker(rq_runtime: Runtime, rq_stack: Stack) -> None:
    with feed_server() as (base, state):
        write_feeds(rq_runtime.settings.effective_feeds_file, [open311_feed(base)])
        state.put(request("W1", T0, point=POINT_B), request("W2", T0 + timedelta(seconds=1)))
        rq_stack.worker("w1")
        job = enqueue_poll(rq_runtime.redis, "hotline")
        wait_until(lambda: finished(job), what="the poll job")
        assert job.get_status() == "finished", (rq_stack.logs / "w1.log").read_text()
        assert job.return_value()["new"] == 2  # type: ignore[index]
    with rq_runtime.session_factory() as session:
        case = session.scalars(select(Case).where(Case.external_id == "W1")).one()
        assert case.grid_code == GRID_B


def test_sigkill_mid_poll_leaves_no_partial_batch(rq_runtime: Runtime, rq_stack: Stack) -> None:
    with feed_server() as (base, state):
        write_feeds(rq_runtime.settings.effective_feeds_file, [open311_feed(base, page_size=5, timeout=2)])
        state.put(*(request(f"K{i:02d}", T0 + timedelta(seconds=i)) for i in range(12)))
        state.mode, state.stall_page = "stall", 2
        victim = rq_stack.worker("victim")
        enqueue_poll(rq_runtime.redis, "hotline")
        assert state.stalled.wait(60), "the poll never reached the stalled page"
        victim.send_signal(signal.SIGKILL)  # page 1 was fetched and parsed; nothing was committed
        victim.wait(10)
        assert count_cases(rq_runtime) == 0
        with rq_runtime.session_factory() as session:
            feed = session.get(Feed, "hotline")
            health = session.get(FeedHealth, "hotline")
            assert feed is not None and feed.cursor is None
            assert health is not None and (health.received, health.new) == (0, 0)

        state.mode = "ok"
        state.release.set()
        rq_stack.worker("survivor")
        # The dead poll's lock expires on its own (no heartbeat any more); polls until then return "locked".
        results: list[dict[str, object]] = []

        def one_poll_done() -> bool:
            job = enqueue_poll(rq_runtime.redis, "hotline")
            wait_until(lambda: finished(job), what="a poll")
            results.append(job.return_value() or {})
            return results[-1].get("status") == "ok"

        wait_until(one_poll_done, timeout=90, what="a poll after the lock expired")
        assert results[-1]["new"] == 12 and results[-1]["received"] == 12
    assert count_cases(rq_runtime) == 12
    with rq_runtime.session_factory() as session:
        health = session.get(FeedHealth, "hotline")
        assert health is not None and (health.received, health.new, health.updated) == (12, 12, 0)
        ids = list(session.scalars(select(Case.external_id)))
        assert sorted(ids) == [f"K{i:02d}" for i in range(12)]


def test_a_long_poll_keeps_its_lock_and_a_killed_one_frees_it_soon(
    rq_runtime: Runtime, rq_stack: Stack
) -> None:
    """The poll's lock lives LOCK_TTL seconds past its last heartbeat: a poll waiting on a slow page longer
    than that still holds it (no second poll of the same feed starts), and the lock of a poll whose worker
    was SIGKILLed goes within LOCK_TTL (it used to live 3 × the feed's timeout + 10 s: 40 s by default, 100 s
    here), so the feed is polled again soon."""
    key = LOCK_PREFIX + "hotline"
    with feed_server() as (base, state):
        write_feeds(rq_runtime.settings.effective_feeds_file, [open311_feed(base, page_size=5, timeout=30)])
        state.put(*(request(f"L{i:02d}", T0 + timedelta(seconds=i)) for i in range(12)))
        state.mode, state.stall_page = "stall", 2
        victim = rq_stack.worker("victim")
        enqueue_poll(rq_runtime.redis, "hotline")
        assert state.stalled.wait(60), "the poll never reached the stalled page"
        # longer than the lock's time to live, shorter than the feed's timeout: alive only by its heartbeat
        deadline = datetime.now(UTC) + timedelta(seconds=LOCK_TTL + 2 * HEARTBEAT_S)
        while datetime.now(UTC) < deadline:
            ttl = rq_runtime.redis.pttl(key)
            assert 0 < ttl <= LOCK_TTL * 1000, ttl
            time.sleep(1.0)
        second = rq_stack.worker("second")
        job = enqueue_poll(rq_runtime.redis, "hotline")
        wait_until(lambda: finished(job), what="a second poll while the first holds the lock")
        assert (job.return_value() or {}).get("status") == "locked"
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        wait_until(
            lambda: not rq_runtime.redis.exists(key), timeout=LOCK_TTL + 10, what="the dead poll's lock to go"
        )
        state.mode = "ok"
        state.release.set()
        job = enqueue_poll(rq_runtime.redis, "hotline")
        wait_until(lambda: finished(job), what="the poll after the lock went")
        assert (job.return_value() or {}).get("status") == "ok", (rq_stack.logs / "second.log").read_text()
        assert second.poll() is None
    assert count_cases(rq_runtime) == 12


def test_failing_feeds_do_not_hold_up_the_others_under_rq_cron(rq_runtime: Runtime, rq_stack: Stack) -> None:
    with ExitStack() as servers:
        good_base, good = servers.enter_context(feed_server())
        e500_base, e500 = servers.enter_context(feed_server())
        junk_base, junk = servers.enter_context(feed_server())
        e500.mode, junk.mode = "error500", "garbage"
        write_feeds(
            rq_runtime.settings.effective_feeds_file,
            [
                open311_feed(good_base, "good"),
                open311_feed(e500_base, "broken"),
                open311_feed(junk_base, "junk"),
            ],
        )
        rq_stack.worker("w1")
        rq_stack.worker("w2")
        rq_stack.start(
            str(BIN / "rq"), "cron", "--url", rq_stack.redis_url, "workers.cron_config", name="cron"
        )
        for i in range(5):
            good.put(request(f"G{i}", datetime.now(UTC)))
            wanted = i + 1
            wait_until(
                lambda n=wanted: count_cases(rq_runtime) == n, timeout=30, what=f"case G{i} on the wall"
            )
        wait_until(
            lambda: e500.hits.get("/requests.json", 0) >= 3, timeout=30, what="polls of the broken feed"
        )
        wait_until(lambda: junk.hits.get("/requests.json", 0) >= 3, timeout=30, what="polls of the junk feed")
        registry = ScheduledJobRegistry(FEEDS_QUEUE, connection=rq_runtime.redis)
        retried = [Job.fetch(i, connection=rq_runtime.redis) for i in registry.get_job_ids()]
        assert any(j.args == ("broken",) and j.retries_left is not None for j in retried)
        rq_stack.stop()  # before the servers go: later polls would only see connections refused

    with rq_runtime.session_factory() as session:
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
