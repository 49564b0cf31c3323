"""Study-plan fulfilment of a class for a period: planned lessons (the journal's
``curriculum``) against lessons held, cancelled and still in the timetable, by subject (and by
group where the class is split), with held lessons by kind (regular, control, lab, …).

Planned lessons are the curriculum row of the period itself or, when there is none (e.g. for a
year), the sum of the rows of the periods inside it. A split subject (lessons with a group)
gets one row per group, each measured against the whole plan: every group follows it.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from services.documents import pdf, xlsx
from services.reports import layout
from services.reports.data import ClassInfo, LessonRow, PeriodInfo
from services.reports.stats import percent

LESSON_KINDS = ("regular", "test", "lab", "excursion", "other")
KIND_LABELS = {"regular": "обычные", "test": "контр. работы", "lab": "лаб. и практ.",
               "excursion": "экскурсии", "other": "другие"}


@dataclass(frozen=True)
class PlanRow:
    subject: str
    group: str | None
    planned: int | None  # None: no study plan for this subject and period
    held: int
    cancelled: int
    scheduled: int  # still "planned" in the timetable
    held_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def fulfilment(self) -> float | None:
        """Held / planned, in per cent."""
        return 100.0 * self.held / self.planned if self.planned else None

    @property
    def remaining(self) -> int | None:
        return None if self.planned is None else max(0, self.planned - self.held)


@dataclass(frozen=True)
class PlanReport:
    cls: ClassInfo
    period: PeriodInfo
    kinds: list[str]  # lesson kinds with held lessons, in LESSON_KINDS order
    rows: list[PlanRow]


def planned_lessons(curriculum: list[tuple[str, str, int]], period: PeriodInfo,
                    periods: list[PeriodInfo]) -> dict[str, int]:
    """Subject ref → planned lessons for `period` (its own rows, else the rows of periods inside it)."""
    own = {s: n for s, p, n in curriculum if p == period.external_id}
    inner = {p.external_id for p in periods
             if p.external_id != period.external_id and period.starts_on <= p.starts_on and p.ends_on <= period.ends_on}
    summed: dict[str, int] = defaultdict(int)
    for s, p, n in curriculum:
        if p in inner and s not in own:
            summed[s] += n
    return {**summed, **own}


def build_plan(cls: ClassInfo, period: PeriodInfo, periods: list[PeriodInfo], curriculum: list[tuple[str, str, int]],
               lessons: list[LessonRow], subject_names: dict[str, str]) -> PlanReport:
    """The report from the plan and the lessons of the period (pure)."""
    plan = planned_lessons(curriculum, period, periods)
    groups: dict[tuple[str, str | None], list[LessonRow]] = defaultdict(list)
    for lesson in lessons:
        if period.starts_on <= lesson.date <= period.ends_on:
            groups[(lesson.subject_ref, lesson.group)].append(lesson)
    for subject in plan:
        if not any(s == subject for s, _ in groups):
            groups[(subject, None)] = []
    rows = []
    kinds_used: set[str] = set()
    for (subject, group), items in groups.items():
        held = [l for l in items if l.status == "held"]
        by_kind: dict[str, int] = defaultdict(int)
        for l in held:
            by_kind[l.kind if l.kind in LESSON_KINDS else "other"] += 1
        kinds_used.update(by_kind)
        rows.append(PlanRow(
            subject=subject_names.get(subject, subject), group=group, planned=plan.get(subject), held=len(held),
            cancelled=sum(1 for l in items if l.status == "cancelled"),
            scheduled=sum(1 for l in items if l.status == "planned"), held_by_kind=dict(by_kind),
        ))
    rows.sort(key=lambda r: (r.subject.casefold(), r.group or ""))
    return PlanReport(cls=cls, period=period, kinds=[k for k in LESSON_KINDS if k in kinds_used], rows=rows)


def _title(report: PlanReport) -> str:
    return f"Выполнение учебного плана, {report.cls.name}, {report.period.name}"


def _dates(report: PlanReport) -> str:
    p = report.period
    return f"{p.starts_on:%d.%m.%Y} – {p.ends_on:%d.%m.%Y}"


def _subject(row: PlanRow) -> str:
    return f"{row.subject} ({row.group})" if row.group else row.subject


HEADER = ["№", "Предмет", "План", "Проведено", "% выполнения", "Осталось по плану", "Отменено", "В расписании"]


def _header(report: PlanReport) -> list[str]:
    return HEADER + [f"Проведено: {KIND_LABELS[k]}" for k in report.kinds]


def to_pdf(report: PlanReport) -> bytes:
    flow: list = [pdf.p(layout.esc(_title(report)), "title"),
                  pdf.p(layout.esc(f"{report.cls.school_name}; период {_dates(report)}"), "small"),
                  pdf.Spacer(1, 3 * pdf.mm)]
    if not report.rows:
        flow.append(pdf.p("Нет ни учебного плана, ни уроков за этот период."))
        return pdf.render(flow, title=_title(report), landscape_mode=True)
    header = [layout.header(h) for h in _header(report)]
    body = []
    for n, r in enumerate(report.rows, 1):
        body.append([str(n), layout.cell(_subject(r)), "—" if r.planned is None else str(r.planned),
                     str(r.held), percent(r.fulfilment), "—" if r.remaining is None else str(r.remaining),
                     str(r.cancelled), str(r.scheduled)] + [str(r.held_by_kind.get(k, 0)) for k in report.kinds])
    widths = [9 * pdf.mm, 48 * pdf.mm] + [19 * pdf.mm] * (6 + len(report.kinds))
    table = pdf.table([header, *body], col_widths=widths)
    table.setStyle(pdf.TableStyle([("ALIGN", (2, 1), (-1, -1), "CENTER"), *layout.TIGHT]))
    flow.append(table)
    flow.append(pdf.Spacer(1, 4 * pdf.mm))
    flow.append(pdf.p("План — уроков по учебному плану за период; проведено — уроков со статусом «проведён»; "
                      "в расписании — ещё не проведённых уроков периода.", "small"))
    return pdf.render(flow, title=_title(report), landscape_mode=True)


def to_xlsx(report: PlanReport) -> bytes:
    rows: list[list] = [[_title(report) + f" ({_dates(report)})"], _header(report)]
    for n, r in enumerate(report.rows, 1):
        rows.append([n, _subject(r), r.planned, r.held,
                     None if r.fulfilment is None else round(r.fulfilment, 1), r.remaining, r.cancelled, r.scheduled]
                    + [r.held_by_kind.get(k, 0) for k in report.kinds])
    return xlsx.workbook([(f"План {report.cls.name}", rows)], header_rows=2)
