"""How fast the screens' queries answer over a realistic district (default 100,000 cases).

    python benchmarks/bench_queries.py [--cases 100000] [--database sqlite|postgresql]
                                       [--database-url URL] [--repeat 5]

Builds a fresh database: SQLite in a temporary folder, or with ``--database postgresql`` a private
schema (dropped at the end) in the PostgreSQL of ``--database-url`` (default: this machine's
``postgresql+psycopg://postgres@127.0.0.1:5432/test``, or ``GRIDCC_TEST_DATABASE_URL``); the real 铜梁区
hierarchy (``data.geo.generate``, 7 grids per community), the catalogue, and ``make_sample``
cases/alerts/risks, loaded as a bulk load is: ``case_daily``'s triggers off, the table rebuilt after
(``gridcc db rebuild-aggregates``), the triggers back on. Then ``ANALYZE`` on every table it loaded
(``case_event`` and ``case_daily`` included: a server may run with autovacuum off; on PostgreSQL
``VACUUM ANALYZE``, which sets the visibility map as autovacuum would).

Prints, for each screen query, the median wall time of ``--repeat`` runs beside a baseline measured in
the same run: one full scan of the case table reading every row (``SELECT count(*), sum(lon)``) — the
cost of touching every case once. The period queries (KPIs, rankings, categories, trend) are timed both
from ``case_daily`` and as the plain query over the raw rows (``raw=True``), with whether both give the
same answer; the open-case queries (overdue drill-down, open cases of a street) and hotspots read the
rows, exactly, through their indexes. The department ranking is also timed the way it was computed
before ``case.first_response_at`` (a correlated search of ``case_event`` per case). SQLite's query plans
for the heavy ones are printed too.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, case, event, func, inspect, select, text
from sqlalchemy.orm import Session

from data import case_daily, migrate
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
    period_named,
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
from data.queries.loop import department_report_times, loop_figures
from data.queries.rankings import _open_now, _worst_last
from data.redis_server import EmbeddedRedis, connect
from data.sample import make_sample
from data.seed import seed_catalogue
from data.states import DONE_STATES
from layers import wall_payload

DISTRICT = "500151"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
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
    """SQLite's plan of every statement on the case table (or ``case_daily``) that ``fn`` runs."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if '"case"' in statement or "case_daily" in statement:
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


