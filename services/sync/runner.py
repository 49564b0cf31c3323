"""One sync run: pull pages from the cursor until the feed is drained, applying each."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.sync.apply import ApplyReport, apply
from services.sync.exchange_v1 import BadCursor, ExchangeV1Client, JournalError
from storage.models import SyncState, utcnow

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    pages: int = 0
    changes: int = 0
    events: int = 0
    quarantined: int = 0
    outbox: int = 0
    error: str | None = None


class JournalSync:
    """Pulls one source's change feed into storage. Safe to run again at any time."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: ExchangeV1Client,
        *,
        source: str,
        max_pages_per_run: int = 10_000,
        on_outbox: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._source = source
        self._max_pages = max_pages_per_run
        self._on_outbox = on_outbox

    async def cursor(self) -> str | None:
        async with self._sessions() as session:
            return await session.scalar(select(SyncState.cursor).where(SyncState.source == self._source))

    async def run_once(self) -> SyncReport:
        report = SyncReport()
        await self._mark_attempt()
        cursor = await self.cursor()
        while report.pages < self._max_pages:
            try:
                page = await self._client.fetch(cursor)
            except BadCursor as exc:
                if cursor is None:  # not about the cursor at all: a configuration problem
                    report.error = str(exc)
                    await self._record_error(str(exc))
                    return report
                # The provider lost our place: replay from the start. Nothing is skipped, and
                # the diff notifies only about records that really changed.
                log.warning("journal rejected the cursor (%s); replaying the feed from the start", exc)
                await self._record_error(str(exc), reset_cursor=True)
                cursor = None
                report.error = str(exc)
                continue
            except JournalError as exc:
                report.error = str(exc)
                await self._record_error(str(exc))
                log.warning("journal sync stopped: %s", exc)
                return report
            applied: ApplyReport = await apply(self._sessions, self._source, page)
            report.pages += 1
            report.changes += applied.received
            report.events += applied.events
            report.quarantined += applied.quarantined
            report.outbox += applied.outbox
            if applied.outbox and self._on_outbox is not None:
                self._on_outbox()
            cursor = page.next_cursor if page.next_cursor is not None else cursor
            if not page.has_more:
                break
        report.error = None
        return report

    async def _mark_attempt(self) -> None:
        async with self._sessions.begin() as session:
            state = await session.get(SyncState, self._source)
            if state is None:
                session.add(SyncState(source=self._source, pages_applied=0, changes_applied=0, last_attempt_at=utcnow()))
            else:
                state.last_attempt_at = utcnow()

    async def _record_error(self, message: str, *, reset_cursor: bool = False) -> None:
        async with self._sessions.begin() as session:
            state = await session.get(SyncState, self._source)
            if state is None:
                return
            state.last_error = message[:1000]
            state.last_error_at = utcnow()
            if reset_cursor:
                state.cursor = None
