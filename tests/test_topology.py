"""The production topology, under load, losing a web server and a worker (SIGKILL).

Separate processes started with the real CLI (``tests/topology.py``): two ``gridcc web`` on their own
ports, three ``gridcc worker``, one ``gridcc cron``, ``gridcc simulators`` filing a case every second or
so, a ``redis-server`` of the test's own and the database (a PostgreSQL database of its own when
``GRIDCC_TEST_DATABASE_URL`` is set, else SQLite in WAL mode; the test says which). Walls (HTTP clients
signed in with the wall account's link) tick ``/api/versions`` each second on both servers and fetch the
layers whose version moved. Then one web server and one worker (a busy one when there is one) are killed
outright, and:

* the walls on the surviving server keep seeing new versions (a wall of the dead server moves to the
  other, as a proxy would, and its session is valid there);
* every feed keeps being polled (``feed_health.last_success_at`` moves past the kill for each), the
  killed worker's among them, by the two left;
* no record is lost or doubled: every record each Open311 simulator served is in the database once, under
  its own external id, and the database holds nothing the simulators did not serve.

Deadlines are generous (a shared 2-core machine); the figures are printed, never asserted on.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
import redis
from rq import Worker

from data.db import make_engine
from tests.topology import (
    WALL_PASSWORD,
    Node,
    Topology,
    Wall,
    last_successes,
    percentile,
    private_database,
    stored_cases,
    wait_for,
)
from workers.feeds.config import load_feeds

pytestmark = pytest.mark.slow

PG_URL = os.environ.get("GRIDCC_TEST_DATABASE_URL", "")
WALLS = 6
BEFORE_KILL_S = 15  # load before the kill
WINDOW_S = 30  # "during the kill": the walls' requests from the kill to this many seconds after it


@pytest.fixture
def topology(tmp_path: Path) -> Iterator[Topology]:
    with private_database(PG_URL, tmp_path) as (url, what):
        print(f"\ntopology database: {what}")
        topo = Topology(tmp_path, url)
        try:
            topo.start_redis()
            yield topo
        finally:
            topo.stop_all()


def _web_answers(port: int) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/signin", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _busy_worker(topo: Topology, workers: list[Node]) -> tuple[Node, str | None]:
    """One of our workers running a poll at this moment when one is found within 20 s (the
    kill then leaves that poll half done: its lock held, its job started) and the feed it polls; else
    the first worker and None."""
    by_pid = {w.pid: w for w in workers}
    conn = redis.Redis.from_url(topo.redis_url)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for worker in Worker.all(connection=conn):
                pid = worker.pid
                job = worker.get_current_job() if pid in by_pid else None
                if pid is not None and job is not None and str(job.func_name).endswith("poll_feed"):
                    return by_pid[pid], str(job.args[0])
            time.sleep(0.01)
    finally:
        conn.close()
    return workers[0], None


def test_topology_survives_losing_a_web_server_and_a_worker(topology: Topology) -> None:
    topo = topology
    t0 = time.monotonic()
    # the operator's set-up, as docs/deploy.md says it
    topo.gridcc("migrate")
    topo.gridcc("seed")
    topo.gridcc("geo", "generate")
    topo.gridcc("users", "add", "wall", "--role", "wall", "--scope", "500151", "--password-stdin",
                stdin=WALL_PASSWORD + "\n")  # fmt: skip
    link = topo.gridcc("users", "wall-link", "wall", "--base-url", "http://127.0.0.1:1").strip()
    link_path = link.split("http://127.0.0.1:1", 1)[1]
    assert link_path.startswith("/signin/token/")

    sims = topo.start("simulators", "simulators", "--case-every", "1", "--seed", "14")
    wait_for("simulators ready", lambda: "simulators ready" in sims.log.read_text(), 120)
    webs = [
        topo.start(f"web-{i + 1}", "web", "--port", str(port), "--processes", "1", "--threads", "8")
        for i, port in enumerate(topo.web_ports)
    ]
    workers = [topo.start(f"worker-{i + 1}", "worker", "--name-prefix", "topology") for i in range(3)]
    cron = topo.start("cron", "cron")
    for web, port in zip(webs, topo.web_ports, strict=True):
        wait_for(f"{web.name} answers", partial(_web_answers, port), 120)

    engine = make_engine(topo.database_url)
    try:
        feeds = {feed.name for feed in load_feeds(topo.data_dir / "feeds.toml")}

        def every_feed_polled() -> bool:
            s = last_successes(engine)
            return set(s) >= feeds and all(s[feed] for feed in feeds)

        wait_for("every feed polled once (the simulators' history in)", every_feed_polled, 150)
        print(f"topology up, history ingested: {time.monotonic() - t0:.1f} s")

        stop = threading.Event()
        walls = [Wall(link_path, topo.web_ports, i % 2, stop) for i in range(WALLS)]
        for wall in walls:
            wall.start()
        time.sleep(BEFORE_KILL_S)

        victim_web, survivor_port = webs[0], topo.web_ports[1]
        victim_worker, in_flight = _busy_worker(topo, workers)
        kill_at = time.monotonic()
        kill_wall = datetime.now(UTC)
        topo.kill_node(victim_web)
        topo.kill_node(victim_worker)
        survivors = [w for w in workers if w is not victim_worker]
        cpu_at_kill = (topo.cpu_seconds(webs[1]), sum(topo.cpu_seconds(w) for w in [*survivors, cron]))
        print(
            f"killed {victim_web.name} (pid {victim_web.pid}) and {victim_worker.name} "
            f"(pid {victim_worker.pid}, polling {in_flight or 'nothing'})"
        )
        again_after: dict[str, float] = {}  # feed → seconds from the kill to its next successful poll

        def all_feeds_polled_since_kill() -> bool:
            s = last_successes(engine)
            for feed, at in s.items():
                if at is not None and at > kill_wall and feed not in again_after:
                    again_after[feed] = time.monotonic() - kill_at
            return bool(s) and len(again_after) == len(s)

        wait_for("every feed polled after the kill", all_feeds_polled_since_kill, 120, every=1)
        polled_after = time.monotonic() - kill_at

        def survivor_versions() -> set[int]:
            return {
                v for wall in walls for (at, port, v) in wall.seen if at > kill_at and port == survivor_port
            }

        wait_for("walls on the surviving server see new versions", lambda: len(survivor_versions()) >= 3, 60)
        time.sleep(max(0.0, WINDOW_S - (time.monotonic() - kill_at)))
        cpu_window = time.monotonic() - kill_at
        web_cpu = topo.cpu_seconds(webs[1]) - cpu_at_kill[0]
        feed_cpu = sum(topo.cpu_seconds(w) for w in [*survivors, cron]) - cpu_at_kill[1]
        memory = (topo.rss_mb(webs[1]), topo.rss_mb(survivors[0]))
        stop.set()
        for wall in walls:
            wall.join(15)

        # no record lost or doubled: what the simulators served by now is all in, once each
        served = topo.served_ids()

        def everything_in() -> bool:
            ids, _ = stored_cases(engine)
            return all(want <= ids.get(feed, set()) for feed, want in served.items())

        try:
            wait_for("every served record in the database", everything_in, 60, every=1)
        except AssertionError:
            pass  # counted as lost below
        stored, rows = stored_cases(engine)
        again = topo.served_ids()  # a later look: everything stored was served
        lost = {feed: len(want - stored.get(feed, set())) for feed, want in served.items()}
        doubled = {feed: rows.get(feed, 0) - len(stored.get(feed, set())) for feed in rows}
        unknown = {feed: len(ids - again.get(feed, set())) for feed, ids in stored.items()}
    finally:
        engine.dispose()

    samples = [s for wall in walls for s in wall.samples]
    during = [s for s in samples if kill_at <= s.at <= kill_at + WINDOW_S]
    ok_during = [s.seconds for s in during if s.status == 200]
    refused = [s for s in during if s.status == 0]
    others = [s for s in during if s.status not in (0, 200)]
    ticks_before = [s.seconds for s in samples if s.at < kill_at and s.status == 200]
    print(
        f"walls: {WALLS}, {len(samples)} requests; "
        f"before the kill p95 {ms(percentile(ticks_before, 0.95))}; "
        f"during the kill ({WINDOW_S} s) {len(during)} requests, p95 {ms(percentile(ok_during, 0.95))}, "
        f"p99 {ms(percentile(ok_during, 0.99))}, {len(refused)} refused by the dead server "
        f"(then failed over), {len(others)} other non-200"
    )
    slowest = sorted(again_after.items(), key=lambda kv: -kv[1])[:3]
    print(
        f"every feed polled again within {polled_after:.1f} s of the kill (slowest: "
        + ", ".join(f"{feed} {s:.1f} s" for feed, s in slowest)
        + f"); the killed worker's poll of {in_flight} again after "
        + (f"{again_after[in_flight]:.1f} s" if in_flight else "-")
        + f"; cases versions the surviving server's walls saw after the kill: {len(survivor_versions())}"
    )
    print(
        f"records: {sum(len(v) for v in served.values())} served by {len(served)} Open311 simulators; "
        f"lost {sum(lost.values())}, doubled {sum(doubled.values())}, not served {sum(unknown.values())}"
    )
    n_feeds = len(again_after)
    print(
        f"CPU from the kill on ({cpu_window:.0f} s): the surviving web server "
        f"{web_cpu / cpu_window:.3f} cores "
        f"for {WALLS} walls ({web_cpu / cpu_window / WALLS * 100:.1f} % of a core per wall); two workers and "
        f"cron {feed_cpu / cpu_window:.3f} cores for {n_feeds} feeds "
        f"({feed_cpu / cpu_window / n_feeds * 100:.2f} % of a core per feed at the demo's 5-30 s intervals)"
    )
    print(f"memory: a web server (1 gunicorn process) {memory[0]:.0f} MB, a worker {memory[1]:.0f} MB")
    assert topo.nodes and all(
        n.alive() for n in (webs[1], cron, *[w for w in workers if w is not victim_worker])
    ), "a surviving node died:\n" + "\n".join(topo.tail(n) for n in topo.nodes if not n.alive())
    assert not others, [(s.port, s.path, s.status) for s in others[:10]]
    assert sum(lost.values()) == 0, lost
    assert sum(doubled.values()) == 0, doubled
    assert sum(unknown.values()) == 0, unknown
