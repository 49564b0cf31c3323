"""Diary read models for a parent: every view of one child.

Marks of the current period (and one subject's detail), the timetable and homework for a day
or a week of any date (and homework by subject), the control works calendar of the period,
the class's teachers, holidays and teachers' recommendations.

Every method takes the asking account and the student id and starts with the single
authorization check (`require_linked_student`); a subject id from outside the pupil's school
gets the same NotLinked. "Today" is the date in the school's time zone (School.timezone, else
settings.default_timezone) at `now` (default: the current time).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.access import require_linked_student
from services.config import Settings
from services.errors import NotLinked
from services.timezones import as_utc, zone_of
from storage.models import (
    Assessment,
    Assignment,
    Holiday,
    Homework,
    Lesson,
    Mark,
    Period,
    Recommendation,
    School,
    SchoolClass,
    Student,
    Subject,
    Teacher,
)

log = logging.getLogger(__name__)

NUMERIC_MARKS = frozenset({"1", "2", "3", "4", "5"})
TERM_KINDS_BASIC = ("quarter", "trimester")  # grades 1-9
TERM_KINDS_SENIOR = ("half",)  # grades 10-11
FALLBACK_DAYS = 30
WHICH = ("today", "tomorrow", "week")
SPANS = ("day", "week")
#: How far around the shown days to look for lessons moved away from them.
MOVED_WINDOW_DAYS = 31
#: Homework by subject: what is due from today over this many days.
HOMEWORK_AHEAD_DAYS = 14
#: Holidays: at most this many upcoming ones.
HOLIDAYS_AHEAD = 8
#: Recommendations: the newest this many.
RECOMMENDATIONS_LIMIT = 20


# --------------------------------------------------------------------------- DTOs


@dataclass(frozen=True)
class PupilView:
    """Who a view is about, and the school's "today"."""

    student_id: int
    full_name: str
    class_name: str
    school_name: str
    timezone: str
    today: date


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
class MarkDetail:
    date: date
    value: str
    weight: float
    kind: str  # answer | test | control | homework | other
    comment: str | None
    teacher_name: str | None


@dataclass(frozen=True)
class SubjectMarksView:
    """One subject's marks of the current period, oldest first."""

    student_name: str
    subject_id: int
    subject_name: str
    period_name: str | None
    period_start: date
    period_end: date
    marks: list[MarkDetail]
    average: float | None
    count: int


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
    today: date | None = None  # the school's today (to label "today"/"tomorrow")


@dataclass(frozen=True)
class HomeworkEntry:
    assigned_on: date
    due_on: date
    text: str
    attachments: list[dict[str, Any]]


@dataclass(frozen=True)
class SubjectHomework:
    subject_id: int | None
    subject_name: str
    items: list[HomeworkEntry]


@dataclass(frozen=True)
class HomeworkSubjectsView:
    """Homework due from `today` to `until`, per subject; `subjects` also lists (with no
    items) the subjects that had homework earlier in the period, so each can be opened."""

    student_name: str
    today: date
    until: date
    subjects: list[SubjectHomework]


@dataclass(frozen=True)
class SubjectHomeworkView:
    """One subject's homework of the current period (and whatever is due later), newest first."""

    student_name: str
    subject_id: int
    subject_name: str
    period_name: str | None
    period_start: date
    period_end: date
    today: date
    items: list[HomeworkEntry]


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
class MovedLesson:
    """A lesson that was planned on this day (slot `number`) and moved to `to_date`/`to_number`."""

    number: int | None
    subject_name: str
    to_date: date
    to_number: int
    group: str | None = None


@dataclass(frozen=True)
class DaySchedule:
    date: date
    holiday_name: str | None
    lessons: list[LessonView] = field(default_factory=list)
    moved_away: list[MovedLesson] = field(default_factory=list)


@dataclass(frozen=True)
class ScheduleView:
    student_name: str
    days: list[DaySchedule]
    today: date | None = None  # the school's today (to label "today"/"tomorrow")


