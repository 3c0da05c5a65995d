"""Layer payloads built once per (layer, scope, version, params) and shared through Redis.

The key carries the layer version, so a bump makes every older payload unreachable (it then expires by
its TTL). When many displays ask for a new version at once, one of them builds (it holds a short lock)
and the others wait for its result, however long it takes, without ever building it a second time: a
hundred walls cost one build. Where a display can show the previous version for a moment (the wall's
figures), the waiters answer that one at once instead (stale-while-building). If Redis cannot be
reached the payload is built directly: the map keeps working, only without sharing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from redis.exceptions import LockError
from redis.lock import Lock

from data.scope import AreaScope

log = logging.getLogger(__name__)

PREFIX = "gridcc:layer:"
DEFAULT_TTL = 3600
LOCK_TTL = 30


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def cache_key(layer: str, scope: AreaScope, version: int, params: str = "") -> str:
    """``gridcc:layer:<layer>:<scope>:v<version>:<params>``; long scopes or params are hashed."""
    scope_part = (
        scope.key
        if len(scope.key) <= 64
        else "h" + hashlib.blake2b(scope.key.encode(), digest_size=16).hexdigest()
    )
    params_part = (
        params if len(params) <= 80 else "h" + hashlib.blake2b(params.encode(), digest_size=16).hexdigest()
    )
    return f"{PREFIX}{layer}:{scope_part}:v{version}:{params_part}"


class BuildBusy(Exception):
    """Another process has been building this payload for longer than the caller will wait: the caller
    answers "try again" (a 503) rather than start a second build of the same thing."""


@dataclass(frozen=True)
class Payload:
    """A cached payload and whether it is the previous version's (served while the next one builds)."""

    body: bytes
    stale: bool = False


def cached(
    conn: redis.Redis,
    layer: str,
    scope: AreaScope,
    version: int,
    params: str,
    build: Callable[[], bytes],
    ttl: int = DEFAULT_TTL,
    wait_s: float = 2 * LOCK_TTL,
    lock_ttl: int = LOCK_TTL,
) -> bytes:
    """The payload for this key from Redis, or built by ``build()`` once and stored with ``SET … EX ttl``.

    Single flight: whoever holds the key's lock builds; the others wait for its result and never build
    it a second time while the lock lives. A builder that died leaves a lock that expires after
    ``lock_ttl``: one waiter then takes the lock over and builds. A waiter that has waited ``wait_s``
    raises :class:`BuildBusy`."""
    return load(conn, layer, scope, version, params, build, ttl=ttl, wait_s=wait_s, lock_ttl=lock_ttl).body


def load(
    conn: redis.Redis,
    layer: str,
    scope: AreaScope,
    version: int,
    params: str,
    build: Callable[[], bytes],
    ttl: int = DEFAULT_TTL,
    wait_s: float = 2 * LOCK_TTL,
    lock_ttl: int = LOCK_TTL,
    stale_family: str | None = None,
) -> Payload:
    """:func:`cached`, and with ``stale_family`` stale-while-building: the last payload built for
    (layer, scope, ``stale_family``), of whatever version, is kept under a key of its own; while another
    process builds the new version, a waiter answers that one at once (``stale=True``) instead of
    waiting, so no display waits for a build. The family must hold everything but the version that
    makes two payloads differ (the viewer's text mode, say)."""
    key = cache_key(layer, scope, version, params)
    latest = cache_key(layer, scope, 0, "latest:" + stale_family) if stale_family is not None else None
    body: bytes | None = None
    try:
        hit = conn.get(key)
        if hit is not None:
            return Payload(_as_bytes(hit))
        # redis-py's lock, as the poll job's: a token only its holder can release, expiring on its own
        lock = conn.lock(key + ":building", timeout=lock_ttl, blocking=False, thread_local=False)
        deadline = time.monotonic() + wait_s
        pause = 0.02
        while True:
            if lock.acquire(blocking=False):
                try:
                    hit = conn.get(key)  # built by another process between our GET and our lock?
                    if hit is not None:
                        return Payload(_as_bytes(hit))
                    body = build()
                    pipe = conn.pipeline(transaction=False)
                    pipe.set(key, body, ex=ttl)
                    if latest is not None:
                        pipe.set(latest, body, ex=ttl)
                    pipe.execute()
                finally:
                    _release(lock)
                return Payload(body)
            if latest is not None:
                previous = conn.get(latest)
                if previous is not None:
                    return Payload(_as_bytes(previous), stale=True)
            if time.monotonic() + pause > deadline:
                raise BuildBusy(f"{layer} v{version} is being built by another process")
            time.sleep(pause)
            # a long build: fewer GETs from each waiter; a short one (most: 50–300 ms) is seen done
            # within 50 ms (a hundred walls' requests after a bump wait for it)
            pause = min(pause * 1.5, 0.05 if time.monotonic() + wait_s - deadline < 2 else 0.2)
            hit = conn.get(key)
            if hit is not None:
                return Payload(_as_bytes(hit))
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        log.warning("layer cache unavailable (%s): building %s without it", exc, layer)
        if body is not None:
            return Payload(body)
    return Payload(build())


def latest(conn: redis.Redis, layer: str, scope: AreaScope, stale_family: str) -> bytes | None:
    """The last payload built for (layer, scope, ``stale_family``) by :func:`load`, of whatever
    version, or None (none yet, or Redis cannot be reached)."""
    try:
        hit = conn.get(cache_key(layer, scope, 0, "latest:" + stale_family))
    except (redis.ConnectionError, redis.TimeoutError):
        return None
    return _as_bytes(hit) if hit is not None else None


def _release(lock: Lock) -> None:
    """Release the builder's lock; one that outlived :data:`LOCK_TTL` is someone else's now: left alone."""
    try:
        lock.release()
    except LockError:
        log.warning("layer build lock %s expired before the build ended", lock.name)


def invalidate(conn: redis.Redis, layer: str | None = None) -> int:
    """Delete cached payloads (of one layer, or all); version bumps make this unnecessary in normal use."""
    pattern = f"{PREFIX}{layer}:*" if layer else f"{PREFIX}*"
    keys = list(conn.scan_iter(pattern, count=500))
    return int(conn.delete(*keys)) if keys else 0
