"""A case's first response: when its timeline first entered a response state (assigned or in progress).

The department ranking's response time runs from ``accepted_at`` to this moment, or to ``resolved_at``
when the case skipped both states. It is stored on the case (``case.first_response_at``) so that the
ranking reads one column instead of searching each case's events (issue 14: at 1,000,000 cases the
per-case search of ``case_event`` did not finish in 17 minutes on PostgreSQL).

It is the earliest ``at`` of the case's applied state changes (event kinds ``created`` and ``status``)
whose ``to_status`` is a response state; an ``illegal_transition`` (a move the state machine refused)
is not a response. Every writer of such an event sets it in the same transaction (:func:`earliest`):
the ingest (a new case's ``created`` event, a stored case's ``status`` steps) and the sample generator
(:func:`from_events`). :func:`rebuild` recomputes it from the timeline, for after a bulk load or to
repair it (``gridcc db rebuild-aggregates``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, ScalarSelect, and_, func, select, update

from .models import Case, CaseEvent

RESPONSE_STATES = ("assigned", "in_progress")
APPLIED_KINDS = ("created", "status")  # not ``illegal_transition``: that move was not made
BATCH = 5000


def responds(kind: str, to_status: str | None) -> bool:
    """Whether an event of ``kind`` moving to ``to_status`` is a response."""
    return kind in APPLIED_KINDS and to_status in RESPONSE_STATES


def earliest(stored: datetime | None, at: datetime) -> datetime:
    """The first response once a response event at ``at`` is added to a case that had ``stored``."""
    return at if stored is None or at < stored else stored


def from_events(events: Iterable[Mapping[str, Any]]) -> datetime | None:
    """The first response of a case written with these ``case_event`` rows (dicts with ``kind``,
    ``to_status`` and ``at``), or None."""
    ats = [e["at"] for e in events if responds(e["kind"], e["to_status"])]
    return min(ats) if ats else None


def from_timeline() -> ScalarSelect[Any]:
    """The first response of ``Case`` computed from its events (a correlated subquery)."""
    return (
        select(func.min(CaseEvent.at))
        .where(
            CaseEvent.case_id == Case.id,
            CaseEvent.kind.in_(APPLIED_KINDS),
            CaseEvent.to_status.in_(RESPONSE_STATES),
        )
        .correlate(Case)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class Batch:
    first_id: int
    last_id: int
    cases: int  # cases in the id range
    changed: int  # whose stored first response was wrong and is now right


def rebuild(conn: Connection, batch: int = BATCH) -> Iterator[Batch]:
    """Recompute ``case.first_response_at`` from the timeline, ``batch`` case ids at a time, and yield
    each batch's counts. Only rows whose value differs are written, so a second run changes nothing.
    The caller decides the transactions (commit after each batch to keep them short)."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    low = conn.scalar(select(func.min(Case.id)))
    high = conn.scalar(select(func.max(Case.id)))
    if low is None or high is None:
        return
    computed = from_timeline()
    for start in range(low, high + 1, batch):
        end = start + batch - 1
        in_range = and_(Case.id >= start, Case.id <= end)
        cases = conn.scalar(select(func.count()).select_from(Case).where(in_range)) or 0
        result = conn.execute(
            update(Case)
            .where(in_range, Case.first_response_at.is_distinct_from(computed))
            .values(first_response_at=computed)
            .execution_options(synchronize_session=False)
        )
        yield Batch(start, end, cases, result.rowcount)
