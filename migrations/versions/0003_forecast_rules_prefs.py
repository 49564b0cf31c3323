"""term results: per-school forecast rules, per-parent forecast push frequency

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 12:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forecast_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_forecast_rules_school_id_schools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_rules")),
        sa.UniqueConstraint("school_id", name=op.f("uq_forecast_rules_school_id")),
    )
    op.create_table(
        "forecast_prefs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_forecast_prefs_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_prefs")),
        sa.UniqueConstraint("account_id", name=op.f("uq_forecast_prefs_account_id")),
    )


def downgrade() -> None:
    op.drop_table("forecast_prefs")
    op.drop_table("forecast_rules")
