"""SQLAlchemy models: the journal mirror (exchange-v1 entities) and the service's own state.

Mirror rows keep the journal's ids as (`source`, `external_id`) and refer to each other by
external id (`*_ref` columns): a provider's ids are never our primary keys, and records may
arrive in any order. Times are stored in UTC.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on PostgreSQL and SQLite alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType, list[Any]: JSONType}


# --------------------------------------------------------------------------- journal mirror


class MirrorMixin:
    """Columns every mirrored exchange-v1 record has."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(128))
    last_seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]


def _mirror_args(table: str, *extra: Any) -> tuple:
    return (UniqueConstraint("source", "external_id", name=f"uq_{table}_source_external_id"), *extra)


class School(MirrorMixin, Base):
    __tablename__ = "schools"
    __table_args__ = _mirror_args("schools")
    name: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(Text)


class Period(MirrorMixin, Base):
    __tablename__ = "periods"
    __table_args__ = _mirror_args("periods", Index("ix_periods_school", "source", "school_ref"))
    school_ref: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class SchoolClass(MirrorMixin, Base):
    __tablename__ = "classes"
    __table_args__ = _mirror_args("classes", Index("ix_classes_school", "source", "school_ref"))
    school_ref: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(32))
    grade: Mapped[int] = mapped_column(Integer)


class Subject(MirrorMixin, Base):
    __tablename__ = "subjects"
    __table_args__ = _mirror_args("subjects")
    school_ref: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(Text)


class Teacher(MirrorMixin, Base):
    __tablename__ = "teachers"
    __table_args__ = _mirror_args("teachers")
    school_ref: Mapped[str] = mapped_column(String(128))
    full_name: Mapped[str] = mapped_column(Text)


class Student(MirrorMixin, Base):
    __tablename__ = "students"
    __table_args__ = _mirror_args("students", Index("ix_students_class", "source", "class_ref"))
    school_ref: Mapped[str] = mapped_column(String(128))
    class_ref: Mapped[str] = mapped_column(String(128))
    full_name: Mapped[str] = mapped_column(Text)
    birth_date: Mapped[date | None] = mapped_column(Date)
    groups: Mapped[list[Any] | None]
    individual_plan: Mapped[bool | None] = mapped_column(Boolean)


class Guardian(MirrorMixin, Base):
    __tablename__ = "guardians"
    __table_args__ = _mirror_args("guardians", Index("ix_guardians_phone", "phone_digits"))
    school_ref: Mapped[str] = mapped_column(String(128))
    full_name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_digits: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    student_refs: Mapped[list[Any]]


class Assignment(MirrorMixin, Base):
    __tablename__ = "assignments"
    __table_args__ = _mirror_args("assignments", Index("ix_assignments_class", "source", "class_ref"))
    class_ref: Mapped[str] = mapped_column(String(128))
    subject_ref: Mapped[str | None] = mapped_column(String(128))
    teacher_ref: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    group: Mapped[str | None] = mapped_column(Text)
    student_ref: Mapped[str | None] = mapped_column(String(128))


class Curriculum(MirrorMixin, Base):
    __tablename__ = "curricula"
    __table_args__ = _mirror_args("curricula", Index("ix_curricula_class", "source", "class_ref"))
    class_ref: Mapped[str] = mapped_column(String(128))
    subject_ref: Mapped[str] = mapped_column(String(128))
    period_ref: Mapped[str] = mapped_column(String(128))
    planned_lessons: Mapped[int] = mapped_column(Integer)


class Lesson(MirrorMixin, Base):
    __tablename__ = "lessons"
    __table_args__ = _mirror_args("lessons", Index("ix_lessons_class_date", "source", "class_ref", "date"))
    class_ref: Mapped[str] = mapped_column(String(128))
    subject_ref: Mapped[str] = mapped_column(String(128))
    teacher_ref: Mapped[str] = mapped_column(String(128))
    date: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[str] = mapped_column(String(5))
    ends_at: Mapped[str] = mapped_column(String(5))
    room: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    group: Mapped[str | None] = mapped_column(Text)
    substitute_teacher_ref: Mapped[str | None] = mapped_column(String(128))
    moved_from: Mapped[dict[str, Any] | None]


class Assessment(MirrorMixin, Base):
    __tablename__ = "assessments"
    __table_args__ = _mirror_args("assessments", Index("ix_assessments_class_date", "source", "class_ref", "date"))
    class_ref: Mapped[str] = mapped_column(String(128))
    subject_ref: Mapped[str] = mapped_column(String(128))
    date: Mapped[date] = mapped_column(Date)
    lesson_number: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))


class Homework(MirrorMixin, Base):
    __tablename__ = "homework"
    __table_args__ = _mirror_args("homework", Index("ix_homework_class_due", "source", "class_ref", "due_on"))
    class_ref: Mapped[str] = mapped_column(String(128))
    subject_ref: Mapped[str] = mapped_column(String(128))
    lesson_ref: Mapped[str | None] = mapped_column(String(128))
    assigned_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[Any]]


class Mark(MirrorMixin, Base):
    __tablename__ = "marks"
    __table_args__ = _mirror_args("marks", Index("ix_marks_student_date", "source", "student_ref", "date"))
    student_ref: Mapped[str] = mapped_column(String(128))
    subject_ref: Mapped[str] = mapped_column(String(128))
    date: Mapped[date] = mapped_column(Date)
    value: Mapped[str] = mapped_column(String(8))
    weight: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16))
    teacher_ref: Mapped[str | None] = mapped_column(String(128))
    lesson_ref: Mapped[str | None] = mapped_column(String(128))
    comment: Mapped[str | None] = mapped_column(Text)


