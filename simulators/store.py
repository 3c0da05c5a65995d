"""The simulators' own state: a SQLite file in the data dir, so a restart continues where it stopped
(same records, no reused ids). One connection shared by the server threads behind one lock."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counter (
    prefix TEXT NOT NULL, year INTEGER NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (prefix, year)
);
CREATE TABLE IF NOT EXISTS request (
    id TEXT PRIMARY KEY,
    feed TEXT NOT NULL,
    service_code TEXT NOT NULL,
    service_name TEXT NOT NULL,
    description TEXT NOT NULL,
    address TEXT NOT NULL,
    lon REAL,
    lat REAL,
    grid_code TEXT NOT NULL,
    priority TEXT NOT NULL,
    limit_hours INTEGER NOT NULL,
    requested_at TEXT NOT NULL,
    accepted_at TEXT,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    satisfaction TEXT,
    status_notes TEXT NOT NULL DEFAULT '',
    service_notice TEXT NOT NULL DEFAULT '',
    plan TEXT NOT NULL,
    applied INTEGER NOT NULL,
    next_at TEXT
);
CREATE INDEX IF NOT EXISTS ix_request_feed_updated ON request (feed, updated_at, id);
CREATE INDEX IF NOT EXISTS ix_request_next ON request (next_at);
CREATE TABLE IF NOT EXISTS posted (
    key TEXT NOT NULL, feed TEXT NOT NULL, request_id TEXT NOT NULL, PRIMARY KEY (feed, key)
);
CREATE TABLE IF NOT EXISTS warning (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    severity TEXT NOT NULL,
    area_desc TEXT NOT NULL,
    polygon TEXT NOT NULL DEFAULT '',
    circle TEXT NOT NULL DEFAULT '',
    onset TEXT NOT NULL,
    expires TEXT NOT NULL,
    state TEXT NOT NULL,
    last_identifier TEXT NOT NULL,
    refs TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cap_message (
    identifier TEXT PRIMARY KEY,
    warning_id TEXT NOT NULL,
    msg_type TEXT NOT NULL,
    sent TEXT NOT NULL,
    expires TEXT NOT NULL,
    headline TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_cap_message_sent ON cap_message (sent);
CREATE TABLE IF NOT EXISTS alarm (
    alarm_id TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    device_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    clear_at TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_alarm_updated ON alarm (updated_at, alarm_id);
"""


def ts(value: datetime) -> str:
    """A UTC datetime as fixed-width text that sorts in time order."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def from_ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)


class Store:
    """Thread-safe access to the state file: every statement runs under one lock."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction, holding the lock for its whole length."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def get_meta(self, key: str) -> str | None:
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def next_id(self, conn: sqlite3.Connection, prefix: str, year: int) -> str:
        """``PREFIX-YYYY-000123``: the next number of that prefix and year, never reused."""
        conn.execute(
            "INSERT INTO counter (prefix, year, value) VALUES (?, ?, 1) "
            "ON CONFLICT (prefix, year) DO UPDATE SET value = value + 1",
            (prefix, year),
        )
        value = conn.execute(
            "SELECT value FROM counter WHERE prefix = ? AND year = ?", (prefix, year)
        ).fetchone()
        return f"{prefix}-{year}-{int(value[0]):06d}"
