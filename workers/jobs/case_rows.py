"""Set-based writes of new cases and of timeline events, with SQLAlchemy Core on the session's
connection (so inside the poll's one transaction).

New cases go in as one executemany ``INSERT``, and their ids come back either from the same statement
(``INSERT … RETURNING id, external_id`` in SQLAlchemy's "insertmanyvalues" batches) or from one chunked
``SELECT … WHERE feed_name = ? AND external_id IN``. RETURNING is used on SQLite (≥ 3.35), where it
costs nothing extra. On PostgreSQL it is not: psycopg 3 runs a plain executemany as one pipelined
prepared statement, but RETURNING makes SQLAlchemy build multi-row ``VALUES`` statements of ~32,000
parameters that psycopg splits in Python — measured 7–9× slower for 5,000 rows than the plain
executemany, while the SELECT of the ids costs a few milliseconds.
Events are then one executemany ``INSERT`` in timeline order, so ``case_event.id`` still orders each
case's timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select

from data.models import Case, CaseEvent

CHUNK = 500
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
    conn.execute(insert(CASES), list(rows))
    ids: dict[str, int] = {}
    wanted = [r["external_id"] for r in rows]
    for start in range(0, len(wanted), CHUNK):
        query = select(CASES.c.external_id, CASES.c.id).where(
            CASES.c.feed_name == feed_name, CASES.c.external_id.in_(wanted[start : start + CHUNK])
        )
        ids.update((external_id, id_) for external_id, id_ in conn.execute(query))
    return ids


def insert_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``case_event`` rows (each with its ``case_id`` filled in), in the order given."""
    if rows:
        conn.execute(insert(EVENTS), list(rows))
