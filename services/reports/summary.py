"""The class summary sheet (сводная ведомость) of final grades for a school year.

Rows: №, pupil; per subject the term marks (I–IV quarters, I–III trimesters or I–II halves),
the year mark, and — when the class has any — the exam and the certificate («итог») marks.
A deferred grade (illness) shows «отл.» and is listed with its date under the table.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from services.documents import pdf, xlsx
from services.reports import layout
from services.reports.data import ROMAN, ClassInfo, GradeRow, PeriodInfo, Pupil

DEFERRED = "отл."
YEAR, EXAM, CERT = "year", "exam", "cert"
LABELS = {YEAR: "Год", EXAM: "Экз.", CERT: "Итог"}


@dataclass(frozen=True)
class Deferral:
    pupil: str
    subject: str
    column: str  # "II", "Год", "Экз." …
    until: date | None


@dataclass(frozen=True)
class SummaryRow:
    number: int
    pupil: str
    marks: list[list[str]]  # [subject][column]


@dataclass(frozen=True)
class SummarySheet:
    cls: ClassInfo
    year_label: str  # "2026/2027"
    columns: list[str]  # per subject: "I", "II", …, "Год", ["Экз."], ["Итог"]
    subjects: list[str]
    rows: list[SummaryRow]
    deferrals: list[Deferral]


def _in_year(grade: GradeRow, start: date, end: date, year_periods: set[str]) -> bool:
    if grade.period_ref is not None:
        return grade.period_ref in year_periods
    return grade.set_at is None or start <= grade.set_at.date() <= end


def build_summary(cls: ClassInfo, pupils: list[Pupil], grades: list[GradeRow], subject_names: dict[str, str],
                  terms: list[PeriodInfo], year: PeriodInfo | None, year_range: tuple[date, date],
                  periods: list[PeriodInfo]) -> SummarySheet:
    """The sheet from the class's pupils and final grades (pure)."""
    start, end = year_range
    year_periods = {p.external_id for p in periods if start <= p.starts_on <= end}
    term_keys = [p.external_id for p in terms]
    pupil_refs = {p.external_id for p in pupils}
    cells: dict[tuple[str, str, str], list[GradeRow]] = defaultdict(list)  # (pupil, subject, column)
    for g in grades:
        if g.student_ref not in pupil_refs:
            continue
        if g.kind == "period" and g.period_ref in term_keys:
            column = g.period_ref
        elif g.kind == "year" and (g.period_ref == (year.external_id if year else None)
                                   or _in_year(g, start, end, year_periods)):
            column = YEAR
        elif g.kind == "exam" and _in_year(g, start, end, year_periods):
            column = EXAM
        elif g.kind == "certificate" and _in_year(g, start, end, year_periods):
            column = CERT
        else:
            continue
        cells[(g.student_ref, g.subject_ref, column)].append(g)
    used = {k[2] for k in cells}
    keys = term_keys + [YEAR] + [c for c in (EXAM, CERT) if c in used]
    labels = [ROMAN[i] if i < len(ROMAN) else terms[i].name for i in range(len(terms))]
    labels += [LABELS[k] for k in keys[len(terms):]]
    subject_refs = sorted({k[1] for k in cells}, key=lambda r: (subject_names.get(r, r).casefold(), r))
    rows: list[SummaryRow] = []
    deferrals: list[Deferral] = []
    for number, pupil in enumerate(pupils, 1):
        marks: list[list[str]] = []
        for subject in subject_refs:
            line = []
            for key, label in zip(keys, labels):
                texts = []
                for g in cells.get((pupil.external_id, subject, key), []):
                    if g.status == "deferred":
                        texts.append(DEFERRED)
                        deferrals.append(Deferral(pupil.full_name, subject_names.get(subject, subject), label,
                                                  g.deferred_until))
                    elif g.value:
                        texts.append(g.value)
                line.append(" / ".join(texts))
            marks.append(line)
        rows.append(SummaryRow(number=number, pupil=pupil.full_name, marks=marks))
    label = f"{start.year}/{start.year + 1}"
    return SummarySheet(cls=cls, year_label=label, columns=labels,
                        subjects=[subject_names.get(r, r) for r in subject_refs], rows=rows, deferrals=deferrals)


