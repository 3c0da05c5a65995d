"""Layer versions in Redis: workers bump them, browsers read them all in one round trip.

A bump also publishes the names of the layers it moved on :data:`CHANNEL`: each web process listens
there once (``dashboard.version_watch``) and answers the browsers' long polls at once. The message is
only a wake-up: the versions themselves are always read with :func:`read`, so a message lost (Redis
restarting, a web process not yet subscribed) costs a moment, never a wrong answer."""

from __future__ import annotations

from collections.abc import Iterable

import redis

LAYERS = ("units", "cases", "alerts", "risks", "kpis", "feeds", "loop")
# ``loop``: the instructions to the departments and their 报到 (sent, delivered, answered, 超时未报到):
# bumped by the web after an action (dashboard.loop_delivery.deliver_soon), by an answer
# (dashboard.inbound), by the delivery job and by the deadlines job; read by the wall (figures, ticker)
PREFIX = "gridcc:version:"
CHANNEL = "gridcc:versions:changed"


def bump(conn: redis.Redis, layers: Iterable[str]) -> None:
    """Increment the version of each named layer and say so on :data:`CHANNEL` (one pipeline)."""
    names = sorted(set(layers))
    pipe = conn.pipeline(transaction=False)
    for layer in names:
        if layer not in LAYERS:
            raise ValueError(f"unknown layer {layer!r}")
        pipe.incr(PREFIX + layer)
    if names:
        pipe.publish(CHANNEL, ",".join(names))
    pipe.execute()


def read(conn: redis.Redis) -> dict[str, int]:
    """Every layer's version, in one MGET."""
    values = conn.mget([PREFIX + layer for layer in LAYERS])
    return {layer: int(v or 0) for layer, v in zip(LAYERS, values, strict=True)}


def token(values: dict[str, int]) -> str:
    """The versions as one short string (``alerts:3,cases:12,…``, sorted by layer), the form a browser
    sends back in a long poll (``since=``) to say which versions it has; ``gridcc_map.js`` builds the
    same."""
    return ",".join(f"{layer}:{int(values[layer])}" for layer in sorted(values))
