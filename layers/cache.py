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
import uuid
from collections.abc import Callable

import redis

from data.scope import AreaScope

log = logging.getLogger(__name__)

PREFIX = "gridcc:layer:"
DEFAULT_TTL = 3600
LOCK_TTL = 30
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


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
        token = uuid.uuid4().hex
        lock = key + ":building"
        if conn.set(lock, token, nx=True, ex=LOCK_TTL):
            try:
                hit = conn.get(key)  # built by another process between our GET and our lock?
                if hit is not None:
                    return _as_bytes(hit)
                body = build()
                conn.set(key, body, ex=ttl)
            finally:
                conn.eval(_RELEASE, 1, lock, token)
            return body
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            time.sleep(0.05)
            hit = conn.get(key)
            if hit is not None:
                return _as_bytes(hit)
            if not conn.exists(lock):
                break  # the builder failed: build it ourselves
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        log.warning("layer cache unavailable (%s): building %s without it", exc, layer)
        if body is not None:
            return body
    return build()


def invalidate(conn: redis.Redis, layer: str | None = None) -> int:
    """Delete cached payloads (of one layer, or all); version bumps make this unnecessary in normal use."""
    pattern = f"{PREFIX}{layer}:*" if layer else f"{PREFIX}*"
    keys = list(conn.scan_iter(pattern, count=500))
    return int(conn.delete(*keys)) if keys else 0
