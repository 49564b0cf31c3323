"""Diary read models for a parent: marks of the current period, homework, timetable.

Every method takes the asking account and the student id and starts with the single
authorization check (`require_linked_student`). "Today" is the date in the school's time
zone (School.timezone, else settings.default_timezone) at `now` (default: the current time).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.access import require_linked_student
from services.config import Settings
from storage.models import Holiday, Homework, Lesson, Mark, Period, School, SchoolClass, Student, Subject, Teacher

log = logging.getLogger(__name__)

NUMERIC_MARKS = frozenset({"1", "2", "3", "4", "5"})
TERM_KINDS_BASIC = ("quarter", "trimester")  # grades 1-9
TERM_KINDS_SENIOR = ("half",)  # grades 10-11
FALLBACK_DAYS = 30
WHICH = ("today", "tomorrow", "week")


# --------------------------------------------------------------------------- DTOs


@dataclass(frozen=True)
class MarkView:
    date: date
    value: str
    weight: float
    kind: str
    comment: str | None


@dataclass(frozen=True)
class SubjectGrades:
    subject_id: int | None  # None if the subject record has not arrived from the journal yet
    subject_name: str
    marks: list[MarkView]
    average: float | None  # weighted, numeric marks only, rounded to 2 places
    count: int  # number of numeric marks in the average


@dataclass(frozen=True)
class GradesView:
    student_name: str
    period_name: str | None  # None: no reporting period known, the last 30 days are shown
    period_start: date
    period_end: date
    subjects: list[SubjectGrades]


@dataclass(frozen=True)
class HomeworkItem:
    subject_name: str
    text: str
    attachments: list[dict[str, Any]]


@dataclass(frozen=True)
class DayHomework:
    date: date
    items: list[HomeworkItem]


@dataclass(frozen=True)
class HomeworkView:
    student_name: str
    days: list[DayHomework]


@dataclass(frozen=True)
class LessonView:
    number: int
    starts_at: str
    ends_at: str
    subject_name: str
    teacher_name: str | None
    substitute_teacher_name: str | None
    room: str | None
    status: str  # planned | held | cancelled
    kind: str
    moved_from: dict[str, Any] | None  # {"date": "YYYY-MM-DD", "number": n} when rescheduled
    group: str | None


@dataclass(frozen=True)
class DaySchedule:
    date: date
    holiday_name: str | None
    lessons: list[LessonView] = field(default_factory=list)


@dataclass(frozen=True)
class ScheduleView:
    student_name: str
    days: list[DaySchedule]


# --------------------------------------------------------------------------- helpers


def weighted_average(marks: list[tuple[str, float]]) -> tuple[float | None, int]:
    """Σ(mark×weight)/Σ(weight) over numeric marks "1".."5"; (None, 0) when there are none."""
    total = weights = 0.0
    n = 0
    for value, weight in marks:
        if value in NUMERIC_MARKS:
            w = 1.0 if weight is None else float(weight)
            total += int(value) * w
            weights += w
            n += 1
    if n == 0 or weights <= 0:
        return None, n
    return round(total / weights, 2), n


def _as_utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    return now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)


def _zone(name: str | None, default: str) -> ZoneInfo:
    for candidate in (name, default, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def day_range(today: date, which: str) -> list[date]:
    """today: [today]; tomorrow: [the calendar day after today] (also on Saturday);
    week: Monday..Sunday of today's week."""
    if which == "today":
        return [today]
    if which == "tomorrow":
        return [today + timedelta(days=1)]
    if which == "week":
        monday = today - timedelta(days=today.weekday())
        return [monday + timedelta(days=i) for i in range(7)]
    raise ValueError(f"which must be one of {WHICH}, not {which!r}")


@dataclass(frozen=True)
class _Ctx:
    student: Student
    cls: SchoolClass | None
    school: School | None
    today: date


# --------------------------------------------------------------------------- service


