"""Tables of the contacts feature: the delivery form agreed with each parent, e-mail
confirmation codes, and the queue of paper extracts waiting for the class teacher.

A contact profile belongs either to a Telegram account (a parent who uses the bot) or to a
journal guardian (a parent without Telegram, entered by a school admin from a written
application); see docs/delivery-forms.md.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class ContactProfile(Base):
    """The agreed delivery form and contacts of one parent.

    ``forms`` is a comma-separated subset of ``telegram,email,paper`` in that order. An
    account without a profile gets Telegram only (the bot's behaviour before this feature)."""

    __tablename__ = "contact_profiles"
    __table_args__ = (
        UniqueConstraint("guardian_source", "guardian_ref", name="uq_contact_profiles_guardian"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    guardian_source: Mapped[str | None] = mapped_column(String(64))
    guardian_ref: Mapped[str | None] = mapped_column(String(128))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="SET NULL"), index=True)
    forms: Mapped[str] = mapped_column(String(32), default="telegram")
    email: Mapped[str | None] = mapped_column(String(254))
    email_confirmed_at: Mapped[datetime | None]
    email_confirmed_by: Mapped[str | None] = mapped_column(String(16))  # code | application
    email_bounced_at: Mapped[datetime | None]
    phone: Mapped[str | None] = mapped_column(String(32))
    application_no: Mapped[str | None] = mapped_column(String(32))
    application_date: Mapped[date | None] = mapped_column(Date)
    entered_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EmailConfirmation(Base):
    """A 6-digit code sent to an address the parent typed; stored salted and hashed only.

    ``status``: pending → used | expired | superseded | locked | failed (never back)."""

    __tablename__ = "email_confirmations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class PaperQueueItem(Base):
    """A final grade of a pupil on paper delivery, waiting to be printed for the class teacher.

    One row per final-grade change (``final_grade_id``, ``final_seq``): the scan is idempotent."""

    __tablename__ = "paper_queue"
    __table_args__ = (UniqueConstraint("final_grade_id", "final_seq", name="uq_paper_queue_final_seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    final_grade_id: Mapped[int] = mapped_column(ForeignKey("final_grades.id", ondelete="CASCADE"))
    final_seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    produced_at: Mapped[datetime | None]
    produced_by: Mapped[int | None] = mapped_column(BigInteger)
