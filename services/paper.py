"""Paper extracts: a printable A4 extract per pupil for a period, for parents on paper delivery.

One extract: school, class, pupil, period; a table by subject with the period's marks, the
weighted average, the forecast (services/forecast.py when present) and the final grades; the
teachers' recommendations; the date of issue and signature lines for the class teacher and
the parent. A class PDF holds one extract per page, only for the pupils whose parents chose
paper or get nothing electronically (services.contacts.paper_student_ids).

The one-day rule: `queue_final_grades` (a scheduled job) puts every new final grade of a pupil
on paper delivery in the paper queue; an admin's `/paper_queue` (`drain_queue`) prints the
queued pupils' extracts for the class teacher and records them as produced.
"""
from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.admins import admin_school_ids, audit, require_school_admin, single_school
from services.config import Settings
from services.contacts import paper_student_ids
from services.diary import TERM_KINDS_BASIC, TERM_KINDS_SENIOR, weighted_average
from services.errors import NotAdmin, NotFound
from services.timezones import zone_of
from storage.contacts import PaperQueueItem
from storage.models import (
    Assignment,
    FinalGrade,
    Mark,
    Period,
    Recommendation,
    School,
    SchoolClass,
    Student,
    Subject,
    Teacher,
    utcnow,
)

log = logging.getLogger(__name__)

#: Final grades set this recently are queued for paper delivery (older ones are history).
QUEUE_WINDOW = timedelta(hours=36)
FALLBACK_DAYS = 30
FINAL_KIND_RU = {"period": "за период", "year": "годовая", "exam": "экзамен", "certificate": "аттестат"}


# --------------------------------------------------------------------------- read model


@dataclass(frozen=True)
class ExtractRow:
    subject: str
    marks: str  # "5 4 5(2)": values in date order, a weight other than 1 in brackets
    average: float | None
    forecast: str | None
    finals: str  # "за период: 5; годовая: 4" or ""


@dataclass(frozen=True)
class ExtractRecommendation:
    subject: str | None
    teacher: str | None
    day: date
    text: str


@dataclass(frozen=True)
class Extract:
    student_id: int
    student_name: str
    class_name: str
    school_name: str
    school_address: str | None
    period_name: str
    period_start: date
    period_end: date
    rows: list[ExtractRow]
    recommendations: list[ExtractRecommendation]
    class_teacher: str | None
    issued_on: date


@dataclass(frozen=True)
class PaperDocument:
    pdf: bytes | None  # None when no pupil qualifies
    filename: str
    student_ids: list[int] = field(default_factory=list)
    student_names: list[str] = field(default_factory=list)
    class_name: str = ""


# --------------------------------------------------------------------------- helpers


def _fmt_avg(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}".replace(".", ",")


def _marks_text(marks: list[Mark]) -> str:
    parts = []
    for m in marks:
        weight = float(m.weight) if m.weight is not None else 1.0
        parts.append(m.value if weight == 1.0 else f"{m.value}({weight:g})".replace(".", ","))
    return " ".join(parts)


def _final_text(fg: FinalGrade) -> str:
    label = FINAL_KIND_RU.get(fg.kind, fg.kind)
    if fg.kind == "exam" and fg.title:
        label = f"{label} ({fg.title})"
    if fg.status == "deferred":
        until = fg.deferred_until.strftime("%d.%m.%Y") if fg.deferred_until else "—"
        return f"{label}: перенесена до {until}"
    return f"{label}: {fg.value or '—'}"


def _forecaster() -> Any:
    """The forecast engine (services/forecast.py) if this installation has it, else None."""
    try:
        from services import forecast
    except ImportError:  # pragma: no cover - the engine ships with the term-results feature
        return None
    return forecast