class Diary:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    async def _context(self, s: AsyncSession, account_id: int, student_id: int, now: datetime | None) -> _Ctx:
        student = await require_linked_student(s, account_id, student_id)
        cls = await s.scalar(select(SchoolClass).where(
            SchoolClass.source == student.source, SchoolClass.external_id == student.class_ref,
            SchoolClass.deleted_at.is_(None)))
        school = await s.scalar(select(School).where(
            School.source == student.source, School.external_id == student.school_ref, School.deleted_at.is_(None)))
        tz = _zone(school.timezone if school else None, self._settings.default_timezone)
        today = _as_utc(now).astimezone(tz).date()
        return _Ctx(student=student, cls=cls, school=school, today=today)

    async def _rows(self, s: AsyncSession, model: Any, source: str, refs: set[str]) -> dict[str, Any]:
        """external id -> live mirror row."""
        refs = {r for r in refs if r}
        if not refs:
            return {}
        rows = await s.scalars(select(model).where(
            model.source == source, model.external_id.in_(sorted(refs)), model.deleted_at.is_(None)))
        return {r.external_id: r for r in rows}

    async def _subjects(self, s: AsyncSession, source: str, refs: set[str]) -> tuple[dict[str, Subject], set[str]]:
        """(live subjects by external id, external ids of soft-deleted subjects).

        Rows of a deleted subject are hidden; rows of a subject that has not arrived from the
        journal yet are shown under the subject's external id."""
        live = await self._rows(s, Subject, source, refs)
        missing = set(refs) - set(live)
        deleted: set[str] = set()
        if missing:
            deleted = set(await s.scalars(select(Subject.external_id).where(
                Subject.source == source, Subject.external_id.in_(sorted(missing)),
                Subject.deleted_at.is_not(None))))
        return live, deleted

    async def _current_period(self, s: AsyncSession, ctx: _Ctx) -> tuple[str | None, date, date]:
        grade = ctx.cls.grade if ctx.cls is not None else None
        preferred = TERM_KINDS_SENIOR if grade is not None and grade >= 10 else TERM_KINDS_BASIC
        other = TERM_KINDS_BASIC if preferred is TERM_KINDS_SENIOR else TERM_KINDS_SENIOR
        periods: list[Period] = []
        for kinds in (preferred, other):  # a school without the grade's kind of term: use the other
            periods = list(await s.scalars(select(Period).where(
                Period.source == ctx.student.source, Period.school_ref == ctx.student.school_ref,
                Period.kind.in_(kinds), Period.deleted_at.is_(None))))
            if periods:
                break
        today = ctx.today
        current = [p for p in periods if p.starts_on <= today <= p.ends_on]
        if current:
            p = max(current, key=lambda p: (p.starts_on, p.id))
            return p.name, p.starts_on, p.ends_on
        ended = [p for p in periods if p.ends_on < today]
        if ended:
            p = max(ended, key=lambda p: (p.ends_on, p.starts_on, p.id))
            return p.name, p.starts_on, p.ends_on
        return None, today - timedelta(days=FALLBACK_DAYS - 1), today

    async def grades(self, account_id: int, student_id: int, now: datetime | None = None) -> GradesView:
        """Marks of the current period per subject with weighted averages.

        Period: the quarter/trimester (grades 1-9) or half (10-11) containing today; in the
        holidays the most recent one that ended; without periods the last 30 days."""
        async with self._sessions.begin() as s:
            ctx = await self._context(s, account_id, student_id, now)
            st = ctx.student
            period_name, start, end = await self._current_period(s, ctx)
            marks = list(await s.scalars(select(Mark).where(
                Mark.source == st.source, Mark.student_ref == st.external_id, Mark.deleted_at.is_(None),
                Mark.date >= start, Mark.date <= end,
            ).order_by(Mark.date, Mark.id)))
            subjects, deleted_subjects = await self._subjects(s, st.source, {m.subject_ref for m in marks})
            by_subject: dict[str, list[Mark]] = {}
            for m in marks:
                if m.subject_ref in deleted_subjects:
                    continue
                by_subject.setdefault(m.subject_ref, []).append(m)
            result: list[SubjectGrades] = []
            for ref, ms in by_subject.items():
                subj = subjects.get(ref)
                avg, n = weighted_average([(m.value, m.weight) for m in ms])
                result.append(SubjectGrades(
                    subject_id=subj.id if subj else None,
                    subject_name=subj.name if subj else ref,
                    marks=[MarkView(date=m.date, value=m.value, weight=m.weight, kind=m.kind, comment=m.comment)
                           for m in ms],
                    average=avg, count=n,
                ))
            result.sort(key=lambda g: (g.subject_name.casefold(), g.subject_id or 0))
            log.debug("grades account=%s student=%s subjects=%s", account_id, st.id, len(result))
            return GradesView(student_name=st.full_name, period_name=period_name, period_start=start,
                              period_end=end, subjects=result)

    async def homework(self, account_id: int, student_id: int, which: str = "today",
                       now: datetime | None = None) -> HomeworkView:
        """Homework due on each day of the range (see day_range); every day of the range is
        listed, possibly with no items. Items are ordered by subject name."""
        if which not in WHICH:
            raise ValueError(f"which must be one of {WHICH}, not {which!r}")
        async with self._sessions.begin() as s:
            ctx = await self._context(s, account_id, student_id, now)
            st = ctx.student
            days = day_range(ctx.today, which)
            rows = list(await s.scalars(select(Homework).where(
                Homework.source == st.source, Homework.class_ref == st.class_ref, Homework.deleted_at.is_(None),
                Homework.due_on >= days[0], Homework.due_on <= days[-1],
            ).order_by(Homework.due_on, Homework.id)))
            subjects, deleted = await self._subjects(s, st.source, {h.subject_ref for h in rows})
            out: list[DayHomework] = []
            for d in days:
                items = [
                    HomeworkItem(subject_name=subjects[h.subject_ref].name if h.subject_ref in subjects
                                 else h.subject_ref, text=h.text,
                                 attachments=[dict(a) for a in (h.attachments or []) if isinstance(a, dict)])
                    for h in rows if h.due_on == d and h.subject_ref not in deleted
                ]
                items.sort(key=lambda i: i.subject_name.casefold())
                out.append(DayHomework(date=d, items=items))
            return HomeworkView(student_name=st.full_name, days=out)

    async def schedule(self, account_id: int, student_id: int, which: str = "today",
                       now: datetime | None = None) -> ScheduleView:
        """The class timetable for each day of the range (see day_range): whole-class lessons
        and the lessons of the pupil's groups; cancelled ones included (status "cancelled");
        substitutes named; holidays of the school or class named."""
        if which not in WHICH:
            raise ValueError(f"which must be one of {WHICH}, not {which!r}")
        async with self._sessions.begin() as s:
            ctx = await self._context(s, account_id, student_id, now)
            st = ctx.student
            days = day_range(ctx.today, which)
            groups = {str(g) for g in (st.groups or [])}
            lessons = [
                l for l in await s.scalars(select(Lesson).where(
                    Lesson.source == st.source, Lesson.class_ref == st.class_ref, Lesson.deleted_at.is_(None),
                    Lesson.date >= days[0], Lesson.date <= days[-1],
                ).order_by(Lesson.date, Lesson.number, Lesson.starts_at, Lesson.id))
                if l.group is None or l.group in groups
            ]
            subjects, deleted = await self._subjects(s, st.source, {l.subject_ref for l in lessons})
            teacher_refs = {l.teacher_ref for l in lessons} | {l.substitute_teacher_ref for l in lessons
                                                              if l.substitute_teacher_ref}
            teachers = await self._rows(s, Teacher, st.source, teacher_refs)
            holidays = list(await s.scalars(select(Holiday).where(
                Holiday.source == st.source, Holiday.school_ref == st.school_ref, Holiday.deleted_at.is_(None),
                Holiday.starts_on <= days[-1], Holiday.ends_on >= days[0],
            ).order_by(Holiday.starts_on, Holiday.id)))
            out: list[DaySchedule] = []
            for d in days:
                holiday = next((h.name for h in holidays if h.starts_on <= d <= h.ends_on
                                and (h.class_refs is None or st.class_ref in [str(c) for c in h.class_refs])),
                               None)
                views = []
                for l in lessons:
                    if l.date != d or l.subject_ref in deleted:
                        continue
                    teacher = teachers.get(l.teacher_ref)
                    sub = teachers.get(l.substitute_teacher_ref) if l.substitute_teacher_ref else None
                    views.append(LessonView(
                        number=l.number, starts_at=l.starts_at, ends_at=l.ends_at,
                        subject_name=subjects[l.subject_ref].name if l.subject_ref in subjects
                        else l.subject_ref,
                        teacher_name=teacher.full_name if teacher else None,
                        substitute_teacher_name=sub.full_name if sub else None,
                        room=l.room, status=l.status, kind=l.kind,
                        moved_from=dict(l.moved_from) if l.moved_from else None, group=l.group,
                    ))
                out.append(DaySchedule(date=d, holiday_name=holiday, lessons=views))
            return ScheduleView(student_name=st.full_name, days=out)
