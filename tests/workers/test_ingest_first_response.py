"""The ingest keeps ``case.first_response_at`` in the poll's own transaction (issue 14): a real poll of
a local Open311 feed into the real test database and Redis, with status changes between polls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from data.first_response import from_timeline
from data.models import Case, CaseEvent
from workers.jobs.poll import run_poll
from workers.runtime import Runtime, set_runtime

from .test_poll_support import feed_server, make_hierarchy, make_runtime, open311_feed, request, write_feeds

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
M = timedelta(minutes=1)


@pytest.fixture
def server() -> Iterator[tuple[str, object]]:
    with feed_server() as srv:
        yield srv


@pytest.fixture
def runtime(
    database_url: str, engine: object, redis_url: str, tmp_path: Path, server: tuple[str, object]
) -> Iterator[Runtime]:
    base, _state = server
    feeds = write_feeds(tmp_path / "feeds.toml", [open311_feed(base)])
    rt = make_runtime(database_url, redis_url, feeds, tmp_path / "var")
    with rt.session_factory() as session, session.begin():
        make_hierarchy(session)
    set_runtime(rt)
    yield rt
    set_runtime(None)
    rt.close()


def stored(factory: sessionmaker[Session]) -> dict[str, datetime | None]:
    """external id → the stored first response; and it is what the timeline says, for every case."""
    with factory() as session:
        rows = session.execute(select(Case.external_id, Case.first_response_at, from_timeline())).all()
    assert [(r[0], r[1]) for r in rows] == [(r[0], r[2]) for r in rows]
    return {r[0]: r[1] for r in rows}


def poll(runtime: Runtime, state: object, *records: dict[str, object]) -> None:
    state.put(*records)  # type: ignore[attr-defined]
    result = run_poll(runtime, "hotline")
    assert result["status"] == "ok", result


def test_each_poll_stores_the_earliest_move_to_assigned_or_in_progress(runtime: Runtime, server) -> None:
    _base, state = server
    factory = runtime.session_factory
    poll(
        runtime,
        state,
        request("A1", T0),  # accepted: not answered yet
        request("B1", T0 + 5 * M, status="in_progress"),  # arrives answered: its created event counts
        request("C1", T0, status="closed", satisfaction="satisfied"),  # done without a response step
        request("D1", T0),
    )
    assert stored(factory) == {"A1": None, "B1": T0 + 5 * M, "C1": None, "D1": None}

    # A1 is taken up (accepted → assigned → in_progress, both steps at the record's time); D1 jumps to
    # resolved through the implied steps; C1 says in_progress, which a closed case cannot be.
    poll(
        runtime,
        state,
        request("A1", T0 + 60 * M, status="in_progress"),
        request("D1", T0 + 90 * M, status="resolved"),
        request("C1", T0 + 60 * M, status="in_progress", satisfaction="satisfied"),
    )
    first = stored(factory)
    assert (first["A1"], first["D1"], first["C1"]) == (T0 + 60 * M, T0 + 90 * M, None)
    with factory() as session:
        refused = session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .join(Case)
            .where(Case.external_id == "C1", CaseEvent.kind == "illegal_transition")
        )
    assert refused == 1  # logged with to_status in_progress, yet not a response

    # A1 is resolved, returned and taken up again: the first response stays the first.
    poll(runtime, state, request("A1", T0 + 120 * M, status="resolved"))
    poll(runtime, state, request("A1", T0 + 180 * M, status="in_progress"))
    again = stored(factory)
    assert again["A1"] == T0 + 60 * M
    with factory() as session:
        a1 = session.scalars(select(Case).where(Case.external_id == "A1")).one()
        assert a1.status == "in_progress" and a1.resolved_at is None
        steps = session.scalars(
            select(CaseEvent.at).where(CaseEvent.case_id == a1.id, CaseEvent.to_status == "in_progress")
        ).all()
    assert sorted(steps) == [T0 + 60 * M, T0 + 180 * M]
