"""case.media_url (Open311's photo link, shown on the case page) and case.reporter_email (the reporter's
email: personal data, stored and masked like the reporter's phone)

Revision ID: 0011
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("media_url", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("reporter_email", sa.String(length=254), nullable=True))


def downgrade() -> None:
    # not a batch (SQLite would copy "case" into a new table and drop the old one, and the drop
    # cascades to every row that refers to a case); both databases drop a plain column in place
    op.execute(sa.text('ALTER TABLE "case" DROP COLUMN reporter_email'))
    op.execute(sa.text('ALTER TABLE "case" DROP COLUMN media_url'))
