"""Results statistics of a class for a period, per subject: average mark, успеваемость,
качество, СОУ and the distribution of marks (the arithmetic is services/reports/stats.py).

The marks are the pupils' final grades for the period (``final_grade`` of kind ``period`` with
that period; of kind ``year`` for a year period). Every live pupil of the class is counted; a
pupil without a grade in the subject, or with a deferred one, is "without a mark".
"""
from __future__ import annotations

from dataclasses import dataclass

from services.documents import pdf, xlsx
from services.reports import layout
from services.reports.data import ClassInfo, GradeRow, PeriodInfo, Pupil
from services.reports.stats import ResultStats, percent, result_stats

NOTES = (
    "N — учеников с отметкой: всего − освобождённые («осв») − без отметки (в т. ч. отложенной).",
    "Успеваемость = («5» + «4» + «3» + «зач») / N; качество = («5» + «4») / N.",
    "СОУ = (100·n5 + 64·n4 + 36·n3 + 16·n2 + 7·nн/а) / N; «н/а» — не аттестован, считается неуспевающим.",
    "Средний балл — среднее числовых отметок.",
)


@dataclass(frozen=True)
class StatsRow:
    subject: str
    stats: ResultStats


@dataclass(frozen=True)
class StatsReport:
    cls: ClassInfo
    period: PeriodInfo
    pupils: int
    rows: list[StatsRow]

    @property
    def extra_marks(self) -> list[str]:
        """Rare columns shown only when some subject has them: «1», «зач», «незач»."""
        keys = (("1", "n1"), ("зач", "passed"), ("незач", "failed"))
        return [label for label, attr in keys if any(getattr(r.stats, attr) for r in self.rows)]


def _matches(grade: GradeRow, period: PeriodInfo) -> bool:
    if period.kind == "year":
        if grade.kind != "year":
            return False
        if grade.period_ref is not None:
            return grade.period_ref == period.external_id
        return grade.set_at is None or period.starts_on <= grade.set_at.date()
    return grade.kind == "period" and grade.period_ref == period.external_id


def build_stats(cls: ClassInfo, period: PeriodInfo, pupils: list[Pupil], grades: list[GradeRow],
                subject_names: dict[str, str]) -> StatsReport:
    """Per subject with any grade for the period, the statistics over all pupils (pure)."""
    marks: dict[str, dict[str, str | None]] = {}
    pupil_refs = {p.external_id for p in pupils}
    for g in grades:
        if g.student_ref in pupil_refs and _matches(g, period):
            marks.setdefault(g.subject_ref, {})[g.student_ref] = g.value if g.status == "final" else None
    rows = [StatsRow(subject_names.get(ref, ref), result_stats(by_pupil.get(p.external_id) for p in pupils))
            for ref, by_pupil in marks.items()]
    rows.sort(key=lambda r: r.subject.casefold())
    return StatsReport(cls=cls, period=period, pupils=len(pupils), rows=rows)


def _title(report: StatsReport) -> str:
    return f"Статистика результатов, {report.cls.name}, {report.period.name}"


def _header(report: StatsReport) -> list[str]:
    return (["№", "Предмет", "Учеников", "Осв.", "Без отметки", "N", "«5»", "«4»", "«3»", "«2»"]
            + [f"«{m}»" for m in report.extra_marks]
            + ["«н/а»", "Средний балл", "Успеваемость, %", "Качество, %", "СОУ, %"])


#: Shorter labels for the PDF's narrow columns (the XLSX keeps the full ones).
PDF_LABELS = {"Учеников": "Всего", "Без отметки": "Без отм.", "Средний балл": "Ср. балл",
              "Успеваемость, %": "Успев., %", "Качество, %": "Кач., %"}


def _counts(report: StatsReport, s: ResultStats) -> list[int]:
    extra = {"1": s.n1, "зач": s.passed, "незач": s.failed}
    return ([s.pupils, s.exempt, s.without_mark, s.n, s.n5, s.n4, s.n3, s.n2]
            + [extra[m] for m in report.extra_marks] + [s.not_attested])


def _average(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}".replace(".", ",")


def to_pdf(report: StatsReport) -> bytes:
    p = report.period
    flow: list = [pdf.p(layout.esc(_title(report)), "title"),
                  pdf.p(layout.esc(f"{report.cls.school_name}; период {p.starts_on:%d.%m.%Y} – {p.ends_on:%d.%m.%Y}; "
                            f"учеников в классе: {report.pupils}"), "small"),
                  pdf.Spacer(1, 3 * pdf.mm)]
    if not report.rows:
        flow.append(pdf.p("Итоговых отметок за этот период пока нет."))
    else:
        header = [layout.header(PDF_LABELS.get(h, h)) for h in _header(report)]
        body = []
        for n, r in enumerate(report.rows, 1):
            s = r.stats
            body.append([str(n), layout.cell(r.subject), *map(str, _counts(report, s)), _average(s.average),
                         percent(s.success), percent(s.quality), percent(s.sou)])
        count_cols = len(_counts(report, report.rows[0].stats))
        widths = [8 * pdf.mm, 44 * pdf.mm] + [11.5 * pdf.mm] * count_cols + [18 * pdf.mm] * 4
        table = pdf.table([header, *body], col_widths=widths)
        table.setStyle(pdf.TableStyle([("ALIGN", (2, 1), (-1, -1), "CENTER"), *layout.TIGHT]))
        flow.append(table)
    flow.append(pdf.Spacer(1, 4 * pdf.mm))
    flow.extend(pdf.p(layout.esc(note), "small") for note in NOTES)
    return pdf.render(flow, title=_title(report), landscape_mode=True)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def to_xlsx(report: StatsReport) -> bytes:
    rows: list[list] = [[_title(report)], _header(report)]
    for n, r in enumerate(report.rows, 1):
        s = r.stats
        rows.append([n, r.subject, *_counts(report, s), s.average, _round(s.success, 1), _round(s.quality, 1),
                     _round(s.sou, 1)])
    notes = [["Пояснения"], [""]] + [[note] for note in NOTES]
    return xlsx.workbook([(f"Статистика {report.cls.name}", rows), ("Пояснения", notes)], header_rows=2)
