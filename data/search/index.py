"""The full-text index of ``case.search_terms``, in what each database offers.

- SQLite: an FTS5 table ``case_fts`` with external content (the ``case`` table's own column: the index
  holds no second copy of the text), kept by three triggers on ``case`` (insert, delete, update of
  ``search_terms``), so a case is indexed in the transaction that writes it, whoever writes it.
- PostgreSQL: a GIN index on ``to_tsvector('simple', coalesce(search_terms, ''))``; the ``simple``
  configuration keeps each bigram as it is (no stemming, no stop words), and PostgreSQL keeps the index
  up to date with the row. No extension is needed (``pg_trgm`` would not help: it cannot look up the
  two-character words most Chinese searches are, a pattern of fewer than three characters has no
  trigram).

Both are created by migration 0009 (which also fills ``search_terms`` for the cases already stored) and
both are matched as a phrase by :mod:`data.search.query`.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

FTS_TABLE = "case_fts"  # written out in the statements below
# the tables FTS5 keeps for case_fts (autogenerate must not take them for strays)
FTS_TABLES = frozenset(
    {FTS_TABLE, f"{FTS_TABLE}_data", f"{FTS_TABLE}_idx", f"{FTS_TABLE}_docsize", f"{FTS_TABLE}_config"}
)
PG_INDEX = "ix_case_search_terms"
# what the migration makes that has no model (autogenerate must not take it for a stray)
UNMODELLED = FTS_TABLES | {PG_INDEX}
# the indexed expression, written once: a query must use it verbatim for the planner to use the index
PG_VECTOR = "to_tsvector('simple'::regconfig, coalesce(search_terms, ''))"

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_fts USING fts5("
    "search_terms, content='case', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    """CREATE TRIGGER IF NOT EXISTS case_fts_ai AFTER INSERT ON "case" BEGIN
        INSERT INTO case_fts(rowid, search_terms) VALUES (new.id, new.search_terms);
    END""",
    """CREATE TRIGGER IF NOT EXISTS case_fts_ad AFTER DELETE ON "case" BEGIN
        INSERT INTO case_fts(case_fts, rowid, search_terms) VALUES ('delete', old.id, old.search_terms);
    END""",
    """CREATE TRIGGER IF NOT EXISTS case_fts_au AFTER UPDATE OF search_terms ON "case" BEGIN
        INSERT INTO case_fts(case_fts, rowid, search_terms) VALUES ('delete', old.id, old.search_terms);
        INSERT INTO case_fts(rowid, search_terms) VALUES (new.id, new.search_terms);
    END""",
    "INSERT INTO case_fts(case_fts) VALUES ('rebuild')",  # index the rows already there
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS case_fts_au",
    "DROP TRIGGER IF EXISTS case_fts_ad",
    "DROP TRIGGER IF EXISTS case_fts_ai",
    "DROP TABLE IF EXISTS case_fts",
)
PG_CREATE = f'CREATE INDEX IF NOT EXISTS {PG_INDEX} ON "case" USING gin ({PG_VECTOR})'


def create_index(conn: Connection) -> None:
    """Create the database's index of ``search_terms`` (and fill it from the stored rows)."""
    if conn.dialect.name == "sqlite":
        for statement in SQLITE_CREATE:
            conn.execute(text(statement))
    elif conn.dialect.name == "postgresql":
        conn.execute(text(PG_CREATE))


def drop_index(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            conn.execute(text(statement))
    elif conn.dialect.name == "postgresql":
        conn.execute(text(f"DROP INDEX IF EXISTS {PG_INDEX}"))
