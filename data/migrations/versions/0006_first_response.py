"""case.first_response_at: the first move to assigned / in progress, stored (data.first_response)

Back-filled from ``case_event`` in one UPDATE (the earliest applied ``created`` / ``status`` event whose
``to_status`` is a response state). No index: the department ranking reads it as a value of the rows
its period and scope select, never searches by it.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
    UPDATE "case" SET first_response_at = (
        SELECT min(e.at) FROM case_event e
        WHERE e.case_id = "case".id
          AND e.kind IN ('created', 'status') AND e.to_status IN ('assigned', 'in_progress')
    )
    WHERE id IN (
        SELECT e.case_id FROM case_event e
        WHERE e.kind IN ('created', 'status') AND e.to_status IN ('assigned', 'in_progress')
    )
"""


def upgrade() -> None:
    op.add_column("case", sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text(BACKFILL))


def downgrade() -> None:
    # not a batch (SQLite would copy "case" into a new table and drop the old one, and the drop
    # cascades to every row that refers to a case); both databases drop a plain column in place
    op.execute(sa.text('ALTER TABLE "case" DROP COLUMN first_response_at'))
