"""Schools' time zones: "today", quiet hours and push times are computed in them."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone_of(name: str | None, default: str) -> ZoneInfo:
    """The zone `name` (a school's IANA zone), else `default` (DEFAULT_TIMEZONE), else UTC:
    a journal's unknown or misspelt zone never stops a read or a push."""
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def as_utc(now: datetime | None) -> datetime:
    """`now` as an aware datetime (the current time when None; naive values are taken as UTC)."""
    if now is None:
        return datetime.now(timezone.utc)
    return now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)