def _title(sheet: SummarySheet) -> str:
    return f"Сводная ведомость итоговых отметок, {sheet.cls.name}, {sheet.year_label} учебный год"


def _date(day: date | None) -> str:
    return day.strftime("%d.%m.%Y") if day else "дата не назначена"


# --------------------------------------------------------------------------- PDF

_PAGE_WIDTH = 267 * pdf.mm  # A4 landscape minus margins
_NUMBER_W, _PUPIL_W, _MARK_W = 9 * pdf.mm, 52 * pdf.mm, 9.5 * pdf.mm


def _chunks(sheet: SummarySheet) -> list[list[int]]:
    """Subjects per table so that one table fits the page width."""
    per_table = max(1, int((_PAGE_WIDTH - _NUMBER_W - _PUPIL_W) // (_MARK_W * max(1, len(sheet.columns)))))
    indexes = list(range(len(sheet.subjects)))
    return [indexes[i : i + per_table] for i in range(0, len(indexes), per_table)] or [[]]


def to_pdf(sheet: SummarySheet) -> bytes:
    flow: list = [pdf.p(layout.esc(_title(sheet)), "title"), pdf.p(layout.esc(sheet.cls.school_name), "small"),
                  pdf.Spacer(1, 3 * pdf.mm)]
    if not sheet.subjects:
        flow.append(pdf.p("Итоговых отметок за этот учебный год пока нет."))
    width = len(sheet.columns)
    for n, chunk in enumerate(_chunks(sheet) if sheet.subjects else []):
        head1: list = ["№", "Ученик"]
        head2: list = ["", ""]
        for i in chunk:
            head1 += [layout.header(sheet.subjects[i])] + [""] * (width - 1)
            head2 += sheet.columns
        body = [[str(r.number), layout.cell(r.pupil)] + [m for i in chunk for m in r.marks[i]]
                for r in sheet.rows]
        table = pdf.table([head1, head2, *body], header_rows=2,
                          col_widths=[_NUMBER_W, _PUPIL_W] + [_MARK_W] * (width * len(chunk)))
        styles = [("SPAN", (0, 0), (0, 1)), ("SPAN", (1, 0), (1, 1)), ("ALIGN", (2, 0), (-1, -1), "CENTER"),
                  *layout.TIGHT]
        for k in range(len(chunk)):
            first = 2 + k * width
            styles.append(("SPAN", (first, 0), (first + width - 1, 0)))
        table.setStyle(pdf.TableStyle(styles))
        if n:
            flow.append(pdf.Spacer(1, 5 * pdf.mm))
        flow.append(table)
    if sheet.deferrals:
        flow.append(pdf.p("Отложенные отметки (по уважительной причине)", "heading"))
        for d in sheet.deferrals:
            flow.append(pdf.p(layout.esc(f"{d.pupil} — {d.subject}, {d.column}: до {_date(d.until)}")))
    flow.append(pdf.Spacer(1, 4 * pdf.mm))
    flow.append(pdf.p("«отл.» — отметка отложена; «осв» — освобождён; «н/а» — не аттестован.", "small"))
    return pdf.render(flow, title=_title(sheet), landscape_mode=True)


# --------------------------------------------------------------------------- XLSX


def to_xlsx(sheet: SummarySheet) -> bytes:
    width = len(sheet.columns)
    head1: list = ["№", "Ученик"]
    head2: list = ["", ""]
    for name in sheet.subjects:
        head1 += [name] + [""] * (width - 1)
        head2 += sheet.columns
    rows: list[list] = [head1, head2]
    for r in sheet.rows:
        rows.append([r.number, r.pupil] + [_cell(m) for marks in r.marks for m in marks])
    sheets = [(f"Сводная {sheet.cls.name}", rows)]
    if sheet.deferrals:
        sheets.append(("Отложенные", [["Отложенные отметки (по уважительной причине)"],
                                      ["Ученик", "Предмет", "Период", "Отложена до"]]
                       + [[d.pupil, d.subject, d.column, _date(d.until)] for d in sheet.deferrals]))
    return xlsx.workbook(sheets, header_rows=2)


def _cell(text: str) -> str | int:
    """Numeric marks as numbers (sortable, countable in Excel), anything else as text."""
    return int(text) if text.isdigit() and len(text) <= 3 else text