async def _forecast_rule(s: AsyncSession, forecast: Any, school_id: int | None) -> Any:
    rule = forecast.DEFAULT_RULE
    if school_id is None:
        return rule
    try:
        from storage.results import ForecastRuleRow
    except ImportError:  # pragma: no cover
        return rule
    row = await s.scalar(select(ForecastRuleRow).where(ForecastRuleRow.school_id == school_id))
    if row is not None:
        try:
            rule = forecast.ForecastRule.from_dict(row.settings)
        except ValueError:
            log.warning("school %s has an unreadable forecast rule; the default is used", school_id)
    return rule


async def _rows(s: AsyncSession, model: Any, source: str, refs: set[str]) -> dict[str, Any]:
    refs = {r for r in refs if r}
    if not refs:
        return {}
    rows = await s.scalars(select(model).where(
        model.source == source, model.external_id.in_(sorted(refs)), model.deleted_at.is_(None)))
    return {r.external_id: r for r in rows}


async def resolve_period(s: AsyncSession, student: Student, grade: int | None, today: date) -> Period | None:
    """The reporting period as the diary shows it: the quarter/trimester (grades 1-9) or half
    (10-11) containing today, in the holidays the last one that ended; None without periods."""
    preferred = TERM_KINDS_SENIOR if grade is not None and grade >= 10 else TERM_KINDS_BASIC
    other = TERM_KINDS_BASIC if preferred is TERM_KINDS_SENIOR else TERM_KINDS_SENIOR
    periods: list[Period] = []
    for kinds in (preferred, other):
        periods = list(await s.scalars(select(Period).where(
            Period.source == student.source, Period.school_ref == student.school_ref,
            Period.kind.in_(kinds), Period.deleted_at.is_(None))))
        if periods:
            break
    current = [p for p in periods if p.starts_on <= today <= p.ends_on]
    if current:
        return max(current, key=lambda p: (p.starts_on, p.id))
    ended = [p for p in periods if p.ends_on < today]
    if ended:
        return max(ended, key=lambda p: (p.ends_on, p.starts_on, p.id))
    return None


