"""The embedded redis-server keeps what it holds: an RDB snapshot that is really configured (``save``
given as one argument "60 1" was read as no save at all), and an append-only file fsynced every second,
so a server killed outright comes back with its queues and versions."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import redis

from data.redis_server import EmbeddedRedis


def _server(tmp_path: Path) -> EmbeddedRedis:
    return EmbeddedRedis(tmp_path / "redis.sock", tmp_path)


def _wait_in_file(path: Path, needle: bytes, deadline_s: float = 30) -> None:
    end = time.monotonic() + deadline_s
    while not (path.exists() and needle in path.read_bytes()):
        assert time.monotonic() < end, f"{needle!r} never reached {path}"
        time.sleep(0.05)


def test_snapshots_and_append_only_file_are_configured(tmp_path: Path) -> None:
    server = _server(tmp_path)
    conn = redis.Redis.from_url(server.start(), decode_responses=True)
    try:
        assert conn.config_get("save")["save"] == "60 1"
        assert conn.config_get("appendonly")["appendonly"] == "yes"
        assert conn.config_get("appendfsync")["appendfsync"] == "everysec"
        assert conn.config_get("dir")["dir"] == str(tmp_path)
    finally:
        server.stop()
    assert (tmp_path / "redis.rdb").exists()  # saved on a clean stop, as configured


def test_a_killed_server_comes_back_with_what_it_held(tmp_path: Path) -> None:
    server = _server(tmp_path)
    conn = redis.Redis.from_url(server.start())
    conn.set("gridcc:version:units", 7)
    conn.rpush("rq:queue:gridcc-feeds", "job-1")
    _wait_in_file(server.aof_path, b"job-1")
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    server.process = None
    assert not server.answers()
    try:
        server.start()
        assert conn.get("gridcc:version:units") == b"7"
        assert conn.lrange("rq:queue:gridcc-feeds", 0, -1) == [b"job-1"]
    finally:
        server.stop()


def test_a_snapshot_from_before_the_append_only_file_is_loaded(tmp_path: Path) -> None:
    # a data dir written by an earlier gridcc: an RDB snapshot and no append-only file. With appendonly
    # on, redis-server would start empty and ignore the snapshot.
    server = _server(tmp_path)
    conn = redis.Redis.from_url(server.start(appendonly=False))
    conn.set("gridcc:version:cases", 42)
    conn.save()
    server.stop()
    assert (tmp_path / "redis.rdb").exists() and not server.aof_path.exists()
    try:
        server.start()
        assert conn.get("gridcc:version:cases") == b"42"
        assert server.aof_path.exists()
    finally:
        server.stop()
