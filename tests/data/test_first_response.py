"""The first response stored on the case (issue 14): the department ranking read from
``case.first_response_at`` agrees with the old per-case search of ``case_event``; the migration
back-fills it; ``gridcc db rebuild-aggregates`` repairs it in batches and a second run changes nothing."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import astuple, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, and_, case, func, select, update
from sqlalchemy.orm import Session

from data import migrate
from data.first_response import rebuild
from data.models import AdminUnit, Case, CaseEvent
from data.queries import AreaScope, DepartmentRank, department_ranking, period_year
from data.queries.common import (
    count_if,
    department_name,
    department_names,
    hours_between,
    in_period,
    period_group,
    rate,
)
from data.queries.rankings import _open_now, _worst_last
from data.sample import make_sample
from data.states import DONE_STATES
from gridcc.cli import main
from tests.data.helpers import add_case, build_units

NOW = datetime(2025, 6, 15, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _old_department_ranking(
    session: Session, scope: AreaScope, start: datetime, end: datetime, now: datetime
) -> list[DepartmentRank]:
    """The ranking as it was before the column: the first assigned / in-progress moment searched in
    each case's events by a correlated subquery (kept here as the reference)."""
    done = Case.status.in_(sorted(DONE_STATES))
    first_step = (
        select(func.min(CaseEvent.at))
        .where(CaseEvent.case_id == Case.id, CaseEvent.to_status.in_(("assigned", "in_progress")))
        .correlate(Case)
        .scalar_subquery()
    )
    responded_at = func.coalesce(first_step, Case.resolved_at)
    response = hours_between(session, Case.accepted_at, responded_at)
    measurable = and_(Case.accepted_at.is_not(None), responded_at.is_not(None))
    statement = (
        select(
            key := period_group(session, scope, start, end, Case.department_code),
            func.count(),
            count_if(done),
            count_if(measurable),
            func.avg(case((measurable, response), else_=None)),
        )
        .where(in_period(session, scope, start, end))
        .group_by(key)
    )
    names = department_names(session)
    by_period = {r[0]: r[1:] for r in session.execute(statement).all()}
    by_now = _open_now(session, scope, now, Case.department_code)
    rows: list[tuple[Any, ...]] = []
    for code in sorted({*by_period, *by_now}, key=lambda c: c or ""):
        received, closed, responded, mean = by_period.get(code, (0, 0, 0, None))
        n_open, overdue = by_now.get(code, (0, 0))
        rows.append(
            (
                code or "",
                department_name(names, code, unknown="未指定部门"),
                received,
                closed,
                rate(closed, received),
                n_open,
                overdue,
                responded,
                float(mean) if mean is not None else None,
            )
        )
    rows.sort(key=lambda r: (-r[6], -(r[8] if r[8] is not None else -1.0), _worst_last(r[4]), r[0]))
    return [DepartmentRank(i + 1, *r) for i, r in enumerate(rows)]


def _comparable(rows: list[DepartmentRank]) -> list[tuple[Any, ...]]:
    """The rows, with each mean response time as ``pytest.approx`` (PostgreSQL sums the hours as
    floats in the order its plan reads the rows: the last bits may differ)."""
    return [(*astuple(replace(r, mean_response_hours=None)), _approx(r.mean_response_hours)) for r in rows]


def _means(rows: list[DepartmentRank]) -> dict[str, tuple[int, float | None]]:
    return {r.code: (r.responded, r.mean_response_hours and round(r.mean_response_hours, 6)) for r in rows}


def _approx(hours: float | None) -> object:
    return None if hours is None else pytest.approx(hours, rel=1e-9)


@pytest.fixture
def history(session_factory) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    """A year of generated cases with their timelines, and a few stated by hand: skipped straight to
    resolution, answered twice (the earlier one counts), never answered."""
    session = session_factory()
    build_units(session, streets=3, communities_per_street=2, grids_per_community=3)
    make_sample(session, "500151", 1500, NOW, seed=11)
    grid = session.scalars(select(AdminUnit.code).where(AdminUnit.level == "grid").limit(1)).one()
    t = NOW - 10 * 24 * H
    add_case(session, grid, t, status="resolved", resolved_at=t + 5 * H)  # no step: resolution counts
    add_case(
        session, grid, t, status="in_progress", events=[(t + 3 * H, "in_progress"), (t + 2 * H, "assigned")]
    )
    add_case(session, grid, t, status="accepted", department="city_management")
    session.commit()
    yield session
    session.close()


def _scopes(session: Session) -> list[AreaScope]:
    streets = list(session.scalars(select(AdminUnit.code).where(AdminUnit.level == "street")))
    return [AreaScope.district("500151"), AreaScope.of(streets[0]), AreaScope.of(streets[1:])]


def _periods() -> list[tuple[datetime, datetime]]:
    rng = random.Random(3)
    year_start, year_end = period_year(NOW)
    periods = [(year_start, year_end)]
    for _ in range(3):
        start = NOW - timedelta(days=rng.uniform(1, 360))
        periods.append((start, start + timedelta(days=rng.uniform(1, 120))))
    return periods


