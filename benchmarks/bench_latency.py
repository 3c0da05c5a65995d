"""A new case from its filing to its marker on an open wall, pushed and polled, in one run of the whole
``gridcc demo`` stack (simulators, ``rq cron``, real ``rq worker`` processes, embedded Redis, SQLite,
the web server) with the wall open in headless Chromium.

    python benchmarks/bench_latency.py [--cases 30] [--data-dir DIR]

* **pushed** — ``POST /open311/v2/requests.json`` at gridcc itself with the demo's reporting app's key
  (``<data_dir>/demo-keys.json``), answered once a worker has stored the case;
* **polled** (the baseline) — the same request filed with the 12345 hotline simulator
  (``POST requests.json``), which gridcc reads on the feed's next poll.

The two alternate, ``--cases`` of each, on one wall signed in through the demo's wall link. Before each
case the wall's map moves to zoom 17 on the case's grid (every case its own marker, ``.case-<id>``) and
settles; the clock starts just before the POST. Each case's times, all from that start:

* **POST answered** — the POST's answer (pushed: the case is stored; polled: the simulator has it);
* **commit** — the layer versions bumped after the case's commit (heard on Redis' channel: pushed, the
  bump that made the ``cases`` version read as the answer came; polled, the first one after the last
  look at the database that did not find the case began);
* **page knows** — the wall read that ``cases`` version from ``/api/versions``;
* **layer fetched** — the wall finished fetching the cases layer of that version;
* **marker drawn** — the first animation frame after the marker entered the page (``tests.wall_live.
  FIRST_SEEN``, shared with ``bench_wall_push.py``).

The demo's own feeds keep filing and changing cases meanwhile, as a real district's would. Nothing is
asserted; figures are printed, the polled path beside the pushed one, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.stack (the demo harness) and tests.wall_live (the wall)

from data.db import make_engine  # noqa: E402
from data.models import AdminUnit, Case, FeedHealth  # noqa: E402
from data.redis_server import connect  # noqa: E402
from layers import versions  # noqa: E402
from tests.stack import Demo  # noqa: E402
from tests.wall_live import FIRST_SEEN, MOVE_TO, PROBE_ZOOM, open_wall, timeline  # noqa: E402

FEED = "hotline12345"
APP_KEY = "demo_app"  # the demo's reporting app: files into the hotline's feed (gridcc.cli.demo_keys)
STAGES = ("answered", "commit", "knows", "layer", "marker")
LABELS = {
    "answered": "POST answered",
    "commit": "commit (versions bumped)",
    "knows": "page knows (/api/versions)",
    "layer": "cases layer fetched",
    "marker": "marker drawn",
}
CASE_TIMEOUT_S = 45.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100), linear between the closest ranks."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def now_ms() -> float:
    return time.time() * 1000


def wait_ready(engine: Engine, feeds: list[str], timeout: float = 300) -> None:
    """Until every feed has completed a poll (the first ones bring in the year's history)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(engine) as session:
            done = session.scalars(
                select(FeedHealth.feed_name).where(FeedHealth.last_success_at.is_not(None))
            )
            if set(feeds) <= set(done):
                return
        time.sleep(0.5)
    raise SystemExit("the demo's feeds did not complete a first poll in time")


def grid_points(engine: Engine, n: int, rng: random.Random) -> list[tuple[float, float]]:
    with Session(engine) as session:
        rows = session.execute(
            select(AdminUnit.label_lon, AdminUnit.label_lat).where(AdminUnit.level == "grid")
        ).all()
    return [(float(lon or 0), float(lat or 0)) for lon, lat in rng.sample(rows, n)]


class Bumps:
    """Every ``cases`` bump as it is published on the versions channel: (epoch ms, version after it)."""

    def __init__(self, redis_url: str) -> None:
        self.conn = connect(redis_url)
        self.seen: list[tuple[float, int]] = []
        self.lock = threading.Lock()
        self.pubsub = self.conn.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(versions.CHANNEL)
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        try:
            for message in self.pubsub.listen():
                at = now_ms()
                names = message["data"].decode() if isinstance(message["data"], bytes) else ""
                if "cases" in names.split(","):
                    v = int(self.conn.get(versions.PREFIX + "cases") or 0)
                    with self.lock:
                        self.seen.append((at, v))
        except (redis.ConnectionError, ValueError):  # closed at the end
            return

    def last_upto(self, version: int, since: float) -> tuple[float, int] | None:
        """The last bump since ``since`` that made a version no higher than ``version``."""
        with self.lock:
            got = [b for b in self.seen if since <= b[0] and b[1] <= version]
        return got[-1] if got else None

    def first_after(self, t: float) -> tuple[float, int] | None:
        with self.lock:
            got = [b for b in self.seen if b[0] >= t]
        return got[0] if got else None

    def close(self) -> None:
        try:
            self.pubsub.close()
            self.conn.close()
        except redis.RedisError:
            pass


@dataclass
class Filing:
    """Where the stack is and how a case is filed by each path."""

    gridcc: str
    simulator: str
    key: str
    gridcc_code: str
    simulator_code: str
    engine: Engine
    bumps: Bumps
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def push(self, i: int, lon: float, lat: float, t0: float) -> tuple[int, float, tuple[float, int] | None]:
        """POST at gridcc; (case id, answered, the commit's bump)."""
        answer = self.client.post(
            f"{self.gridcc}/open311/v2/requests.json",
            data={
                "service_code": self.gridcc_code,
                "description": f"推送延迟测试 {i}",
                "lat": lat,
                "long": lon,
            },
            headers={"X-Api-Key": self.key},
        )
        answered = now_ms()
        # the job bumped the versions before it answered: the cases version now holds the case
        version = int(self.bumps.conn.get(versions.PREFIX + "cases") or 0)
        answer.raise_for_status()
        time.sleep(0.05)  # the listener has heard that bump
        return int(answer.json()[0]["service_request_id"]), answered, self.bumps.last_upto(version, t0)

    def poll(self, i: int, lon: float, lat: float) -> tuple[str, float]:
        """POST at the 12345 simulator; (its request id, answered)."""
        answer = self.client.post(
            f"{self.simulator}/requests.json",
            data={
                "service_code": self.simulator_code,
                "description": f"轮询延迟测试 {i}",
                "lat": lat,
                "long": lon,
            },
        )
        answered = now_ms()
        answer.raise_for_status()
        return str(answer.json()[0]["service_request_id"]), answered

    def stored(self, request_id: str, deadline: float) -> tuple[int, float] | None:
        """The polled case's gridcc id once it is in the database, and when the last look that did not
        find it began (the commit, and the bump after it, came later)."""
        missed = now_ms()
        while time.monotonic() < deadline:
            began = now_ms()
            with Session(self.engine) as session:
                found = session.scalar(
                    select(Case.id).where(Case.feed_name == FEED, Case.external_id == request_id)
                )
            if found is not None:
                return int(found), missed
            missed = began
            time.sleep(0.05)
        return None


def one_case(filing: Filing, page: Any, path: str, i: int, lon: float, lat: float) -> dict[str, float | None]:
    """File one case by ``path`` and follow it to the marker; each stage's ms from the start."""
    page.evaluate(MOVE_TO, [lat, lon, PROBE_ZOOM])
    time.sleep(2.5)  # the view settles (the viewport's grids and cases)
    time.sleep(random.uniform(0, 1))
    deadline = time.monotonic() + CASE_TIMEOUT_S
    t0 = now_ms()
    out: dict[str, float | None] = dict.fromkeys(STAGES)
    if path == "pushed":
        case_id, answered, bump = filing.push(i, lon, lat, t0)
    else:
        request_id, answered = filing.poll(i, lon, lat)
        found = filing.stored(request_id, deadline)
        if found is None:
            out["answered"] = answered - t0
            return out
        case_id, missed = found
        bump = None
        while bump is None and time.monotonic() < deadline:
            bump = filing.bumps.first_after(missed)
            time.sleep(0.02)
    out["answered"] = answered - t0
    if bump is None:
        return out
    out["commit"] = bump[0] - t0
    while time.monotonic() < deadline:
        seen = timeline(page, case_id, t0, bump[1])
        if seen["marker"]:
            break
        time.sleep(0.05)
    for stage in ("knows", "layer", "marker"):
        out[stage] = None if seen[stage] is None else seen[stage] - t0
    return out


def table(name: str, rows: list[dict[str, float | None]]) -> list[str]:
    lines = [
        f"{name}: {len(rows)} cases, ms from the POST",
        f"{'':30}{'median':>9}{'p95':>9}{'max':>9}{'missed':>8}",
    ]
    for stage in STAGES:
        got = [r[stage] for r in rows if r[stage] is not None]
        label = f"  {LABELS[stage]}"
        if not got:
            lines.append(f"{label:30}{'—':>9}{'—':>9}{'—':>9}{len(rows):>8}")
            continue
        lines.append(
            f"{label:30}{statistics.median(got):>9.0f}{percentile(got, 95):>9.0f}{max(got):>9.0f}"
            f"{len(rows) - len(got):>8}"
        )
    return lines


def load_average() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(demo: Demo, filing: Filing, cases: int, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    from playwright.sync_api import sync_playwright

    points = grid_points(filing.engine, 2 * cases, rng)
    order = ["pushed", "polled"] * cases
    got: dict[str, list[dict[str, Any]]] = {"pushed": [], "polled": []}
    with sync_playwright() as pw:
        browser, page = open_wall(pw, demo.wall_link)
        try:
            page.evaluate(FIRST_SEEN)
            for i, (path, (lon, lat)) in enumerate(zip(order, points, strict=True)):
                lon += rng.uniform(-0.0001, 0.0001)
                lat += rng.uniform(-0.0001, 0.0001)
                row = one_case(filing, page, path, i, lon, lat)
                got[path].append(row)
                shown = "  ".join(
                    f"{s} {row[s]:6.0f}" if row[s] is not None else f"{s}      —" for s in STAGES
                )
                print(f"  {i + 1:3d}/{2 * cases} {path:6}  {shown}", flush=True)
        finally:
            browser.close()
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=30, help="cases per path (pushed, polled)")
    parser.add_argument("--data-dir", type=Path, default=None, help="(default: a temporary folder)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    random.seed(args.seed)
    print(
        f"# bench_latency — {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; {platform.machine()}, "
        f"{os.cpu_count()} cores; {load_average()}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        demo = Demo((args.data_dir or Path(tmp)) / "var")
        engine = None
        bumps = None
        try:
            t = time.perf_counter()
            demo.start()
            print(f"demo stack up in {time.perf_counter() - t:.1f} s", flush=True)
            feeds = tomllib.loads((demo.data_dir / "feeds.toml").read_text(encoding="utf-8"))["feed"]
            hotline = next(f for f in feeds if f["name"] == FEED)
            simulator = "{0.scheme}://{0.netloc}".format(urlsplit(hotline["url"]))
            engine = make_engine(demo.database_url)
            t = time.perf_counter()
            wait_ready(engine, [f["name"] for f in feeds])
            took = time.perf_counter() - t
            print(
                f"first poll of all {len(feeds)} feeds (the year's history) done {took:.1f} s later",
                flush=True,
            )
            keys = json.loads((demo.data_dir / "demo-keys.json").read_text(encoding="utf-8"))
            gridcc = demo.url.rstrip("/")
            bumps = Bumps(demo.redis_url)
            filing = Filing(
                gridcc=gridcc,
                simulator=simulator,
                key=keys[APP_KEY],
                gridcc_code=httpx.get(f"{gridcc}/open311/v2/services.json", timeout=10).json()[0][
                    "service_code"
                ],
                simulator_code=httpx.get(f"{simulator}/services.json", timeout=10).json()[0]["service_code"],
                engine=engine,
                bumps=bumps,
            )
            got = measure(demo, filing, args.cases, rng)
            after = load_average()
        finally:
            if bumps is not None:
                bumps.close()
            if engine is not None:
                engine.dispose()
            try:
                if demo.proc is not None and demo.proc.poll() is None:
                    demo.stop()
            finally:
                demo.kill_all()

    interval = float(hotline["interval"])
    print(
        f"feed {FEED} (poll interval {interval:g} s); pushed and polled cases alternate; {after} at the end"
    )
    for line in table("pushed: POST /open311/v2/requests.json at gridcc", got["pushed"]):
        print(line)
    for line in table("baseline, polled: POST requests.json at the 12345 simulator", got["polled"]):
        print(line)
    print(
        f"(the wait for the next poll alone, of a case filed at a uniformly random moment: median "
        f"{interval / 2:.0f} s, p95 {interval * 0.95:.1f} s)"
    )


if __name__ == "__main__":
    main()