def same(a: Any, b: Any) -> bool:
    """Equal, floats but for the last bits of a sum added up in another order."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if hasattr(a, "__dataclass_fields__"):
        return type(a) is type(b) and all(same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    return bool(a == b)


def analyse(engine: Engine, session: Session) -> None:
    """Fresh statistics on every table of the database, and on PostgreSQL its visibility map too
    (``VACUUM ANALYZE``: what autovacuum does after a load, so that index-only scans are index-only; a
    server may run with autovacuum off)."""
    if engine.dialect.name == "sqlite":
        session.execute(text("ANALYZE"))
        session.commit()
        return
    tables = inspect(session.connection()).get_table_names()
    session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(text(f'VACUUM ANALYZE "{table}"'))


def database(args: argparse.Namespace, folder: str) -> tuple[str, str | None]:
    """The URL to run on, and the PostgreSQL schema to drop afterwards (None for SQLite)."""
    if args.database == "sqlite":
        return args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}", None
    base = args.database_url or os.environ.get("GRIDCC_TEST_DATABASE_URL") or PG_DEFAULT
    schema = args.schema or f"gridcc_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", None if args.schema else schema


def drop_schema(args: argparse.Namespace, schema: str) -> None:
    base = args.database_url or os.environ.get("GRIDCC_TEST_DATABASE_URL") or PG_DEFAULT
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def replicate(session: Session, copies: int) -> int:
    """Copy every case ``copies - 1`` more times in SQL (same facts, another external id; no events):
    a large table in minutes where ``make_sample`` would take an hour on a loaded machine. Returns the
    number of cases."""
    table = Case.__table__
    columns = [c.name for c in table.columns if c.name not in ("id", "external_id")]
    listed = ", ".join(f'"{c}"' for c in columns)
    last = session.execute(select(func.max(Case.id))).scalar_one()
    for k in range(1, copies):
        session.execute(
            text(
                f'INSERT INTO "case" ({listed}, external_id) SELECT {listed}, external_id || :tag'  # noqa: S608
                ' FROM "case" WHERE id <= :last'
            ),
            {"tag": f"-copy{k}", "last": last},
        )
        session.commit()
    return int(session.execute(select(func.count()).select_from(Case)).scalar_one())


def load(engine: Engine, session: Session, cases: int, copies: int = 1) -> None:
    """Units, catalogue and sample as a bulk load: triggers off, ``case_daily`` rebuilt, triggers on."""
    t = time.perf_counter()
    seed_catalogue(session)
    stats = generate(session, [DISTRICT], grids_per_community=7)
    session.commit()
    print(f"units: {stats}  ({time.perf_counter() - t:.1f} s)")
    for statement in case_daily.drop_statements(engine.dialect.name):
        session.execute(text(statement))
    t = time.perf_counter()
    summary = make_sample(session, DISTRICT, cases // copies, NOW, seed=1)
    session.commit()
    took = time.perf_counter() - t
    print(f"sample: {summary}")
    print(f"sample insert: {took:.1f} s, {summary.cases / took:,.0f} cases/s ({summary.events:,} events)")
    if copies > 1:
        t = time.perf_counter()
        total = replicate(session, copies)
        took = time.perf_counter() - t
        print(f"replicated ×{copies} in SQL (no events for the copies): {total:,} cases, {took:.1f} s")
    t = time.perf_counter()
    rows = case_daily.rebuild(session.connection())
    case_daily.install(session.connection())
    session.commit()
    print(f"case_daily rebuilt: {rows:,} rows in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    analyse(engine, session)
    print(f"(VACUUM) ANALYZE of every table: {time.perf_counter() - t:.1f} s")


def add_case(session: Session, k: int) -> None:
    """One new case, as the ingest stores it (through ``case_daily``'s triggers): a copy of the latest
    case, received a minute before :data:`NOW`."""
    table = Case.__table__
    columns = [c.name for c in table.columns if c.name not in ("id", "external_id", "requested_at")]
    listed = ", ".join(f'"{c}"' for c in columns)
    session.execute(
        text(
            f'INSERT INTO "case" ({listed}, external_id, requested_at) SELECT {listed},'  # noqa: S608
            ' :external_id, :at FROM "case" WHERE id = (SELECT max(id) FROM "case")'
        ),
        {"external_id": f"bench-new-{k}", "at": NOW - timedelta(minutes=1)},
    )
    session.commit()


def wall_rebuild(factory: Callable[[], Session], scope: AreaScope, repeat: int) -> None:
    """The wall's figures (``layers.wall_payload``'s ``stats`` part) rebuilt after one new case and a
    version bump, on an embedded Redis: the build's time, and how many builds 4 walls asking for the new
    version at once caused (single flight, stale-while-building)."""
    folder = Path(tempfile.mkdtemp(prefix="gridcc-bench-redis-"))
    server = EmbeddedRedis(folder / "redis.sock", folder)
    conn = connect(server.start())
    builds: list[float] = []
    original = wall_payload.build_stats

    def counted(*args: Any, **kwargs: Any) -> dict[str, Any]:
        t = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            builds.append((time.perf_counter() - t) * 1000)

    wall_payload.build_stats = counted  # type: ignore[assignment]
    try:
        counts: list[int] = []
        stale: list[int] = []
        for k in range(repeat + 1):
            if k:
                with factory() as session:
                    add_case(session, k)
            before = len(builds)
            barrier = threading.Barrier(4)
            answers: list[dict[str, Any]] = []

            def ask(
                barrier: threading.Barrier = barrier, answers: list[dict[str, Any]] = answers, k: int = k
            ) -> None:
                barrier.wait(30)
                answers.append(
                    wall_payload.load(
                        "stats",
                        sessions=factory,
                        conn=conn,
                        scope=scope,
                        versions={"cases": k + 1, "kpis": k + 1},
                        now=NOW,
                        tz="Asia/Shanghai",
                        stale_after_polls=3,
                    )
                )

            threads = [threading.Thread(target=ask) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if k:  # the first round only warms the caches and stores a previous version
                counts.append(len(builds) - before)
                stale.append(sum(1 for a in answers if a.get("_stale")))
        took = statistics.median(builds[1:])
        print(
            f"{'wall stats rebuild after one new case':45s} {took:8.1f} ms   (median of {repeat}; first"
            f" build {builds[0]:.1f} ms; 4 walls at once: builds per new version {counts}, answered"
            f" the previous version while it built {stale})"
        )
    finally:
        wall_payload.build_stats = original  # type: ignore[assignment]
        conn.close()
        server.stop()
    wall_parts(factory, scope)


def wall_parts(factory: Callable[[], Session], scope: AreaScope) -> None:
    """Where a build of the wall's figures spends its time: each query ``build_stats`` runs, once."""
    with factory() as s:
        today, year = period_today(NOW), period_year(NOW)
        month = period_today(NOW - timedelta(days=wall_payload.TREND_DAYS - 1)).start
        calls: list[tuple[str, Callable[[], Any]]] = [
            ("cases_by_category (30 days)", lambda: cases_by_category(s, scope, month, today.end)),
            ("daily_trend (30 days)", lambda: daily_trend(s, scope, NOW, days=wall_payload.TREND_DAYS)),
            ("street_ranking (year)", lambda: street_ranking(s, scope, *year, NOW)),
            ("department_ranking (year)", lambda: department_ranking(s, scope, *year, NOW)),
            ("hotspots (30 days)", lambda: hotspots(s, scope, NOW, days=wall_payload.TREND_DAYS)),
            ("department_report_times (year)", lambda: department_report_times(s, scope, *year)),
            ("kpis (today)", lambda: kpis(s, scope, *today, NOW)),
            ("kpis (year)", lambda: kpis(s, scope, *year, NOW)),
            ("loop_figures (today)", lambda: loop_figures(s, scope, *today, NOW)),
            ("loop_figures (year)", lambda: loop_figures(s, scope, *year, NOW)),
        ]
        for name, fn in calls:
            t = time.perf_counter()
            fn()
            print(f"{'  wall part: ' + name:45s} {(time.perf_counter() - t) * 1000:8.1f} ms (one run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--raw-repeat", type=int, default=0, help="runs of the raw queries (default: --repeat)"
    )
    parser.add_argument(
        "--schema",
        default="",
        help="PostgreSQL: load into this schema and keep it; a schema already loaded is measured as it is",
    )
    parser.add_argument("--event-search", action="store_true", help="time the old ranking above 1 M cases")
    parser.add_argument(
        "--replicate", type=int, default=1, help="sample cases/N, then copy them N-1 times in SQL (no events)"
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the schema is dropped
    folder = tempfile.mkdtemp(prefix="gridcc-bench-")
    url, schema = database(args, folder)
    try:
        run(args, url)
    finally:
        if schema is not None:
            drop_schema(args, schema)


def run(args: argparse.Namespace, url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)
    with factory() as session:
        if session.execute(select(func.count()).select_from(Case)).scalar_one():
            print("measuring the cases already loaded (--schema)")
            t = time.perf_counter()
            analyse(engine, session)  # a migration may have rebuilt a table since
            print(f"(VACUUM) ANALYZE of every table: {time.perf_counter() - t:.1f} s")
        else:
            load(engine, session, args.cases, args.replicate)

    scope = AreaScope.district(DISTRICT)
    year, today = period_year(NOW), period_today(NOW)
    street = f"{DISTRICT}001"
    with factory() as s:
        baseline = median_ms(lambda: s.execute(select(func.count(), func.sum(Case.lon))).one(), args.repeat)
        week = period_named("7d", NOW)
        paired: list[tuple[str, Callable[[bool], Any]]] = [
            ("kpis (year)", lambda raw: kpis(s, scope, *year, NOW, raw=raw)),
            ("kpis (today)", lambda raw: kpis(s, scope, *today, NOW, raw=raw)),
            ("kpis (7 days, ragged ends)", lambda raw: kpis(s, scope, *week, NOW, raw=raw)),
            ("daily_trend (30 days)", lambda raw: daily_trend(s, scope, NOW, raw=raw)),
            ("street_ranking (year)", lambda raw: street_ranking(s, scope, *year, NOW, raw=raw)),
            ("department_ranking (year)", lambda raw: department_ranking(s, scope, *year, NOW, raw=raw)),
            ("cases_by_category (year)", lambda raw: cases_by_category(s, scope, *year, raw=raw)),
        ]
        exact: list[tuple[str, Callable[[], Any]]] = [
            ("hotspots (30 days, 300 m)", lambda: hotspots(s, scope, NOW)),
            ("overdue_by_unit (district → streets)", lambda: overdue_by_unit(s, scope, DISTRICT, NOW)),
            ("overdue_by_unit (street → communities)", lambda: overdue_by_unit(s, scope, street, NOW)),
            ("overdue_cases (district, 200)", lambda: overdue_cases(s, scope, DISTRICT, NOW)),
            (
                "open_cases (one street)",
                lambda: open_cases(s, scope, CaseFilter(street=street), now=NOW),
            ),
        ]
        n = s.execute(select(func.count()).select_from(Case)).scalar_one()
        print(f"\n{engine.dialect.name}, {n:,} cases, median of {args.repeat} runs")
        print(f"{'baseline: full scan of the case table':45s} {baseline:8.1f} ms")
        print(f"{'query':45s} {'case_daily':>11s} {'raw rows':>11s}  same answer")
        results = {}
        for name, fn in paired:
            fast = median_ms(lambda fn=fn: fn(False), args.repeat)
            slow = median_ms(lambda fn=fn: fn(True), args.raw_repeat or args.repeat)
            agree = same(fn(False), fn(True))
            results[name] = fast
            print(
                f"{name:45s} {fast:8.1f} ms {slow:8.1f} ms  {'yes' if agree else 'NO'}"
                f"   ({fast / baseline:.3f} / {slow / baseline:.2f} × baseline)"
            )
        for name, fn in exact:
            results[name] = median_ms(fn, args.repeat)
            took = results[name]
            print(f"{name:45s} {took:8.1f} ms (exact, rows)  ({took / baseline:.3f} × baseline)")
        both = results["kpis (year)"] + results["overdue_by_unit (district → streets)"]
        print(f"{'kpis (year) + overdue_by_unit (district)':45s} {both:8.1f} ms")
        name = "department_ranking, per-case event search"
        if args.replicate > 1 or args.schema:
            print(f"{name:45s} (skipped: copies made by --replicate have no events)")
        elif args.cases > 1_000_000 and not args.event_search:
            print(f"{name:45s} (skipped above 1,000,000 cases: --event-search)")
        else:
            t = time.perf_counter()
            by_events = department_ranking_from_events(s, scope, *year, NOW)
            old = (time.perf_counter() - t) * 1000
            stored = results["department_ranking (year)"]
            agree = same_ranking(department_ranking(s, scope, *year, NOW), by_events)
            print(
                f"{name:45s} {old:8.1f} ms   ({old / baseline:.2f} × baseline, one run; from case_daily"
                f" {old / stored:.0f}× faster; same answer: {'yes' if agree else 'NO'})"
            )

        wall_rebuild(factory, scope, args.repeat)

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
