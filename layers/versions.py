"""Layer versions in Redis: workers bump them, browsers' 1 s tick reads them all in one round trip."""

from __future__ import annotations

from collections.abc import Iterable

import redis

LAYERS = ("units", "cases", "alerts", "risks", "kpis", "feeds")
PREFIX = "gridcc:version:"


def bump(conn: redis.Redis, layers: Iterable[str]) -> None:
    """Increment the version of each named layer (one pipeline)."""
    pipe = conn.pipeline(transaction=False)
    for layer in set(layers):
        if layer not in LAYERS:
            raise ValueError(f"unknown layer {layer!r}")
        pipe.incr(PREFIX + layer)
    pipe.execute()


def read(conn: redis.Redis) -> dict[str, int]:
    """Every layer's version, in one MGET."""
    values = conn.mget([PREFIX + layer for layer in LAYERS])
    return {layer: int(v or 0) for layer, v in zip(LAYERS, values, strict=True)}
