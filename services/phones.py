"""Phone number normalisation shared by the sync (Guardian.phone_digits) and linking."""
from __future__ import annotations

import re

_ALLOWED = re.compile(r"^\+?[\d\s\-().]+$")


def normalize_phone(raw: str | None) -> str | None:
    """Digits only, in international form without "+"; None for garbage.

    Russian numbers: "+7 (900) 000-00-01", "89000000001", "79000000001" and "9000000001"
    all give "79000000001". Other international numbers of 11-15 digits (E.164, as Telegram
    contacts send them, often without "+") are kept as they are. Letters, too few or too many
    digits give None.
    """
    if raw is None:
        return None
    text = str(raw).strip()
    if not text or not _ALLOWED.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11 and digits[0] == "8":
        return "7" + digits[1:]
    if len(digits) == 10:
        return "7" + digits
    if 11 <= len(digits) <= 15 and digits[0] != "0":
        return digits
    return None
