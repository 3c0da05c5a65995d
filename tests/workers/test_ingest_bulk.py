"""The set-based ingest path: a batch larger than every chunk and insert page, new and stored cases in
one batch, and the id read-back for a database without ``INSERT … RETURNING`` in executemany."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DataError, IntegrityError

from data.geo.rows import place_columns
from data.models import Case, CaseEvent, FeedHealth
from data.models.base import UTCDateTime, sqlite_time
from workers.ingest.case_rows import event_row, insert_cases, insert_events
from workers.jobs.poll import run_poll
from workers.runtime import Runtime

from .test_poll_support import (
    GRID_A,
    GRID_B,
    POINT_A,
    POINT_B,
    FeedState,
    feed_server,
    make_hierarchy,
    make_runtime,
    open311_feed,
    request,
    write_feeds,
)

N = 1205  # more than the ingest's SELECT chunk (500) and SQLAlchemy's insertmanyvalues page (1000)
NOW = datetime.now(UTC).replace(microsecond=0)
STATUSES = ("reported", "accepted", "assigned", "in_progress", "resolved", "closed")


@pytest.fixture
def feed(
    database_url: str, engine: object, redis_url: str, tmp_path: Path
) -> Iterator[tuple[Runtime, FeedState]]:
    with feed_server() as (base, state):
        feeds = write_feeds(tmp_path / "feeds.toml", [open311_feed(base, page_size=1000)])
        rt = make_runtime(database_url, redis_url, feeds, tmp_path / "var")
        with rt.session_factory() as session, session.begin():
            make_hierarchy(session)
        yield rt, state
        rt.close()


def batch(n: int) -> list[dict[str, object]]:
    """``n`` requests: statuses in turn, grid A or B in turn, one in seven accepted 100 h ago (overdue)."""
    out = []
    for i in range(n):
        updated = NOW - timedelta(minutes=30) + timedelta(seconds=i)
        requested = NOW - timedelta(hours=100) if i % 7 == 0 else updated
        out.append(
            request(
                f"B{i:05d}",
                updated,
                status=STATUSES[i % len(STATUSES)],
                point=POINT_A if i % 2 == 0 else POINT_B,
                requested=requested,
            )
        )
    return out


def check_batch(rt: Runtime, n: int) -> None:
    """Every case has its own row, place and timeline (created first, with the case's own status)."""
    with rt.session_factory() as session:
        cases = {c.external_id: c for c in session.scalars(select(Case))}
        timeline: dict[int, list[CaseEvent]] = defaultdict(list)
        for event in session.scalars(select(CaseEvent).order_by(CaseEvent.id)):
            timeline[event.case_id].append(event)
    assert len(cases) == n
    for i in range(n):
        case = cases[f"B{i:05d}"]
        events = timeline[case.id]
        assert case.status == STATUSES[i % len(STATUSES)]
        assert case.grid_code == (GRID_A if i % 2 == 0 else GRID_B) and case.placement == "point"
        first = events[0]
        assert (first.kind, first.to_status, first.feed_name) == ("created", case.status, "hotline")
        late = i % 7 == 0 and case.is_open
        kinds = [e.kind for e in events]
        if late:  # city.clutter, normal: 72 h; accepted 100 h ago → overdue, yellow, to the district
            assert kinds == ["created", "overdue", "supervision", "escalation", "escalation"]
            assert (case.overdue, case.supervision, case.escalation_level) == (True, "yellow", "district")
        else:
            assert kinds == ["created"]
            assert (case.overdue, case.supervision, case.escalation_level) == (False, "none", "community")


def test_a_large_batch_goes_in_whole(feed: tuple[Runtime, FeedState]) -> None:
    rt, state = feed
    state.put(*batch(N))
    result = run_poll(rt, "hotline")
    assert (result["received"], result["new"], result["updated"], result["ignored"]) == (N, N, 0, 0)
    check_batch(rt, N)


def test_without_returning_the_ids_are_read_back(
    feed: tuple[Runtime, FeedState], monkeypatch: pytest.MonkeyPatch
) -> None:
    rt, state = feed
    monkeypatch.setattr(rt.engine.dialect, "insert_executemany_returning", False)
    state.put(*batch(N))
    assert run_poll(rt, "hotline")["new"] == N
    check_batch(rt, N)


def test_new_and_stored_cases_in_one_batch(feed: tuple[Runtime, FeedState]) -> None:
    rt, state = feed
    state.put(*batch(10))
    run_poll(rt, "hotline")
    # B00001 (accepted) moves to in_progress; B00003 (in_progress) comes again unchanged but newer;
    # and five new cases.
    later = NOW - timedelta(minutes=1)
    state.records.clear()
    state.put(
        request("B00001", later, status="in_progress", point=POINT_B),
        request("B00003", later, status="in_progress", point=POINT_B),
        *(request(f"N{i}", later, point=POINT_B) for i in range(5)),
    )
    result = run_poll(rt, "hotline")
    assert (result["received"], result["new"], result["updated"], result["ignored"]) == (7, 5, 1, 1)
    with rt.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 15
        moved = session.scalars(select(Case).where(Case.external_id == "B00001")).one()
        steps = session.execute(
            select(CaseEvent.kind, CaseEvent.from_status, CaseEvent.to_status)
            .where(CaseEvent.case_id == moved.id)
            .order_by(CaseEvent.id)
        ).all()
        assert [tuple(s) for s in steps] == [
            ("created", None, "accepted"),
            ("status", "accepted", "assigned"),
            ("status", "assigned", "in_progress"),
        ]
        new = session.scalars(select(Case).where(Case.external_id.like("N%"))).all()
        assert sorted(c.grid_code or "" for c in new) == [GRID_B] * 5
        health = session.get(FeedHealth, "hotline")
        assert health is not None and (health.new, health.updated) == (15, 1)


def test_place_columns_match_the_model() -> None:
    for code in ("", "500151", "500151001", "500151001001", "500151001001002", None):
        case = Case()
        case.set_place(code)
        columns = ("district_code", "street_code", "community_code", "grid_code")
        expected = {k: getattr(case, k) for k in columns}
        assert place_columns(code) == expected


def test_sqlite_time_is_what_sqlalchemy_binds() -> None:
    dialect = sqlite.dialect()
    bind = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert bind is not None
    cst = timezone(timedelta(hours=8))
    for when in (
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2026, 12, 6, 0, 30, tzinfo=cst),  # the day before in UTC
        datetime(2026, 3, 1, 7, 59, 59, 999999, tzinfo=cst),
        datetime(9999, 12, 31, 23, 59, 59, 123, tzinfo=UTC),
        NOW,
    ):
        assert sqlite_time(when) == bind(when)
    with pytest.raises(ValueError, match="naive"):
        sqlite_time(datetime(2026, 1, 1))  # noqa: DTZ001 -- the naive value refused


