"""Tables of the consent lifecycle and erasure (issue 6): stored consent texts, scheduled
erasures, destruction records and the key that pseudonymises kept consent proofs.

The consent log itself is `storage.models.ConsentRecord` (extended for paper forms and proofs);
the audit log is `storage.models.AuditEntry`. See docs/privacy.md for what is kept and why.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class ConsentText(Base):
    """The exact text of one consent version in one language, as first shown; never updated.

    Written the first time a decision references (version, language); a later change of the
    text in code for the same version is refused (the digest no longer matches)."""

    __tablename__ = "consent_texts"
    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScheduledErasure(Base):
    """Work item: destroy one person's data at `due_at` unless they consent again before.

    The person is an account or a guardian of the journal (source + external id). The row is
    deleted when the erasure runs (a DestructionRecord takes its place) or is cancelled."""

    __tablename__ = "privacy_erasures"
    __table_args__ = (
        UniqueConstraint("guardian_source", "guardian_ref", name="uq_privacy_erasures_guardian"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    guardian_source: Mapped[str | None] = mapped_column(String(64))
    guardian_ref: Mapped[str | None] = mapped_column(String(128))
    reference: Mapped[str] = mapped_column(String(32), unique=True)  # told to the person; printed on the act
    rule: Mapped[str] = mapped_column(String(32))  # withdrawal | refusal | request
    requested_at: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(index=True)
    reminded_at: Mapped[datetime | None]


class DestructionRecord(Base):
    """The act of destruction: what categories (row counts), when, by what rule. Holds no
    personal data: no account, Telegram or guardian id; `reference` is a random number."""

    __tablename__ = "destruction_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    rule: Mapped[str] = mapped_column(String(32))
    legal_basis: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    executed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    categories: Mapped[dict[str, Any]]


class PrivacyKey(Base):
    """Secrets the service generates for itself when none is configured (PRIVACY_PROOF_KEY)."""

    __tablename__ = "privacy_keys"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
