"""End to end with real ``rq worker`` processes, Redis and the test database: a feed serving a good
record, then poison (a lone surrogate, a year-9999 and a year-2099 record; on PostgreSQL over-long
fields and a NUL), and later another good record. Both good records are stored, every poison record
is quarantined with its reason, the cursor is not in the future and the feed's health names the
problem."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from data.models import Case, Feed, FeedHealth, Quarantine
from workers.ingest.batch import parse_cursor
from workers.queues import enqueue_poll
from workers.runtime import Runtime

from ._feed_helpers import serving
from ._rq_stack import Stack, finished, wait_until
from .test_poison_records import CLOCK_SKEW, _Server
from .test_poll_support import open311_feed, request, write_feeds

pytestmark = pytest.mark.slow

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
def server(rq_runtime: Runtime) -> Iterator[_Server]:
    srv = _Server()
    with serving(srv) as base:
        write_feeds(rq_runtime.settings.effective_feeds_file, [open311_feed(base)])
        yield srv


def poll_once(rt: Runtime, stack: Stack) -> dict[str, Any]:
    job = enqueue_poll(rt.redis, "hotline")
    wait_until(lambda: finished(job), what="the poll job")
    assert job.get_status() == "finished", (stack.logs / "w1.log").read_text()[-3000:]
    result = job.return_value()
    assert isinstance(result, dict)
    return result


def outcome(rt: Runtime) -> tuple[list[str], dict[str, str], Feed, FeedHealth]:
    with rt.session_factory() as session:
        cases = sorted(session.scalars(select(Case.external_id)))
        rows = session.scalars(select(Quarantine).where(Quarantine.feed_name == "hotline"))
        reasons = {row.external_id or "": row.reason for row in rows}
        feed, health = session.get(Feed, "hotline"), session.get(FeedHealth, "hotline")
    assert feed is not None and health is not None
    return cases, reasons, feed, health


def test_poison_costs_only_itself_end_to_end(rq_runtime: Runtime, rq_stack: Stack, server: _Server) -> None:
    server.records = [
        request("GOOD1", T0),
        request("SURROGATE", T0 + timedelta(minutes=1), description="井盖缺失\ud800"),
        request("Y2099", T0) | {"updated_datetime": "2099-01-01T00:00:00+08:00"},
        request("Y9999", T0)
        | {"requested_datetime": "9999-12-31T23:59:59Z", "updated_datetime": "9999-12-31T23:59:59Z"},
    ]
    rq_stack.worker("w1")
    first = poll_once(rq_runtime, rq_stack)
    assert (first["status"], first["new"], first["quarantined"]) == ("ok", 1, 3)
    later = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    server.records.insert(2, request("GOOD2", later))
    second = poll_once(rq_runtime, rq_stack)
    assert (second["status"], second["new"]) == ("ok", 1)

    cases, reasons, feed, health = outcome(rq_runtime)
    assert cases == ["GOOD1", "GOOD2"]
    assert set(reasons) == {"SURROGATE", "Y2099", "Y9999"}
    assert reasons["SURROGATE"].startswith("description holds a lone surrogate (U+D800)")
    assert reasons["Y2099"].startswith(
        "updated_datetime 2099-01-01T00:00:00+08:00 is in the future (poll clock"
    )
    assert reasons["Y9999"].startswith("requested_datetime 9999-12-31T23:59:59+00:00 is in the future")
    cursor = parse_cursor(feed.cursor)
    assert cursor == later and cursor <= datetime.now(UTC) + CLOCK_SKEW
    assert health.newest_record_at == later
    assert health.consecutive_failures == 0 and health.quarantined == 3
    error = health.last_error or ""
    assert error.startswith("3 record(s) quarantined, not storable: ")
    assert all(name in error for name in ("SURROGATE", "Y2099", "Y9999")), error
    server_asked = [q.get("updated_after", [""])[0] for q in server.asked]
    assert all(not when or datetime.fromisoformat(when) < datetime.now(UTC) for when in server_asked)


def test_poison_postgresql_refuses_costs_only_itself_end_to_end(
    rq_runtime: Runtime, rq_stack: Stack, server: _Server, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the lengths and the NUL PostgreSQL refuses (GRIDCC_TEST_DATABASE_URL)")
    server.records = [
        request("GOOD1", T0),
        request("X" * 121, T0 + timedelta(minutes=1)),
        request("LONGNAME", T0 + timedelta(minutes=2), service_name="类" * 101),
        request("LONGSTATUS", T0 + timedelta(minutes=3), status="s" * 61),
        request("NUL", T0 + timedelta(minutes=4), description="路灯\x00不亮"),
    ]
    rq_stack.worker("w1")
    assert poll_once(rq_runtime, rq_stack)["quarantined"] == 4
    later = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    server.records.append(request("GOOD2", later))
    assert poll_once(rq_runtime, rq_stack)["new"] == 1

    cases, reasons, feed, health = outcome(rq_runtime)
    assert cases == ["GOOD1", "GOOD2"]
    assert reasons == {
        "X" * 121: "service_request_id is 121 characters long: case.external_id holds at most 120",
        "LONGNAME": "service_name is 101 characters long: case.category_name holds at most 100",
        "LONGSTATUS": "status is 61 characters long: case.source_status holds at most 60",
        "NUL": "description holds a NUL character at character 3: text the database cannot store",
    }
    assert parse_cursor(feed.cursor) == later
    assert health.consecutive_failures == 0 and health.quarantined == 4
    assert (health.last_error or "").startswith("4 record(s) quarantined, not storable: ")
    with rq_runtime.session_factory() as session:
        raw = session.scalars(select(Quarantine.raw).where(Quarantine.external_id == "NUL")).one()
    assert json.loads(raw)["description"] == "路灯\x00不亮"  # kept as sent (the JSON escape of the NUL)
