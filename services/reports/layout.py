"""Table cells for the report PDFs: escaped text, and small bold headers that wrap between
words rather than inside them."""
from __future__ import annotations

import html
from functools import lru_cache

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from services.documents import pdf


@lru_cache(maxsize=1)
def _header_style() -> ParagraphStyle:
    return ParagraphStyle("report-header", parent=pdf.styles()["cell"], fontName=pdf.FONT_BOLD, fontSize=7,
                          leading=8.5)


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def header(text: str) -> Paragraph:
    return Paragraph(esc(text), _header_style())


def cell(text: str) -> Paragraph:
    return pdf.p(esc(text), "cell")


#: Narrow paddings for tables with many number columns.
TIGHT = [("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2)]
