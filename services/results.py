"""Term results for parents and school admins: forecasts, final grades, the school's rule and
each parent's forecast push frequency.

Every read about a pupil starts with `require_linked_student` (authorization in one place).
"Today" is the date in the school's time zone. The forecast arithmetic is the pure engine in
services/forecast.py; this module only loads marks, periods and the rule (docs/forecast.md).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.access import require_consent, require_linked_student
from services.admins import admin_school_ids, audit, require_school_admin
from services.config import Settings
from services.errors import NotAdmin, NotFound, ServiceError
from services.forecast import (
    DEFAULT_RULE,
    ForecastRule,
    MarkInput,
    RuleError,
    SubjectForecast,
    apply_rule_args,
    forecast_subject,
)
from services.timezones import as_utc, zone_of
from storage.models import (
    Curriculum,
    FinalGrade,
    Mark,
    Period,
    School,
    SchoolClass,
    Student,
    Subject,
)
from storage.results import ForecastPref, ForecastRuleRow

log = logging.getLogger(__name__)

WHICH = ("term", "half", "year")
TERM_KINDS_BASIC = ("quarter", "trimester")  # grades 1-9
TERM_KINDS_SENIOR = ("half",)  # grades 10-11
FREQUENCIES = ("off", "weekly", "biweekly")
DEFAULT_FREQUENCY = "weekly"
#: Finals groups that are not periods.
EXAM_GROUP, CERT_GROUP = "exam", "cert"
FINAL_KINDS_ORDER = {"period": 0, "year": 1, "exam": 2, "certificate": 3}


class SchoolRequired(ServiceError):
    """The admin has several schools (or all of them): the command needs a school code."""


# --------------------------------------------------------------------------- DTOs


@dataclass(frozen=True)
class PeriodSpan:
    which: str  # term | half | year
    kind: str  # quarter | trimester | half | year
    name: str
    starts_on: date
    ends_on: date
    ref: str | None  # Period.external_id; None for a half-year made of two quarters

    def contains(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True)
class SubjectForecastView:
    subject_id: int | None
    subject_name: str
    forecast: SubjectForecast


@dataclass(frozen=True)
class ForecastView:
    student_id: int
    student_name: str
    which: str
    period: PeriodSpan | None  # None: the school has no such period
    available: tuple[str, ...]  # the period choices this pupil has (term, half, year)
    term_kind: str | None  # quarter | trimester | half: what "term" is for this pupil
    subjects: list[SubjectForecastView]
    rule: ForecastRule
    today: date


@dataclass(frozen=True)
class FinalItem:
    subject_name: str
    kind: str  # period | year | exam | certificate
    title: str | None
    value: str | None
    status: str  # final | deferred
    deferred_until: date | None
    set_at: datetime | None


@dataclass(frozen=True)
class FinalsGroup:
    key: str  # "p<period id>" | "exam" | "cert"
    kind: str  # the period's kind (quarter | trimester | half | year) | exam | certificate
    name: str  # the period's name ("" for exams and the certificate)
    items: list[FinalItem]

    @property
    def deferred(self) -> int:
        return sum(1 for i in self.items if i.status == "deferred")


@dataclass(frozen=True)
class FinalsView:
    student_id: int
    student_name: str
    groups: list[FinalsGroup]
    selected: str | None  # key of the group shown

    @property
    def group(self) -> FinalsGroup | None:
        return next((g for g in self.groups if g.key == self.selected), None)


@dataclass(frozen=True)
class RuleView:
    school_id: int
    school_ref: str
    school_name: str
    rule: ForecastRule
    is_default: bool
    updated_at: datetime | None
    updated_by: int | None


# --------------------------------------------------------------------------- pure helpers


def _pick(periods: Sequence[Any], today: date) -> Any | None:
    """The period containing today; else the last one that ended; else None."""
    current = [p for p in periods if p.starts_on <= today <= p.ends_on]
    if current:
        return max(current, key=lambda p: (p.starts_on, p.id))
    ended = [p for p in periods if p.ends_on < today]
    if ended:
        return max(ended, key=lambda p: (p.ends_on, p.starts_on, p.id))
    return None


def _span(which: str, p: Any) -> PeriodSpan:
    return PeriodSpan(which=which, kind=p.kind, name=p.name, starts_on=p.starts_on, ends_on=p.ends_on,
                      ref=p.external_id)


def resolve_periods(periods: Sequence[Any], grade: int | None, today: date) -> dict[str, PeriodSpan]:
    """The pupil's periods around `today`: "term" (quarter or trimester in grades 1-9, half in
    10-11; a school without that kind uses the other), "half" (grades 1-9: the journal's
    half-year, or the two quarters of the term's half) and "year". A period containing today
    is preferred, else the last one that ended (as /grades does in the holidays)."""
    live = [p for p in periods if getattr(p, "deleted_at", None) is None]
    senior = grade is not None and grade >= 10
    preferred = TERM_KINDS_SENIOR if senior else TERM_KINDS_BASIC
    other = TERM_KINDS_BASIC if senior else TERM_KINDS_SENIOR
    out: dict[str, PeriodSpan] = {}
    for kinds in (preferred, other):
        term = _pick([p for p in live if p.kind in kinds], today)
        if term is not None:
            out["term"] = _span("term", term)
            break
    if "term" in out and out["term"].kind != "half":
        half = _pick([p for p in live if p.kind == "half"], today)
        if half is not None:
            out["half"] = _span("half", half)
        elif out["term"].kind == "quarter":
            quarters = sorted((p for p in live if p.kind == "quarter"), key=lambda p: (p.starts_on, p.id))
            year = _pick([p for p in live if p.kind == "year"], today)
            if year is not None:
                quarters = [q for q in quarters if year.starts_on <= q.starts_on <= year.ends_on]
            index = next((i for i, q in enumerate(quarters) if q.external_id == out["term"].ref), None)
            base = None if index is None else index - index % 2  # quarters 1+2, 3+4
            if base is not None and base + 1 < len(quarters):
                first, second = quarters[base], quarters[base + 1]
                number = "1" if base == 0 else "2"
                out["half"] = PeriodSpan(which="half", kind="half", name=number, starts_on=first.starts_on,
                                         ends_on=second.ends_on, ref=None)
    year = _pick([p for p in live if p.kind == "year"], today)
    if year is not None:
        out["year"] = _span("year", year)
    return out


def subject_payload(view: SubjectForecastView) -> dict[str, Any]:
    """One subject's forecast as plain JSON: the shape of the `forecast` messages' subjects."""
    f = view.forecast
    return {
        "subject": view.subject_name,
        "status": f.status,
        "mark": f.mark,
        "average": f.average,
        "count": f.count,
        "min_marks": f.min_marks,
        "risks": list(f.risks),
        "up": [f.up.count, f.up.result] if f.up else None,
        "down": [f.down.count, f.down.result] if f.down else None,
    }


# --------------------------------------------------------------------------- shared queries


async def rule_for_school(s: AsyncSession, school_id: int | None) -> ForecastRule:
    """The school's stored rule, or the default one (also when the stored one is invalid)."""
    if school_id is None:
        return DEFAULT_RULE
    row = await s.scalar(select(ForecastRuleRow).where(ForecastRuleRow.school_id == school_id))
    if row is None:
        return DEFAULT_RULE
    try:
        return ForecastRule.from_dict(row.settings)
    except RuleError:
        log.warning("invalid forecast rule stored for school %s; using the default", school_id)
        return DEFAULT_RULE


async def school_of(s: AsyncSession, student: Student) -> School | None:
    return await s.scalar(select(School).where(
        School.source == student.source, School.external_id == student.school_ref, School.deleted_at.is_(None)))


async def class_of(s: AsyncSession, student: Student) -> SchoolClass | None:
    return await s.scalar(select(SchoolClass).where(
        SchoolClass.source == student.source, SchoolClass.external_id == student.class_ref,
        SchoolClass.deleted_at.is_(None)))


async def live_periods(s: AsyncSession, source: str, school_ref: str) -> list[Period]:
    return list(await s.scalars(select(Period).where(
        Period.source == source, Period.school_ref == school_ref, Period.deleted_at.is_(None))))


async def forecasts_for(
    s: AsyncSession, source: str, students: Sequence[Student], span: PeriodSpan, rule: ForecastRule,
    class_ref: str | None = None,
) -> dict[int, list[SubjectForecastView]]:
    """Forecasts per subject for each pupil (by Student.id) over `span`, sorted by subject name.

    Subjects: those with marks in the span, plus (for pupils not on an individual plan) the
    class's curriculum subjects of that period, which without marks are "no marks" risks.
    Deleted subjects are left out."""
    if not students:
        return {}
    by_ref = {st.external_id: st for st in students}
    marks: dict[str, dict[str, list[MarkInput]]] = {ref: {} for ref in by_ref}
    refs = sorted(by_ref)
    for i in range(0, len(refs), 500):
        rows = await s.execute(select(Mark.student_ref, Mark.subject_ref, Mark.value, Mark.weight, Mark.kind).where(
            Mark.source == source, Mark.student_ref.in_(refs[i:i + 500]), Mark.deleted_at.is_(None),
            Mark.date >= span.starts_on, Mark.date <= span.ends_on,
        ).order_by(Mark.date, Mark.id))
        for student_ref, subject_ref, value, weight, kind in rows:
            marks[student_ref].setdefault(subject_ref, []).append(MarkInput(value, weight, kind))
    planned: set[str] = set()
    if span.ref is not None and class_ref is not None:
        planned = set(await s.scalars(select(Curriculum.subject_ref).where(
            Curriculum.source == source, Curriculum.class_ref == class_ref, Curriculum.period_ref == span.ref,
            Curriculum.deleted_at.is_(None))))
    subject_refs = planned | {sub for per in marks.values() for sub in per}
    subjects: dict[str, Subject] = {}
    deleted: set[str] = set()
    if subject_refs:
        for sub in await s.scalars(select(Subject).where(Subject.source == source,
                                                         Subject.external_id.in_(sorted(subject_refs)))):
            if sub.deleted_at is None:
                subjects[sub.external_id] = sub
            else:
                deleted.add(sub.external_id)
    out: dict[int, list[SubjectForecastView]] = {}
    for ref, student in by_ref.items():
        per_subject = dict(marks[ref])
        if not student.individual_plan:
            for sub in planned:
                per_subject.setdefault(sub, [])
        views = []
        for sub_ref, ms in per_subject.items():
            if sub_ref in deleted:
                continue
            subj = subjects.get(sub_ref)
            views.append(SubjectForecastView(subject_id=subj.id if subj else None,
                                             subject_name=subj.name if subj else sub_ref,
                                             forecast=forecast_subject(ms, rule)))
        views.sort(key=lambda v: (v.subject_name.casefold(), v.subject_id or 0))
        out[student.id] = views
    return out


# --------------------------------------------------------------------------- service


class Results:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    # ---- forecasts

    async def forecast(self, account_id: int, student_id: int, which: str = "term",
                       now: datetime | None = None) -> ForecastView:
        """The pupil's forecast per subject for the term (quarter/trimester, half in grades
        10-11), the half-year or the year around today; NotLinked / ConsentRequired."""
        if which not in WHICH:
            raise ValueError(f"which must be one of {WHICH}, not {which!r}")
        async with self._sessions.begin() as s:
            student = await require_linked_student(s, account_id, student_id)
            school = await school_of(s, student)
            cls = await class_of(s, student)
            tz = zone_of(school.timezone if school else None, self._settings.default_timezone)
            today = as_utc(now).astimezone(tz).date()
            spans = resolve_periods(await live_periods(s, student.source, student.school_ref),
                                    cls.grade if cls else None, today)
            rule = await rule_for_school(s, school.id if school else None)
            span = spans.get(which)
            subjects: list[SubjectForecastView] = []
            if span is not None:
                subjects = (await forecasts_for(s, student.source, [student], span, rule,
                                                class_ref=student.class_ref))[student.id]
            log.debug("forecast account=%s student=%s which=%s subjects=%s", account_id, student.id, which,
                      len(subjects))
            return ForecastView(
                student_id=student.id, student_name=student.full_name, which=which, period=span,
                available=tuple(w for w in WHICH if w in spans), term_kind=spans["term"].kind if "term" in spans
                else None, subjects=subjects, rule=rule, today=today,
            )

    # ---- final grades

    async def finals(self, account_id: int, student_id: int, group: str | None = None) -> FinalsView:
        """The pupil's final grades grouped by period (terms in order, then the year), then
        exams, then the certificate. `group` picks the group shown (default: the period that
        ended last, the year winning a tie; else the first group); NotLinked / ConsentRequired."""
        async with self._sessions.begin() as s:
            student = await require_linked_student(s, account_id, student_id)
            rows = list(await s.scalars(select(FinalGrade).where(
                FinalGrade.source == student.source, FinalGrade.student_ref == student.external_id,
                FinalGrade.deleted_at.is_(None))))
            period_refs = {r.period_ref for r in rows if r.period_ref}
            periods = {p.external_id: p for p in await s.scalars(select(Period).where(
                Period.source == student.source, Period.external_id.in_(sorted(period_refs)),
                Period.deleted_at.is_(None)))} if period_refs else {}
            subject_refs = {r.subject_ref for r in rows}
            subjects: dict[str, Subject] = {}
            deleted: set[str] = set()
            if subject_refs:
                for sub in await s.scalars(select(Subject).where(
                        Subject.source == student.source, Subject.external_id.in_(sorted(subject_refs)))):
                    if sub.deleted_at is None:
                        subjects[sub.external_id] = sub
                    else:
                        deleted.add(sub.external_id)
            buckets: dict[str, tuple[tuple, str, str, list[FinalItem]]] = {}
            for r in rows:
                if r.subject_ref in deleted:
                    continue
                period = periods.get(r.period_ref or "")
                if r.kind == "exam":
                    key, order, kind, name = EXAM_GROUP, (2, date.max, 0), "exam", ""
                elif r.kind == "certificate":
                    key, order, kind, name = CERT_GROUP, (3, date.max, 0), "certificate", ""
                elif period is not None:
                    key = f"p{period.id}"
                    order = (1 if period.kind == "year" else 0, period.ends_on, period.id)
                    kind, name = period.kind, period.name
                else:  # a period grade whose period is unknown: shown with the year's, unnamed
                    key, order, kind, name = "p0", (1, date.max, 0), r.kind, ""
                subj = subjects.get(r.subject_ref)
                item = FinalItem(subject_name=subj.name if subj else r.subject_ref, kind=r.kind, title=r.title,
                                 value=r.value, status=r.status, deferred_until=r.deferred_until, set_at=r.set_at)
                buckets.setdefault(key, (order, kind, name, []))[3].append(item)
            groups = []
            for key, (order, kind, name, items) in sorted(buckets.items(), key=lambda kv: kv[1][0]):
                items.sort(key=lambda i: (i.subject_name.casefold(), (i.title or "").casefold()))
                groups.append((order, FinalsGroup(key=key, kind=kind, name=name, items=items)))
            keys = [g.key for _, g in groups]
            if group in keys:
                selected = group
            else:
                # the latest period (the year's grades win over the last quarter's, same end)
                periodic = [(order[1], order[0], g.key) for order, g in groups if order[0] <= 1 and g.key != "p0"]
                selected = max(periodic)[2] if periodic else (keys[0] if keys else None)
            return FinalsView(student_id=student.id, student_name=student.full_name,
                              groups=[g for _, g in groups], selected=selected)

    # ---- the parent's push frequency

    async def push_frequency(self, account_id: int) -> str:
        """off | weekly | biweekly (weekly when never chosen); ConsentRequired without consent."""
        async with self._sessions.begin() as s:
            await require_consent(s, account_id)
            pref = await s.scalar(select(ForecastPref).where(ForecastPref.account_id == account_id))
            return pref.frequency if pref is not None else DEFAULT_FREQUENCY

    async def set_push_frequency(self, account_id: int, frequency: str) -> str:
        if frequency not in FREQUENCIES:
            raise ValueError(f"frequency must be one of {FREQUENCIES}")
        async with self._sessions.begin() as s:
            await require_consent(s, account_id)
            pref = await s.scalar(select(ForecastPref).where(ForecastPref.account_id == account_id))
            if pref is None:
                s.add(ForecastPref(account_id=account_id, frequency=frequency))
            else:
                pref.frequency = frequency
            log.info("forecast push frequency account=%s: %s", account_id, frequency)
            return frequency

    # ---- the school's rule (admins)

    async def _admin_school(self, s: AsyncSession, actor_tg: int, school_ref: str | None) -> School:
        """The school an admin means: by its journal code, or the admin's only school.
        NotAdmin (not an admin, or not of that school), NotFound, SchoolRequired."""
        scope = await admin_school_ids(s, self._settings, actor_tg)
        if scope is not None and not scope:
            raise NotAdmin(f"telegram id {actor_tg} is not an admin")
        if school_ref is None:
            if scope is None or len(scope) != 1:
                raise SchoolRequired(f"telegram id {actor_tg}")
            school = await s.get(School, next(iter(scope)))
        else:
            school = await s.scalar(select(School).where(
                School.source == self._settings.source, School.external_id == school_ref.strip(),
                School.deleted_at.is_(None)))
        if school is None:
            raise NotFound(f"school {school_ref}")
        await require_school_admin(s, self._settings, actor_tg, school.id)
        return school

    @staticmethod
    def _rule_view(school: School, row: ForecastRuleRow | None, rule: ForecastRule) -> RuleView:
        return RuleView(school_id=school.id, school_ref=school.external_id, school_name=school.name, rule=rule,
                        is_default=row is None, updated_at=row.updated_at if row else None,
                        updated_by=row.updated_by if row else None)

    async def rule(self, actor_tg: int, school_ref: str | None = None) -> RuleView:
        """The forecast rule of a school the actor administers."""
        async with self._sessions.begin() as s:
            school = await self._admin_school(s, actor_tg, school_ref)
            row = await s.scalar(select(ForecastRuleRow).where(ForecastRuleRow.school_id == school.id))
            return self._rule_view(school, row, await rule_for_school(s, school.id))

    async def set_rule(self, actor_tg: int, school_ref: str | None, args: Iterable[str]) -> RuleView:
        """Change a school's rule with "key=value" settings (services.forecast.apply_rule_args);
        RuleError for an invalid setting. Audited with the rule before and after."""
        async with self._sessions.begin() as s:
            school = await self._admin_school(s, actor_tg, school_ref)
            row = await s.scalar(select(ForecastRuleRow).where(ForecastRuleRow.school_id == school.id))
            before = await rule_for_school(s, school.id)
            rule = apply_rule_args(before, args)
            if row is None:
                row = ForecastRuleRow(school_id=school.id, settings=rule.to_dict(), updated_by=actor_tg)
                s.add(row)
            else:
                row.settings = rule.to_dict()
                row.updated_by = actor_tg
                row.updated_at = datetime.now(timezone.utc)
            audit(s, actor=actor_tg, action="forecast.rule_set", target_type="school", target_id=school.id,
                  details={"before": before.to_dict(), "after": rule.to_dict()})
            await s.flush()
            log.info("forecast rule of school %s set by %s", school.id, actor_tg)
            return self._rule_view(school, row, rule)


def days_left(span: PeriodSpan, today: date) -> int:
    return max(0, (span.ends_on - today).days)
