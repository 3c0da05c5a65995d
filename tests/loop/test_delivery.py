"""Delivery of the outbox (workers.outbox) to a department desk on 127.0.0.1, in process: signed and
keyed, retried with backoff while the endpoint is down, 未送达 after the last retry, sent again by an
admin; a claimed row is not claimed twice until its lease runs out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from data.auth import audit_rows
from data.db import transaction
from data.loop import actions, outbox
from data.loop.endpoints import load_endpoints
from data.models import CaseEvent, OutboxMessage, Recipient
from workers.outbox.deliver import run_delivery

from ._loop_helpers import ENV, desks, write_endpoints
from .conftest import World


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def _dispatch(world: World, department: str = "police", now: datetime | None = None) -> str:
    with transaction(world.factory) as session:
        sent = actions.dispatch(
            session, world.settings, world.user(session, "duty1"), world.mine, department, "请核查处置",
            now or datetime.now(UTC),
        )  # fmt: skip
        return sent.messages[0].message_id


def _row(world: World, message_id: str) -> OutboxMessage:
    with world.factory() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.message_id == message_id)).one()


def _events(world: World) -> list[str]:
    with world.factory() as session:
        return list(
            session.scalars(
                select(CaseEvent.kind).where(CaseEvent.case_id == world.mine).order_by(CaseEvent.id)
            )
        )


def test_delivered_signed_with_its_idempotency_key(world: World) -> None:
    feeds = world.settings.effective_feeds_file
    with desks() as (found, urls):
        write_endpoints(feeds, urls)
        message_id = _dispatch(world)
        counts = run_delivery(world.factory, world.settings, load_endpoints(feeds))
        desk = found["police"]
        assert counts.delivered == 1 and desk.counts.as_dict()["keys"] == {message_id: 1}
        assert desk.counts.bad_signatures == 0
        assert json.loads(_row(world, message_id).body) == desk.messages[message_id]
    row = _row(world, message_id)
    assert (row.state, row.attempts, row.last_error) == ("delivered", 1, "")
    with world.factory() as session:
        recipient = session.scalars(select(Recipient)).one()
        assert recipient.state == "delivered" and recipient.delivered_at == row.delivered_at
    assert _events(world) == ["instruction", "delivered"]


def test_retried_with_backoff_then_undelivered_then_resent(world: World) -> None:
    feeds = world.settings.effective_feeds_file
    settings = world.settings.model_copy(update={"loop_retry_max": 3, "loop_retry_base_seconds": 0.01})
    with desks() as (found, urls):
        write_endpoints(feeds, urls, timeout=2)
        endpoints = load_endpoints(feeds)
        found["police"].set_fault("error500")
        message_id = _dispatch(world)
        first = run_delivery(
            world.factory, world.settings.model_copy(update={"loop_retry_max": 3}), endpoints
        )
        assert (first.retrying, first.undelivered) == (1, 0)
        row = _row(world, message_id)
        assert row.attempts == 1 and "HTTP 500" in row.last_error and row.state == "pending"
        assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=3)  # base 5 s: not due yet
        assert run_delivery(world.factory, world.settings, endpoints).retrying == 0  # nothing due
        found["police"].set_fault("refuse")
        with transaction(world.factory) as session:  # make it due now
            session.scalars(select(OutboxMessage)).one().next_attempt_at = datetime.now(UTC)
        while _row(world, message_id).state == "pending":
            run_delivery(world.factory, settings, endpoints)
        row = _row(world, message_id)
        assert (row.state, row.attempts) == ("undelivered", 3)
        assert "Server disconnected" in row.last_error or "RemoteProtocolError" in row.last_error
        with world.factory() as session:
            assert session.scalars(select(Recipient.state)).one() == "undelivered"
            detail = session.scalars(select(CaseEvent.detail).where(CaseEvent.kind == "undelivered")).one()
            assert detail.startswith("police:") and "3 attempt(s)" in detail
        found["police"].set_fault("none")
        with transaction(world.factory) as session:
            outbox.resend(session, message_id, "admin1", datetime.now(UTC), "cli")
        assert run_delivery(world.factory, settings, endpoints).delivered == 1
        assert found["police"].counts.as_dict()["keys"] == {message_id: 1}
    assert _row(world, message_id).state == "delivered"
    assert _events(world) == ["instruction", "undelivered", "resend", "delivered"]
    with world.factory() as session:
        assert [r.target for r in audit_rows(session, action="loop_resend")] == [f"message:{message_id}"]


def test_a_refusal_for_good_and_a_missing_endpoint_are_undelivered_at_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds = world.settings.effective_feeds_file
    with desks() as (found, urls):
        write_endpoints(feeds, urls)
        monkeypatch.setenv("GRIDCC_TEST_LOOP_SECRET_POLICE", "not-the-desks-secret")
        wrong = _dispatch(world, "police")
        nowhere = _dispatch(world, "ecology")
        counts = run_delivery(world.factory, world.settings, load_endpoints(feeds))
        assert counts.undelivered == 2 and found["police"].counts.bad_signatures == 1
    assert "HTTP 401" in _row(world, wrong).last_error and _row(world, wrong).attempts == 1
    assert "no [[endpoint]] for department ecology" in _row(world, nowhere).last_error


def test_a_claimed_row_is_not_claimed_again_until_its_lease_runs_out(world: World) -> None:
    now = datetime.now(UTC)
    message_id = _dispatch(world, now=now)
    with world.factory() as session:
        [mine] = outbox.claim_due(session, now, lease_seconds=30)
        assert mine.message_id == message_id and mine.attempts == 1
        assert outbox.claim_due(session, now + timedelta(seconds=29), lease_seconds=30) == []
        [again] = outbox.claim_due(session, now + timedelta(seconds=31), lease_seconds=30)
        assert again.message_id == message_id and again.attempts == 2


def test_a_failing_department_costs_one_attempt_per_run(world: World) -> None:
    feeds = world.settings.effective_feeds_file
    with desks() as (found, urls):
        write_endpoints(feeds, urls, timeout=2)
        found["police"].set_fault("error500")
        police = [_dispatch(world, "police") for _ in range(3)]
        cm = _dispatch(world, "city_management")
        counts = run_delivery(world.factory, world.settings, load_endpoints(feeds))
        assert (counts.delivered, counts.retrying) == (1, 1)
        assert found["city_management"].counts.as_dict()["keys"] == {cm: 1}
    rows = [_row(world, m) for m in police]
    assert sorted(r.attempts for r in rows) == [0, 0, 1]  # the two given back were not attempted
    assert all(r.state == "pending" and r.leased_until is None for r in rows)
    assert len({r.next_attempt_at for r in rows}) == 1  # all due again with the failed one
