"""Engines and sessions, made on demand from Settings (never at import time)."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from .settings import Settings

log = logging.getLogger("gridcc.db")


def log_slow_queries(engine: Engine, threshold_ms: float) -> None:
    """Log every statement that takes at least ``threshold_ms`` as a warning, with its SQL (never its
    parameters: a case's reporter and phone travel in them)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, _cursor: Any, _statement: str, _params: Any, _context: Any, _many: bool) -> None:
        conn.info.setdefault("gridcc_query_start", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _end(conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        starts = conn.info.get("gridcc_query_start")
        if not starts:
            return
        took = (time.perf_counter() - starts.pop()) * 1000
        if took >= threshold_ms:
            log.warning("slow query: %.0f ms: %s", took, " ".join(statement.split()))


def make_engine(url_or_settings: str | Settings, role: str = "tool", **kwargs: Any) -> Engine:
    """An engine for a URL or for the settings' database.

    SQLite gets WAL, foreign keys and a busy timeout, since the web server and several worker
    processes write to the same file. With settings, PostgreSQL gets a pool sized for the process's
    ``role`` (``web``: one connection per gunicorn thread; ``worker``: an RQ worker's few), and slow
    statements are logged (``GRIDCC_DB_SLOW_QUERY_MS``).
    """
    settings = url_or_settings if isinstance(url_or_settings, Settings) else None
    if settings is not None:
        settings.ensure_data_dir()
        url = settings.effective_database_url
    else:
        assert isinstance(url_or_settings, str)
        url = url_or_settings
    engine = _engine(url, settings, role, **kwargs)
    if settings is not None and settings.db_slow_query_ms > 0:
        log_slow_queries(engine, settings.db_slow_query_ms)
    return engine


def _engine(url: str, settings: Settings | None, role: str, **kwargs: Any) -> Engine:
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
    if settings is not None:
        kwargs.setdefault("pool_size", settings.db_pool_size(role))
        kwargs.setdefault("max_overflow", settings.db_pool_overflow)
        kwargs.setdefault("pool_timeout", 10)
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