def _assert_agrees(session: Session) -> int:
    compared = 0
    for scope in _scopes(session):
        for start, end in _periods():
            stored = department_ranking(session, scope, start, end, NOW)
            reference = _old_department_ranking(session, scope, start, end, NOW)
            assert _comparable(stored) == _comparable(reference), (scope, start, end)
            compared += sum(r.responded for r in stored)
    return compared


def test_the_ranking_from_the_stored_column_agrees_with_the_search_of_the_events(history: Session) -> None:
    session = history
    assert _assert_agrees(session) > 1000
    # the stored column is not the events searched again: emptying it changes the answer
    session.execute(update(Case).values(first_response_at=None))
    year = period_year(NOW)
    district = AreaScope.district("500151")
    assert _means(department_ranking(session, district, *year, NOW)) != _means(
        _old_department_ranking(session, district, *year, NOW)
    )
    session.rollback()


def test_the_sample_and_the_helpers_store_the_earliest_response(history: Session) -> None:
    session = history
    twice = session.scalars(select(Case).where(Case.status == "in_progress", Case.feed_name == "test")).one()
    assert twice.first_response_at == twice.requested_at + 2 * H
    skipped = session.scalars(select(Case).where(Case.status == "resolved", Case.feed_name == "test")).one()
    assert skipped.first_response_at is None
    with_step = session.scalar(select(func.count()).where(Case.first_response_at.is_not(None)))
    assert with_step is not None and with_step > 1000


def _cli(database_url: str, *args: str) -> tuple[int, int, str]:
    result = CliRunner().invoke(
        main, ["db", "rebuild-aggregates", *args], env={"GRIDCC_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    cases, changed = (int(n) for n in re.findall(r"\d+", last))
    return cases, changed, result.output


def test_the_rebuild_repairs_a_column_set_wrong_in_batches_and_is_idempotent(
    history: Session, database_url: str
) -> None:
    session = history
    total = session.scalar(select(func.count()).select_from(Case))
    ids = session.scalars(select(Case.id).where(Case.first_response_at.is_not(None)).order_by(Case.id)).all()
    none = session.scalars(select(Case.id).where(Case.first_response_at.is_(None)).order_by(Case.id)).all()
    wrong = {
        "emptied": ids[:40],
        "late": ids[40:70],
        "early": ids[70:90],
        "invented": none[:10],  # a case that never reached a response state
    }
    for c in session.scalars(select(Case).where(Case.id.in_([i for v in wrong.values() for i in v]))):
        if c.id in wrong["emptied"]:
            c.first_response_at = None
        elif c.id in wrong["late"]:
            c.first_response_at = c.first_response_at + H if c.first_response_at else None
        elif c.id in wrong["early"]:
            c.first_response_at = c.requested_at - H
        else:
            c.first_response_at = NOW
    session.commit()
    year, district = period_year(NOW), AreaScope.district("500151")
    assert _means(department_ranking(session, district, *year, NOW)) != _means(
        _old_department_ranking(session, district, *year, NOW)
    )

    cases, changed, output = _cli(database_url, "--batch", "400")
    assert len(wrong["invented"]) >= 3
    assert (cases, changed) == (total, sum(len(v) for v in wrong.values()))
    assert len(output.strip().splitlines()) >= 1 + (total or 0) // 400  # one line per batch, then the sum
    session.expire_all()
    assert _assert_agrees(session) > 1000
    assert _cli(database_url)[:2] == (total, 0)  # nothing left to correct


def test_the_rebuild_refuses_a_bad_batch_and_leaves_an_empty_database_alone(
    engine: Engine, database_url: str
) -> None:
    bad = CliRunner().invoke(
        main, ["db", "rebuild-aggregates", "--batch", "0"], env={"GRIDCC_DATABASE_URL": database_url}
    )
    assert bad.exit_code != 0
    assert _cli(database_url)[:2] == (0, 0)


def test_an_illegal_transition_is_not_a_response(history: Session) -> None:
    """The state machine refused the move: the case was not assigned, whatever the event says."""
    session = history
    grid = session.scalars(select(AdminUnit.code).where(AdminUnit.level == "grid").limit(1)).one()
    t = NOW - 5 * 24 * H
    c = add_case(session, grid, t, status="closed", resolved_at=t + 4 * H)
    session.add(CaseEvent(case_id=c.id, at=t + 9 * H, kind="illegal_transition", to_status="in_progress"))
    session.commit()
    assert sum(b.changed for b in rebuild(session.connection())) == 0  # all stored right already
    session.commit()
    session.refresh(c)
    assert c.first_response_at is None


def test_the_migration_backfills_the_column_from_the_events(history: Session, engine: Engine) -> None:
    session = history
    before = dict(session.execute(select(Case.id, Case.first_response_at)).all())
    events = session.scalar(select(func.count()).select_from(CaseEvent))
    session.close()
    migrate.downgrade(engine, "0005")
    migrate.upgrade(engine)
    with Session(engine) as fresh:
        after = dict(fresh.execute(select(Case.id, Case.first_response_at)).all())
        assert fresh.scalar(select(func.count()).select_from(CaseEvent)) == events
    assert after == before
    assert sum(v is not None for v in after.values()) > 1000
