"""The sample generator (realistic, placed in real grids, deterministic) and the heavy queries' plans."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import shapely
from shapely import wkb
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from data.models import AdminUnit, Alert, AlertGrid, Case, CaseEvent, Risk
from data.queries import (
    AreaScope,
    kpis,
    overdue_by_unit,
    overdue_cases,
    period_today,
    period_year,
    street_ranking,
)
from data.sample import make_sample
from data.states import OPEN_STATES, is_legal
from tests.data.helpers import build_units

NOW = datetime(2025, 6, 15, 2, 0, tzinfo=UTC)


@pytest.fixture
def sample(session_factory) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    session = session_factory()
    build_units(session, streets=3, communities_per_street=2, grids_per_community=3)
    summary = make_sample(session, "500151", 3000, NOW, seed=7)
    session.commit()
    assert summary.cases == 3000
    yield session
    session.close()


def test_sample_cases_are_realistic_and_placed_in_their_grid(sample: Session) -> None:
    session = sample
    grids = {
        code: wkb.loads(geom)
        for code, geom in session.execute(
            select(AdminUnit.code, AdminUnit.geometry).where(AdminUnit.level == "grid")
        )
    }
    cases = session.execute(select(Case)).scalars().all()
    assert len(cases) == 3000
    for c in cases:
        assert c.grid_code in grids and c.lon is not None and c.lat is not None
        assert shapely.contains_xy(grids[c.grid_code], c.lon, c.lat) or grids[c.grid_code].touches(
            shapely.Point(c.lon, c.lat)
        )
        assert c.street_code == c.grid_code[:9] and c.district_code == "500151"
        assert c.requested_at <= NOW and c.is_open == (c.status in OPEN_STATES)
        if c.accepted_at is not None:
            assert c.deadline_at is not None and c.deadline_at > c.accepted_at
    # every case's status events follow the state machine, in time order
    events: dict[int, list[tuple[Any, ...]]] = {}
    for e in session.execute(
        select(CaseEvent).where(CaseEvent.kind == "status").order_by(CaseEvent.case_id, CaseEvent.at)
    ).scalars():
        events.setdefault(e.case_id, []).append((e.from_status, e.to_status))
    for steps in events.values():
        assert all(is_legal(a, b) for a, b in steps)
    k = kpis(session, AreaScope.district("500151"), NOW.replace(year=2024), NOW, NOW)
    assert k.received == 3000
    assert k.closure_rate is not None and 0.95 < k.closure_rate < 1.0
    assert k.satisfaction_rate is not None and k.satisfaction_rate > 0.95
    assert k.on_time_rate is not None and 0.9 < k.on_time_rate < 1.0
    assert 0 < k.overdue < k.open < 200
    # the overdue drill-down adds up to the KPI band's overdue figure
    streets = overdue_by_unit(session, AreaScope.district("500151"), "500151", NOW)
    assert sum(s.overdue for s in streets) == k.overdue
    assert len(overdue_cases(session, AreaScope.district("500151"), "500151", NOW, limit=10_000)) == k.overdue
    assert session.scalar(select(func.count()).select_from(Alert)) == 6
    assert session.scalar(select(func.count()).select_from(AlertGrid)) >= 6
    assert session.scalar(select(func.count()).select_from(Risk)) == 12


def test_sample_is_deterministic_per_seed(session_factory) -> None:  # type: ignore[no-untyped-def]
    def digest(seed: int) -> list[tuple[Any, ...]]:
        with session_factory() as session:
            session.execute(text("DELETE FROM case_event"))
            session.execute(text('DELETE FROM "case"'))
            session.execute(text("DELETE FROM alert"))
            session.execute(text("DELETE FROM risk"))
            make_sample(session, "500151", 200, NOW, seed=seed)
            session.commit()
            return [
                tuple(r)
                for r in session.execute(
                    select(Case.external_id, Case.status, Case.grid_code, Case.requested_at).order_by(
                        Case.external_id
                    )
                )
            ]

    with session_factory() as session:
        build_units(session)
        session.commit()
    assert digest(3) == digest(3)
    assert digest(3) != digest(4)


def test_sample_needs_units(session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as session, pytest.raises(ValueError, match="generate the units"):
        make_sample(session, "500151", 10, NOW)


def _captured(session: Session, fn: Any) -> list[tuple[str, Any]]:
    statements: list[tuple[str, Any]] = []
    engine = session.get_bind()

    def capture(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return [(s, p) for s, p in statements if '"case"' in s or "FROM case" in s]


def _plans(session: Session, statements: list[tuple[str, Any]]) -> list[str]:
    """The plans of the statements, but for the read of case_merge's few ids (data.queries.cohort._merged:
    a scan of a table of merged cases only, done before every period's figures)."""
    conn = session.connection().connection.driver_connection
    assert conn is not None
    plans = [" | ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {s}", p)) for s, p in statements]
    return [p for p in plans if p != "SCAN case_merge"]


def test_heavy_queries_use_their_indexes_on_sqlite(sample: Session) -> None:
    session = sample
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    session.execute(text("ANALYZE"))
    district = AreaScope.district("500151")
    today = period_today(NOW)
    plans = _plans(session, _captured(session, lambda: kpis(session, district, *today, NOW)))
    assert plans[0].startswith("SEARCH case_daily USING")  # the period figures: whole days aggregated
    assert "USING INDEX ix_case_open" in plans[1]  # open / overdue now
    ragged = (today.start + timedelta(hours=3), today.end)  # the part of a day: the case rows
    plans = _plans(session, _captured(session, lambda: kpis(session, district, *ragged, NOW)))
    assert "USING INDEX ix_case_district_period" in plans[0]
    street = AreaScope.of("500151002")
    plans = _plans(session, _captured(session, lambda: kpis(session, street, *today, NOW)))
    assert all("USING INDEX" in p for p in plans)
    plans = _plans(session, _captured(session, lambda: overdue_by_unit(session, district, "500151", NOW)))
    assert any("USING INDEX ix_case_open" in p for p in plans)
    plans = _plans(session, _captured(session, lambda: overdue_cases(session, district, "500151", NOW)))
    # one of the partial indexes of the open cases (by deadline, or by place: migration 0012)
    assert any(f"USING INDEX ix_case_open_{i}" in p for p in plans for i in ("deadline", "place"))
    # a whole-year district aggregate over the raw rows reads the table in order rather than row by row
    # through an index
    year = period_year(NOW)
    plans = _plans(
        session, _captured(session, lambda: street_ranking(session, district, *year, NOW, raw=True))
    )
    assert plans[0].startswith("SCAN case") and "INDEX" not in plans[0].split("|")[0]
