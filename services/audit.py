"""Reading the audit log (`audit_log`): what admins did, for the admins who may see it.

Entries are written by `services.admins.audit` in the transaction of each admin action. What is
audited (docs/privacy.md): every admin command that changes something, shows or exports
personal data, or lists the school's data, and every look at the audit log itself. Entries hold
ids and action names only, never names, phones, marks or codes.

A school admin sees the entries of their schools and their own; a region admin sees all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.admins import admin_school_ids, audit, single_school
from services.config import Settings
from services.errors import NotAdmin
from storage.models import AuditEntry

#: Entries per page: a page of one-line entries stays far below Telegram's 4096 characters.
PER_PAGE = 15
#: Detail values longer than this are left out of the view (ids and counts are short).
_MAX_DETAIL = 40


@dataclass(frozen=True)
class AuditLine:
    id: int
    at: datetime
    actor_telegram_id: int | None
    action: str
    target_type: str | None
    target_id: str | None
    school_id: int | None
    details: tuple[tuple[str, str], ...]  # scalar values only, in key order


@dataclass(frozen=True)
class AuditPage:
    lines: tuple[AuditLine, ...]  # newest first
    page: int  # 1 = the newest entries
    pages: int
    total: int


def safe_details(details: dict | None) -> tuple[tuple[str, str], ...]:
    """Short scalar values only: nested structures and long strings are left out of a view."""
    out = []
    for key in sorted(details or {}):
        value = (details or {})[key]
        if value is None or isinstance(value, (dict, list, tuple)):
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if len(text) <= _MAX_DETAIL:
            out.append((str(key)[:_MAX_DETAIL], text))
    return tuple(out)


class Audit:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    async def page(self, actor_tg: int, page: int = 1, per_page: int = PER_PAGE) -> AuditPage:
        """One page of the log the actor may see, newest first (a page past the end gives the
        last one). NotAdmin for non-admins. The look itself is audited ("audit.view")."""
        async with self._sessions.begin() as s:
            scope = await admin_school_ids(s, self._settings, actor_tg)
            if scope is not None and not scope:
                raise NotAdmin(f"telegram id {actor_tg} is not an admin")
            visible = select(AuditEntry)
            if scope is not None:
                visible = visible.where(or_(AuditEntry.school_id.in_(sorted(scope)),
                                            AuditEntry.actor_telegram_id == actor_tg))
            total = await s.scalar(select(func.count()).select_from(visible.subquery())) or 0
            pages = max(1, -(-total // per_page))
            page = min(max(1, page), pages)
            rows = await s.scalars(
                visible.order_by(AuditEntry.id.desc()).offset((page - 1) * per_page).limit(per_page))
            lines = tuple(
                AuditLine(id=r.id, at=r.at, actor_telegram_id=r.actor_telegram_id, action=r.action,
                          target_type=r.target_type, target_id=r.target_id, school_id=r.school_id,
                          details=safe_details(r.details))
                for r in rows
            )
            audit(s, actor=actor_tg, action="audit.view", target_type=None, target_id=None,
                  details={"school_id": single_school(scope), "page": page})
            return AuditPage(lines=lines, page=page, pages=pages, total=total)
