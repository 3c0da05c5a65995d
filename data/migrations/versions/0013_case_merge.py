"""case_merge: 合并 — cases confirmed as one matter reported through several channels (data.merge)

Revision ID: 0013
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_merge",
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("primary_id", sa.Integer(), sa.ForeignKey("case.id", ondelete="CASCADE"), nullable=False),
        sa.Column("merged_by", sa.String(100), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_case_merge_primary_id", "case_merge", ["primary_id"])


def downgrade() -> None:
    op.drop_index("ix_case_merge_primary_id", table_name="case_merge")
    op.drop_table("case_merge")
