"""case_daily: the districts' own day and month rows (span D and M: street, category and department ''),
so the totals of whole districts — the city's KPIs and trend — read twelve rows a year per district.
The triggers are installed again (they now write those rows too) and the table rebuilt from the cases.
And ix_case_open_place: open and overdue now per district, street or department from the open cases'
entries alone.

Revision ID: 0012
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from data import case_daily

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_case_open_place",
        "case",
        ["district_code", "street_code", "department_code", "deadline_at"],
        postgresql_where=sa.text("is_open"),
        sqlite_where=sa.text("is_open = 1"),
    )
    conn = op.get_bind()
    case_daily.install(conn)
    case_daily.rebuild(conn)


def downgrade() -> None:
    # the triggers stay (they keep the district rows as well, which 0010's readers never ask for)
    op.execute("DELETE FROM case_daily WHERE span IN ('D', 'M')")
    op.drop_index("ix_case_open_place", table_name="case")
