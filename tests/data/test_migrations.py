"""Migrations up and down on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from data import migrate
from data.db import make_engine
from data.models import Base


def test_upgrade_creates_every_table_then_downgrade_removes_them(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    migrate.downgrade(engine)
    assert migrate.current_revision(engine) is None
    assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
    migrate.upgrade(engine)  # and up again
    assert migrate.is_current(engine)
    engine.dispose()


def test_migration_matches_the_models(database_url: str) -> None:
    """Autogenerate finds nothing to add: the migration and the models agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
