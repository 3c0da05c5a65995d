"""预警叫应: alert_call (a warning's call to each covered grid's worker); the loop's outbox and answers
carry a call instead of an instruction's recipient (``call_id``; ``recipient_id`` becomes nullable), and
an answer its count (已转移 N 人).

Revision ID: 0008
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("worker_name", sa.String(length=100), nullable=False),
        sa.Column("worker_role", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("round_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("last_called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evacuated", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_alert_call_alert_id_alert"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["grid_code"],
            ["admin_unit.code"],
            name=op.f("fk_alert_call_grid_code_admin_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_call")),
        sa.UniqueConstraint("alert_id", "grid_code", name="uq_alert_call_alert_grid"),
    )
    with op.batch_alter_table("alert_call", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_call_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_call_grid_code"), ["grid_code"], unique=False)
    for table in ("loop_outbox", "loop_answer"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("recipient_id", existing_type=sa.Integer(), nullable=True)
            batch_op.add_column(sa.Column("call_id", sa.Integer(), nullable=True))
            if table == "loop_answer":
                batch_op.add_column(sa.Column("count", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_call_id_alert_call"), "alert_call", ["call_id"], ["id"],
                ondelete="CASCADE",
            )  # fmt: skip
            batch_op.create_index(batch_op.f(f"ix_{table}_call_id"), ["call_id"], unique=False)


def downgrade() -> None:
    for table in ("loop_answer", "loop_outbox"):
        op.execute(sa.table(table, sa.column("call_id")).delete().where(sa.column("call_id").is_not(None)))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_call_id"))
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_call_id_alert_call"), type_="foreignkey")
            if table == "loop_answer":
                batch_op.drop_column("count")
            batch_op.drop_column("call_id")
            batch_op.alter_column("recipient_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("alert_call", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_call_grid_code"))
        batch_op.drop_index(batch_op.f("ix_alert_call_alert_id"))
    op.drop_table("alert_call")
