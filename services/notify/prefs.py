"""A parent's notification settings: which types, quiet hours, a daily digest time, language.

`NotifyPrefsService` is what /settings uses (frozen views in, frozen views out);
`load_policy` and `muted_accounts` are what the dispatcher and the fan-out use inside their
own transactions. Clock times are in the time zone of the school of the parent's child: the
active child's, else the first linked child's, else DEFAULT_TIMEZONE.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notify import outbox
from services.notify.calm import ParentPolicy, QuietHours
from services.notify.kinds import PREF_TYPE_ORDER
from services.timezones import zone_of
from storage.models import Account, Link, School, Student, utcnow
from storage.notify_prefs import NotifyPrefs

log = logging.getLogger(__name__)

LANGUAGES = ("ru", "en")


@dataclass(frozen=True)
class NotifySettingsView:
    """What /settings shows."""

    account_id: int
    enabled: dict[str, bool]  # every type of PREF_TYPE_ORDER → on?
    quiet: QuietHours | None  # None: no quiet hours
    quiet_is_default: bool
    digest_at: int | None  # minutes after midnight; None: instant messages
    language: str
    timezone: str


async def account_zone(session: AsyncSession, account_id: int, default: str) -> ZoneInfo:
    """The time zone of the school of the account's active child (else first linked child)."""
    account = await session.get(Account, account_id)
    rows = (
        await session.execute(
            select(Link.student_id, School.timezone)
            .join(Student, Student.id == Link.student_id)
            .join(School, (School.source == Student.source) & (School.external_id == Student.school_ref))
            .where(Link.account_id == account_id, Link.status == "approved")
            .order_by(Link.id)
        )
    ).all()
    if not rows:
        return zone_of(None, default)
    active = account.active_student_id if account is not None else None
    chosen = next((tz for student_id, tz in rows if student_id == active), rows[0][1])
    return zone_of(chosen, default)


def default_quiet(settings: Any) -> QuietHours | None:
    return QuietHours.parse(getattr(settings, "notify_quiet_hours", "21:00-07:00"))


def _quiet_of(row: NotifyPrefs | None, settings: Any) -> tuple[QuietHours | None, bool]:
    """(quiet hours or None, whether they are the service default)."""
    if row is None or row.quiet_start is None or row.quiet_end is None:
        return default_quiet(settings), True
    quiet = QuietHours(row.quiet_start, row.quiet_end)
    return (None if quiet.off else quiet), False


async def load_policy(session: AsyncSession, account_id: int, settings: Any) -> ParentPolicy:
    row = await session.get(NotifyPrefs, account_id)
    quiet, _default = _quiet_of(row, settings)
    digest_at = row.digest_at if row is not None else None
    # The zone matters only for clock times; without any, skip looking it up.
    tz = (await account_zone(session, account_id, getattr(settings, "default_timezone", "UTC"))
          if quiet is not None or digest_at is not None else ZoneInfo("UTC"))
    return ParentPolicy(
        zone=tz,
        muted=frozenset(row.muted or ()) if row is not None else frozenset(),
        quiet=quiet,
        digest_at=digest_at,
    )


async def muted_accounts(session: AsyncSession, account_ids: Iterable[int], pref_type: str) -> set[int]:
    """Those of `account_ids` that turned `pref_type` off (so the fan-out writes nothing for them)."""
    ids = sorted(set(account_ids))
    if not ids:
        return set()
    rows = (await session.execute(
        select(NotifyPrefs.account_id, NotifyPrefs.muted).where(NotifyPrefs.account_id.in_(ids))
    )).all()
    return {account_id for account_id, muted in rows if pref_type in (muted or ())}


class NotifyPrefsService:
    """Reads and changes one parent's notification settings."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Any, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock

    async def view(self, account_id: int) -> NotifySettingsView:
        async with self._sessions.begin() as s:
            return await self._view(s, account_id)

    async def toggle(self, account_id: int, pref_type: str) -> NotifySettingsView:
        """Turn one type on if it was off, off if it was on. ValueError for an unknown type."""
        if pref_type not in PREF_TYPE_ORDER:
            raise ValueError(f"unknown notification type {pref_type[:32]!r}")
        async with self._sessions.begin() as s:
            row = await self._row(s, account_id)
            muted = set(row.muted or ())
            muted.symmetric_difference_update({pref_type})
            row.muted = sorted(muted)
            log.info("notify prefs account=%s: %s %s", account_id, pref_type, "off" if pref_type in muted else "on")
            return await self._view(s, account_id)

    async def set_quiet(self, account_id: int, quiet: QuietHours | None) -> NotifySettingsView:
        """Own quiet hours, or None for none at all. Held messages are looked at again at once."""
        async with self._sessions.begin() as s:
            row = await self._row(s, account_id)
            row.quiet_start, row.quiet_end = (quiet.start, quiet.end) if quiet is not None else (0, 0)
            await self._replan(s, account_id)
            return await self._view(s, account_id)

    async def set_digest(self, account_id: int, minutes: int | None) -> NotifySettingsView:
        """A daily digest at `minutes` after midnight (school time), or None for instant messages."""
        if minutes is not None and not 0 <= minutes < 24 * 60:
            raise ValueError("digest time out of range")
        async with self._sessions.begin() as s:
            row = await self._row(s, account_id)
            row.digest_at = minutes
            await self._replan(s, account_id)
            return await self._view(s, account_id)

    async def set_language(self, account_id: int, language: str) -> NotifySettingsView:
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language[:8]!r}")
        async with self._sessions.begin() as s:
            await s.execute(update(Account).where(Account.id == account_id).values(language=language))
            return await self._view(s, account_id)

    # ------------------------------------------------------------------ internals

    async def _row(self, s: AsyncSession, account_id: int) -> NotifyPrefs:
        row = await s.get(NotifyPrefs, account_id, with_for_update=True)
        if row is None:
            row = NotifyPrefs(account_id=account_id, muted=[])
            s.add(row)
            await s.flush()
        return row

    async def _replan(self, s: AsyncSession, account_id: int) -> None:
        """Held news are due again now: the dispatcher plans them under the new settings."""
        await s.flush()
        await outbox.make_news_due(s, account_id, now=self._clock())

    async def _view(self, s: AsyncSession, account_id: int) -> NotifySettingsView:
        await s.flush()
        account = await s.get(Account, account_id)
        row = await s.get(NotifyPrefs, account_id)
        if row is not None:
            await s.refresh(row)
        quiet, is_default = _quiet_of(row, self._settings)
        muted = set(row.muted or ()) if row is not None else set()
        tz = await account_zone(s, account_id, self._settings.default_timezone)
        return NotifySettingsView(
            account_id=account_id,
            enabled={name: name not in muted for name in PREF_TYPE_ORDER},
            quiet=quiet,
            quiet_is_default=is_default,
            digest_at=row.digest_at if row is not None else None,
            language=(account.language if account is not None else "ru") or "ru",
            timezone=tz.key,
        )