async def build_extract(
    s: AsyncSession, student: Student, cls: SchoolClass | None, school: School | None, *,
    today: date, period: Period | None = None,
) -> Extract:
    """The extract of one pupil for `period` (default: the current one, see resolve_period)."""
    if period is None:
        period = await resolve_period(s, student, cls.grade if cls else None, today)
    if period is not None:
        name, start, end = period.name, period.starts_on, period.ends_on
    else:
        name, start, end = "последние 30 дней", today - timedelta(days=FALLBACK_DAYS - 1), today
    marks = list(await s.scalars(select(Mark).where(
        Mark.source == student.source, Mark.student_ref == student.external_id, Mark.deleted_at.is_(None),
        Mark.date >= start, Mark.date <= end).order_by(Mark.date, Mark.id)))
    finals_query = select(FinalGrade).where(
        FinalGrade.source == student.source, FinalGrade.student_ref == student.external_id,
        FinalGrade.deleted_at.is_(None))
    finals = [
        fg for fg in await s.scalars(finals_query.order_by(FinalGrade.id))
        if (period is not None and fg.period_ref == period.external_id)
        or (fg.kind != "period" and (fg.set_at is None or fg.set_at.date() >= start))
    ]
    recs = list(await s.scalars(select(Recommendation).where(
        Recommendation.source == student.source, Recommendation.student_ref == student.external_id,
        Recommendation.deleted_at.is_(None), Recommendation.date >= start, Recommendation.date <= end,
    ).order_by(Recommendation.date, Recommendation.id)))
    subjects = await _rows(s, Subject, student.source,
                           {m.subject_ref for m in marks} | {f.subject_ref for f in finals}
                           | {r.subject_ref for r in recs if r.subject_ref})
    teacher_refs = {r.teacher_ref for r in recs}
    class_teacher_ref = None
    if cls is not None:
        class_teacher_ref = await s.scalar(select(Assignment.teacher_ref).where(
            Assignment.source == cls.source, Assignment.class_ref == cls.external_id,
            Assignment.role == "class_teacher", Assignment.deleted_at.is_(None)).order_by(Assignment.id).limit(1))
    teachers = await _rows(s, Teacher, student.source, teacher_refs | {class_teacher_ref or ""})

    forecast = _forecaster()
    rule = await _forecast_rule(s, forecast, school.id if school else None) if forecast else None
    by_subject: dict[str, tuple[list[Mark], list[FinalGrade]]] = {}
    for m in marks:
        by_subject.setdefault(m.subject_ref, ([], []))[0].append(m)
    for fg in finals:
        by_subject.setdefault(fg.subject_ref, ([], []))[1].append(fg)
    rows: list[ExtractRow] = []
    for ref, (ms, fgs) in by_subject.items():
        subject = subjects.get(ref)
        average, _n = weighted_average([(m.value, m.weight) for m in ms])
        predicted = None
        if forecast is not None and ms:
            result = forecast.forecast_subject(
                [forecast.MarkInput(value=m.value, weight=m.weight, kind=m.kind) for m in ms], rule)
            predicted = result.mark
            if result.average is not None:
                average = result.average
        rows.append(ExtractRow(subject=subject.name if subject else ref, marks=_marks_text(ms), average=average,
                               forecast=predicted, finals="; ".join(_final_text(f) for f in fgs)))
    rows.sort(key=lambda r: r.subject.casefold())
    return Extract(
        student_id=student.id, student_name=student.full_name, class_name=cls.name if cls else "",
        school_name=school.name if school else "", school_address=school.address if school else None,
        period_name=name, period_start=start, period_end=end, rows=rows,
        recommendations=[ExtractRecommendation(
            subject=subjects[r.subject_ref].name if r.subject_ref in subjects else None,
            teacher=teachers[r.teacher_ref].full_name if r.teacher_ref in teachers else None,
            day=r.date, text=r.text) for r in recs],
        class_teacher=teachers[class_teacher_ref].full_name if class_teacher_ref in teachers else None,
        issued_on=today,
    )


# --------------------------------------------------------------------------- PDF (pure)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=False)


