"""Layer versions in Redis: workers bump them, browsers' 1 s tick reads them all in one round trip."""

from __future__ import annotations

from collections.abc import Iterable

import redis

LAYERS = ("units", "cases", "alerts", "risks", "kpis", "feeds", "loop")
# ``loop``: the instructions to the departments and their 报到 (sent, delivered, answered, 超时未报到):
# bumped by the web after an action (dashboard.loop_delivery.deliver_soon), by an answer
# (dashboard.inbound), by the delivery job and by the deadlines job; read by the wall (figures, ticker)
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
