"""contacts: agreed delivery form, e-mail confirmation codes, paper extract queue

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("guardian_source", sa.String(length=64), nullable=True),
        sa.Column("guardian_ref", sa.String(length=128), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("forms", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_confirmed_by", sa.String(length=16), nullable=True),
        sa.Column("email_bounced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("application_no", sa.String(length=32), nullable=True),
        sa.Column("application_date", sa.Date(), nullable=True),
        sa.Column("entered_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_contact_profiles_account_id_accounts"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"],
                                name=op.f("fk_contact_profiles_school_id_schools"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_profiles")),
        sa.UniqueConstraint("account_id", name=op.f("uq_contact_profiles_account_id")),
        sa.UniqueConstraint("guardian_source", "guardian_ref", name="uq_contact_profiles_guardian"),
    )
    with op.batch_alter_table("contact_profiles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_profiles_school_id"), ["school_id"], unique=False)

    op.create_table(
        "email_confirmations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_email_confirmations_account_id_accounts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_confirmations")),
    )
    with op.batch_alter_table("email_confirmations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_confirmations_account_id"), ["account_id"], unique=False)

    op.create_table(
        "paper_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("final_grade_id", sa.Integer(), nullable=False),
        sa.Column("final_seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("produced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("produced_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["final_grade_id"], ["final_grades.id"],
                                name=op.f("fk_paper_queue_final_grade_id_final_grades"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["student_id"], ["students.id"],
                                name=op.f("fk_paper_queue_student_id_students"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_queue")),
        sa.UniqueConstraint("final_grade_id", "final_seq", name="uq_paper_queue_final_seq"),
    )
    with op.batch_alter_table("paper_queue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_queue_student_id"), ["student_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("paper_queue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_queue_student_id"))
    op.drop_table("paper_queue")
    with op.batch_alter_table("email_confirmations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_confirmations_account_id"))
    op.drop_table("email_confirmations")
    with op.batch_alter_table("contact_profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_profiles_school_id"))
    op.drop_table("contact_profiles")
