"""One delivery run: claim the due outbox rows (:func:`data.loop.outbox.claim_due`), send each through
its department's connector, record the delivery or the failure — each row in its own transaction.

At-least-once: a row is marked delivered only after the department answered 2xx; a crash in between
leaves it leased, and it is sent again (same idempotency key) once the lease has run out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from data.loop import outbox
from data.loop.endpoints import EndpointConfig
from data.models import OutboxMessage
from data.settings import Settings

from . import registry
from .registry import DeliveryError, UnknownConnector

log = logging.getLogger(__name__)

BATCH = 10  # rows claimed at once: each is leased for settings.loop_lease_seconds, so keep it small


@dataclass
class RunCounts:
    delivered: int = 0
    retrying: int = 0
    undelivered: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "delivered": self.delivered,
            "retrying": self.retrying,
            "undelivered": self.undelivered,
            "errors": self.errors[:5],
        }


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Sent:
    """A delivery: the receipt the department gave, if any (an Open311 ``service_request_id=…``)."""

    receipt: str = ""


def deliver_one(endpoints: Mapping[str, EndpointConfig], claimed: outbox.Claimed) -> tuple[str, bool] | Sent:
    """Send one claimed row; :class:`Sent` on success, else ``(error, permanent)``."""
    endpoint = endpoints.get(claimed.department_code)
    if endpoint is None:
        return (f"no [[endpoint]] for department {claimed.department_code} in the feeds file", True)
    try:
        receipt = registry.get(endpoint.signing).send(
            endpoint, claimed.message_id, claimed.body.encode("utf-8")
        )
    except UnknownConnector as exc:
        return (str(exc), True)
    except DeliveryError as exc:
        return (str(exc), exc.permanent)
    return Sent(receipt or "")


def run_delivery(
    factory: sessionmaker[Session],
    settings: Settings,
    endpoints: Mapping[str, EndpointConfig],
    budget_seconds: float = 50.0,
) -> RunCounts:
    """Deliver due rows until none is due or the time budget is spent.

    A department that fails once in a run is not tried again in it: its other claimed rows are given
    back unsent (:func:`data.loop.outbox.release`, not counted as attempts), due when the failed one is
    retried — so a department that times out costs one time-out per run, not one per message. Rows are
    leased for ``loop_lease_seconds`` or the longest endpoint time-out + 5 s, whichever is longer; a row
    whose lease would run out before its request could time out (it waited behind slow ones) is left for
    the next claim."""
    counts = RunCounts()
    started = time.monotonic()
    failed: dict[str, datetime] = {}  # department → when its failed message is due again
    # a lease outlives the longest request it covers
    lease = max([settings.loop_lease_seconds, *(e.timeout + 5 for e in endpoints.values())])
    while time.monotonic() - started < budget_seconds:
        with factory() as session:
            claimed = outbox.claim_due(session, _now(), lease, BATCH)
        if not claimed:
            break
        for row in claimed:
            if row.department_code in failed:
                with factory() as session, session.begin():
                    outbox.release(session, row.id, failed[row.department_code])
                continue
            endpoint = endpoints.get(row.department_code)
            if endpoint is not None and _now().timestamp() + endpoint.timeout > row.leased_until.timestamp():
                continue  # too late to send under this lease: the next claim takes it
            failure = deliver_one(endpoints, row)
            with factory() as session, session.begin():
                if isinstance(failure, Sent):
                    outbox.mark_delivered(session, row.id, _now(), failure.receipt)
                    counts.delivered += 1
                    continue
                error, permanent = failure
                state = outbox.mark_failed(
                    session, row.id, _now(), error, settings.loop_retry_max, settings.loop_retry_base_seconds,
                    final=permanent,
                )  # fmt: skip
                if not permanent:
                    due = session.scalar(
                        select(OutboxMessage.next_attempt_at).where(OutboxMessage.id == row.id)
                    )
                    failed[row.department_code] = due or _now()
            log.warning(
                "delivery of %s to %s failed (%s): %s", row.message_id, row.department_code, state, error
            )
            if state == "undelivered":
                counts.undelivered += 1
            else:
                counts.retrying += 1
            counts.errors.append(f"{row.department_code}: {error}")
    return counts