@dataclass(frozen=True)
class AssessmentItem:
    date: date
    lesson_number: int | None
    subject_name: str
    title: str
    kind: str  # control | test | vpr | other


@dataclass(frozen=True)
class AssessmentsView:
    student_name: str
    period_name: str | None
    period_start: date
    period_end: date
    today: date
    items: list[AssessmentItem]


@dataclass(frozen=True)
class TeacherLine:
    name: str
    group: str | None  # the pupil's group or stream the teacher works with; None: whole class
    individual: bool  # the pupil's individual study plan


@dataclass(frozen=True)
class SubjectTeachers:
    subject_name: str | None  # None: an assignment without a subject
    teachers: list[TeacherLine]


@dataclass(frozen=True)
class TeachersView:
    student_name: str
    class_name: str
    class_teachers: list[str]
    subjects: list[SubjectTeachers]


@dataclass(frozen=True)
class HolidayItem:
    name: str
    starts_on: date
    ends_on: date
    class_only: bool  # declared for some classes (the pupil's among them), not the whole school


@dataclass(frozen=True)
class HolidaysView:
    student_name: str
    today: date
    current: list[HolidayItem]
    upcoming: list[HolidayItem]  # starting after today, soonest first, at most HOLIDAYS_AHEAD


@dataclass(frozen=True)
class RecommendationItem:
    date: date
    subject_name: str | None
    teacher_name: str | None
    text: str


@dataclass(frozen=True)
class RecommendationsView:
    student_name: str
    items: list[RecommendationItem]  # newest first, at most RECOMMENDATIONS_LIMIT
    total: int


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


def week_of(day: date) -> list[date]:
    """Monday..Sunday of the week that contains `day`."""
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=i) for i in range(7)]


def day_range(today: date, which: str) -> list[date]:
    """today: [today]; tomorrow: [the calendar day after today] (also on Saturday);
    week: Monday..Sunday of today's week."""
    if which == "today":
        return [today]
    if which == "tomorrow":
        return [today + timedelta(days=1)]
    if which == "week":
        return week_of(today)
    raise ValueError(f"which must be one of {WHICH}, not {which!r}")


def span_days(day: date, span: str) -> list[date]:
    """day: [day]; week: Monday..Sunday of the week containing `day`."""
    if span == "day":
        return [day]
    if span == "week":
        return week_of(day)
    raise ValueError(f"span must be one of {SPANS}, not {span!r}")


def _parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError):
        return None


def _attachments(raw: Any) -> list[dict[str, Any]]:
    return [dict(a) for a in (raw or []) if isinstance(a, dict)]


def _for_class(holiday: Holiday, class_ref: str) -> bool:
    return holiday.class_refs is None or class_ref in [str(c) for c in holiday.class_refs]


@dataclass(frozen=True)
class _Ctx:
    student: Student
    cls: SchoolClass | None
    school: School | None
    today: date
    timezone: str


# --------------------------------------------------------------------------- service