class FinalGrade(MirrorMixin, Base):
    __tablename__ = "final_grades"
    __table_args__ = _mirror_args("final_grades", Index("ix_final_grades_student", "source", "student_ref"))
    student_ref: Mapped[str] = mapped_column(String(128))
    subject_ref: Mapped[str] = mapped_column(String(128))
    period_ref: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    deferred_until: Mapped[date | None] = mapped_column(Date)
    set_at: Mapped[datetime | None]


class Holiday(MirrorMixin, Base):
    __tablename__ = "holidays"
    __table_args__ = _mirror_args("holidays")
    school_ref: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    class_refs: Mapped[list[Any] | None]


class Recommendation(MirrorMixin, Base):
    __tablename__ = "recommendations"
    __table_args__ = _mirror_args("recommendations", Index("ix_recommendations_student", "source", "student_ref"))
    student_ref: Mapped[str] = mapped_column(String(128))
    subject_ref: Mapped[str | None] = mapped_column(String(128))
    teacher_ref: Mapped[str] = mapped_column(String(128))
    date: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)


MIRROR_MODELS: dict[str, type[MirrorMixin]] = {
    "school": School,
    "period": Period,
    "class": SchoolClass,
    "subject": Subject,
    "teacher": Teacher,
    "student": Student,
    "guardian": Guardian,
    "assignment": Assignment,
    "curriculum": Curriculum,
    "lesson": Lesson,
    "assessment": Assessment,
    "homework": Homework,
    "mark": Mark,
    "final_grade": FinalGrade,
    "holiday": Holiday,
    "recommendation": Recommendation,
}


# --------------------------------------------------------------------------- service state


class Account(Base):
    """A Telegram user of the bot (parent or admin)."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    first_name: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="ru")
    phone_digits: Mapped[str | None] = mapped_column(String(32))
    consent_state: Mapped[str] = mapped_column(String(16), default="none")
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[datetime | None]
    active_student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ConsentRecord(Base):
    """Append-only log of consent decisions; the proof the operator must be able to give."""

    __tablename__ = "consent_log"
    __table_args__ = (Index("ix_consent_log_guardian", "guardian_source", "guardian_ref"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # consent lifecycle (issue 6): null for a guardian's paper record and after erasure
    # (SET NULL: the record outlives the account as pseudonymised proof, see docs/privacy.md)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    decision: Mapped[str] = mapped_column(String(16))  # granted | refused | withdrawn
    text_version: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16), default="telegram")  # telegram | paper
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    # consent lifecycle (issue 6): who (a journal guardian, for paper records without an account),
    # the language of the text shown, the signed paper form, and the proof key left after erasure
    guardian_source: Mapped[str | None] = mapped_column(String(64))
    guardian_ref: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str | None] = mapped_column(String(8))
    form_number: Mapped[str | None] = mapped_column(String(64))
    form_date: Mapped[date | None] = mapped_column(Date)
    entered_by: Mapped[int | None] = mapped_column(BigInteger)  # the admin's Telegram id (paper records)
    proof_key: Mapped[str | None] = mapped_column(String(64), index=True)


class Link(Base):
    """An account's claim to be a student's legal representative; `pending` until a school admin decides."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("account_id", "student_id", name="uq_links_account_student"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | approved | rejected | revoked
    method: Mapped[str] = mapped_column(String(16))  # phone | code
    guardian_ref: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(BigInteger)


class InviteCode(Base):
    """A one-time code printed by the school for one pupil's parent; stored hashed."""

    __tablename__ = "invite_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))


class AdminRole(Base):
    """An appointed admin: school-scoped (school_id set) or region-wide (school_id null).

    Region admins named in ADMIN_TELEGRAM_IDS are implicit and need no row."""

    __tablename__ = "admin_roles"
    __table_args__ = (UniqueConstraint("telegram_id", "school_id", name="uq_admin_roles_telegram_school"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, index=True)
    scope: Mapped[str] = mapped_column(String(16))  # school | region
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    appointed_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Event(Base):
    """A real change of a mirrored record, as found by the diff in `apply`."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_entity_record", "source", "entity", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # created | updated | deleted
    changes: Mapped[dict[str, Any] | None]
    occurred_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """One message for one recipient and channel; the dispatcher claims and sends it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_topic", "topic", "account_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="telegram")
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    topic: Mapped[str | None] = mapped_column(String(255))  # e.g. "mark:demo:m-1": coalescing/cancelling
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed|cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    occurred_at: Mapped[datetime | None]  # when the journal saved the change: delivery delay is measured from it
    last_error: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))


class SyncState(Base):
    __tablename__ = "sync_state"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    bootstrapped_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    pages_applied: Mapped[int] = mapped_column(BigInteger, default=0)
    changes_applied: Mapped[int] = mapped_column(BigInteger, default=0)


class QuarantinedRecord(Base):
    """A journal record that could not be applied, kept with the reason for an admin to see."""

    __tablename__ = "quarantine"
    __table_args__ = (Index("ix_quarantine_record", "source", "entity", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    entity: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(255))
    raw: Mapped[dict[str, Any]]
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Every admin decision (link approvals, appointments, invite codes), append-only."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any] | None]
    # consent lifecycle / audit (issue 6): the school the action concerns, for /audit scoping
    school_id: Mapped[int | None] = mapped_column(Integer, index=True)


# --------------------------------------------------------------------------- feature tables
# Each feature module below declares its tables on the same `Base`; importing it here makes
# them part of `Base.metadata` (and so of the migration drift check). Add one line per module.
from storage import contacts  # noqa: E402,F401
from storage import notify_prefs  # noqa: E402,F401
from storage import delivery  # noqa: E402,F401
from storage import results  # noqa: E402,F401
from storage import privacy  # noqa: E402,F401
