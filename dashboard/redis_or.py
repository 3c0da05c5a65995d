"""What a screen does when Redis is away: carry on with a default (the versions as unknown, no bump).

Redis holds only what can be rebuilt (versions, caches, queues), so every read or bump a page makes of
it is optional: ``redis_or(default, fn)`` runs ``fn`` and answers ``default`` if Redis cannot be
reached. ``REDIS_DOWN`` is the one list of "Redis is away" errors, for the places that keep the message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import redis

T = TypeVar("T")

REDIS_DOWN: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)


def redis_or(default: T, fn: Callable[[], T], also: tuple[type[Exception], ...] = ()) -> T:
    """``fn()``, or ``default`` when Redis is away (or on one of ``also``: ``RuntimeError`` where the
    services have no Redis configured)."""
    try:
        return fn()
    except REDIS_DOWN + also:
        return default
