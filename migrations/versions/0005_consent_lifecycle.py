"""consent lifecycle: paper and guardian consent records, stored texts, proof keys, scheduled
erasures, destruction records, audit school

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 13:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_FK = "fk_consent_log_account_id_accounts"


def upgrade() -> None:
    op.create_table(
        "consent_texts",
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", "language", name=op.f("pk_consent_texts")),
    )
    op.create_table(
        "privacy_erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("guardian_source", sa.String(length=64), nullable=True),
        sa.Column("guardian_ref", sa.String(length=128), nullable=True),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_privacy_erasures_account_id_accounts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_erasures")),
        sa.UniqueConstraint("account_id", name=op.f("uq_privacy_erasures_account_id")),
        sa.UniqueConstraint("guardian_source", "guardian_ref", name="uq_privacy_erasures_guardian"),
        sa.UniqueConstraint("reference", name=op.f("uq_privacy_erasures_reference")),
    )
    with op.batch_alter_table("privacy_erasures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_erasures_due_at"), ["due_at"], unique=False)

    op.create_table(
        "destruction_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("categories", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destruction_records")),
        sa.UniqueConstraint("reference", name=op.f("uq_destruction_records_reference")),
    )
    with op.batch_alter_table("destruction_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_destruction_records_executed_at"), ["executed_at"], unique=False)

    op.create_table(
        "privacy_keys",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_privacy_keys")),
    )

    # The consent log outlives an erased account (pseudonymised proof) and holds guardians'
    # paper records: account_id becomes nullable, ON DELETE SET NULL.
    with op.batch_alter_table("consent_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("guardian_source", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("guardian_ref", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("form_number", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("form_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("entered_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("proof_key", sa.String(length=64), nullable=True))
        batch_op.alter_column("account_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint(_FK, type_="foreignkey")
        batch_op.create_foreign_key(_FK, "accounts", ["account_id"], ["id"], ondelete="SET NULL")
        batch_op.create_index("ix_consent_log_guardian", ["guardian_source", "guardian_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_log_proof_key"), ["proof_key"], unique=False)

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("school_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_log_school_id"), ["school_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_school_id"))
        batch_op.drop_column("school_id")

    op.execute("DELETE FROM consent_log WHERE account_id IS NULL")
    with op.batch_alter_table("consent_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_log_proof_key"))
        batch_op.drop_index("ix_consent_log_guardian")
        batch_op.drop_constraint(_FK, type_="foreignkey")
        batch_op.create_foreign_key(_FK, "accounts", ["account_id"], ["id"], ondelete="CASCADE")
        batch_op.alter_column("account_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("proof_key")
        batch_op.drop_column("entered_by")
        batch_op.drop_column("form_date")
        batch_op.drop_column("form_number")
        batch_op.drop_column("language")
        batch_op.drop_column("guardian_ref")
        batch_op.drop_column("guardian_source")

    op.drop_table("privacy_keys")
    with op.batch_alter_table("destruction_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_destruction_records_executed_at"))
    op.drop_table("destruction_records")
    with op.batch_alter_table("privacy_erasures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_erasures_due_at"))
    op.drop_table("privacy_erasures")
    op.drop_table("consent_texts")
