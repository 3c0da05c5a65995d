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
    """Autogenerate finds nothing to add: the migration and the models agree (the case search's FTS5
    table and GIN expression index, which have no model, aside)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from data.search.index import UNMODELLED

    def modelled(name: str | None, kind: str, _parents: object) -> bool:
        return not (kind in ("table", "index") and name in UNMODELLED)

    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": modelled})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []
