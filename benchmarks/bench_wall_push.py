"""A case on the wall in about a second: the long poll beside the 1 s tick, in one run.

    python benchmarks/bench_wall_push.py [--cases 30] [--walls 100] [--seconds 60] [--small]

Two web servers (gunicorn, gthread) over one database (SQLite: the demo district 500151 with a year of
sample cases, as ``bench_wall.py``; ``--small``: the tests' eight-grid hierarchy) and one private Redis:

* **tick** — the old mechanism: ``GRIDCC_LONG_POLL_SLOTS=0``, 2 processes × 8 threads (the old
  ``gridcc web`` default). Every long poll is answered "full" at once, so the walls tick each second;
* **long poll** — the new one: 2 processes × 128 threads, 112 waits per process (``gridcc web`` now).

1. **New case → marker on an open wall** (headless Chromium, one page per server, each at zoom 17 on the
   case's grid, where every case is its own marker ``.case-<id>``): :func:`file_case` commits a case and
   bumps ``cases``/``kpis`` (what the ingest does after its commit), at a random moment of the tick's
   second; the time runs from just before the commit to the first animation frame after the marker
   entered each page's DOM (a MutationObserver noting when each ``case-<id>`` first appears, so the
   moment is caught even if it comes before the filing call returns). Both pages see the same cases.
2. **Load**: ``--walls`` simulated walls (asyncio clients doing what ``gridcc_map.js`` and ``wall.js``
   do: ask for the versions — each second, or held — and on a change fetch the new cases layer, the
   counts of three levels and ``POST /api/wall``) against each server in turn for ``--seconds`` while a
   case arrives every 2 s; per request type p50/p95/p99 and errors, and the web tier's CPU (all the
   server's processes, user + system) per wall. For the long poll, "versions" is the time from the
   bump to the held request's answer, and "held" how long each long poll was held (their number is
  what the walls asked).

No timed assertion anywhere: figures are printed, each beside the tick measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy.orm import Session, sessionmaker

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from wall_clients import Stats, cpu_seconds, percentile, table, token, wall  # noqa: E402

from data import migrate  # noqa: E402
from data.db import make_engine, make_sessionmaker  # noqa: E402
from data.redis_server import connect  # noqa: E402
from data.seed import seed_catalogue  # noqa: E402
from layers import versions  # noqa: E402
from tests.wall_live import FIRST_SEEN, MOVE_TO, PROBE_ZOOM, Live, Web, insert_case, open_wall  # noqa: E402

CASE_EVERY_S = 2.0
# each server its own Redis keyspace (db), so that neither finds payloads the other built: the page
# that hears of a case first would otherwise pay every build, and the other find them done
KEYSPACES = {"tick": 1, "long poll": 0}


# ------------------------------------------------------------------------------------------ data
def build_database(folder: Path, small: bool) -> tuple[str, list[tuple[str, float, float]]]:
    """The database URL and the grids (code, label lon, lat) new cases are filed in."""
    if not small:
        from bench_wall import build_dataset

        url = build_dataset(folder, city=False, open_cases=0).url
    else:
        from tests.layers.hierarchy import add_case, build_hierarchy

        url = f"sqlite:///{folder / 'small.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        with make_sessionmaker(engine)() as session:
            seed_catalogue(session)
            for i, grid in enumerate(build_hierarchy(session)):
                add_case(session, grid, external_id=f"seed-{i}")
            session.commit()
        engine.dispose()
    from sqlalchemy import select

    from data.models import AdminUnit

    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        rows = session.execute(
            select(AdminUnit.code, AdminUnit.label_lon, AdminUnit.label_lat).where(AdminUnit.level == "grid")
        ).all()
    engine.dispose()
    return url, [(r.code, float(r.label_lon), float(r.label_lat)) for r in rows]


def file_case(
    factory: sessionmaker[Session], conns: list[redis.Redis], grid: str, lon: float, lat: float
) -> int:
    """File one new case and tell the walls; its id. Today: commit it and bump ``cases``/``kpis``, what the
    ingest does after its commit (in each server's keyspace: see :data:`KEYSPACES`). When the push
    endpoint lands (``POST /open311/v2/requests``, branch ``push``), this is the one function to point
    at it: POST the request, return the stored case's id."""
    case_id = insert_case(factory, grid, lon, lat)
    for conn in conns:
        versions.bump(conn, ["cases", "kpis"])
    return case_id


# ------------------------------------------------------------------------------------------ 1. latency
def marker_latency(
    live: Live,
    webs: dict[str, Web],
    factory: sessionmaker[Session],
    grids: list[Any],
    n: int,
    rng: random.Random,
) -> dict[str, list[float | None]]:
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float | None]] = {name: [] for name in webs}
    heard: dict[str, list[float | None]] = {name: [] for name in webs}
    conns = [connect(f"{live.redis_url}?db={db}") for db in KEYSPACES.values()]
    with sync_playwright() as pw:
        opened = {name: open_wall(pw, web.url) for name, web in webs.items()}
        try:
            for _, page in opened.values():
                page.evaluate(FIRST_SEEN)
            for i in range(n):
                grid, lon, lat = rng.choice(grids)
                lon += rng.uniform(-0.0004, 0.0004)
                lat += rng.uniform(-0.0004, 0.0004)
                for _, page in opened.values():
                    page.evaluate(MOVE_TO, [lat, lon, PROBE_ZOOM])
                time.sleep(2.5)  # the views settle (the viewport's grids and cases)
                time.sleep(rng.uniform(0, 1))  # not in step with the tick
                t0 = time.time() * 1000
                case_id = file_case(factory, conns, grid, lon, lat)
                deadline = time.monotonic() + 30
                got: dict[str, float | None] = {name: None for name in webs}
                while time.monotonic() < deadline and any(v is None for v in got.values()):
                    for name, (_, page) in opened.items():
                        if got[name] is None:
                            seen = page.evaluate(f"() => (window.__firstSeen || {{}})['{case_id}'] || 0")
                            if seen:
                                got[name] = float(seen) - t0
                    time.sleep(0.02)
                for name, (_, page) in opened.items():
                    out[name].append(got[name])
                    # the first versions answer that ended after the commit (for the tick, possibly one
                    # that read Redis just before the bump: an early bound)
                    ends = page.evaluate(f"() => (window.__versionsAt || []).filter((t) => t >= {t0})")
                    heard[name].append(min(ends) - t0 if ends and got[name] is not None else None)
                shown = "  ".join(
                    f"{name} {v:7.0f} ms" if v is not None else f"{name}   timeout" for name, v in got.items()
                )
                print(f"  case {i + 1:3d}/{n}: {shown}", flush=True)
        finally:
            for browser, _ in opened.values():
                browser.close()
    for conn in conns:
        conn.close()
    for name in webs:
        out[name + ": heard"] = heard[name]
    return out