def render_extracts(extracts: list[Extract]) -> bytes:
    """One PDF, one extract per A4 page (a long extract continues on the next page)."""
    from reportlab.lib import colors
    from reportlab.platypus import TableStyle

    from services.documents.pdf import FONT, FONT_BOLD, PageBreak, Spacer, mm, p, render, table

    flow: list[Any] = []
    for i, ex in enumerate(extracts):
        if i:
            flow.append(PageBreak())
        flow.append(p(_e(ex.school_name), "heading"))
        if ex.school_address:
            flow.append(p(_e(ex.school_address), "small"))
        flow.append(Spacer(1, 3 * mm))
        flow.append(p("ВЫПИСКА ИЗ ЭЛЕКТРОННОГО ЖУРНАЛА УСПЕВАЕМОСТИ", "title"))
        period = f"{ex.period_name} ({ex.period_start:%d.%m.%Y} – {ex.period_end:%d.%m.%Y})"
        info = [["Обучающийся", p(f"<b>{_e(ex.student_name)}</b>", "cell")],
                ["Класс", ex.class_name],
                ["Период", period]]
        if ex.class_teacher:
            info.append(["Классный руководитель", ex.class_teacher])
        info_table = table(info, col_widths=[50 * mm, 130 * mm], header_rows=0)
        info_table.setStyle(TableStyle([("FONT", (1, 0), (1, -1), FONT, 9),
                                        ("FONT", (0, 0), (0, -1), FONT_BOLD, 9),
                                        ("BACKGROUND", (1, 0), (1, -1), colors.white)]))
        flow.append(info_table)
        flow.append(Spacer(1, 4 * mm))
        head = [p(f"<b>{h}</b>", "cell") for h in ("№", "Предмет", "Отметки за период", "Средний балл",
                                                   "Прогноз", "Итоговые")]
        body = [[str(n), p(_e(r.subject), "cell"), p(_e(r.marks) or "—", "cell"), _fmt_avg(r.average),
                 r.forecast or "—", p(_e(r.finals) or "—", "cell")] for n, r in enumerate(ex.rows, 1)]
        if not body:
            body = [["", p("Отметок за период нет", "cell"), "", "", "", ""]]
        flow.append(table([head, *body], col_widths=[9 * mm, 36 * mm, 54 * mm, 22 * mm, 20 * mm, 39 * mm]))
        flow.append(p("В скобках после отметки — её вес, если он не равен 1. Средний балл — "
                      "взвешенный: Σ(отметка × вес) / Σ(вес).", "small"))
        if ex.recommendations:
            flow.append(p("Рекомендации учителей", "heading"))
            for rec in ex.recommendations:
                who = ", ".join(x for x in (rec.subject, rec.teacher) if x)
                flow.append(p(f"{rec.day:%d.%m.%Y}{' — ' + _e(who) if who else ''}: {_e(rec.text)}"))
        flow.append(Spacer(1, 10 * mm))
        flow.append(p(f"Дата выдачи: {ex.issued_on:%d.%m.%Y}"))
        flow.append(Spacer(1, 8 * mm))
        teacher = f" / {_e(ex.class_teacher)} /" if ex.class_teacher else " / ______________________ /"
        flow.append(p(f"Классный руководитель: ____________________{teacher}"))
        flow.append(Spacer(1, 8 * mm))
        flow.append(p("Родитель (законный представитель): ____________________ / ______________________ /"))
        flow.append(Spacer(1, 2 * mm))
        flow.append(p("подпись, расшифровка; дата получения «____» ______________ 20___ г.", "small"))
    if not flow:
        flow.append(p("Нет выписок"))
    return render(flow, title="Выписка из электронного журнала")


# --------------------------------------------------------------------------- service


