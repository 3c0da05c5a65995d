"""Engines and sessions, made on demand from Settings (never at import time)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from .settings import Settings


def make_engine(url_or_settings: str | Settings, **kwargs: Any) -> Engine:
    """An engine for a URL or for the settings' database.

    SQLite gets WAL, foreign keys and a busy timeout, since the web server and several worker
    processes write to the same file.
    """
    if isinstance(url_or_settings, Settings):
        url_or_settings.ensure_data_dir()
        url = url_or_settings.effective_database_url
    else:
        url = url_or_settings
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            connect_search_index(cur)
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def connect_search_index(cursor: Any) -> None:
    """Open the case search's FTS5 table (``data.search.index``) as the connection opens, outside any
    transaction. Opening it reads its configuration; done lazily, that read happened inside a deferred
    transaction (a savepoint) just before its first write, and SQLite refuses such a transaction the
    write lock at once ("database is locked", no waiting) when another connection wrote in between —
    two desks filing at the same moment did. A database not migrated yet has no such table."""
    try:
        cursor.execute("SELECT rowid FROM case_fts WHERE rowid = 0").fetchall()
    except sqlite3.OperationalError:  # no search index (yet): nothing to open
        return


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session
