"""The wall left running with cases coming and going, beside the plain Leaflet page: does it hold its memory?

    python benchmarks/bench_soak.py [--minutes 20] [--every 3] [--sample 60]

A wall runs for weeks without a hand on it, so what it holds must not grow with every update. On the
demo district 500151 (its hierarchy and a year of ``make_sample`` cases, as ``bench_wall.py``), the wall
(``/``, an unattended display) and the baseline page (``benchmarks/baseline/``: plain Leaflet re-fetching
every open case as GeoJSON each second) stay open side by side in headless Chromium at 1920×1080 while,
every ``--every`` seconds, a new open case is committed in a random grid and an old open case is closed,
each followed by the layer version bump the ingest makes (``cases``, ``kpis``). The open count holds
steady, as on a real wall; every change reaches both pages.

Every ``--sample`` seconds each page is measured after a forced garbage collection (Chrome DevTools
Protocol: ``HeapProfiler.collectGarbage``, then ``Runtime.getHeapUsage`` and
``Memory.getDOMCounters``): JS heap in use, DOM nodes, event listeners. The report gives each sample, and
per page the growth from the first sample after warm-up to the last, and the least-squares slope over
those samples in MB and nodes per hour, beside the baseline's from the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from data.models import Case
from layers import versions

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_wall import (  # noqa: E402 - the sibling script, found through sys.path
    Browser,
    Target,
    build_dataset,
    insert_probe,
    probes,
    servers,
    targets,
    vendor_leaflet,
)


@dataclass
class Sample:
    at_s: float
    heap_mb: float
    nodes: int
    listeners: int


@dataclass
class Watched:
    target: Target
    browser: Browser
    cdp: Any
    samples: list[Sample] = field(default_factory=list)


def measure_page(w: Watched, at_s: float) -> Sample:
    w.cdp.send("HeapProfiler.collectGarbage")
    heap = w.cdp.send("Runtime.getHeapUsage")
    dom = w.cdp.send("Memory.getDOMCounters")
    return Sample(at_s, heap["usedSize"] / 1e6, int(dom["nodes"]), int(dom["jsEventListeners"]))


def change(factory: Any, conn: Any, spot: Any, rng: random.Random) -> None:
    """One new open case in ``spot`` and one old open case closed, committed; the versions bumped."""
    now = datetime.now(UTC)
    with factory() as session:
        insert_probe(session, spot)
        old = (
            session.scalars(
                select(Case.id).where(Case.is_open.is_(True), Case.feed_name != "bench-probe").limit(50)
            ).all()
            or session.scalars(select(Case.id).where(Case.is_open.is_(True)).limit(50)).all()
        )
        if old:
            session.execute(
                update(Case)
                .where(Case.id == rng.choice(old))
                .values(status="closed", is_open=False, overdue=False, due_soon=False, closed_at=now)
            )
        session.commit()
    versions.bump(conn, ["cases", "kpis"])


def slope_per_hour(samples: list[Sample], value: str) -> float:
    xs = [s.at_s / 3600 for s in samples]
    ys = [float(getattr(s, value)) for s in samples]
    if len(xs) < 2:
        return float("nan")
    return statistics.linear_regression(xs, ys).slope


def report(watched: list[Watched], warmup: int) -> str:
    lines = ["| min | " + " | ".join(f"{w.target.name} heap MB | nodes | listeners" for w in watched) + " |"]
    lines.append("|---:|" + "---:|---:|---:|" * len(watched))
    for row in zip(*(w.samples for w in watched), strict=False):
        cells = " | ".join(f"{s.heap_mb:.1f} | {s.nodes:,} | {s.listeners:,}" for s in row)
        lines.append(f"| {row[0].at_s / 60:.0f} | {cells} |")
    lines += ["", "| page | heap first → last (MB) | heap MB/h | nodes first → last | nodes/h |"]
    lines.append("|---|---:|---:|---:|---:|")
    for w in watched:
        kept = w.samples[warmup:]
        if len(kept) < 2:
            continue
        a, b = kept[0], kept[-1]
        heap, nodes = slope_per_hour(kept, "heap_mb"), slope_per_hour(kept, "nodes")
        lines.append(
            f"| {w.target.name} | {a.heap_mb:.1f} → {b.heap_mb:.1f} | {heap:+.2f} | "
            f"{a.nodes:,} → {b.nodes:,} | {nodes:+.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20, help="how long both pages stay open")
    parser.add_argument("--every", type=float, default=3, help="seconds between changes")
    parser.add_argument("--sample", type=float, default=60, help="seconds between measurements")
    parser.add_argument("--warmup", type=int, default=1, help="samples left out of the growth")
    args = parser.parse_args()
    vendor_leaflet()
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="gridcc-bench-soak-"))
    started = time.perf_counter()
    head = [
        f"# bench_soak — {datetime.now(UTC).astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"machine: {platform.machine()}, {os.cpu_count()} cores; load average at start "
        f"{os.getloadavg()[0]:.1f}; {args.minutes:g} min, a change every {args.every:g} s, "
        f"a sample every {args.sample:g} s",
        "",
    ]
    rng = random.Random(11)
    try:
        dataset = build_dataset(folder, False, 0)
        with servers(dataset, folder) as up, sync_playwright() as pw:
            with up.factory() as session:
                spots = probes(session, 200, seed=3)
            watched = []
            for target in targets(up.web):
                browser = Browser(pw)
                browser.page.goto(target.url, wait_until="commit")
                browser.page.wait_for_function(target.rendered, polling="raf", timeout=120_000)
                cdp = browser.context.new_cdp_session(browser.page)
                cdp.send("HeapProfiler.enable")
                watched.append(Watched(target, browser, cdp))
            t0 = time.monotonic()
            changes = 0
            next_sample = 0.0
            try:
                while (now := time.monotonic() - t0) < args.minutes * 60:
                    if now >= next_sample:
                        for w in watched:
                            w.samples.append(measure_page(w, now))
                        last = ", ".join(
                            f"{w.target.name} {w.samples[-1].heap_mb:.1f} MB {w.samples[-1].nodes:,} nodes"
                            for w in watched
                        )
                        print(f"  {now / 60:5.1f} min, {changes} changes: {last}", flush=True)
                        next_sample += args.sample
                    change(up.factory, up.conn, rng.choice(spots), rng)
                    changes += 1
                    time.sleep(args.every)
                end = time.monotonic() - t0
                for w in watched:
                    w.samples.append(measure_page(w, end))
            finally:
                for w in watched:
                    w.browser.close()
        table = report(watched, args.warmup)
        out = [*head, f"{changes} changes (a new case and a closed one each)", "", table]
        out.append(f"\ntotal {time.perf_counter() - started:.0f} s")
        print("\n".join(out))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
