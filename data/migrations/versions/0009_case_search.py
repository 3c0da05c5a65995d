"""the case search: case.search_terms (bigrams) and case.phone_hash (keyed), their indexes

Adds the two columns, an index on ``external_id`` (the case number alone: the unique key starts with the
feed's name) and one on ``phone_hash``, fills ``search_terms`` for the stored cases (and ``phone_hash``
when the migration is run with the key, as ``gridcc migrate`` does: ``attributes["phone_search_key"]``),
then builds the full-text index (:mod:`data.search.index`: FTS5 on SQLite, GIN on PostgreSQL).

Revision ID: 0009
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from data.search.backfill import backfill
from data.search.index import create_index, drop_index

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("case", sa.Column("search_terms", sa.Text(), nullable=True))
    op.add_column("case", sa.Column("phone_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_case_external_id", "case", ["external_id"])
    op.create_index("ix_case_phone_hash", "case", ["phone_hash"])
    key = context.config.attributes.get("phone_search_key")
    backfill(op.get_bind(), key if isinstance(key, bytes) else None)
    create_index(op.get_bind())


def downgrade() -> None:
    drop_index(op.get_bind())
    op.drop_index("ix_case_phone_hash", table_name="case")
    op.drop_index("ix_case_external_id", table_name="case")
    # plain column drops, not a batch (see 0006: a SQLite batch would copy "case" and cascade the drop)
    op.execute(sa.text('ALTER TABLE "case" DROP COLUMN phone_hash'))
    op.execute(sa.text('ALTER TABLE "case" DROP COLUMN search_terms'))
