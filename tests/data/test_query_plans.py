"""The screens' queries use an index, never a sequential scan of ``case`` (issue 14), on SQLite
(``EXPLAIN QUERY PLAN``) and PostgreSQL (``EXPLAIN``); the pool is sized per process role; slow
statements are logged with their SQL and without their parameters.

Every statement a screen function sends is captured and explained as sent. On PostgreSQL the test runs
with ``enable_seqscan = off``: on a test-sized table a sequential scan is the cheap plan and the planner
rightly takes it, so the question asked is whether an index path *exists* — a query no index can serve
still gets its ``Seq Scan`` under that setting, which is what would turn into a full scan at city scale.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from data.case_filter import CaseFilter
from data.db import make_engine
from data.queries import (
    AreaScope,
    cases_by_category,
    daily_trend,
    department_ranking,
    hotspots,
    kpis,
    open_cases,
    overdue_by_unit,
    overdue_cases,
    period_named,
    period_today,
    period_year,
    street_ranking,
)
from data.sample import make_sample
from data.settings import Settings
from tests.data.helpers import build_units

NOW = datetime(2025, 6, 15, 2, 0, tzinfo=UTC)
DISTRICT = "500151"


@pytest.fixture
def sample(session_factory) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    session = session_factory()
    build_units(session, streets=3, communities_per_street=2, grids_per_community=3)
    make_sample(session, DISTRICT, 3000, NOW, seed=7)
    session.commit()
    session.execute(text("ANALYZE"))
    session.commit()
    yield session
    session.close()


def _screens(s: Session) -> list[tuple[str, Callable[[], Any]]]:
    district = AreaScope.district(DISTRICT)
    street = f"{DISTRICT}001"
    year, today, week = period_year(NOW), period_today(NOW), period_named("7d", NOW)
    return [
        ("kpis (year)", lambda: kpis(s, district, *year, NOW)),
        ("kpis (today)", lambda: kpis(s, district, *today, NOW)),
        ("kpis (7 days, ragged ends)", lambda: kpis(s, district, *week, NOW)),
        ("kpis (a street, year)", lambda: kpis(s, AreaScope.of(street), *year, NOW)),
        ("street_ranking (year)", lambda: street_ranking(s, district, *year, NOW)),
        ("department_ranking (year)", lambda: department_ranking(s, district, *year, NOW)),
        ("cases_by_category (year)", lambda: cases_by_category(s, district, *year)),
        ("daily_trend (30 days)", lambda: daily_trend(s, district, NOW)),
        ("hotspots (30 days)", lambda: hotspots(s, district, NOW)),
        ("overdue_by_unit (district)", lambda: overdue_by_unit(s, district, DISTRICT, NOW)),
        ("overdue_cases (district)", lambda: overdue_cases(s, district, DISTRICT, NOW)),
        ("open_cases (a street)", lambda: open_cases(s, district, CaseFilter(street=street), now=NOW)),
    ]


def _captured(session: Session, fn: Callable[[], Any]) -> list[tuple[str, Any]]:
    statements: list[tuple[str, Any]] = []
    engine = session.get_bind()

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if '"case"' in statement or "case_daily" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return statements


def _plan(session: Session, statement: str, parameters: Any) -> str:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    if session.get_bind().dialect.name == "sqlite":
        return "\n".join(r[-1] for r in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters))
    with raw.cursor() as cur:
        cur.execute(f"EXPLAIN {statement}", parameters)
        return "\n".join(r[0] for r in cur.fetchall())


def _full_scans_of_case(dialect: str, plan: str) -> list[str]:
    lines = plan.splitlines()
    if dialect == "sqlite":  # "SCAN case" alone reads the table; "SEARCH case USING INDEX" does not
        return [ln for ln in lines if ln.strip().startswith("SCAN case") and "INDEX" not in ln]
    return [ln for ln in lines if 'Seq Scan on "case"' in ln]  # "case" is a reserved word: always quoted


def test_every_screen_query_reads_case_through_an_index(sample: Session) -> None:
    session = sample
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SET enable_seqscan = off"))
    seen = 0
    for name, fn in _screens(session):
        statements = _captured(session, fn)
        assert statements, name
        for statement, parameters in statements:
            plan = _plan(session, statement, parameters)
            assert not _full_scans_of_case(dialect, plan), (name, statement, plan)
            seen += 1
    # the period figures of whole days come from case_daily, not from the cases
    year = period_year(NOW)
    statements = _captured(session, lambda: kpis(session, AreaScope.district(DISTRICT), *year, NOW))
    assert "case_daily" in statements[0][0] and '"case"' not in statements[0][0]
    assert seen >= 20


def test_the_check_sees_a_full_scan(sample: Session) -> None:
    """The check above can fail: on SQLite the same year's KPIs over the raw rows read the whole table
    (deliberately, :func:`data.queries.common.in_period`); on PostgreSQL a filter no index serves gets
    its sequential scan even with ``enable_seqscan = off``."""
    session = sample
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        year = period_year(NOW)
        district = AreaScope.district(DISTRICT)
        statements = _captured(session, lambda: kpis(session, district, *year, NOW, raw=True))
        assert _full_scans_of_case(dialect, _plan(session, *statements[0]))
    else:
        session.execute(text("SET enable_seqscan = off"))
        plan = _plan(session, 'SELECT count(*) FROM "case" WHERE title = %(t)s', {"t": "x"})
        assert _full_scans_of_case(dialect, plan)


def test_the_pool_is_sized_for_the_process_role() -> None:
    settings = Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", web_threads=12)
    web = make_engine(settings, role="web")
    worker = make_engine(settings, role="worker")
    try:
        assert web.pool.size() == 12  # type: ignore[attr-defined]
        assert worker.pool.size() == settings.worker_db_connections == 2  # type: ignore[attr-defined]
        assert web.pool._max_overflow == settings.db_pool_overflow  # type: ignore[attr-defined]
    finally:
        web.dispose()
        worker.dispose()


def test_a_slow_statement_is_logged_with_its_sql_not_its_parameters(
    database_url: str, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "13800138000"
    slow = Settings(data_dir=tmp_path, database_url=database_url, db_slow_query_ms=0.0001)
    quiet = Settings(data_dir=tmp_path, database_url=database_url, db_slow_query_ms=60_000)
    for settings, expect in ((slow, True), (quiet, False)):
        caplog.clear()
        engine = make_engine(settings)
        try:
            with caplog.at_level(logging.WARNING, logger="gridcc.db"), engine.connect() as conn:
                conn.execute(text("SELECT :phone AS reporter_phone"), {"phone": secret})
        finally:
            engine.dispose()
        logged = [r.getMessage() for r in caplog.records if r.name == "gridcc.db"]
        if expect:
            assert any("slow query" in m and "SELECT" in m and "reporter_phone" in m for m in logged), logged
            assert not any(secret in m for m in logged)
        else:
            assert logged == []
