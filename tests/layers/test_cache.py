"""The Redis layer cache against the real (embedded) Redis."""

from __future__ import annotations

import threading

import redis

from data.scope import AreaScope
from layers import versions
from layers.cache import cache_key, cached

SCOPE = AreaScope.district("500151")


def test_second_build_served_from_redis(redis_conn) -> None:
    builds: list[int] = []

    def build() -> bytes:
        builds.append(1)
        return b"payload-%d" % len(builds)

    v = versions.read(redis_conn)["cases"]
    first = cached(redis_conn, "cases", SCOPE, v, "", build)
    second = cached(redis_conn, "cases", SCOPE, v, "", build)
    assert first == second == b"payload-1"
    assert len(builds) == 1
    assert redis_conn.ttl(cache_key("cases", SCOPE, v)) > 0


def test_bump_invalidates(redis_conn) -> None:
    builds: list[int] = []

    def build() -> bytes:
        builds.append(1)
        return b"payload-%d" % len(builds)

    before = versions.read(redis_conn)["alerts"]
    cached(redis_conn, "alerts", SCOPE, before, "", build)
    versions.bump(redis_conn, ["alerts"])
    after = versions.read(redis_conn)["alerts"]
    assert after == before + 1
    assert cached(redis_conn, "alerts", SCOPE, after, "", build) == b"payload-2"
    assert len(builds) == 2


def test_params_and_scope_are_part_of_the_key(redis_conn) -> None:
    assert cached(redis_conn, "cases", SCOPE, 1, "s=500151001", lambda: b"a") == b"a"
    assert cached(redis_conn, "cases", SCOPE, 1, "", lambda: b"b") == b"b"
    assert cached(redis_conn, "cases", AreaScope.of("500151001"), 1, "", lambda: b"c") == b"c"


def test_concurrent_requests_build_once(redis_conn, redis_url) -> None:
    builds: list[int] = []
    gate = threading.Event()

    def build() -> bytes:
        builds.append(1)
        gate.wait(5)
        return b"shared"

    results: list[bytes] = []

    def ask() -> None:
        from data.redis_server import connect

        conn = connect(redis_url)
        results.append(cached(conn, "risks", SCOPE, 7, "", build))
        conn.close()

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(20)
    assert results == [b"shared"] * 8
    assert len(builds) == 1


def test_unreachable_redis_builds_directly(tmp_path) -> None:
    dead = redis.Redis(unix_socket_path=str(tmp_path / "nothing.sock"), socket_timeout=0.2)
    assert cached(dead, "cases", SCOPE, 1, "", lambda: b"direct") == b"direct"
