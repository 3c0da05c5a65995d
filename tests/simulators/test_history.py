"""The simulators' history and flow: this year's cases with the shape of a real district, cases moving
through legal states over time, and a restart that continues without duplicating or reusing ids."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from data import states
from simulators import District, SimulatorSet
from simulators.cases import CASES_PER_YEAR
from simulators.store import from_ts
from tests.simulators.test_support import (
    DISTRICT,
    Clock,
    Env,
    add_district,
    environment,
    get,
    start_sims,
)
from workers.feeds.parsers import parse

LATE_NOVEMBER = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
def env(engine: Engine, tmp_path: Path) -> Iterator[Env]:
    yield from environment(engine, tmp_path)


@pytest.fixture
def year(engine: Engine, tmp_path: Path) -> Iterator[SimulatorSet]:
    """Simulators first started on 20 November: the whole year so far is backfilled."""
    add_district(engine)
    sims = start_sims(District.load(engine, DISTRICT), tmp_path / "s.sqlite", Clock(LATE_NOVEMBER))
    yield sims
    sims.stop()


def _rows(sims: SimulatorSet) -> list[dict[str, object]]:
    assert sims.store is not None
    return [dict(r) for r in sims.store.query("SELECT * FROM request")]


def _deadline(row: dict[str, object]) -> datetime | None:
    if not row["accepted_at"]:
        return None
    return from_ts(str(row["accepted_at"])) + timedelta(hours=int(row["limit_hours"]))  # type: ignore[call-overload]


def test_the_backfilled_year_has_the_shape_of_a_real_district(year: SimulatorSet) -> None:
    rows = _rows(year)
    start = datetime(2026, 1, 1, tzinfo=UTC) - timedelta(hours=8)
    days = (LATE_NOVEMBER - start).total_seconds() / 86400
    expected = CASES_PER_YEAR * days / 365
    assert abs(len(rows) - expected) < 0.05 * expected
    assert all(start <= from_ts(str(r["requested_at"])) < LATE_NOVEMBER for r in rows)

    # 99.9 % closed: among cases whose time limit ran out more than ten days ago, at least 99 % closed
    old = [r for r in rows if (d := _deadline(r)) is not None and d < LATE_NOVEMBER - timedelta(days=10)]
    closed = [r for r in old if r["status"] == "closed"]
    assert len(old) > 0.9 * len(rows)
    assert len(closed) / len(old) >= 0.99
    # ... and a small number still open, overdue
    still_open = [r for r in old if r["status"] in states.OPEN_STATES]
    assert 1 <= len(still_open) <= 0.005 * len(old)

    # 98.8 % satisfied among the rated
    rated = [r for r in rows if r["satisfaction"]]
    satisfied = sum(r["satisfaction"] == "satisfied" for r in rated) / len(rated)
    assert 0.975 <= satisfied <= 0.997
    assert {r["satisfaction"] for r in rated} == {"satisfied", "basic", "unsatisfied"}

    # most closed on time, a few late
    def resolved_at(r: dict[str, object]) -> datetime:
        plan = json.loads(str(r["plan"]))
        return min(datetime.fromisoformat(at) for state, at, _ in plan if state == "resolved")

    on_time = [r for r in closed if resolved_at(r) <= _deadline(r)]  # type: ignore[operator]
    assert 0.95 <= len(on_time) / len(closed) < 1.0

    # the recent days' cases are still being handled
    recent = [r for r in rows if from_ts(str(r["requested_at"])) > LATE_NOVEMBER - timedelta(days=1)]
    assert recent and sum(r["status"] in states.OPEN_STATES for r in recent) / len(recent) > 0.7

    # the feeds tell the same story through the project's parser (here: the police feed in UTC)
    body = get(f"{year.urls['police']}/requests.xml?page_size=1000")[2]
    cases = parse("open311", body).cases
    assert len(cases) == sum(r["feed"] == "police" for r in rows)
    assert sum(c.status == "closed" for c in cases) / len(cases) > 0.95
    # ... including when each was resolved (办结时间), so on-time closure can be judged downstream
    done = [c for c in cases if c.status == "closed"]
    assert all(c.resolved_at is not None and c.accepted_at is not None for c in done)
    assert all(c.accepted_at <= c.resolved_at <= c.updated_at for c in done)  # type: ignore[operator]
    in_time = [c for c in done if c.expected_at is not None and c.resolved_at <= c.expected_at]  # type: ignore[operator]
    assert 0.95 <= len(in_time) / len(done) < 1.0
    assert all(c.resolved_at is None for c in cases if c.status in states.OPEN_STATES)


def test_cases_move_through_legal_states_and_close_with_a_rating(env: Env) -> None:
    sims, clock = env.sims, env.clock
    assert sims.simulation is not None
    book = sims.simulation.book
    t0 = clock.now
    mine = [book.new_case(t0) for _ in range(60)]
    sims.simulation.next_case = t0 + timedelta(days=3650)  # only these cases are new
    seen: dict[str, list[str]] = {rid: ["reported"] for rid in mine}
    for _ in range(24 * 4):  # one day in 15-minute steps
        clock.now += timedelta(minutes=15)
        sims.step(clock.now)
        for rid in mine:
            row = book.get(rid)
            assert row is not None
            if row["status"] != seen[rid][-1]:
                seen[rid].append(row["status"])
                assert from_ts(row["updated_at"]) == clock.now  # a change carries the time it was seen
    for rid, path in seen.items():
        for a, b in zip(path, path[1:], strict=False):
            states.path(a, b)  # raises IllegalTransition if the feed jumped where no path leads
    closed = [rid for rid in mine if seen[rid][-1] == "closed"]
    # handled 60x faster than real time: in one day nearly all are closed (late ones run real time)
    assert len(closed) >= 0.8 * len(mine)
    assert all(book.get(rid)["satisfaction"] for rid in closed)  # type: ignore[index]
    # deadlines stay real: accepted_datetime + the category's limit, not compressed
    row = book.get(closed[0])
    assert row is not None and _deadline(row) is not None
    assert _deadline(row) - from_ts(row["accepted_at"]) >= timedelta(hours=4)  # type: ignore[operator]


def test_a_restart_continues_without_duplicates_or_reused_ids(env: Env, engine: Engine) -> None:
    sims, clock = env.sims, env.clock
    assert sims.store is not None
    clock.now += timedelta(minutes=10)
    sims.step(clock.now)
    before = {r["id"]: r for r in _rows(sims)}
    xss = sims.store.get_meta("xss_case")
    sims.stop()

    later = Clock(clock.now + timedelta(hours=3))
    again = start_sims(env.district, env.state, later)
    try:
        after = {r["id"]: r for r in _rows(again)}
        assert set(after) == set(before)  # no second backfill
        moved = [rid for rid in before if after[rid]["status"] != before[rid]["status"]]
        assert moved and all(from_ts(str(after[rid]["updated_at"])) == later.now for rid in moved)
        later.now += timedelta(minutes=30)
        again.step(later.now)
        new = {r["id"]: r for r in _rows(again)}.keys() - before.keys()
        assert new
        for rid in new:
            prefix, year_, seq = str(rid).rsplit("-", 2)
            previous = [
                int(str(o).rsplit("-", 1)[1]) for o in before if str(o).startswith(f"{prefix}-{year_}-")
            ]
            assert int(seq) > max(previous, default=0)
        assert again.store is not None and again.store.get_meta("xss_case") == xss
        assert again.store.scalar("SELECT count(*) FROM request WHERE description LIKE '%onerror%'") == 1
    finally:
        again.stop()


def test_recurring_matters_come_back_to_the_same_place(year: SimulatorSet) -> None:
    """类案: a few fixed (place, category) pairs recur, month after month, so hotspots are real."""
    hot = year.simulation.book.hotspots()
    assert len(hot) == 6 and year.simulation.book.hotspots() == hot  # fixed for the district
    rows = _rows(year)
    month_ago = LATE_NOVEMBER - timedelta(days=30)
    for leaf, category in hot:
        inside = [
            r
            for r in rows
            if r["service_code"] == category.code
            and (r["grid_code"] == leaf.code or (r["lon"] is not None and leaf.geometry.covers(point(r))))
        ]
        recent = [r for r in inside if from_ts(str(r["requested_at"])) >= month_ago]
        assert len(inside) >= 15, (leaf.code, category.code, len(inside))
        assert recent, (leaf.code, category.code)


def point(row: dict[str, object]):  # type: ignore[no-untyped-def]
    import shapely

    return shapely.Point(float(row["lon"]), float(row["lat"]))  # type: ignore[arg-type]
