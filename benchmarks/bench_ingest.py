"""Ingest throughput: ``poll_feed`` over a local 10,000-record Open311 feed (paged, 200 a page),
beside a raw bulk insert (SQLAlchemy Core ``insert()``) of the same rows into the same database,
measured in the same run.

    python benchmarks/bench_ingest.py [--records 10000] [--page-size 200]
                                      [--database sqlite|postgresql] [--database-url URL] [--profile]

The poll keeps ``case_daily`` (the screens' aggregates, :mod:`data.case_daily`) in its own transaction,
as it always does. The raw insert is timed twice: bare (``case_daily``'s triggers dropped, what a bulk
loader that rebuilds the aggregates afterwards pays) — the baseline of the ratio — and with the triggers
on, to show what keeping the aggregates costs by itself.

Runs in a temporary folder: SQLite (or with ``--database postgresql`` a private schema, dropped at the
end, in the PostgreSQL of ``--database-url``, as ``bench_queries.py`` does), the real
grid hierarchy of district 500151 (generated), a private embedded Redis and a local HTTP feed. The
timed poll runs in a warm process, as in a long-lived ``rq worker``: a first poll of the still empty
feed pays the imports and the grid locator, and its time is printed apart.

``--profile`` runs the timed poll under cProfile and prints its 25 costliest functions (cumulative)
and every SQL statement it sent, counted and timed (an ``executemany`` is one execution); the profiler's
own overhead makes that poll slower, so its time is not comparable with a run without it.

The feed-to-database latency of cases filed through the 12345 simulator is measured by
``benchmarks/bench_latency.py`` (it starts the whole demo stack).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import sys
import tempfile
import threading
import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Engine, delete, event, insert, select, text

from data import case_daily, migrate
from data.db import make_engine, make_sessionmaker, transaction
from data.geo.generate import ensure_default
from data.models import AdminUnit, Case
from data.redis_server import EmbeddedRedis
from data.seed import seed_catalogue
from data.settings import Settings
from workers.jobs.poll import run_poll
from workers.runtime import Runtime

sys.path.insert(0, str(Path(__file__).parent))
from bench_queries import database, drop_schema  # noqa: E402 - the sibling script, found through sys.path

CST = timezone(timedelta(hours=8))
CATEGORIES = [
    ("city.clutter", "乱堆乱放"),
    ("dispute.neighbour", "邻里纠纷"),
    ("environment.noise", "噪声扰民"),
]
STATUSES = ["reported", "accepted", "assigned", "in_progress", "resolved", "closed"]


def make_records(
    n: int, bbox: tuple[float, float, float, float], prefix: str = "B", first: int = 0
) -> list[dict[str, Any]]:
    """``n`` records every 20 s from ``first`` on (a second set with another prefix and ``first = n``
    follows the first set in time, so a poll after the first takes it as new)."""
    rng = random.Random(42 + first)
    start = datetime.now(UTC) - timedelta(days=6)
    rows = []
    for i in range(first, first + n):
        at = start + timedelta(seconds=20 * i)
        code, name = CATEGORIES[i % len(CATEGORIES)]
        rows.append(
            {
                "service_request_id": f"{prefix}{i:06d}",
                "status": STATUSES[i % len(STATUSES)],
                "service_code": code,
                "service_name": name,
                "description": f"市民反映{name}问题，请尽快处理。编号{i}",
                "address": "铜梁区巴川街道",
                "lat": round(rng.uniform(bbox[1], bbox[3]), 6),
                "long": round(rng.uniform(bbox[0], bbox[2]), 6),
                "requested_datetime": at.astimezone(CST).isoformat(timespec="seconds"),
                "updated_datetime": at.astimezone(CST).isoformat(timespec="seconds"),
                "priority": "normal",
            }
        )
    return rows


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *_args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        query = parse_qs(urlsplit(self.path).query)
        page = int(query.get("page", ["1"])[0])
        size = int(query.get("page_size", ["200"])[0])
        rows = self.server.rows  # ordered by updated_datetime
        if "updated_after" in query:
            after = datetime.fromisoformat(query["updated_after"][0])
            rows = rows[bisect_right(self.server.times, after) :]
        body = json.dumps(rows[(page - 1) * size : page * size], ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.rows = rows

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self._rows

    @rows.setter
    def rows(self, rows: list[dict[str, Any]]) -> None:
        """The feed's records, oldest first, with their times parsed once (the server shares this
        process, and so the poll's interpreter, with the ingest it serves)."""
        self._rows = rows
        self.times = [datetime.fromisoformat(r["updated_datetime"]) for r in rows]


