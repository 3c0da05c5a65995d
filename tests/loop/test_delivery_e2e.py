"""Delivery end to end with real ``rq worker`` processes, Redis and the test database, to department
desks (the simulators' ``simulators.desk``) on 127.0.0.1: an endpoint down and back, and a worker
SIGKILLed in the middle of a delivery — every message reaches its department, and the department acts
on each idempotency key once (0 lost, 0 doubled)."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from data.db import transaction
from data.loop import actions
from data.models import OutboxMessage, Recipient
from tests.workers._rq_stack import finished, wait_until
from workers.queues import enqueue_delivery

from ._loop_helpers import desks, write_endpoints
from .conftest import RqWorld

pytestmark = pytest.mark.slow
DOWN_S = float(os.environ.get("GRIDCC_TEST_ENDPOINT_DOWN_S", "0"))  # the endpoints' outage, at least


def _send_many(rw: RqWorld, n: int) -> dict[str, list[str]]:
    """``n`` dispatches to each desk's department; the message ids by department."""
    world = rw.world
    out: dict[str, list[str]] = {}
    with transaction(world.factory) as session:
        duty = world.user(session, "duty1")
        for i in range(n):
            for code in ("police", "city_management"):
                sent = actions.dispatch(
                    session, world.settings, duty, world.mine, code, f"第{i}号指令", datetime.now(UTC)
                )
                out.setdefault(code, []).append(sent.messages[0].message_id)
    return out


def _states(rw: RqWorld) -> Counter[str]:
    with rw.runtime.session_factory() as session:
        return Counter(session.scalars(select(OutboxMessage.state)))


def _failed_departments(rw: RqWorld) -> set[str]:
    """The departments with a message that has failed an attempt and waits for its retry."""
    with rw.runtime.session_factory() as session:
        return set(
            session.scalars(
                select(OutboxMessage.department_code).where(
                    OutboxMessage.attempts >= 1,
                    OutboxMessage.state == "pending",
                    OutboxMessage.last_error != "",
                )
            )
        )


def _deliver_until(rw: RqWorld, predicate: Callable[[], bool], what: str, timeout: float = 90) -> None:
    def step() -> bool:
        if predicate():
            return True
        job = enqueue_delivery(rw.runtime.redis)
        wait_until(lambda: finished(job), timeout=60, what="a delivery job")
        return predicate()

    wait_until(step, timeout=timeout, what=what)


def _deliver_until_done(rw: RqWorld, total: int, timeout: float = 90) -> None:
    _deliver_until(rw, lambda: _states(rw)["delivered"] == total, "every message delivered", timeout)


def test_endpoint_down_then_back_every_message_received_once_per_key(rq_world: RqWorld) -> None:
    rw = rq_world
    with desks() as (found, urls):
        write_endpoints(rw.runtime.settings.effective_feeds_file, urls, timeout=2)
        # down until the deliveries have met it (a window of fixed seconds can pass before a loaded
        # machine's worker starts), then back
        found["police"].set_fault("refuse")
        found["city_management"].set_fault("error500")
        sent = _send_many(rw, 5)
        down_at = time.monotonic()
        rw.stack.worker("w1")
        _deliver_until(rw, lambda: _failed_departments(rw) == set(found), "a failed attempt at each desk")
        # by hand, the "down for two minutes": GRIDCC_TEST_ENDPOINT_DOWN_S=120 (the workers keep
        # trying meanwhile; the messages' backoff outlasts it)
        while time.monotonic() - down_at < DOWN_S:
            job = enqueue_delivery(rw.runtime.redis)
            wait_until(lambda: finished(job), timeout=60, what="a delivery job")
            time.sleep(5)
        for desk in found.values():
            desk.set_fault("none")
        _deliver_until_done(rw, 10, timeout=90 + 2 * DOWN_S)
        for code, desk in found.items():
            counts = desk.counts.as_dict()
            assert set(counts["keys"]) == set(sent[code])  # 0 lost
            assert set(desk.messages) == set(sent[code]) and len(desk.messages) == 5  # acted on once each
    with rw.runtime.session_factory() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        assert max(r.attempts for r in rows) >= 2  # the faults were met and retried
        assert set(session.scalars(select(Recipient.state))) == {"delivered"}


def test_worker_killed_mid_delivery_message_resent_and_deduplicated(rq_world: RqWorld) -> None:
    rw = rq_world
    with desks() as (found, urls):
        write_endpoints(rw.runtime.settings.effective_feeds_file, urls, timeout=3)
        police = found["police"]
        police.gate.clear()  # hold the first instruction the police desk receives
        sent = _send_many(rw, 2)
        w1 = rw.stack.worker("w1")
        enqueue_delivery(rw.runtime.redis)
        assert police.waiting.wait(60), "the delivery never reached the desk"
        os.kill(w1.pid, signal.SIGKILL)
        w1.wait(10)
        held = next(iter(police.messages))
        police.gate.set()
        rw.stack.worker("w2")
        _deliver_until_done(rw, 4)
        counts = police.counts.as_dict()
        assert set(counts["keys"]) == set(sent["police"])  # 0 lost
        assert counts["keys"][held] == 2 and counts["duplicates"] == 1  # sent twice, acted on once
        assert len(police.messages) == 2 and set(found["city_management"].messages) == set(
            sent["city_management"]
        )
    with rw.runtime.session_factory() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.message_id == held)).one()
        assert (row.state, row.attempts) == ("delivered", 2)
