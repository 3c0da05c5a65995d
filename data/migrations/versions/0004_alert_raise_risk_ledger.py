"""alerts that stay loud (alert.raised_at) and the risk ledger's columns

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raised_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("risk", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ref", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("owner_person", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("owner_phone", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("evidence", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("closed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("created_by", sa.String(length=100), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_risk_ref"), ["ref"])


def downgrade() -> None:
    with op.batch_alter_table("risk", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_risk_ref"), type_="unique")
        for column in (
            "modified_at",
            "created_by",
            "closed_by",
            "evidence",
            "owner_phone",
            "owner_person",
            "ref",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("raised_at")
