"""How fast the screens' queries answer over a realistic district (default 100,000 cases).

    python benchmarks/bench_queries.py [--cases 100000] [--database-url URL] [--repeat 5]

Builds a fresh database (SQLite in a temporary folder unless ``--database-url`` is given): the real
铜梁区 hierarchy (``data.geo.generate``, 7 grids per community), the catalogue, and ``make_sample``
cases/alerts/risks. Then prints, for each query, the median wall time of ``--repeat`` runs beside a
baseline measured in the same run: one full scan of the case table reading every row (``SELECT
count(*), sum(lon)``) — the cost of touching every case once. The department ranking is also timed the
way it was computed before ``case.first_response_at`` (a correlated search of ``case_event`` per case,
issue 14), with whether both give the same answer. Also prints SQLite's query plans for the heavy ones
(``kpis`` and ``overdue_by_unit``). On PostgreSQL it analyses ``case`` and ``case_event`` after the load.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case, event, func, select, text
from sqlalchemy.orm import Session

from data import migrate
from data.case_filter import CaseFilter
from data.db import make_engine, make_sessionmaker
from data.geo.generate import generate
from data.models import Case, CaseEvent
from data.queries import (
    AreaScope,
    DepartmentRank,
    cases_by_category,
    daily_trend,
    department_ranking,
    hotspots,
    kpis,
    open_cases,
    overdue_by_unit,
    overdue_cases,
    period_today,
    period_year,
    street_ranking,
)
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
from data.seed import seed_catalogue
from data.states import DONE_STATES

DISTRICT = "500151"
NOW = datetime(2025, 11, 20, 2, 0, tzinfo=UTC)


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm the caches once
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def plans(session: Session, fn: Callable[[], Any]) -> list[str]:
    """SQLite's plan of every statement on the case table that ``fn`` runs."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if '"case"' in statement:
            statements.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    return [" | ".join(r[-1] for r in raw.execute(f"EXPLAIN QUERY PLAN {st}", p)) for st, p in statements]


