"""Set-based writes of new cases and of timeline events, with SQLAlchemy Core on the session's
connection (so inside the poll's one transaction).

New cases go in as one executemany ``INSERT``, and their ids come back either from the same statement
(``INSERT … RETURNING id, external_id`` in SQLAlchemy's "insertmanyvalues" batches) or from one
``SELECT external_id, id … WHERE feed_name = ? AND id > <the largest id before the insert>``: ids only
grow, and a feed's rows are written by one poll at a time (the per-feed lock; the unique key would
stop a second), so those are exactly the new rows. RETURNING is used on SQLite (≥ 3.35), where it
costs nothing extra. On PostgreSQL it is not: psycopg 3 runs a plain executemany as one pipelined
prepared statement, but RETURNING makes SQLAlchemy build multi-row ``VALUES`` statements of ~32,000
parameters that psycopg splits in Python — measured 7–9× slower for 5,000 rows. (Reading the ids back
by ``external_id IN (…)`` chunks was slow too on a freshly filled table, whose statistics still say
"empty": the planner then filters every row of the feed against each 500-value list.)
Events are then one executemany ``INSERT`` in timeline order, so ``case_event.id`` still orders each
case's timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, select

from data.models import Case, CaseEvent

RETURNING_DIALECTS = frozenset({"sqlite"})  # see the module docstring
CASES = cast(Table, Case.__table__)
EVENTS = cast(Table, CaseEvent.__table__)


def event_row(
    case_id: int | None,
    kind: str,
    at: datetime,
    *,
    detail: str = "",
    from_status: str | None = None,
    to_status: str | None = None,
    actor: str = "system",
    feed_name: str | None = None,
) -> dict[str, Any]:
    """One ``case_event`` row; every row has the same keys (an executemany needs that)."""
    return {
        "case_id": case_id,
        "kind": kind,
        "at": at,
        "detail": detail,
        "from_status": from_status,
        "to_status": to_status,
        "actor": actor,
        "feed_name": feed_name,
    }


def insert_cases(conn: Connection, feed_name: str, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert new ``case`` rows of one feed; returns ``external_id → id``."""
    if not rows:
        return {}
    if conn.dialect.insert_executemany_returning and conn.dialect.name in RETURNING_DIALECTS:
        stmt = insert(CASES).returning(CASES.c.external_id, CASES.c.id)
        return {external_id: id_ for external_id, id_ in conn.execute(stmt, list(rows))}
    before = conn.scalar(select(func.max(CASES.c.id))) or 0
    conn.execute(insert(CASES), list(rows))
    wanted = {r["external_id"] for r in rows}
    query = select(CASES.c.external_id, CASES.c.id).where(CASES.c.feed_name == feed_name, CASES.c.id > before)
    ids = {external_id: id_ for external_id, id_ in conn.execute(query) if external_id in wanted}
    if len(ids) != len(wanted):
        raise RuntimeError(f"{feed_name}: {len(wanted) - len(ids)} inserted cases not found again")
    return ids


def insert_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``case_event`` rows (each with its ``case_id`` filled in), in the order given."""
    if rows:
        conn.execute(insert(EVENTS), list(rows))