class PaperExtracts:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    def _today(self, school: School | None, now: datetime | None) -> date:
        tz = zone_of(school.timezone if school else None, self._settings.default_timezone)
        return (now or utcnow()).astimezone(tz).date()

    async def _class(self, s: AsyncSession, actor_tg: int, class_id: int) -> tuple[SchoolClass, School]:
        scope = await admin_school_ids(s, self._settings, actor_tg)
        if scope is not None and not scope:
            raise NotAdmin(f"telegram id {actor_tg} is not an admin")
        row = (await s.execute(
            select(SchoolClass, School)
            .join(School, and_(School.source == SchoolClass.source, School.external_id == SchoolClass.school_ref))
            .where(SchoolClass.id == class_id, SchoolClass.deleted_at.is_(None), School.deleted_at.is_(None))
        )).first()
        if row is None or (scope is not None and row[1].id not in scope):
            raise NotFound(f"class {class_id}")
        return row[0], row[1]

    async def class_extracts(self, actor_tg: int, class_id: int, *, now: datetime | None = None) -> PaperDocument:
        """The class PDF with the pupils on paper delivery only. NotAdmin / NotFound; audited."""
        async with self._sessions.begin() as s:
            cls, school = await self._class(s, actor_tg, class_id)
            students = list(await s.scalars(select(Student).where(
                Student.source == cls.source, Student.class_ref == cls.external_id, Student.deleted_at.is_(None),
            ).order_by(Student.full_name, Student.id)))
            chosen = await paper_student_ids(s, students)
            today = self._today(school, now)
            extracts = [await build_extract(s, st, cls, school, today=today) for st in students if st.id in chosen]
            audit(s, actor=actor_tg, action="paper.class_extract", target_type="class", target_id=cls.id,
                  details={"school_id": school.id, "pupils": [e.student_id for e in extracts]})
            log.info("paper extracts class=%s pupils=%s by=%s", cls.id, len(extracts), actor_tg)
        return PaperDocument(
            pdf=render_extracts(extracts) if extracts else None,
            filename=f"extracts-class-{cls.id}-{today:%Y%m%d}.pdf",
            student_ids=[e.student_id for e in extracts], student_names=[e.student_name for e in extracts],
            class_name=cls.name)

    async def pupil_extract(self, actor_tg: int, student_id: int, *, now: datetime | None = None) -> PaperDocument:
        """One pupil's extract on demand, whatever the parents' form. NotAdmin / NotFound; audited."""
        async with self._sessions.begin() as s:
            student = await s.get(Student, student_id)
            if student is None or student.deleted_at is not None:
                if await admin_school_ids(s, self._settings, actor_tg) == frozenset():
                    raise NotAdmin(f"telegram id {actor_tg} is not an admin")
                raise NotFound(f"student {student_id}")
            school = await s.scalar(select(School).where(
                School.source == student.source, School.external_id == student.school_ref))
            try:
                await require_school_admin(s, self._settings, actor_tg, school.id if school else None)
            except NotAdmin:
                if await admin_school_ids(s, self._settings, actor_tg) == frozenset():
                    raise
                raise NotFound(f"student {student_id}") from None  # another school's pupil: "not found"
            cls = await s.scalar(select(SchoolClass).where(
                SchoolClass.source == student.source, SchoolClass.external_id == student.class_ref))
            today = self._today(school, now)
            extract = await build_extract(s, student, cls, school, today=today)
            audit(s, actor=actor_tg, action="paper.pupil_extract", target_type="student", target_id=student.id,
                  details={"school_id": school.id if school else None})
        return PaperDocument(pdf=render_extracts([extract]), filename=f"extract-{student.id}-{today:%Y%m%d}.pdf",
                             student_ids=[student.id], student_names=[student.full_name],
                             class_name=cls.name if cls else "")

    # ---------------------------------------------------------------- the one-day rule

    async def queue_final_grades(self, *, now: datetime | None = None) -> int:
        """Queue final grades set in the last 36 hours for pupils on paper delivery (idempotent:
        one queue row per grade change). Returns how many rows were added."""
        now = now or utcnow()
        added = 0
        async with self._sessions.begin() as s:
            finals = list(await s.scalars(select(FinalGrade).where(
                FinalGrade.deleted_at.is_(None), FinalGrade.status == "final", FinalGrade.value.is_not(None),
                FinalGrade.updated_at >= now - QUEUE_WINDOW)))
            recent = [f for f in finals if (f.set_at or f.occurred_at or f.updated_at) >= now - QUEUE_WINDOW]
            if not recent:
                return 0
            refs = {(f.source, f.student_ref) for f in recent}
            students = [st for st in await s.scalars(select(Student).where(
                Student.external_id.in_(sorted({r for _, r in refs})), Student.deleted_at.is_(None)))
                if (st.source, st.external_id) in refs]
            on_paper = await paper_student_ids(s, students)
            by_ref = {(st.source, st.external_id): st for st in students if st.id in on_paper}
            for fg in recent:
                student = by_ref.get((fg.source, fg.student_ref))
                if student is None:
                    continue
                exists = await s.scalar(select(PaperQueueItem.id).where(
                    PaperQueueItem.final_grade_id == fg.id, PaperQueueItem.final_seq == fg.last_seq))
                if exists is not None:
                    continue
                occurred = fg.set_at or fg.occurred_at or fg.updated_at
                s.add(PaperQueueItem(student_id=student.id, final_grade_id=fg.id, final_seq=fg.last_seq,
                                     occurred_at=occurred, created_at=now))
                await expect_paper_produced(s, fg.id, fg.last_seq, occurred)
                added += 1
        if added:
            log.info("paper queue: %d final grades of pupils on paper delivery", added)
        return added

    async def queue_size(self, actor_tg: int) -> int:
        async with self._sessions.begin() as s:
            return len(await self._queued(s, actor_tg))

    async def _queued(self, s: AsyncSession, actor_tg: int) -> list[tuple[PaperQueueItem, Student, School]]:
        scope = await admin_school_ids(s, self._settings, actor_tg)
        if scope is not None and not scope:
            raise NotAdmin(f"telegram id {actor_tg} is not an admin")
        stmt = (
            select(PaperQueueItem, Student, School)
            .join(Student, Student.id == PaperQueueItem.student_id)
            .join(School, and_(School.source == Student.source, School.external_id == Student.school_ref))
            .where(PaperQueueItem.produced_at.is_(None))
            .order_by(PaperQueueItem.id)
        )
        if scope is not None:
            stmt = stmt.where(School.id.in_(scope))
        return [(q, st, sc) for q, st, sc in (await s.execute(stmt)).all()]

    async def drain_queue(self, actor_tg: int, *, now: datetime | None = None) -> PaperDocument:
        """Print the queued extracts of the admin's schools (one per pupil, the period of the
        queued grade) and mark them produced; NotAdmin for non-admins; audited."""
        now = now or utcnow()
        async with self._sessions.begin() as s:
            queued = await self._queued(s, actor_tg)
            extracts: list[Extract] = []
            seen: set[int] = set()
            for item, student, school in queued:
                if student.id in seen:
                    continue
                seen.add(student.id)
                fg = await s.get(FinalGrade, item.final_grade_id)
                period = None
                if fg is not None and fg.period_ref:
                    period = await s.scalar(select(Period).where(
                        Period.source == fg.source, Period.external_id == fg.period_ref, Period.deleted_at.is_(None)))
                cls = await s.scalar(select(SchoolClass).where(
                    SchoolClass.source == student.source, SchoolClass.external_id == student.class_ref))
                extracts.append(await build_extract(s, student, cls, school, today=self._today(school, now),
                                                    period=period))
            for item, _student, _school in queued:
                item.produced_at, item.produced_by = now, actor_tg
            if queued:
                await record_paper_produced(s, [(item, student) for item, student, _ in queued], now)
                audit(s, actor=actor_tg, action="paper.queue_extract", target_type="paper_queue",
                      target_id=None, details={"pupils": sorted(seen), "items": [q.id for q, _, _ in queued],
                                               "school_id": single_school(frozenset(school.id for _, _, school in queued))})
        return PaperDocument(pdf=render_extracts(extracts) if extracts else None,
                             filename=f"extracts-queue-{now:%Y%m%d-%H%M}.pdf",
                             student_ids=[e.student_id for e in extracts],
                             student_names=[e.student_name for e in extracts])


