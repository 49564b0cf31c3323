"""What the admin reports read: a class with its school, pupils, periods, final grades,
subjects, the study plan and lessons — loaded once per report as frozen rows (no ORM rows
leave this module). Deleted mirror rows are left out everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import NotFound
from storage.models import Curriculum, FinalGrade, Lesson, Period, School, SchoolClass, Student, Subject

TERM_KINDS_BASIC = ("quarter", "trimester")  # grades 1-9
TERM_KINDS_SENIOR = ("half",)  # grades 10-11
ROMAN = ("I", "II", "III", "IV", "V", "VI")


@dataclass(frozen=True)
class ClassInfo:
    id: int
    source: str
    external_id: str
    name: str
    grade: int
    school_id: int | None
    school_ref: str
    school_name: str
    timezone: str


@dataclass(frozen=True)
class PeriodInfo:
    id: int
    external_id: str
    kind: str  # quarter | trimester | half | year
    name: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class Pupil:
    id: int
    external_id: str
    full_name: str


@dataclass(frozen=True)
class GradeRow:
    student_ref: str
    subject_ref: str
    period_ref: str | None
    kind: str  # period | year | exam | certificate
    title: str | None
    value: str | None
    status: str  # final | deferred
    deferred_until: date | None
    set_at: datetime | None


@dataclass(frozen=True)
class LessonRow:
    subject_ref: str
    group: str | None
    date: date
    kind: str
    status: str  # planned | held | cancelled


async def load_class(session: AsyncSession, class_id: int) -> ClassInfo:
    """The live class `class_id` (our id) with its school; NotFound otherwise."""
    row = (await session.execute(
        select(SchoolClass, School)
        .outerjoin(School, and_(School.source == SchoolClass.source, School.external_id == SchoolClass.school_ref,
                                School.deleted_at.is_(None)))
        .where(SchoolClass.id == class_id, SchoolClass.deleted_at.is_(None))
    )).first()
    if row is None:
        raise NotFound(f"class {class_id}")
    cls, school = row
    return ClassInfo(id=cls.id, source=cls.source, external_id=cls.external_id, name=cls.name, grade=cls.grade,
                     school_id=school.id if school else None, school_ref=cls.school_ref,
                     school_name=school.name if school else "",
                     timezone=(school.timezone if school else None) or "")


def school_today(cls: ClassInfo, now: datetime | None, default_tz: str) -> date:
    """Today's date in the school's time zone."""
    try:
        tz = ZoneInfo(cls.timezone or default_tz)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo(default_tz)
    return (now or datetime.now(timezone.utc)).astimezone(tz).date()


async def school_periods(session: AsyncSession, cls: ClassInfo) -> list[PeriodInfo]:
    rows = await session.scalars(
        select(Period).where(Period.source == cls.source, Period.school_ref == cls.school_ref,
                             Period.deleted_at.is_(None))
        .order_by(Period.starts_on, Period.ends_on, Period.id))
    return [PeriodInfo(id=p.id, external_id=p.external_id, kind=p.kind, name=p.name, starts_on=p.starts_on,
                       ends_on=p.ends_on) for p in rows]


def term_kinds(grade: int, periods: list[PeriodInfo]) -> tuple[str, ...]:
    """The kinds of terms a class of `grade` is marked in: quarters or trimesters up to grade 9,
    halves in 10-11; whatever non-year kind the school has when it has not those."""
    preferred = TERM_KINDS_SENIOR if grade >= 10 else TERM_KINDS_BASIC
    present = {p.kind for p in periods}
    if present & set(preferred):
        return tuple(k for k in preferred if k in present)
    return tuple(sorted(present - {"year"}))


def school_year(periods: list[PeriodInfo], today: date) -> tuple[date, date]:
    """The school year around `today`: the ``year`` period containing it (stretched to
    31 August, for exams), else 1 September – 31 August."""
    first = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    end = date(first.year + 1, 8, 31)
    for p in periods:
        if p.kind == "year" and p.starts_on <= today <= max(p.ends_on, end):
            return p.starts_on, max(p.ends_on, date(p.starts_on.year + 1, 8, 31))
    return first, end


def year_terms(periods: list[PeriodInfo], grade: int, today: date) -> tuple[list[PeriodInfo], PeriodInfo | None]:
    """The terms of the school year around `today` for a class of `grade`, in order, and the year period."""
    start, end = school_year(periods, today)
    kinds = term_kinds(grade, periods)
    terms = [p for p in periods if p.kind in kinds and start <= p.starts_on <= end]
    year = next((p for p in periods if p.kind == "year" and start <= p.starts_on <= end), None)
    return terms, year


def current_period(periods: list[PeriodInfo], grade: int, today: date) -> PeriodInfo | None:
    """The term containing `today`, else the last term that has ended, else the first one."""
    kinds = term_kinds(grade, periods)
    terms = [p for p in periods if p.kind in kinds]
    for p in terms:
        if p.starts_on <= today <= p.ends_on:
            return p
    ended = [p for p in terms if p.ends_on < today]
    if ended:
        return ended[-1]
    return terms[0] if terms else None


async def pupils(session: AsyncSession, cls: ClassInfo) -> list[Pupil]:
    """Live pupils of the class in alphabetical order (as a class register lists them)."""
    rows = await session.scalars(select(Student).where(
        Student.source == cls.source, Student.class_ref == cls.external_id, Student.deleted_at.is_(None)))
    items = [Pupil(id=s.id, external_id=s.external_id, full_name=s.full_name) for s in rows]
    return sorted(items, key=lambda p: (p.full_name.casefold().replace("ё", "е"), p.id))


async def final_grades(session: AsyncSession, source: str, pupil_refs: list[str]) -> list[GradeRow]:
    out: list[GradeRow] = []
    for i in range(0, len(pupil_refs), 500):
        rows = await session.scalars(select(FinalGrade).where(
            FinalGrade.source == source, FinalGrade.student_ref.in_(pupil_refs[i : i + 500]),
            FinalGrade.deleted_at.is_(None)).order_by(FinalGrade.id))
        out.extend(GradeRow(student_ref=g.student_ref, subject_ref=g.subject_ref, period_ref=g.period_ref,
                            kind=g.kind, title=g.title, value=g.value, status=g.status,
                            deferred_until=g.deferred_until, set_at=g.set_at) for g in rows)
    return out


async def subject_names(session: AsyncSession, source: str, refs: set[str]) -> dict[str, str]:
    if not refs:
        return {}
    rows = await session.execute(select(Subject.external_id, Subject.name).where(
        Subject.source == source, Subject.external_id.in_(sorted(refs))))
    return {ref: name for ref, name in rows}


async def curriculum(session: AsyncSession, cls: ClassInfo) -> list[tuple[str, str, int]]:
    """(subject ref, period ref, planned lessons) of the class's study plan."""
    rows = await session.execute(select(Curriculum.subject_ref, Curriculum.period_ref, Curriculum.planned_lessons)
                                 .where(Curriculum.source == cls.source, Curriculum.class_ref == cls.external_id,
                                        Curriculum.deleted_at.is_(None)))
    return [(s, p, int(n)) for s, p, n in rows]


async def lessons(session: AsyncSession, cls: ClassInfo, start: date, end: date) -> list[LessonRow]:
    rows = await session.scalars(select(Lesson).where(
        Lesson.source == cls.source, Lesson.class_ref == cls.external_id, Lesson.deleted_at.is_(None),
        Lesson.date >= start, Lesson.date <= end))
    return [LessonRow(subject_ref=l.subject_ref, group=l.group, date=l.date, kind=l.kind, status=l.status)
            for l in rows]


def sort_subjects(names: dict[str, str]) -> list[str]:
    """Subject refs ordered by name."""
    return sorted(names, key=lambda ref: (names[ref].casefold(), ref))
