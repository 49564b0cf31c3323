"""The document building blocks render Cyrillic in PDF and XLSX."""
from __future__ import annotations

import io

from openpyxl import load_workbook
from pypdf import PdfReader

from services.documents import pdf, xlsx


def test_pdf_keeps_cyrillic_text():
    data = pdf.render(
        [pdf.p("Сводная ведомость", "title"), pdf.table([["Ученик", "Алгебра"], ["Иванов Иван", "5"]])],
        title="Сводная ведомость",
    )
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "Сводная ведомость" in text and "Иванов Иван" in text and "Алгебра" in text


def test_xlsx_keeps_cyrillic_and_numbers():
    data = xlsx.workbook([("7А", [["Ученик", "Средний балл"], ["Петрова Анна", 4.67]])])
    ws = load_workbook(io.BytesIO(data))["7А"]
    assert ws["A2"].value == "Петрова Анна" and ws["B2"].value == 4.67 and ws["A1"].font.bold
