"""One build per (layer, scope, version) however many displays wait, against the real (embedded) Redis:
a waiter never builds a second time, waiters of a part that may be stale are answered the previous
version at once, and a builder that died does not block anyone for longer than its lock's TTL."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest

from data.redis_server import connect
from data.scope import AreaScope
from layers.cache import BuildBusy, Payload, cache_key, cached, load

SCOPE = AreaScope.district("500151")


def _layer() -> str:
    return "test-sf-" + uuid.uuid4().hex[:8]  # keys of this test only


def _together(n: int, redis_url: str, ask: Callable[..., object]) -> list[object]:
    """``ask(conn)`` from ``n`` threads at once, each with its own connection (as n web threads)."""
    results: list[object] = [None] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        conn = connect(redis_url)
        try:
            start.wait(10)
            try:
                results[i] = ask(conn)
            except BuildBusy as exc:
                results[i] = exc
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_a_waiter_that_gives_up_does_not_build_again(redis_conn, redis_url) -> None:
    """The build outlasts the waiters' patience: they answer "busy", and the payload is built once
    (on main they built it themselves: 4 walls, 4 builds of a 13 s query)."""
    layer = _layer()
    builds: list[int] = []

    def build() -> bytes:
        builds.append(1)
        time.sleep(1.0)
        return b"new"

    results = _together(6, redis_url, lambda conn: cached(conn, layer, SCOPE, 2, "", build, wait_s=0.3))
    assert len(builds) == 1
    assert results.count(b"new") == 1
    assert all(isinstance(r, BuildBusy) for r in results if r != b"new")
    assert redis_conn.get(cache_key(layer, SCOPE, 2)) == b"new"


def test_many_waiters_one_build_same_answer(redis_url) -> None:
    layer = _layer()
    builds: list[int] = []

    def build() -> bytes:
        builds.append(1)
        time.sleep(0.5)
        return b"v3"

    results = _together(12, redis_url, lambda conn: cached(conn, layer, SCOPE, 3, "", build))
    assert results == [b"v3"] * 12
    assert len(builds) == 1


def test_stale_while_building(redis_conn, redis_url) -> None:
    """A new version: one request builds it, every other one is answered the previous version at once
    (marked stale), and once built everyone gets the new one; one build in all."""
    layer = _layer()
    assert load(redis_conn, layer, SCOPE, 1, "", lambda: b"v1", stale_family="t") == Payload(b"v1")
    builds: list[int] = []
    built = threading.Event()

    def build() -> bytes:
        builds.append(1)
        time.sleep(0.8)
        built.set()
        return b"v2"

    results = _together(10, redis_url, lambda conn: load(conn, layer, SCOPE, 2, "", build, stale_family="t"))
    assert len(builds) == 1
    assert results.count(Payload(b"v2")) == 1  # the builder's own answer
    assert results.count(Payload(b"v1", stale=True)) == 9  # nobody waited for it
    assert built.is_set()
    again = _together(5, redis_url, lambda conn: load(conn, layer, SCOPE, 2, "", build, stale_family="t"))
    assert again == [Payload(b"v2")] * 5
    assert len(builds) == 1


def test_a_dead_builder_blocks_nobody_past_its_lock(redis_conn) -> None:
    """A process that took the lock and died (its lock left to expire): until the lock's TTL the
    previous version is served; then the next request builds it (once)."""
    layer = _layer()
    load(redis_conn, layer, SCOPE, 1, "", lambda: b"v1", stale_family="t")
    key = cache_key(layer, SCOPE, 2)
    redis_conn.set(key + ":building", "a-dead-process", px=700)  # as redis-py's lock stores it
    builds: list[int] = []

    def build() -> bytes:
        builds.append(1)
        return b"v2"

    assert load(redis_conn, layer, SCOPE, 2, "", build, stale_family="t") == Payload(b"v1", stale=True)
    assert builds == []
    time.sleep(0.9)
    assert load(redis_conn, layer, SCOPE, 2, "", build, stale_family="t") == Payload(b"v2")
    assert builds == [1]


def test_a_dead_builder_without_stale_waiter_takes_over_once(redis_conn, redis_url) -> None:
    layer = _layer()
    key = cache_key(layer, SCOPE, 5)
    redis_conn.set(key + ":building", "a-dead-process", px=600)
    builds: list[int] = []

    def build() -> bytes:
        builds.append(1)
        time.sleep(0.2)
        return b"v5"

    results = _together(6, redis_url, lambda conn: cached(conn, layer, SCOPE, 5, "", build, wait_s=10))
    assert results == [b"v5"] * 6
    assert len(builds) == 1


@pytest.mark.parametrize("family", ["t=none", "t=full"])
def test_stale_is_per_family(redis_conn, family: str) -> None:
    """The previous payload of one text mode is never answered to another (a wall's "none" is not a
    duty officer's "full")."""
    layer = _layer()
    load(redis_conn, layer, SCOPE, 1, "", lambda: b"full-text", stale_family="t=full")
    key = cache_key(layer, SCOPE, 2)
    redis_conn.set(key + ":building", "another-process", px=5000)
    try:
        got = load(redis_conn, layer, SCOPE, 2, "", lambda: b"x", stale_family=family, wait_s=0.2)
    except BuildBusy:
        got = None
    if family == "t=full":
        assert got == Payload(b"full-text", stale=True)
    else:
        assert got is None  # nothing of its own family to show yet: it waits, and gives up
