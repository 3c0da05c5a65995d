"""Feed-to-database latency: cases filed through the real 12345 simulator (Open311 ``POST
requests.json``), timed until each is in the database, through the whole ``gridcc demo`` stack
(simulators, ``rq cron``, real ``rq worker`` processes, embedded Redis, SQLite).

    python benchmarks/bench_latency.py [--cases 30] [--every 2.0] [--data-dir DIR]

Runs the demo in a temporary data dir on free ports. The baseline printed beside the figures is the
feed's poll interval: a case filed just after a poll waits for the next one, so the latency of a
polled feed cannot beat ``interval / 2`` on average nor the interval at worst (plus one poll's work).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.stack, the demo harness

from data.db import make_engine  # noqa: E402
from data.models import AdminUnit, Case, FeedHealth  # noqa: E402
from tests.stack import Demo  # noqa: E402

FEED = "hotline12345"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100), linear between the closest ranks."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


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


def measure(base: str, engine: Engine, cases: int, every: float, rng: random.Random) -> list[float]:
    """File ``cases`` cases at random intervals (mean ``every`` s); each one's seconds to the database."""
    points = grid_points(engine, cases, rng)
    code = httpx.get(f"{base}/services.json", timeout=10).json()[0]["service_code"]
    filed: dict[str, float] = {}  # request id → when the simulator answered the POST
    stored: dict[str, float] = {}
    next_post = time.monotonic()
    deadline = None
    while len(stored) < cases:
        now = time.monotonic()
        if len(filed) < cases and now >= next_post:
            lon, lat = points[len(filed)]
            answer = httpx.post(
                f"{base}/requests.json",
                data={"service_code": code, "description": f"延迟测试 {len(filed)}", "lat": lat, "long": lon},
                timeout=10,
            )
            answer.raise_for_status()
            filed[str(answer.json()[0]["service_request_id"])] = time.monotonic()
            next_post = time.monotonic() + rng.uniform(0.2, 1.8) * every
            if len(filed) == cases:
                deadline = time.monotonic() + 120
        waiting = [rid for rid in filed if rid not in stored]
        if waiting:
            with Session(engine) as session:
                found = session.scalars(
                    select(Case.external_id).where(Case.feed_name == FEED, Case.external_id.in_(waiting))
                ).all()
            seen = time.monotonic()
            for rid in found:
                stored[rid] = seen - filed[rid]
        if deadline is not None and time.monotonic() > deadline:
            raise SystemExit(f"{cases - len(stored)} filed cases never reached the database")
        time.sleep(0.02)
    return [stored[rid] for rid in filed]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--every", type=float, default=2.0, help="mean seconds between filed cases")
    parser.add_argument("--data-dir", type=Path, default=None, help="(default: a temporary folder)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        demo = Demo((args.data_dir or Path(tmp)) / "var")
        engine = None
        try:
            t = time.perf_counter()
            demo.start()
            print(f"demo stack up in {time.perf_counter() - t:.1f} s")
            feeds = tomllib.loads((demo.data_dir / "feeds.toml").read_text(encoding="utf-8"))["feed"]
            hotline = next(f for f in feeds if f["name"] == FEED)
            base = "{0.scheme}://{0.netloc}".format(urlsplit(hotline["url"]))
            engine = make_engine(demo.database_url)
            t = time.perf_counter()
            wait_ready(engine, [f["name"] for f in feeds])
            took = time.perf_counter() - t
            print(f"first poll of all {len(feeds)} feeds (the year's history) done {took:.1f} s later")
            latencies = measure(base, engine, args.cases, args.every, rng)
        finally:
            if engine is not None:
                engine.dispose()
            try:
                if demo.proc is not None and demo.proc.poll() is None:
                    demo.stop()
            finally:
                demo.kill_all()

    interval = float(hotline["interval"])
    print(
        f"feed {FEED}: {args.cases} cases filed by POST, mean {args.every:g} s apart; "
        f"poll interval {interval:g} s"
    )
    print(f"{'':36}{'median':>9}{'p95':>9}{'max':>9}")
    print(
        f"{'filed → in the database (s)':36}{statistics.median(latencies):>9.2f}"
        f"{percentile(latencies, 95):>9.2f}{max(latencies):>9.2f}"
    )
    print(f"{'baseline: polling alone (s)':36}{interval / 2:>9.2f}{interval * 0.95:>9.2f}{interval:>9.2f}")
    print("(baseline: the wait for the next poll of a case filed at a uniformly random moment)")


if __name__ == "__main__":
    main()