def test_the_bulk_inserts_refuse_a_value_too_long_and_cut_none(engine: Engine) -> None:
    """A value longer than its column is refused (the record is then quarantined by the bisection),
    never cut to fit: PostgreSQL's unnest arrays carry no lengths. SQLite keeps any length (the
    records are screened for lengths before the ingest: workers.feeds.storable)."""
    long_feed = "f" * 61  # case_event.feed_name holds 60
    with engine.connect() as conn, conn.begin():
        ids = insert_cases(conn, "hotline", [case_row("L1")])
        event = event_row(ids["L1"], "created", NOW, feed_name=long_feed)
        if engine.dialect.name == "sqlite":
            insert_events(conn, [event])
            stored = conn.scalar(select(CaseEvent.feed_name).where(CaseEvent.case_id == ids["L1"]))
            assert stored == long_feed
            return
        with pytest.raises(DataError, match="too long"):
            insert_events(conn, [event])


def test_the_bulk_insert_refuses_a_duplicate_case(engine: Engine) -> None:
    with engine.connect() as conn, conn.begin():
        insert_cases(conn, "hotline", [case_row("D1")])
        with pytest.raises(IntegrityError):
            insert_cases(conn, "hotline", [case_row("D2"), case_row("D1")])


def case_row(external_id: str) -> dict[str, object]:
    """A minimal new ``case`` row as the ingest writes one (the columns left out take their defaults)."""
    return {
        "feed_name": "hotline", "external_id": external_id, "status": "reported", "requested_at": NOW,
        "accepted_at": NOW, "source_updated_at": NOW, "lon": 106.05, "lat": 29.84, "is_open": True,
    }  # fmt: skip
