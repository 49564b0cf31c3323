"""Channel-neutral wording of notification values (dates, weights), shared by the Telegram
and e-mail renderers; each renderer escapes for its own format."""
from __future__ import annotations

from datetime import date
from typing import Any

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(value: Any, lang: str) -> str | None:
    """«30.11.2026» (ru) or «30 Nov 2026» (en); None when `value` is not a date."""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
    if lang == "en":
        return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
    return day.strftime("%d.%m.%Y")


def format_weight(value: Any, lang: str) -> str | None:
    """«1,5» (ru) or «1.5» (en); None when `value` is not a number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = f"{float(value):g}"
        return text.replace(".", ",") if lang == "ru" else text
    return None
