"""the loop: instructions, recipients, outbox, answers

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loop_instruction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("limit_hours", sa.Integer(), nullable=True),
        sa.Column("reply_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("from_code", sa.String(length=15), nullable=False),
        sa.Column("to_level", sa.String(length=10), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_loop_instruction_case_id_case"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loop_instruction")),
    )
    with op.batch_alter_table("loop_instruction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loop_instruction_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_loop_instruction_created_at"), ["created_at"], unique=False)

    op.create_table(
        "loop_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instruction_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("report_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report_overdue", sa.Boolean(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handler", sa.String(length=100), nullable=False),
        sa.Column("last_answer", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_loop_recipient_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["department.code"],
            name=op.f("fk_loop_recipient_department_code_department"),
        ),
        sa.ForeignKeyConstraint(
            ["instruction_id"],
            ["loop_instruction.id"],
            name=op.f("fk_loop_recipient_instruction_id_loop_instruction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loop_recipient")),
    )
    with op.batch_alter_table("loop_recipient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loop_recipient_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_loop_recipient_department_code"), ["department_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_loop_recipient_instruction_id"), ["instruction_id"], unique=False
        )
        batch_op.create_index("ix_loop_recipient_state_report_by", ["state", "report_by"], unique=False)

    op.create_table(
        "loop_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("handler", sa.String(length=100), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["loop_recipient.id"],
            name=op.f("fk_loop_answer_recipient_id_loop_recipient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loop_answer")),
        sa.UniqueConstraint("message_id", name=op.f("uq_loop_answer_message_id")),
    )
    with op.batch_alter_table("loop_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loop_answer_recipient_id"), ["recipient_id"], unique=False)

    op.create_table(
        "loop_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["loop_recipient.id"],
            name=op.f("fk_loop_outbox_recipient_id_loop_recipient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loop_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_loop_outbox_message_id")),
    )
    with op.batch_alter_table("loop_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loop_outbox_department_code"), ["department_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_loop_outbox_recipient_id"), ["recipient_id"], unique=False)
        batch_op.create_index("ix_loop_outbox_state_next", ["state", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("loop_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_loop_outbox_state_next")
        batch_op.drop_index(batch_op.f("ix_loop_outbox_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_loop_outbox_department_code"))

    op.drop_table("loop_outbox")
    with op.batch_alter_table("loop_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loop_answer_recipient_id"))

    op.drop_table("loop_answer")
    with op.batch_alter_table("loop_recipient", schema=None) as batch_op:
        batch_op.drop_index("ix_loop_recipient_state_report_by")
        batch_op.drop_index(batch_op.f("ix_loop_recipient_instruction_id"))
        batch_op.drop_index(batch_op.f("ix_loop_recipient_department_code"))
        batch_op.drop_index(batch_op.f("ix_loop_recipient_case_id"))

    op.drop_table("loop_recipient")
    with op.batch_alter_table("loop_instruction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loop_instruction_created_at"))
        batch_op.drop_index(batch_op.f("ix_loop_instruction_case_id"))

    op.drop_table("loop_instruction")