# ------------------------------------------------------------------------------------------ 2. load
def _cases_while(
    redis_url: str, factory: sessionmaker[Session], grids: list[Any], stop: float, bumped: dict[str, float]
) -> None:
    """A new case every :data:`CASE_EVERY_S` until ``stop``, each committed then bumped."""
    conn = connect(redis_url)
    rng = random.Random(11)
    while time.monotonic() < stop:
        grid, lon, lat = rng.choice(grids)
        case_id = insert_case(factory, grid, lon, lat)
        at = time.time()
        versions.bump(conn, ["cases", "kpis"])
        bumped[token(versions.read(conn))] = at
        del case_id
        time.sleep(CASE_EVERY_S)
    conn.close()


def load(
    live: Live,
    web: Web,
    factory: sessionmaker[Session],
    grids: list[Any],
    walls: int,
    seconds: float,
    long_poll: bool,
    cases: bool = True,
) -> tuple[Stats, float, float]:
    """``walls`` simulated walls for ``seconds`` (with cases arriving, or none); (stats, web CPU s,
    this client's CPU s). One HTTP client with a connection per wall (creating a hundred clients costs
    the client seconds of CPU); each wall reads its first versions before the clock starts."""
    first = httpx.get(web.url, timeout=120)  # the session and CSRF cookies a wall's page sets
    csrf = first.cookies.get("_csrf_token") or ""
    redis_url = web.env["GRIDCC_REDIS_URL"]  # the server's own keyspace
    stats = Stats()
    bumped: dict[str, float] = {}
    pids = web.pids()
    measured: dict[str, float] = {}

    async def main() -> None:
        limits = httpx.Limits(max_connections=walls * 3, max_keepalive_connections=walls * 3)
        async with httpx.AsyncClient(
            base_url=web.url.rstrip("/"),
            cookies=first.cookies,
            headers={"X-CSRFToken": csrf},
            timeout=httpx.Timeout(60.0),
            limits=limits,
        ) as client:
            firsts = await asyncio.gather(*(client.get("/api/versions") for _ in range(walls)))
            measured["cpu0"], measured["me0"] = cpu_seconds(pids), cpu_seconds([os.getpid()])
            stop = time.monotonic() + seconds
            feeder = threading.Thread(
                target=_cases_while, args=(redis_url, factory, grids, stop, bumped), daemon=True
            )
            if cases:
                feeder.start()
            await asyncio.gather(*(wall(client, r.json(), long_poll, stop, stats, bumped) for r in firsts))
            measured["cpu1"], measured["me1"] = cpu_seconds(pids), cpu_seconds([os.getpid()])
            if cases:
                feeder.join(10)

    asyncio.run(main())
    return stats, measured["cpu1"] - measured["cpu0"], measured["me1"] - measured["me0"]


