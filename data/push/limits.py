"""Per-key rate limits and refusal counts, in Redis.

The rate limit is a fixed one-minute window per key (``INCR`` + ``EXPIRE``: two commands, no script,
and a key that passes its limit is refused until the minute turns, whatever the others do). The
counts (accepted, refused by rate, refused by size, bad requests) are one Redis hash per key, read by
``/feeds``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

RATE_KEY = "gridcc:push:rate:{name}:{window}"
COUNTS_KEY = "gridcc:push:counts"  # hash: "<key name>|<outcome>" → count
OUTCOMES = ("accepted", "rate", "size", "bad")


def allow(conn: redis.Redis, name: str, per_minute: int, now: float | None = None) -> bool:
    """Whether one more request of key ``name`` fits in this minute's window (and count it)."""
    window = int((now if now is not None else time.time()) // 60)
    key = RATE_KEY.format(name=name, window=window)
    pipe = conn.pipeline()
    pipe.incr(key)
    pipe.expire(key, 120)
    used = int(pipe.execute()[0])
    return used <= per_minute


def count(conn: redis.Redis, name: str, outcome: str) -> None:
    """Count one request of key ``name`` as ``outcome`` (one of :data:`OUTCOMES`)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    conn.hincrby(COUNTS_KEY, f"{name}|{outcome}", 1)


@dataclass(frozen=True)
class KeyCounts:
    name: str
    accepted: int = 0
    rate: int = 0
    size: int = 0
    bad: int = 0


def counts(conn: redis.Redis) -> list[KeyCounts]:
    """Every key's counts, by name."""
    raw = conn.hgetall(COUNTS_KEY)
    table: dict[str, dict[str, int]] = {}
    for field, value in raw.items():
        text = field.decode() if isinstance(field, bytes) else str(field)
        name, _, outcome = text.rpartition("|")
        if outcome in OUTCOMES and name:
            table.setdefault(name, {})[outcome] = int(value)
    return [KeyCounts(name, **table[name]) for name in sorted(table)]