def department_ranking_from_events(
    session: Session, scope: AreaScope, start: datetime, end: datetime, now: datetime
) -> list[DepartmentRank]:
    """The department ranking as computed before ``case.first_response_at``: each case's first
    assigned / in-progress moment searched in its events by a correlated subquery (the reference)."""
    first_step = (
        select(func.min(CaseEvent.at))
        .where(CaseEvent.case_id == Case.id, CaseEvent.to_status.in_(("assigned", "in_progress")))
        .correlate(Case)
        .scalar_subquery()
    )
    responded_at = func.coalesce(first_step, Case.resolved_at)
    measurable = and_(Case.accepted_at.is_not(None), responded_at.is_not(None))
    response = hours_between(session, Case.accepted_at, responded_at)
    statement = (
        select(
            key := period_group(session, scope, start, end, Case.department_code),
            func.count(),
            count_if(Case.status.in_(sorted(DONE_STATES))),
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
        name = department_name(names, code, unknown="未指定部门")
        hours = float(mean) if mean is not None else None
        rows.append(
            (code or "", name, received, closed, rate(closed, received), n_open, overdue, responded, hours)
        )
    rows.sort(key=lambda r: (-r[6], -(r[8] if r[8] is not None else -1.0), _worst_last(r[4]), r[0]))
    return [DepartmentRank(i + 1, *r) for i, r in enumerate(rows)]


def same_ranking(a: list[DepartmentRank], b: list[DepartmentRank]) -> bool:
    """The same rows in the same order; mean response times equal but for the last bits of a float sum
    (PostgreSQL adds them up in the order its plan reads the rows)."""
    return len(a) == len(b) and all(
        replace(x, mean_response_hours=None) == replace(y, mean_response_hours=None)
        and (x.mean_response_hours is None) == (y.mean_response_hours is None)
        and math.isclose(x.mean_response_hours or 0.0, y.mean_response_hours or 0.0, rel_tol=1e-9)
        for x, y in zip(a, b, strict=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="gridcc-bench-")
    url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)

    with factory() as session:
        t = time.perf_counter()
        seed_catalogue(session)
        stats = generate(session, [DISTRICT], grids_per_community=7)
        session.commit()
        print(f"units: {stats}  ({time.perf_counter() - t:.1f} s)")
        t = time.perf_counter()
        summary = make_sample(session, DISTRICT, args.cases, NOW, seed=1)
        session.commit()
        took = time.perf_counter() - t
        print(f"sample: {summary}")
        print(f"sample insert: {took:.1f} s, {summary.cases / took:,.0f} cases/s ({summary.events:,} events)")
        if engine.dialect.name == "sqlite":
            session.execute(text("ANALYZE"))
        else:
            session.execute(text('ANALYZE "case"'))
            session.execute(text("ANALYZE case_event"))
        session.commit()

    scope = AreaScope.district(DISTRICT)
    year, today = period_year(NOW), period_today(NOW)
    street = f"{DISTRICT}001"
    with factory() as s:
        baseline = median_ms(lambda: s.execute(select(func.count(), func.sum(Case.lon))).one(), args.repeat)
        queries: list[tuple[str, Callable[[], Any]]] = [
            ("kpis (year)", lambda: kpis(s, scope, *year, NOW)),
            ("kpis (today)", lambda: kpis(s, scope, *today, NOW)),
            ("overdue_by_unit (district → streets)", lambda: overdue_by_unit(s, scope, DISTRICT, NOW)),
            ("overdue_by_unit (street → communities)", lambda: overdue_by_unit(s, scope, street, NOW)),
            ("overdue_cases (district, 200)", lambda: overdue_cases(s, scope, DISTRICT, NOW)),
            ("street_ranking (year)", lambda: street_ranking(s, scope, *year, NOW)),
            ("department_ranking (year)", lambda: department_ranking(s, scope, *year, NOW)),
            ("cases_by_category (year)", lambda: cases_by_category(s, scope, *year)),
            ("daily_trend (30 days)", lambda: daily_trend(s, scope, NOW)),
            ("hotspots (30 days, 300 m)", lambda: hotspots(s, scope, NOW)),
            (
                "open_cases (one street)",
                lambda: open_cases(s, scope, CaseFilter(street=street), now=NOW),
            ),
        ]
        print(f"\n{engine.dialect.name}, {args.cases:,} cases, median of {args.repeat} runs")
        print(f"{'baseline: full scan of the case table':45s} {baseline:8.1f} ms")
        results = {}
        for name, fn in queries:
            results[name] = median_ms(fn, args.repeat)
            print(f"{name:45s} {results[name]:8.1f} ms   ({results[name] / baseline:.2f} × baseline)")
        both = results["kpis (year)"] + results["overdue_by_unit (district → streets)"]
        print(f"{'kpis (year) + overdue_by_unit (district)':45s} {both:8.1f} ms")
        old = median_ms(lambda: department_ranking_from_events(s, scope, *year, NOW), args.repeat)
        stored = results["department_ranking (year)"]
        agree = same_ranking(
            department_ranking(s, scope, *year, NOW), department_ranking_from_events(s, scope, *year, NOW)
        )
        name = "department_ranking, per-case event search"
        print(
            f"{name:45s} {old:8.1f} ms   ({old / baseline:.2f} × baseline; the stored first response is"
            f" {old / stored:.1f}× faster; same answer: {'yes' if agree else 'NO'})"
        )

        if engine.dialect.name == "sqlite":
            print()
            for name, fn in (
                ("kpis (today)", lambda: kpis(s, scope, *today, NOW)),
                ("kpis (year)", lambda: kpis(s, scope, *year, NOW)),
                ("overdue_by_unit (district)", lambda: overdue_by_unit(s, scope, DISTRICT, NOW)),
            ):
                for i, line in enumerate(plans(s, fn)):
                    print(f"plan, {name} #{i + 1}: {line}")


if __name__ == "__main__":
    main()
