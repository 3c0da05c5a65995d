"""``deliver_outbox()``: the RQ job (every few seconds by ``rq cron``, and enqueued after an action)
that delivers the loop's due outbox rows to the departments (:mod:`workers.outbox.deliver`)."""

from __future__ import annotations

from typing import Any

from ..outbox.deliver import run_delivery
from ..runtime import get_runtime


def deliver_outbox() -> dict[str, Any]:
    rt = get_runtime()
    counts = run_delivery(rt.session_factory, rt.settings, rt.endpoints())
    return counts.as_dict()