def raw_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same records as plain ``case`` rows (what a bulk loader would write, nothing more)."""
    out = []
    for r in records:
        at = datetime.fromisoformat(r["updated_datetime"]).astimezone(UTC)
        out.append(
            {
                "feed_name": "raw", "external_id": r["service_request_id"],
                "category_code": r["service_code"],
                "category_name": r["service_name"], "status": r["status"], "source_status": r["status"],
                "description": r["description"], "address": r["address"], "lon": r["long"], "lat": r["lat"],
                "requested_at": at, "accepted_at": at, "source_updated_at": at, "priority": "normal",
                "placement": "unplaced", "is_open": r["status"] not in ("resolved", "closed"),
                "due_soon": False, "overdue": False, "escalation_level": "community", "supervision": "none",
                "created_at": at, "modified_at": at,
            }
        )  # fmt: skip
    return out


def timed_insert(engine: Engine, rows: list[dict[str, Any]], triggers: bool) -> float:
    """Seconds for one Core ``insert()`` of ``rows`` (then deleted again), with or without the
    ``case_daily`` triggers."""
    dialect = engine.dialect.name
    if not triggers:
        with engine.begin() as conn:
            for statement in case_daily.drop_statements(dialect):
                conn.execute(text(statement))
    try:
        t = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(insert(Case), rows)
        took = time.perf_counter() - t
        with engine.begin() as conn:
            conn.execute(delete(Case).where(Case.feed_name == "raw"))
    finally:
        if not triggers:
            with engine.begin() as conn:
                case_daily.install(conn)
    return took


@contextmanager
def profiled(on: bool) -> Iterator[None]:
    """With ``on``: cProfile and every statement's count and time over the block, printed after it."""
    if not on:
        yield
        return
    statements: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    starts: list[float] = []

    def start(*_args: Any) -> None:
        starts.append(time.perf_counter())

    def end(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        entry = statements[" ".join(statement.split())[:110]]
        entry[0] += 1
        entry[1] += time.perf_counter() - starts.pop()

    event.listen(Engine, "before_cursor_execute", start)
    event.listen(Engine, "after_cursor_execute", end)
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        event.remove(Engine, "before_cursor_execute", start)
        event.remove(Engine, "after_cursor_execute", end)
    pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    print(f"{'count':>7}{'seconds':>9}  statement")
    for sql, (count, took) in sorted(statements.items(), key=lambda kv: -kv[1][1]):
        print(f"{count:>7}{took:>9.3f}  {sql}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--profile", action="store_true", help="profile the timed poll (see the docstring)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, schema = database(args, tmp)
        try:
            run(args, Path(tmp), url)
        finally:
            if schema is not None:
                drop_schema(args, schema)


def run(args: argparse.Namespace, folder: Path, url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)
    t = time.perf_counter()
    with transaction(factory) as session:
        seed_catalogue(session)
        ensure_default(session, "500151")
    print(f"hierarchy of 500151 generated in {time.perf_counter() - t:.1f} s")
    with factory() as session:
        d = session.scalars(select(AdminUnit).where(AdminUnit.code == "500151")).one()
        bbox = (d.min_lon or 0, d.min_lat or 0, d.max_lon or 0, d.max_lat or 0)
    records = make_records(args.records, bbox)

    redis = EmbeddedRedis(folder / "redis.sock", folder)
    server = _Server([])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    feeds = folder / "feeds.toml"
    feeds.write_text(
        '[[feed]]\nname = "bench"\ndepartment = "hotline12345"\nprotocol = "open311"\n'
        f'url = "http://127.0.0.1:{server.server_address[1]}/requests.json"\ninterval = 5\n'
        f"page_size = {args.page_size}\ntimeout = 30\n",
        encoding="utf-8",
    )
    try:
        redis_url = redis.start()
        settings = Settings(data_dir=folder, database_url=url, redis_url=redis_url, feeds_file=feeds)
        rt = Runtime.build(settings)

        # A worker process pays its imports and the grid locator once, on its first poll: time
        # that apart (a poll of the feed while it is still empty), then the steady state.
        t = time.perf_counter()
        run_poll(rt, "bench")
        first_s = time.perf_counter() - t
        server.rows = records

        with profiled(args.profile):
            t = time.perf_counter()
            result = run_poll(rt, "bench")
            poll_s = time.perf_counter() - t
        assert result["new"] == args.records, result

        rows = raw_rows(records)
        raw_s = timed_insert(engine, rows, triggers=False)
        kept_s = timed_insert(engine, rows, triggers=True)

        t = time.perf_counter()
        again = run_poll(rt, "bench")  # nothing new: the cursor's cost alone
        idle_s = time.perf_counter() - t

        # the same poll of as many new records with case_daily's triggers dropped: what keeping the
        # aggregates costs the ingest
        server.rows = records + make_records(args.records, bbox, prefix="C", first=args.records)
        with engine.begin() as conn:
            for statement in case_daily.drop_statements(engine.dialect.name):
                conn.execute(text(statement))
        t = time.perf_counter()
        bare = run_poll(rt, "bench")
        bare_poll_s = time.perf_counter() - t
        assert bare["new"] == args.records, bare
        with engine.begin() as conn:
            case_daily.install(conn)
        rt.close()
    finally:
        server.shutdown()
        redis.stop()
        engine.dispose()

    n = args.records
    pages = -(-n // args.page_size)
    print(f"database: {engine.url.get_backend_name()}   records: {n}   pages: {pages} × {args.page_size}")
    print(f"{'':34}{'seconds':>10}{'records/s':>12}")
    print(f"{'poll_feed (fetch+parse+place+upsert)':34}{poll_s:>10.2f}{n / poll_s:>12,.0f}")
    print(f"{'  the same, case_daily not kept':34}{bare_poll_s:>10.2f}{n / bare_poll_s:>12,.0f}")
    print(f"{'raw Core insert() of the same rows':34}{raw_s:>10.2f}{n / raw_s:>12,.0f}")
    print(f"{'  the same, case_daily kept':34}{kept_s:>10.2f}{n / kept_s:>12,.0f}")
    print(
        f"ratio: poll_feed (case_daily kept) reaches {raw_s / poll_s:.2f} of the bare raw throughput"
        f" ({poll_s / raw_s:.1f}× slower); keeping case_daily alone costs the raw insert"
        f" {kept_s / raw_s:.2f}× (a row at a time), the poll {poll_s / bare_poll_s:.2f}× (without it the"
        f" poll reaches {raw_s / bare_poll_s:.2f})"
    )
    print(f"a poll with nothing new: {idle_s * 1000:.0f} ms ({again['received']} records received)")
    print(f"first poll of a fresh process (imports, grid locator; empty feed): {first_s * 1000:.0f} ms")


if __name__ == "__main__":
    main()
