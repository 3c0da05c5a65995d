"""Set-based writes of new cases and of timeline events, with SQLAlchemy Core on the session's
connection (so inside the poll's one transaction).

New cases go in as one statement per batch with their ids coming back from it, and so do the events,
in timeline order (so ``case_event.id`` still orders each case's timeline):

- PostgreSQL: one ``INSERT … SELECT * FROM unnest(<one array per column>) RETURNING external_id, id``.
  A plain executemany is N statements to PostgreSQL (psycopg 3 pipelines them), and ``case_daily``'s
  statement trigger (:mod:`data.case_daily`) would then run once per row — measured 4× the insert
  itself for 10,000 rows; as one statement it runs once, over the whole transition table. (RETURNING
  on an executemany is worse: SQLAlchemy builds multi-row ``VALUES`` statements of ~32,000 parameters
  that psycopg splits in Python, 7–9× slower for 5,000 rows.) The arrays are cast to the columns'
  types without their lengths: a cast to ``varchar(n)`` would cut a longer value where the column
  refuses it, and that refusal is what sends the record to the quarantine (:mod:`.isolate`).
- SQLite: one executemany of a plain ``INSERT`` on the driver, its parameters bound here (each column's
  own bind processor, the UTC times as :func:`data.models.base.sqlite_time` writes them: what
  SQLAlchemy would bind, without its per-row work, which was a third of the ingest's insert), then one
  ``SELECT external_id, id … WHERE feed_name = ? AND id > <the largest id before the insert>``: ids only
  grow, and a feed's rows are written by one poll at a time (the per-feed lock, and the write lock the
  ingest takes at once with ``BEGIN IMMEDIATE``; the unique key would stop a second), so those are
  exactly the new rows. SQLite has no statement triggers: ``case_daily``'s row triggers run per row
  whichever way the rows come.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnDefault,
    Connection,
    Insert,
    String,
    Table,
    bindparam,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from data.models import Case, CaseEvent
from data.models.base import UTCDateTime, sqlite_time

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
    if conn.dialect.name == "postgresql":
        stmt = unnest_insert(CASES, list(rows[0])).returning(CASES.c.external_id, CASES.c.id)
        return {external_id: id_ for external_id, id_ in conn.execute(stmt, columns_of(rows))}
    before = conn.scalar(select(func.max(CASES.c.id))) or 0
    driver_insert(conn, CASES, rows)
    wanted = {r["external_id"] for r in rows}
    query = select(CASES.c.external_id, CASES.c.id).where(CASES.c.feed_name == feed_name, CASES.c.id > before)
    ids = {external_id: id_ for external_id, id_ in conn.execute(query) if external_id in wanted}
    if len(ids) != len(wanted):
        raise RuntimeError(f"{feed_name}: {len(wanted) - len(ids)} inserted cases not found again")
    return ids


def insert_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``case_event`` rows (each with its ``case_id`` filled in), in the order given."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(unnest_insert(EVENTS, list(rows[0])), columns_of(rows))
    elif conn.dialect.name == "sqlite":
        driver_insert(conn, EVENTS, rows)
    else:
        conn.execute(insert(EVENTS), list(rows))


def driver_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """SQLite: ``rows`` (dicts with the same keys) as one executemany on the driver, each value bound
    as SQLAlchemy binds it, and the columns left out given their defaults (a callable's value taken
    once, as for a multi-row ``INSERT``)."""
    names = list(rows[0])
    defaults: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.name in names or not isinstance(default, ColumnDefault):
            continue
        defaults[column.name] = default.arg(None) if default.is_callable else default.arg
    binders = []
    for name in (*names, *defaults):
        kind = table.c[name].type
        binders.append(
            sqlite_time
            if isinstance(kind, UTCDateTime)
            else kind.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        )
    fixed = [defaults[name] for name in defaults]
    params = []
    for row in rows:
        values = [*(row[name] for name in names), *fixed]
        params.append(
            tuple(v if b is None or v is None else b(v) for v, b in zip(values, binders, strict=True))
        )
    listed = ", ".join(conn.dialect.identifier_preparer.quote(name) for name in (*names, *defaults))
    marks = ", ".join("?" for _ in binders)
    quoted = conn.dialect.identifier_preparer.format_table(table)
    conn.exec_driver_sql(f"INSERT INTO {quoted} ({listed}) VALUES ({marks})", params)  # noqa: S608 -- our names


def unnest_insert(table: Table, names: list[str]) -> Insert:
    """PostgreSQL: ``INSERT INTO table (names) SELECT * FROM unnest(:names…)``, one array parameter per
    column (named as the column), each cast to its column's type without a length (see the module
    docstring); the rows keep the arrays' order."""
    arrays = []
    for name in names:
        kind = table.c[name].type
        arrays.append(bindparam(name, type_=ARRAY(String() if isinstance(kind, String) else kind)))
    return insert(table).from_select(names, select(literal_column("*")).select_from(func.unnest(*arrays)))


def columns_of(rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    """Rows (dicts with the same keys) as one list per key, for :func:`unnest_insert`."""
    return {name: [row[name] for row in rows] for name in rows[0]}
