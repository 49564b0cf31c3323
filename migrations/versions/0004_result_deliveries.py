"""one-day rule: result deliveries and the outbox scan watermark

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 13:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "result_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("final_grade_ref", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("student_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("guardian_ref", sa.String(length=128), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delay_seconds", sa.Float(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("alarmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"],
                                name=op.f("fk_result_deliveries_outbox_id_outbox"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_result_deliveries_school_id_schools"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"],
                                name=op.f("fk_result_deliveries_student_id_students"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_result_deliveries_account_id_accounts"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_deliveries")),
        sa.UniqueConstraint("key", name=op.f("uq_result_deliveries_key")),
    )
    with op.batch_alter_table("result_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_result_deliveries_outbox_id"), ["outbox_id"], unique=False)
        batch_op.create_index("ix_result_deliveries_state_occurred", ["state", "occurred_at"], unique=False)
        batch_op.create_index("ix_result_deliveries_school_delivered", ["school_id", "delivered_at"], unique=False)
        batch_op.create_index("ix_result_deliveries_result", ["source", "final_grade_ref"], unique=False)

    op.create_table(
        "delivery_watermarks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("seen_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_delivery_watermarks")),
    )


def downgrade() -> None:
    op.drop_table("delivery_watermarks")
    with op.batch_alter_table("result_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_result_deliveries_result")
        batch_op.drop_index("ix_result_deliveries_school_delivered")
        batch_op.drop_index("ix_result_deliveries_state_occurred")
        batch_op.drop_index(batch_op.f("ix_result_deliveries_outbox_id"))
    op.drop_table("result_deliveries")
