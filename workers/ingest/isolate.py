"""The commit's safety net: when the database refuses a batch, find the records it refuses and keep
the rest.

:mod:`workers.feeds.storable` turns away what it knows the database would refuse before the ingest;
this catches whatever it does not know. The batch is applied inside a SAVEPOINT; if the database
refuses it (a value it cannot store: :data:`refusals`), the savepoint is rolled back and each half is
tried in its own savepoint, down to single records. A record refused on its own is returned with the
database's words as its reason (the poll quarantines it); everything else goes in. Any other error
(the database gone, locked, a deadlock) is not a record's fault and is raised as it is.

SQLite: Python's sqlite3 driver opens its transaction only before the first write, so a SAVEPOINT
issued first would itself become the outermost transaction, and releasing it would commit. The
transaction is therefore opened explicitly (``BEGIN IMMEDIATE``: the write lock at once, so no other
writer slips in between this poll's reads and its writes) before the first savepoint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from .cases import Counts

T = TypeVar("T")
REASON_LIMIT = 1000


def refused(exc: BaseException) -> bool:
    """Whether ``exc`` is the database (or the driver binding a value for it) refusing a value."""
    if isinstance(exc, DBAPIError):
        return isinstance(exc, DataError | IntegrityError)
    if isinstance(exc, StatementError):  # raised while binding parameters, before the database saw them
        return True
    return isinstance(exc, UnicodeError | OverflowError | ValueError | RecursionError)


def describe(exc: BaseException) -> str:
    """The error's own words (the driver's, without SQLAlchemy's statement and parameters)."""
    inner = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    lines = str(inner).strip().splitlines()
    text = f"{type(inner).__name__}: {lines[0] if lines else ''}".strip()
    return text[:REASON_LIMIT]


def begin(session: Session) -> None:
    """Make sure a real transaction is open, so that savepoints nest in it (see the module docstring)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    if not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def each(
    session: Session, records: Sequence[T], apply: Callable[[Sequence[T]], Counts]
) -> tuple[Counts, list[tuple[T, str]]]:
    """Apply ``records`` with ``apply`` (a fresh ingest per call), isolating the ones the database
    refuses; returns the merged counts and the refused records with their reasons."""
    total = Counts()
    refusals: list[tuple[T, str]] = []
    if records:
        begin(session)
        _apply(session, list(records), apply, total, refusals)
    return total, refusals


def _apply(
    session: Session,
    records: list[T],
    apply: Callable[[Sequence[T]], Counts],
    total: Counts,
    refusals: list[tuple[T, str]],
) -> None:
    try:
        with session.begin_nested():
            counts = apply(records)
    except Exception as exc:
        if not refused(exc):
            raise
        if len(records) == 1:
            refusals.append((records[0], f"the database refused the record: {describe(exc)}"))
            return
        middle = len(records) // 2
        _apply(session, records[:middle], apply, total, refusals)
        _apply(session, records[middle:], apply, total, refusals)
        return
    merge(total, counts)


def merge(total: Counts, more: Counts) -> None:
    """Add ``more`` into ``total``."""
    for name in ("received", "new", "updated", "ignored", "quarantined", "calls"):
        setattr(total, name, getattr(total, name) + getattr(more, name))
    total.saw(more.newest)
    total.layers |= more.layers
