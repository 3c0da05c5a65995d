"""``case_daily`` answers exactly what the plain queries over the case rows answer (issue 14).

Every aggregate-backed screen query (KPIs, street and department rankings, categories, the 30-day trend)
is asked on random scopes and random periods — aligned to local days and ragged — with and without
``raw=True``, on a realistic sample; then the cases are changed in every way that moves a case between
buckets (reopened, resolved, re-dated, moved to another street, category or department, re-rated,
deleted; one at a time through the ORM and many at once through a Core ``UPDATE``) and the answers are
compared again, along with the table itself against ``gridcc db rebuild-aggregates``' recomputation.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from data import case_daily
from data.models import Case, CaseDaily
from data.queries import (
    AreaScope,
    cases_by_category,
    daily_trend,
    department_ranking,
    kpis,
    period_named,
    period_today,
    period_year,
    street_ranking,
)
from data.sample import make_sample
from gridcc.cli import main
from tests.data.helpers import build_units, same

NOW = datetime(2025, 6, 15, 2, 0, tzinfo=UTC)
DISTRICT = "500151"


@pytest.fixture
def sample(session_factory) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    session = session_factory()
    build_units(session, streets=3, communities_per_street=2, grids_per_community=2)
    make_sample(session, DISTRICT, 1500, NOW, seed=11)
    session.commit()
    yield session
    session.close()


def _scopes(session: Session, rng: random.Random) -> list[AreaScope]:
    streets = sorted({s for (s,) in session.execute(select(Case.street_code).distinct()) if s})
    community = session.scalar(select(Case.community_code).where(Case.community_code.is_not(None)).limit(1))
    assert len(streets) == 3 and community
    return [
        AreaScope.district(DISTRICT),
        AreaScope.of(rng.choice(streets)),
        AreaScope.of(rng.sample(streets, 2)),
        AreaScope.of([streets[0], community]),  # a community: the raw path answers
        AreaScope.of("500152"),  # another district: nothing
    ]


def _periods(rng: random.Random) -> list[tuple[datetime, datetime]]:
    periods = [period_today(NOW), period_year(NOW), period_named("7d", NOW), period_named("30d", NOW)]
    year_start = period_year(NOW).start
    for _ in range(6):
        a = year_start + timedelta(seconds=rng.randrange(0, 200 * 86400))
        b = a + timedelta(seconds=rng.randrange(1, 90 * 86400))
        periods.append((a, b))
    periods.append((year_start + timedelta(hours=3), year_start + timedelta(hours=20)))  # inside one day
    return periods


def _agree(session: Session, rng: random.Random) -> int:
    """Compare every aggregate answer with the raw one; returns how many comparisons were made."""
    n = 0
    for scope in _scopes(session, rng):
        for start, end in _periods(rng):
            for fn in (kpis, street_ranking, department_ranking):
                fast, plain = (
                    fn(session, scope, start, end, NOW),
                    fn(session, scope, start, end, NOW, raw=True),
                )
                assert same(fast, plain), (fn.__name__, scope, start, end, fast, plain)
            fast_c = cases_by_category(session, scope, start, end)
            assert same(fast_c, cases_by_category(session, scope, start, end, raw=True)), (scope, start, end)
            n += 4
        for days in (1, 30, 90):
            fast_t = daily_trend(session, scope, NOW, days=days)
            assert fast_t == daily_trend(session, scope, NOW, days=days, raw=True), (scope, days)
            n += 1
    return n


def _table(session: Session) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """The non-empty rows of ``case_daily`` (an update may leave a bucket at zero)."""
    keys = [getattr(CaseDaily, k) for k in case_daily.KEYS]
    values = [getattr(CaseDaily, m) for m in case_daily.MEASURES]
    out = {}
    for row in session.execute(select(*keys, *values)):
        key, measures = tuple(row[: len(keys)]), tuple(row[len(keys) :])
        if any(v for v in measures if isinstance(v, int)):  # a float sum taken back out leaves ~1e-10
            out[key] = measures
    return out


def _table_is_rebuilt_table(session: Session) -> None:
    kept = _table(session)
    assert kept, "the sample fills case_daily through the triggers"
    case_daily.rebuild(session.connection())
    rebuilt = _table(session)
    session.rollback()
    assert kept.keys() == rebuilt.keys()
    for key, measures in kept.items():
        assert same(list(measures), list(rebuilt[key])), key


def _mutate(session: Session, rng: random.Random) -> None:
    cases = session.scalars(select(Case).order_by(Case.id)).all()
    streets = sorted({c.street_code for c in cases if c.street_code})
    grids = sorted({c.grid_code for c in cases if c.grid_code})
    categories = sorted({c.category_code for c in cases if c.category_code})
    departments = sorted({c.department_code for c in cases if c.department_code})
    for c in rng.sample(list(cases), 300):
        move = rng.randrange(8)
        if move == 0 and not c.is_open:  # reopened (returned): no longer resolved
            c.status, c.is_open, c.resolved_at, c.closed_at = "returned", True, None, None
        elif move == 1 and c.is_open:  # resolved now, late or on time
            c.status, c.is_open = "resolved", False
            c.resolved_at = c.requested_at + timedelta(hours=rng.randrange(1, 400))
            c.first_response_at = c.first_response_at or c.requested_at + timedelta(minutes=30)
        elif move == 2:  # re-dated (an out-of-order correction): another day's bucket
            c.requested_at = c.requested_at - timedelta(hours=rng.randrange(1, 24 * 40))
        elif move == 3:  # moved to another grid, maybe another street
            c.set_place(rng.choice(grids))
        elif move == 4:
            c.category_code = rng.choice([*categories, None])
        elif move == 5:
            c.department_code = rng.choice([*departments, None])
        elif move == 6:
            c.satisfaction = rng.choice(["satisfied", "basic", "unsatisfied", None])
        else:
            c.deadline_at = None if c.deadline_at is None else c.deadline_at + timedelta(hours=48)
            c.accepted_at = None if rng.random() < 0.2 else c.accepted_at
    session.flush()
    # many at once, as a bulk job would: one statement (PostgreSQL's statement trigger sees all rows)
    session.execute(
        update(Case)
        .where(Case.street_code == streets[0], Case.is_open.is_(False))
        .values(status="returned", is_open=True, resolved_at=None)
    )
    session.execute(delete(Case).where(Case.id.in_([c.id for c in cases[:20]])))
    session.commit()


def test_aggregates_answer_as_the_raw_rows_before_and_after_every_kind_of_change(sample: Session) -> None:
    rng = random.Random(14)
    assert _agree(sample, rng) > 200
    _table_is_rebuilt_table(sample)
    _mutate(sample, rng)
    assert _agree(sample, rng) > 200
    _table_is_rebuilt_table(sample)


def test_rebuild_command_repairs_a_table_gone_wrong(sample: Session, database_url: str) -> None:
    """A bulk load around the triggers (here: the table emptied and a bucket broken by hand) is
    repaired by ``gridcc db rebuild-aggregates``, and the screens answer right again."""
    good = _table(sample)
    year = period_year(NOW)
    district = AreaScope.district(DISTRICT)
    right = kpis(sample, district, *year, NOW, raw=True)
    sample.execute(delete(CaseDaily).where(CaseDaily.street_code == min(k[2] for k in good)))
    sample.execute(update(CaseDaily).values(received=CaseDaily.received + 5))
    sample.commit()
    assert kpis(sample, district, *year, NOW) != right
    result = CliRunner().invoke(main, ["db", "rebuild-aggregates"], env={"GRIDCC_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    sample.expire_all()
    assert _table(sample).keys() == good.keys()
    assert same(kpis(sample, district, *year, NOW), right)
