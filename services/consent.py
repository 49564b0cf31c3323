"""Consent to personal-data processing: an append-only log plus the current state on the account."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.accounts import AccountView, account_view, load_account
from services.consent_text import KNOWN_VERSIONS
from services.errors import AlreadyDecided
from services.notify.kinds import PARENT_KINDS
from services.notify.outbox import CANCELLED, PENDING
from storage.models import ConsentRecord, OutboxMessage, utcnow

log = logging.getLogger(__name__)

GRANTED, REFUSED, WITHDRAWN = "granted", "refused", "withdrawn"
DECISIONS = frozenset({GRANTED, REFUSED, WITHDRAWN})


@dataclass(frozen=True)
class ConsentStatus:
    state: str  # none | granted | refused | withdrawn
    version: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class ConsentEntry:
    decision: str
    version: str
    channel: str
    decided_at: datetime


async def cancel_parent_messages(s: AsyncSession, account_id: int, reason: str) -> int:
    """Cancel the account's not-yet-sent parent messages (consent no longer given)."""
    result = await s.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.account_id == account_id,
            OutboxMessage.status == PENDING,
            OutboxMessage.kind.in_(sorted(PARENT_KINDS)),
        )
        .values(status=CANCELLED, last_error=reason)
    )
    return result.rowcount or 0


class Consent:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def decide(self, account_id: int, decision: str, version: str, *, channel: str = "telegram") -> AccountView:
        """Record a decision on the consent text `version` and make it the account's state.

        - decision: "granted" | "refused" | "withdrawn" (ValueError otherwise; ValueError
          for a version that was never published).
        - "withdrawn" is valid only while consent is granted, else AlreadyDecided.
        - "refused"/"withdrawn" cancel the account's pending parent messages at once.
        NotFound for an unknown account."""
        if decision not in DECISIONS:
            raise ValueError(f"unknown consent decision {decision!r}")
        if version not in KNOWN_VERSIONS:
            raise ValueError(f"unknown consent text version {version!r}")
        async with self._sessions.begin() as s:
            account = await load_account(s, account_id, lock=True)
            if decision == WITHDRAWN and account.consent_state != GRANTED:
                raise AlreadyDecided(f"consent of account {account_id} is not granted")
            now = utcnow()
            s.add(ConsentRecord(
                account_id=account.id, decision=decision, text_version=version, channel=channel, decided_at=now,
            ))
            account.consent_state = decision
            account.consent_version = version
            account.consent_at = now
            cancelled = 0
            if decision != GRANTED:
                cancelled = await cancel_parent_messages(s, account.id, f"consent {decision}")
            await s.flush()
            log.info("consent %s account=%s version=%s cancelled=%s", decision, account.id, version, cancelled)
            return account_view(account)

    async def status(self, account_id: int) -> ConsentStatus:
        async with self._sessions.begin() as s:
            account = await load_account(s, account_id)
            return ConsentStatus(state=account.consent_state, version=account.consent_version,
                                 decided_at=account.consent_at)

    async def history(self, account_id: int) -> list[ConsentEntry]:
        """Every decision of the account, oldest first."""
        async with self._sessions.begin() as s:
            await load_account(s, account_id)
            rows = await s.scalars(
                select(ConsentRecord)
                .where(ConsentRecord.account_id == account_id)
                .order_by(ConsentRecord.decided_at, ConsentRecord.id)
            )
            return [ConsentEntry(decision=r.decision, version=r.text_version, channel=r.channel,
                                 decided_at=r.decided_at) for r in rows]