def _delivery_function(name: str) -> Any:
    """A function of the one-day-rule measurement (services/delivery.py, issue 5), if installed."""
    try:
        from services import delivery  # type: ignore[attr-defined]
    except ImportError:
        return None
    return getattr(delivery, name, None)


async def expect_paper_produced(s: AsyncSession, final_grade_id: int, seq: int, occurred_at: datetime) -> None:
    """One-day rule: the extract with this grade is owed (counted as undelivered, and alarmed
    to the school's admins when late, until `record_paper_produced`)."""
    expect = _delivery_function("expect_paper_extract")
    if expect is not None:
        await expect(s, final_grade_id=final_grade_id, seq=seq, occurred_at=occurred_at)


async def record_paper_produced(s: AsyncSession, items: list[tuple[PaperQueueItem, Student]], now: datetime) -> None:
    """One-day rule: the extracts carrying these final grades were produced for the class
    teacher: ``services.delivery.record_paper_extract`` measures the delay (the paper queue's
    ``produced_at`` is the record when that module is absent)."""
    record = _delivery_function("record_paper_extract")
    if record is None:
        return
    for item, student in items:
        await record(s, student_id=student.id, final_grade_id=item.final_grade_id, seq=item.final_seq,
                     occurred_at=item.occurred_at, produced_at=now)

