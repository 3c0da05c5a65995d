"""case_daily: the screens' period figures per local day (and month) × district × street × category × department,
kept by triggers on "case" (data.case_daily) and filled from the existing cases.

Revision ID: 0010
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from data import case_daily

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_daily",
        sa.Column("span", sa.String(1), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("district_code", sa.String(6), nullable=False),
        sa.Column("street_code", sa.String(9), nullable=False),
        sa.Column("category_code", sa.String(40), nullable=False),
        sa.Column("department_code", sa.String(40), nullable=False),
        *(sa.Column(m, sa.Integer(), nullable=False) for m in case_daily.MEASURES if not m.endswith("_s")),
        sa.Column("handling_s", sa.Float(), nullable=False),
        sa.Column("response_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(*case_daily.KEYS, name="pk_case_daily"),
    )
    conn = op.get_bind()
    case_daily.install(conn)
    case_daily.rebuild(conn)


def downgrade() -> None:
    conn = op.get_bind()
    for statement in case_daily.drop_statements(conn.dialect.name):
        conn.exec_driver_sql(statement)
    op.drop_table("case_daily")
