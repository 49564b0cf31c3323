"""Seeding helpers for service tests: mirror rows (source "demo") and service state, written directly."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.config import Settings
from services.phones import normalize_phone
from storage.models import (
    Account,
    AdminRole,
    Guardian,
    Holiday,
    Homework,
    Lesson,
    Link,
    Mark,
    Period,
    School,
    SchoolClass,
    Student,
    Subject,
    Teacher,
    utcnow,
)

SOURCE = "demo"
REGION_ADMIN_TG = 9_000_001
_ids = itertools.count(1)
_tg = itertools.count(5_000_000)


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"admin_telegram_ids": frozenset({REGION_ADMIN_TG}), "journal_source": SOURCE,
                              "default_timezone": "Asia/Yekaterinburg"}
    values.update(overrides)
    return Settings(_env_file=None, **values)


def _ext(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def _mirror(**kw: Any) -> dict[str, Any]:
    kw.setdefault("source", SOURCE)
    kw.setdefault("last_seq", next(_ids))
    return kw


async def _add(session: AsyncSession, row: Any) -> Any:
    session.add(row)
    await session.flush()
    return row


async def add_school(session: AsyncSession, name: str = "МБОУ «СОШ № 1» г. Сургут",
                     tz: str = "Asia/Yekaterinburg", external_id: str | None = None) -> School:
    return await _add(session, School(**_mirror(external_id=external_id or _ext("sch"), name=name, timezone=tz)))


async def add_class(session: AsyncSession, school: School, name: str = "7А", grade: int = 7) -> SchoolClass:
    return await _add(session, SchoolClass(**_mirror(external_id=_ext("cls"), school_ref=school.external_id,
                                                     name=name, grade=grade)))


async def add_student(session: AsyncSession, cls: SchoolClass, full_name: str = "Иванов Иван Петрович",
                      groups: list[str] | None = None, deleted: bool = False) -> Student:
    return await _add(session, Student(**_mirror(
        external_id=_ext("stu"), school_ref=cls.school_ref, class_ref=cls.external_id, full_name=full_name,
        groups=groups, deleted_at=utcnow() if deleted else None)))


async def add_guardian(session: AsyncSession, school: School, students: list[Student],
                       full_name: str = "Иванова Мария Сергеевна", phone: str | None = "+79001234567",
                       deleted: bool = False) -> Guardian:
    return await _add(session, Guardian(**_mirror(
        external_id=_ext("grd"), school_ref=school.external_id, full_name=full_name, phone=phone,
        phone_digits=normalize_phone(phone), student_refs=[s.external_id for s in students],
        deleted_at=utcnow() if deleted else None)))


async def add_subject(session: AsyncSession, school: School, name: str = "Алгебра",
                      deleted: bool = False) -> Subject:
    return await _add(session, Subject(**_mirror(external_id=_ext("sub"), school_ref=school.external_id,
                                                 name=name, deleted_at=utcnow() if deleted else None)))


async def add_teacher(session: AsyncSession, school: School, full_name: str = "Петрова Анна Викторовна") -> Teacher:
    return await _add(session, Teacher(**_mirror(external_id=_ext("tch"), school_ref=school.external_id,
                                                 full_name=full_name)))


async def add_period(session: AsyncSession, school: School, name: str, starts_on: date, ends_on: date,
                     kind: str = "quarter", deleted: bool = False) -> Period:
    return await _add(session, Period(**_mirror(external_id=_ext("per"), school_ref=school.external_id, kind=kind,
                                                name=name, starts_on=starts_on, ends_on=ends_on,
                                                deleted_at=utcnow() if deleted else None)))


async def add_mark(session: AsyncSession, student: Student, subject: Subject, on: date, value: str = "5",
                   weight: float = 1, kind: str = "answer", comment: str | None = None,
                   deleted: bool = False) -> Mark:
    return await _add(session, Mark(**_mirror(
        external_id=_ext("m"), student_ref=student.external_id, subject_ref=subject.external_id, date=on,
        value=value, weight=weight, kind=kind, comment=comment, deleted_at=utcnow() if deleted else None)))


async def add_lesson(session: AsyncSession, cls: SchoolClass, subject: Subject, teacher: Teacher, on: date,
                     number: int = 1, starts_at: str = "08:30", ends_at: str = "09:10", room: str | None = "12",
                     status: str = "planned", kind: str = "regular", group: str | None = None,
                     substitute: Teacher | None = None, moved_from: dict | None = None,
                     deleted: bool = False) -> Lesson:
    return await _add(session, Lesson(**_mirror(
        external_id=_ext("l"), class_ref=cls.external_id, subject_ref=subject.external_id,
        teacher_ref=teacher.external_id, date=on, number=number, starts_at=starts_at, ends_at=ends_at, room=room,
        kind=kind, status=status, group=group,
        substitute_teacher_ref=substitute.external_id if substitute else None, moved_from=moved_from,
        deleted_at=utcnow() if deleted else None)))


async def add_homework(session: AsyncSession, cls: SchoolClass, subject: Subject, due_on: date, text: str,
                       attachments: list | None = None, deleted: bool = False) -> Homework:
    return await _add(session, Homework(**_mirror(
        external_id=_ext("hw"), class_ref=cls.external_id, subject_ref=subject.external_id,
        assigned_on=due_on - timedelta(days=1), due_on=due_on, text=text, attachments=attachments or [],
        deleted_at=utcnow() if deleted else None)))


async def add_holiday(session: AsyncSession, school: School, name: str, starts_on: date, ends_on: date,
                      classes: list[SchoolClass] | None = None) -> Holiday:
    return await _add(session, Holiday(**_mirror(
        external_id=_ext("hol"), school_ref=school.external_id, name=name, starts_on=starts_on, ends_on=ends_on,
        class_refs=[c.external_id for c in classes] if classes is not None else None)))


async def add_account(session: AsyncSession, telegram_id: int | None = None, first_name: str = "Мария",
                      username: str | None = "maria_iv", consent: str = "granted", language: str = "ru") -> Account:
    tg = telegram_id if telegram_id is not None else next(_tg)
    return await _add(session, Account(
        telegram_id=tg, chat_id=tg, first_name=first_name, username=username, language=language,
        consent_state=consent, consent_version="2026-11-29" if consent != "none" else None,
        consent_at=datetime.now(timezone.utc) if consent != "none" else None, is_active=True))


async def add_school_admin(session: AsyncSession, school: School, telegram_id: int | None = None,
                           with_account: bool = True) -> AdminRole:
    tg = telegram_id if telegram_id is not None else next(_tg)
    if with_account:
        await add_account(session, telegram_id=tg, first_name="Ольга", username=None, consent="none")
    return await _add(session, AdminRole(telegram_id=tg, scope="school", school_id=school.id))


async def add_link(session: AsyncSession, account: Account, student: Student, status: str = "approved",
                   method: str = "phone") -> Link:
    return await _add(session, Link(account_id=account.id, student_id=student.id, status=status, method=method))


# --------------------------------------------------------------------------- diary views (issue 4, item 1)


async def add_assessment(session: AsyncSession, cls: SchoolClass, subject: Subject, on: date, title: str,
                         kind: str = "control", lesson_number: int | None = None,
                         deleted: bool = False) -> Any:
    from storage.models import Assessment

    return await _add(session, Assessment(**_mirror(
        external_id=_ext("as"), class_ref=cls.external_id, subject_ref=subject.external_id, date=on,
        lesson_number=lesson_number, title=title, kind=kind, deleted_at=utcnow() if deleted else None)))


async def add_assignment(session: AsyncSession, cls: SchoolClass, teacher: Teacher, subject: Subject | None = None,
                         role: str = "subject_teacher", group: str | None = None, student: Student | None = None,
                         deleted: bool = False) -> Any:
    from storage.models import Assignment

    return await _add(session, Assignment(**_mirror(
        external_id=_ext("a"), class_ref=cls.external_id, subject_ref=subject.external_id if subject else None,
        teacher_ref=teacher.external_id, role=role, group=group,
        student_ref=student.external_id if student else None, deleted_at=utcnow() if deleted else None)))


async def add_recommendation(session: AsyncSession, student: Student, teacher: Teacher, on: date, text: str,
                             subject: Subject | None = None, deleted: bool = False) -> Any:
    from storage.models import Recommendation

    return await _add(session, Recommendation(**_mirror(
        external_id=_ext("rec"), student_ref=student.external_id,
        subject_ref=subject.external_id if subject else None, teacher_ref=teacher.external_id, date=on, text=text,
        deleted_at=utcnow() if deleted else None)))


# --------------------------------------------------------------------------- term results (issue 5)


async def add_final_grade(session: AsyncSession, student: Student, subject: Subject, period: Period | None,
                          value: str | None = "5", kind: str = "period", status: str = "final",
                          deferred_until: date | None = None, title: str | None = None,
                          deleted: bool = False) -> Any:
    from storage.models import FinalGrade

    return await _add(session, FinalGrade(**_mirror(
        external_id=_ext("fg"), student_ref=student.external_id, subject_ref=subject.external_id,
        period_ref=period.external_id if period else None, kind=kind, title=title, value=value, status=status,
        deferred_until=deferred_until, set_at=utcnow(), deleted_at=utcnow() if deleted else None)))


async def add_curriculum(session: AsyncSession, cls: SchoolClass, subject: Subject, period: Period,
                         planned_lessons: int = 16) -> Any:
    from storage.models import Curriculum

    return await _add(session, Curriculum(**_mirror(
        external_id=_ext("cur"), class_ref=cls.external_id, subject_ref=subject.external_id,
        period_ref=period.external_id, planned_lessons=planned_lessons)))
