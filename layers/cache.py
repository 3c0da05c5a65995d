"""Layer payloads built once per (layer, scope, version, params) and shared through Redis.

The key carries the layer version, so a bump makes every older payload unreachable (it then expires by
its TTL). When many displays ask for a new version at once, one of them builds (it holds a short lock)
and the others wait for its result: a hundred walls cost one build. If Redis cannot be reached the
payload is built directly: the map keeps working, only without sharing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

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


def cached(
    conn: redis.Redis,
    layer: str,
    scope: AreaScope,
    version: int,
    params: str,
    build: Callable[[], bytes],
    ttl: int = DEFAULT_TTL,
    wait_s: float = 10.0,
) -> bytes:
    """The payload for this key from Redis, or built by ``build()`` once and stored with ``SET … EX ttl``."""
    key = cache_key(layer, scope, version, params)
    body: bytes | None = None
    try:
        hit = conn.get(key)
        if hit is not None:
            return _as_bytes(hit)
        # redis-py's lock, as the poll job's: a token only its holder can release, expiring on its own
        lock = conn.lock(key + ":building", timeout=LOCK_TTL, blocking=False, thread_local=False)
        if lock.acquire(blocking=False):
            try:
                hit = conn.get(key)  # built by another process between our GET and our lock?
                if hit is not None:
                    return _as_bytes(hit)
                body = build()
                conn.set(key, body, ex=ttl)
            finally:
                _release(lock)
            return body
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            time.sleep(0.05)
            hit = conn.get(key)
            if hit is not None:
                return _as_bytes(hit)
            if not lock.locked():
                break  # the builder failed: build it ourselves
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        log.warning("layer cache unavailable (%s): building %s without it", exc, layer)
        if body is not None:
            return body
    return build()


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