# ------------------------------------------------------------------------------------------ report
def _row(label: str, values: list[float | None]) -> str:
    got = [v for v in values if v is not None]
    missed = len(values) - len(got)
    if not got:
        return f"{label:28}{'—':>9}{'—':>9}{'—':>9}{missed:>9}"
    return f"{label:28}{statistics.median(got):>9.0f}{percentile(got, 95):>9.0f}{max(got):>9.0f}{missed:>9}"


def _load_table(name: str, stats: Stats, cpu: float, seconds: float, walls: int) -> list[str]:
    lines = [
        f"  {name}: web CPU {cpu:.1f} s in {seconds:g} s = "
        f"{cpu / seconds * 1000 / walls:.2f} ms CPU per wall per second"
    ]
    return lines + table(stats, ("versions", "held", "cases layer", "counts", "api/wall"))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=30, help="new cases watched on the open walls")
    parser.add_argument("--walls", type=int, default=100, help="simulated walls for the load figure")
    parser.add_argument("--seconds", type=float, default=60.0, help="load duration per mechanism")
    parser.add_argument("--quiet-seconds", type=float, default=30.0, help="then without new cases")
    parser.add_argument("--small", action="store_true", help="the tests' hierarchy, not the demo district")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(
        f"# bench_wall_push — {datetime.now(UTC).astimezone().strftime('%Y-%m-%d %H:%M %Z')}; "
        f"{platform.machine()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="gridcc-bench-push-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        url, grids = build_database(folder, args.small)
        print(f"database ready in {time.perf_counter() - t:.0f} s ({len(grids)} grids)", flush=True)
        live = Live(folder, url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        try:
            live.start_redis().close()
            webs = {
                "tick": live.web(
                    "tick",
                    workers=2,
                    threads=8,
                    GRIDCC_LONG_POLL_SLOTS="0",
                    GRIDCC_REDIS_URL=f"{live.redis_url}?db={KEYSPACES['tick']}",
                ),
                "long poll": live.web(
                    "long-poll",
                    workers=2,
                    threads=128,
                    GRIDCC_LONG_POLL_SLOTS="112",
                    GRIDCC_REDIS_URL=f"{live.redis_url}?db={KEYSPACES['long poll']}",
                ),
            }
            lines: list[str] = []
            if not args.skip_browser:
                got = marker_latency(live, webs, factory, grids, args.cases, rng)
                lines.append(
                    "1. new case committed + versions bumped → marker on an open wall (ms), "
                    f"{args.cases} cases"
                )
                lines.append(f"{'':28}{'median':>9}{'p95':>9}{'max':>9}{'missed':>9}")
                lines.append(_row("long poll (new)", got["long poll"]))
                lines.append(_row("baseline: 1 s tick (old)", got["tick"]))
                lines.append(
                    "   of which: commit → the page has the new versions (its /api/versions answer ended)"
                )
                lines.append(_row("long poll (new)", got["long poll: heard"]))
                lines.append(_row("baseline: 1 s tick (old)", got["tick: heard"]))
            if not args.skip_load:
                lines.append(
                    f"2. {args.walls} simulated walls for {args.seconds:g} s, "
                    f"a case every {CASE_EVERY_S:g} s "
                    "(long poll 'versions' = bump → answer)"
                )
                for name, long_poll in (("tick", False), ("long poll", True)):
                    web = webs[name]
                    print(f"  load on {name} …", flush=True)
                    stats, cpu, mine = load(live, web, factory, grids, args.walls, args.seconds, long_poll)
                    lines += _load_table(
                        name + (" (new)" if long_poll else " (old, baseline)"),
                        stats,
                        cpu,
                        args.seconds,
                        args.walls,
                    )
                    lines.append(f"    (the simulated walls' own CPU: {mine:.1f} s)")
                lines.append(
                    f"3. the same walls for {args.quiet_seconds:g} s with no new case (what waiting costs)"
                )
                for name, long_poll in (("tick", False), ("long poll", True)):
                    stats, cpu, mine = load(
                        live,
                        webs[name],
                        factory,
                        grids,
                        args.walls,
                        args.quiet_seconds,
                        long_poll,
                        cases=False,
                    )
                    lines += _load_table(
                        name + (" (new)" if long_poll else " (old, baseline)"),
                        stats,
                        cpu,
                        args.quiet_seconds,
                        args.walls,
                    )
            print("\n".join(lines))
        finally:
            live.close()
            engine.dispose()


if __name__ == "__main__":
    main()