class Diary:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings,
                 clock: Callable[[], datetime] | None = None) -> None:
        """`clock` gives the current time when a method gets no `now` (tests pin it)."""
        self._sessions = sessions
        self._settings = settings
        self._clock = clock

    # ---- shared steps

    async def _context(self, s: AsyncSession, account_id: int, student_id: int, now: datetime | None) -> _Ctx:
        student = await require_linked_student(s, account_id, student_id)
        cls = await s.scalar(select(SchoolClass).where(
            SchoolClass.source == student.source, SchoolClass.external_id == student.class_ref,
            SchoolClass.deleted_at.is_(None)))
        school = await s.scalar(select(School).where(
            School.source == student.source, School.external_id == student.school_ref, School.deleted_at.is_(None)))
        tz = zone_of(school.timezone if school else None, self._settings.default_timezone)
        if now is None and self._clock is not None:
            now = self._clock()
        today = as_utc(now).astimezone(tz).date()
        return _Ctx(student=student, cls=cls, school=school, today=today, timezone=tz.key)

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
        refs = {r for r in refs if r}
        live = await self._rows(s, Subject, source, refs)
        missing = set(refs) - set(live)
        deleted: set[str] = set()
        if missing:
            deleted = set(await s.scalars(select(Subject.external_id).where(
                Subject.source == source, Subject.external_id.in_(sorted(missing)),
                Subject.deleted_at.is_not(None))))
        return live, deleted

    async def _own_subject(self, s: AsyncSession, ctx: _Ctx, subject_id: int) -> Subject:
        """A live subject of the pupil's school; NotLinked for any other id (reveals nothing)."""
        try:
            sid = int(subject_id)
        except (TypeError, ValueError):
            raise NotLinked(f"student {ctx.student.id} subject ?") from None
        subject = await s.get(Subject, sid)
        st = ctx.student
        if (subject is None or subject.deleted_at is not None or subject.source != st.source
                or subject.school_ref != st.school_ref):
            raise NotLinked(f"student {st.id} subject {sid}")
        return subject

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

    # ---- who

    async def pupil(self, account_id: int, student_id: int, now: datetime | None = None) -> PupilView:
        """The child a view is about (name, class, school, the school's today)."""
        async with self._sessions.begin() as s:
            ctx = await self._context(s, account_id, student_id, now)
            return PupilView(student_id=ctx.student.id, full_name=ctx.student.full_name,
                             class_name=ctx.cls.name if ctx.cls else "",
                             school_name=ctx.school.name if ctx.school else "",
                             timezone=ctx.timezone, today=ctx.today)

    # ---- marks

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

    async def subject_marks(self, account_id: int, student_id: int, subject_id: int,
                            now: datetime | None = None) -> SubjectMarksView:
        """Every mark of one subject in the current period (see grades) with its date, kind,
        weight, comment and teacher, oldest first."""
        async with self._sessions.begin() as s:
            ctx = await self._context(s, account_id, student_id, now)
            st = ctx.student
            subject = await self._own_subject(s, ctx, subject_id)
            period_name, start, end = await self._current_period(s, ctx)
            marks = list(await s.scalars(select(Mark).where(
                Mark.source == st.source, Mark.student_ref == st.external_id, Mark.deleted_at.is_(None),
                Mark.subject_ref == subject.external_id, Mark.date >= start, Mark.date <= end,
            ).order_by(Mark.date, Mark.id)))
            teachers = await self._rows(s, Teacher, st.source, {m.teacher_ref for m in marks if m.teacher_ref})
            avg, n = weighted_average([(m.value, m.weight) for m in marks])
            return SubjectMarksView(
                student_name=st.full_name, subject_id=subject.id, subject_name=subject.name,
                period_name=period_name, period_start=start, period_end=end,
                marks=[MarkDetail(date=m.date, value=m.value, weight=m.weight, kind=m.kind, comment=m.comment,
                                  teacher_name=teachers[m.teacher_ref].full_name if m.teacher_ref in teachers
                                  else None)
                       for m in marks],
                average=avg, count=n)

    # ---- homework

    async def homework(self, account_id: int, student_id: int, which: str = "today",
                       now: datetime | None = None) -> HomeworkView:
        """Homework due on each day of the range (see day_range); every day of the range is
        listed, possibly with no items. Items are ordered by subject name."""
        if which not in WHICH:
            raise ValueError(f"which must be one of {WHICH}, not {which!r}")
        async with self._sessions.begin() as s:
            ctx = await self._context(s, account_id, student_id, now)
            return await self._homework_days(s, ctx, day_range(ctx.today, which))

    async def homework_for(self, account_id: int, student_id: int, day: date | None = None, span: str = "day",
                           now: datetime | None = None) -> HomeworkView:
        """Homework due on `day` (default: the school's today) or in its week (span "week")."""
        if span not in SPANS:
            raise ValueError(f"span must be one of {SPANS}, not {span!r}")
        async with self._sessions.begin() as s:
            ctx = await self._context(s, account_id, student_id, now)
            return await self._homework_days(s, ctx, span_days(day or ctx.today, span))

    async def _homework_days(self, s: AsyncSession, ctx: _Ctx, days: list[date]) -> HomeworkView:
        st = ctx.student
        rows = list(await s.scalars(select(Homework).where(
            Homework.source == st.source, Homework.class_ref == st.class_ref, Homework.deleted_at.is_(None),
            Homework.due_on >= days[0], Homework.due_on <= days[-1],
        ).order_by(Homework.due_on, Homework.id)))
        subjects, deleted = await self._subjects(s, st.source, {h.subject_ref for h in rows})
        out: list[DayHomework] = []
        for d in days:
            items = [
                HomeworkItem(subject_name=subjects[h.subject_ref].name if h.subject_ref in subjects
                             else h.subject_ref, text=h.text, attachments=_attachments(h.attachments))
                for h in rows if h.due_on == d and h.subject_ref not in deleted
            ]
            items.sort(key=lambda i: i.subject_name.casefold())
            out.append(DayHomework(date=d, items=items))
        return HomeworkView(student_name=st.full_name, days=out, today=ctx.today)

    async def homework_by_subject(self, account_id: int, student_id: int,
                                  now: datetime | None = None) -> HomeworkSubjectsView:
        """Homework due from today over HOMEWORK_AHEAD_DAYS, grouped by subject (by name);
        subjects that had homework earlier in the current period are listed with no items."""
        async with self._sessions.begin() as s:
            ctx = await self._context(s, account_id, student_id, now)
            st = ctx.student
            _, start, end = await self._current_period(s, ctx)
            until = ctx.today + timedelta(days=HOMEWORK_AHEAD_DAYS - 1)
            rows = list(await s.scalars(select(Homework).where(
                Homework.source == st.source, Homework.class_ref == st.class_ref, Homework.deleted_at.is_(None),
                Homework.due_on >= min(start, ctx.today), Homework.due_on <= max(end, until),
            ).order_by(Homework.due_on, Homework.id)))
            subjects, deleted = await self._subjects(s, st.source, {h.subject_ref for h in rows})
            grouped: dict[str, list[HomeworkEntry]] = {}
            for h in rows:
                if h.subject_ref in deleted:
                    continue
                items = grouped.setdefault(h.subject_ref, [])
                if ctx.today <= h.due_on <= until:
                    items.append(HomeworkEntry(assigned_on=h.assigned_on, due_on=h.due_on, text=h.text,
                                               attachments=_attachments(h.attachments)))
            result = [
                SubjectHomework(subject_id=subjects[ref].id if ref in subjects else None,
                                subject_name=subjects[ref].name if ref in subjects else ref, items=items)
                for ref, items in grouped.items()
            ]
            result.sort(key=lambda x: (x.subject_name.casefold(), x.subject_id or 0))
            return HomeworkSubjectsView(student_name=st.full_name, today=ctx.today, until=until, subjects=result)

    async def subject_homework(self, account_id: int, student_id: int, subject_id: int,
                               now: datetime | None = None) -> SubjectHomeworkView:
        """One subject's homework due in the current period or later, newest due date first."""
        async with self._sessions.begin() as s:
            ctx = await self._context(s, account_id, student_id, now)
            st = ctx.student
            subject = await self._own_subject(s, ctx, subject_id)
            period_name, start, end = await self._current_period(s, ctx)
            rows = list(await s.scalars(select(Homework).where(
                Homework.source == st.source, Homework.class_ref == st.class_ref, Homework.deleted_at.is_(None),
                Homework.subject_ref == subject.external_id, Homework.due_on >= start,
            ).order_by(Homework.due_on.desc(), Homework.id.desc())))
            return SubjectHomeworkView(
                student_name=st.full_name, subject_id=subject.id, subject_name=subject.name,
                period_name=period_name, period_start=start, period_end=end, today=ctx.today,
                items=[HomeworkEntry(assigned_on=h.assigned_on, due_on=h.due_on, text=h.text,
                                     attachments=_attachments(h.attachments)) for h in rows])

    # ---- timetable

    async def schedule(self, account_id: int, student_id: int, which: str = "today",
                       now: datetime | None = None) -> ScheduleView:
        """The class timetable for each day of the range (see day_range): whole-class lessons
        and the lessons of the pupil's groups; cancelled ones included (status "cancelled");
        substitutes named; holidays of the school or class named; lessons moved away from a
        day listed under it (moved_away)."""
        if which not in WHICH:
            raise ValueError(f"which must be one of {WHICH}, not {which!r}")
        async with self._sessions.begin() as s:
            ctx = await self._context(s, account_id, student_id, now)
            return await self._schedule_days(s, ctx, day_range(ctx.today, which))

    async def schedule_for(self, account_id: int, student_id: int, day: date | None = None, span: str = "day",
                           now: datetime | None = None) -> ScheduleView:
        """The timetable (as schedule()) of `day` (default: the school's today) or of its week."""
        if span not in SPANS:
            raise ValueError(f"span must be one of {SPANS}, not {span!r}")
        async with self._sessions.begin() as s:
            ctx = await self._context(s, account_id, student_id, now)
            return await self._schedule_days(s, ctx, span_days(day or ctx.today, span))

    async def _schedule_days(self, s: AsyncSession, ctx: _Ctx, days: list[date]) -> ScheduleView:
        st = ctx.student
        groups = {str(g) for g in (st.groups or [])}

        def mine(lesson: Lesson) -> bool:
            return lesson.group is None or lesson.group in groups

        lessons = [
            lesson for lesson in await s.scalars(select(Lesson).where(
                Lesson.source == st.source, Lesson.class_ref == st.class_ref, Lesson.deleted_at.is_(None),
                Lesson.date >= days[0], Lesson.date <= days[-1],
            ).order_by(Lesson.date, Lesson.number, Lesson.starts_at, Lesson.id))
            if mine(lesson)
        ]
        # lessons moved away from the shown days now sit on other dates: look around them
        window = (days[0] - timedelta(days=MOVED_WINDOW_DAYS), days[-1] + timedelta(days=MOVED_WINDOW_DAYS))
        moved: list[tuple[date, Lesson]] = []
        for lesson in await s.scalars(select(Lesson).where(
                Lesson.source == st.source, Lesson.class_ref == st.class_ref, Lesson.deleted_at.is_(None),
                Lesson.date >= window[0], Lesson.date <= window[1],
                Lesson.moved_from.is_not(None), cast(Lesson.moved_from, String) != "null",  # JSON null too
        ).order_by(Lesson.date, Lesson.number, Lesson.id)):
            origin = _parse_date(lesson.moved_from.get("date")) if isinstance(lesson.moved_from, dict) else None
            if origin is not None and days[0] <= origin <= days[-1] and mine(lesson):
                moved.append((origin, lesson))
        subjects, deleted = await self._subjects(
            s, st.source, {lesson.subject_ref for lesson in lessons} | {lesson.subject_ref for _, lesson in moved})
        teacher_refs = {lesson.teacher_ref for lesson in lessons} | {
            lesson.substitute_teacher_ref for lesson in lessons if lesson.substitute_teacher_ref}
        teachers = await self._rows(s, Teacher, st.source, teacher_refs)
        holidays = list(await s.scalars(select(Holiday).where(
            Holiday.source == st.source, Holiday.school_ref == st.school_ref, Holiday.deleted_at.is_(None),
            Holiday.starts_on <= days[-1], Holiday.ends_on >= days[0],
        ).order_by(Holiday.starts_on, Holiday.id)))

        def subject_name(ref: str) -> str:
            return subjects[ref].name if ref in subjects else ref

        out: list[DaySchedule] = []
        for d in days:
            holiday = next((h.name for h in holidays if h.starts_on <= d <= h.ends_on
                            and _for_class(h, st.class_ref)), None)
            views = []
            for lesson in lessons:
                if lesson.date != d or lesson.subject_ref in deleted:
                    continue
                teacher = teachers.get(lesson.teacher_ref)
                sub = teachers.get(lesson.substitute_teacher_ref) if lesson.substitute_teacher_ref else None
                views.append(LessonView(
                    number=lesson.number, starts_at=lesson.starts_at, ends_at=lesson.ends_at,
                    subject_name=subject_name(lesson.subject_ref),
                    teacher_name=teacher.full_name if teacher else None,
                    substitute_teacher_name=sub.full_name if sub else None,
                    room=lesson.room, status=lesson.status, kind=lesson.kind,
                    moved_from=dict(lesson.moved_from) if lesson.moved_from else None, group=lesson.group,
                ))
            away = [
                MovedLesson(number=_int_or_none(lesson.moved_from.get("number")),
                            subject_name=subject_name(lesson.subject_ref), to_date=lesson.date,
                            to_number=lesson.number, group=lesson.group)
                for origin, lesson in moved if origin == d and lesson.subject_ref not in deleted
            ]
            away.sort(key=lambda m: (m.number or 0, m.subject_name))
            out.append(DaySchedule(date=d, holiday_name=holiday, lessons=views, moved_away=away))
        return ScheduleView(student_name=st.full_name, days=out, today=ctx.today)

    # ---- control works

    async def assessments(self, account_id: int, student_id: int, now: datetime | None = None) -> AssessmentsView:
        """The class's control works calendar for the current period (see grades), by date."""
        async with self._sessions.begin() as s:
            ctx = await self._context(s, account_id, student_id, now)
            st = ctx.student
            period_name, start, end = await self._current_period(s, ctx)
            rows = list(await s.scalars(select(Assessment).where(
                Assessment.source == st.source, Assessment.class_ref == st.class_ref,
                Assessment.deleted_at.is_(None), Assessment.date >= start, Assessment.date <= end,
            ).order_by(Assessment.date, Assessment.lesson_number, Assessment.id)))
            subjects, deleted = await self._subjects(s, st.source, {a.subject_ref for a in rows})
            items = [
                AssessmentItem(date=a.date, lesson_number=a.lesson_number,
                               subject_name=subjects[a.subject_ref].name if a.subject_ref in subjects
                               else a.subject_ref, title=a.title, kind=a.kind)
                for a in rows if a.subject_ref not in deleted
            ]
            return AssessmentsView(student_name=st.full_name, period_name=period_name, period_start=start,
                                   period_end=end, today=ctx.today, items=items)

    # ---- teachers

    async def teachers(self, account_id: int, student_id: int) -> TeachersView:
        """The class teacher(s), then the subject teachers by subject name.

        Only assignments that concern this pupil count: the whole class, the pupil's groups or
        streams, and the pupil's own (individual plan). A subject the pupil studies on an
        individual plan shows only the individual teacher. Teachers not yet known are left out."""
        async with self._sessions.begin() as s:
            ctx = await self._context(s, account_id, student_id, None)
            st = ctx.student
            groups = {str(g) for g in (st.groups or [])}
            rows = [
                a for a in await s.scalars(select(Assignment).where(
                    Assignment.source == st.source, Assignment.class_ref == st.class_ref,
                    Assignment.deleted_at.is_(None)).order_by(Assignment.id))
                if (a.student_ref is None and (a.group is None or a.group in groups))
                or a.student_ref == st.external_id
            ]
            teachers = await self._rows(s, Teacher, st.source, {a.teacher_ref for a in rows})
            subjects, deleted = await self._subjects(s, st.source, {a.subject_ref for a in rows if a.subject_ref})
            class_teachers: list[str] = []
            individual = {a.subject_ref for a in rows if a.student_ref == st.external_id and a.subject_ref}
            by_subject: dict[str | None, list[TeacherLine]] = {}
            for a in rows:
                teacher = teachers.get(a.teacher_ref)
                if teacher is None:
                    continue
                if a.role == "class_teacher":
                    if teacher.full_name not in class_teachers:
                        class_teachers.append(teacher.full_name)
                    continue
                if a.subject_ref in deleted:
                    continue
                own = a.student_ref == st.external_id
                if a.subject_ref in individual and not own:
                    continue  # the pupil studies this subject with their individual teacher
                line = TeacherLine(name=teacher.full_name, group=a.group, individual=own)
                lines = by_subject.setdefault(a.subject_ref, [])
                if line not in lines:
                    lines.append(line)
            result = [
                SubjectTeachers(subject_name=(subjects[ref].name if ref in subjects else ref) if ref else None,
                                teachers=sorted(lines, key=lambda x: (x.name.casefold(), x.group or "")))
                for ref, lines in by_subject.items()
            ]
            result.sort(key=lambda x: (x.subject_name is None, (x.subject_name or "").casefold()))
            return TeachersView(student_name=st.full_name, class_name=ctx.cls.name if ctx.cls else "",
                                class_teachers=class_teachers, subjects=result)

    # ---- holidays

    async def holidays(self, account_id: int, student_id: int, now: datetime | None = None) -> HolidaysView:
        """Holidays of the school or of the pupil's class: those going on today, and the next
        HOLIDAYS_AHEAD ones starting later."""
        async with self._sessions.begin() as s:
            ctx = await self._context(s, account_id, student_id, now)
            st = ctx.student
            rows = [
                h for h in await s.scalars(select(Holiday).where(
                    Holiday.source == st.source, Holiday.school_ref == st.school_ref, Holiday.deleted_at.is_(None),
                    Holiday.ends_on >= ctx.today,
                ).order_by(Holiday.starts_on, Holiday.ends_on, Holiday.id))
                if _for_class(h, st.class_ref)
            ]

            def item(h: Holiday) -> HolidayItem:
                return HolidayItem(name=h.name, starts_on=h.starts_on, ends_on=h.ends_on,
                                   class_only=h.class_refs is not None)

            current = [item(h) for h in rows if h.starts_on <= ctx.today]
            upcoming = [item(h) for h in rows if h.starts_on > ctx.today][:HOLIDAYS_AHEAD]
            return HolidaysView(student_name=st.full_name, today=ctx.today, current=current, upcoming=upcoming)

    # ---- recommendations

    async def recommendations(self, account_id: int, student_id: int,
                              limit: int = RECOMMENDATIONS_LIMIT) -> RecommendationsView:
        """Teachers' recommendations to this pupil, newest first (at most `limit`), with the total."""
        async with self._sessions.begin() as s:
            ctx = await self._context(s, account_id, student_id, None)
            st = ctx.student
            where = [Recommendation.source == st.source, Recommendation.student_ref == st.external_id,
                     Recommendation.deleted_at.is_(None)]
            refs = set(await s.scalars(select(Recommendation.subject_ref).where(*where).distinct()))
            subjects, deleted = await self._subjects(s, st.source, {r for r in refs if r})
            if deleted:  # a deleted subject's recommendations are hidden, and not counted
                where.append(or_(Recommendation.subject_ref.is_(None),
                                 Recommendation.subject_ref.not_in(sorted(deleted))))
            total = await s.scalar(select(func.count()).select_from(Recommendation).where(*where)) or 0
            rows = list(await s.scalars(select(Recommendation).where(*where).order_by(
                Recommendation.date.desc(), Recommendation.id.desc()).limit(max(1, limit))))
            teachers = await self._rows(s, Teacher, st.source, {r.teacher_ref for r in rows})
            items = [
                RecommendationItem(
                    date=r.date,
                    subject_name=(subjects[r.subject_ref].name if r.subject_ref in subjects else r.subject_ref)
                    if r.subject_ref else None,
                    teacher_name=teachers[r.teacher_ref].full_name if r.teacher_ref in teachers else None,
                    text=r.text)
                for r in rows
            ]
            return RecommendationsView(student_name=st.full_name, items=items, total=int(total))


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
