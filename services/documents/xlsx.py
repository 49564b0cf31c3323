"""XLSX building on openpyxl: sheets of rows with a bold header, sized columns."""
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter


def workbook(sheets: Sequence[tuple[str, Sequence[Sequence[Any]]]], *, header_rows: int = 1) -> bytes:
    """`sheets` = [(title, rows)]; the first `header_rows` rows of each are the header."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        for row in rows:
            ws.append(list(row))
        for r in range(1, min(header_rows, len(rows)) + 1):
            for cell in ws[r]:
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="EEF2F7")
                cell.alignment = Alignment(wrap_text=True, vertical="center")
        for idx in range(1, (max((len(r) for r in rows), default=0)) + 1):
            width = max((len(str(r[idx - 1])) for r in rows if len(r) >= idx and r[idx - 1] is not None), default=4)
            ws.column_dimensions[get_column_letter(idx)].width = min(max(width + 2, 5), 45)
        ws.freeze_panes = ws.cell(row=header_rows + 1, column=1)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
