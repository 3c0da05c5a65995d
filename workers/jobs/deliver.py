"""``deliver_outbox()``: the RQ job (every few seconds by ``rq cron``, and enqueued after an action)
that delivers the loop's due outbox rows to the departments (:mod:`workers.outbox.deliver`).

When a run delivered a message or marked one 未送达, the ``loop`` layer version is bumped (the wall's
loop figures and ticker) and, for 未送达, ``feeds`` too (``/feeds``' 未送达 section)."""

from __future__ import annotations

from typing import Any

from layers import versions

from ..outbox.deliver import RunCounts, run_delivery
from ..runtime import get_runtime


def changed_layers(counts: RunCounts) -> set[str]:
    """The layers a delivery run changed: ``loop`` for any delivery or 未送达, ``feeds`` for 未送达."""
    layers = set()
    if counts.delivered or counts.undelivered:
        layers.add("loop")
    if counts.undelivered:
        layers.add("feeds")
    return layers


def deliver_outbox() -> dict[str, Any]:
    rt = get_runtime()
    counts = run_delivery(rt.session_factory, rt.settings, rt.endpoints())
    layers = changed_layers(counts)
    if layers:
        versions.bump(rt.redis, layers)
    return counts.as_dict()
