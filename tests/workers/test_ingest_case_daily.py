"""The ingest moves ``case_daily`` in the poll's own transaction (issue 14): real polls of a local
Open311 feed into the real test database, with new cases over several days, then resolutions, reopens,
re-categorisations, moves between grids, ratings and an update older than the stored one; after every
poll the table is what a rebuild from the rows gives, and the screens' answers equal the raw queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from data import case_daily
from data.models import CaseDaily
from data.queries import AreaScope, cases_by_category, daily_trend, department_ranking, kpis, street_ranking
from data.queries.common import Period
from tests.data.helpers import same
from workers.jobs.poll import run_poll
from workers.runtime import Runtime, set_runtime

from .test_poll_support import (
    DISTRICT,
    POINT_B,
    feed_server,
    make_hierarchy,
    make_runtime,
    open311_feed,
    request,
    write_feeds,
)

NOW = datetime.now(UTC).replace(microsecond=0)
D = timedelta(days=1)
H = timedelta(hours=1)


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


def _rows(session: Session) -> dict[tuple[object, ...], tuple[object, ...]]:
    keys = [getattr(CaseDaily, k) for k in case_daily.KEYS]
    values = [getattr(CaseDaily, m) for m in case_daily.MEASURES]
    out = {}
    for row in session.execute(select(*keys, *values)):
        measures = tuple(round(v, 6) if isinstance(v, float) else v for v in row[len(keys) :])
        if any(v for v in measures if isinstance(v, int)):  # a float sum taken back out leaves ~1e-10
            out[tuple(row[: len(keys)])] = measures
    return out


def check(factory: sessionmaker[Session]) -> dict[tuple[object, ...], tuple[object, ...]]:
    """The kept table equals the rebuilt one, and the answers equal the raw ones; returns the table."""
    with factory() as session:
        kept = _rows(session)
        case_daily.rebuild(session.connection())
        assert kept == _rows(session)
        session.rollback()
        scope = AreaScope.district(DISTRICT)
        periods = [Period(NOW - 10 * D, NOW + H), Period(NOW - 3 * D - 5 * H, NOW - D + 2 * H)]
        for start, end in periods:
            for fn in (kpis, street_ranking, department_ranking):
                fast = fn(session, scope, start, end, NOW)
                assert same(fast, fn(session, scope, start, end, NOW, raw=True))
            assert cases_by_category(session, scope, start, end) == cases_by_category(
                session, scope, start, end, raw=True
            )
        assert daily_trend(session, scope, NOW, days=12) == daily_trend(
            session, scope, NOW, days=12, raw=True
        )
    return kept


def poll(
    runtime: Runtime, state: object, *records: dict[str, object]
) -> dict[tuple[object, ...], tuple[object, ...]]:
    state.put(*records)  # type: ignore[attr-defined]
    result = run_poll(runtime, "hotline")
    assert result["status"] == "ok", result
    return check(runtime.session_factory)


def totals(table: dict[tuple[object, ...], tuple[object, ...]], measure: str) -> int:
    """The sum of ``measure`` over the day rows (the month rows hold the same cases again)."""
    i = case_daily.MEASURES.index(measure)
    return sum(int(v[i]) for k, v in table.items() if k[0] == "d")  # type: ignore[call-overload]


def test_every_poll_keeps_case_daily_equal_to_the_rows(runtime: Runtime, server) -> None:
    _base, state = server
    t = NOW - 6 * H
    first = poll(
        runtime,
        state,
        request("A1", t, requested=NOW - 5 * D),
        request("B1", t, requested=NOW - 3 * D, status="in_progress"),
        request("C1", t, requested=NOW - 2 * D, status="closed", satisfaction="satisfied"),
        request("D1", t, requested=NOW - 2 * D - 4 * H),
    )
    assert totals(first, "received") == 4 and totals(first, "done") == 1 and totals(first, "resolved") == 1
    # resolved, re-categorised, moved to the other grid, rated
    second = poll(
        runtime,
        state,
        request("A1", t + H, requested=NOW - 5 * D, status="resolved"),
        request("B1", t + H, requested=NOW - 3 * D, status="in_progress", service_code="dispute.neighbour"),
        request("D1", t + H, requested=NOW - 2 * D - 4 * H, point=POINT_B, satisfaction="basic"),
    )
    assert totals(second, "done") == 2 and totals(second, "satisfied") == 2
    # A1 reopened (returned → in progress): no longer done nor resolved; then an older update of A1
    third = poll(runtime, state, request("A1", t + 2 * H, requested=NOW - 5 * D, status="in_progress"))
    assert totals(third, "done") == 1 and totals(third, "resolved") == 1 and totals(third, "still_open") == 3
    fourth = poll(
        runtime, state, request("A1", t + 90 * timedelta(minutes=1), requested=NOW - 5 * D, status="closed")
    )
    assert fourth == third  # older than what is stored: ignored, the aggregates unmoved
    fifth = poll(runtime, state, request("B1", t + 3 * H, requested=NOW - 3 * D, status="closed"))
    assert totals(fifth, "done") == 2 and totals(fifth, "responded") >= 1
