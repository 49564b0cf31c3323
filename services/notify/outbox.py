"""Writing outbox rows: always inside the caller's transaction, deduplicated by key."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, utcnow

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"


async def enqueue(
    session: AsyncSession,
    *,
    account_id: int,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str,
    topic: str | None = None,
    occurred_at: datetime | None = None,
    event_id: int | None = None,
    channel: str = "telegram",
    not_before: datetime | None = None,
) -> OutboxMessage | None:
    """Add one message unless a row with the same dedupe key exists; returns the new row or None."""
    exists = await session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
    if exists is not None:
        return None
    row = OutboxMessage(
        account_id=account_id,
        channel=channel,
        kind=kind,
        payload=payload,
        dedupe_key=dedupe_key,
        topic=topic,
        occurred_at=occurred_at,
        event_id=event_id,
        status=PENDING,
        next_attempt_at=not_before or utcnow(),
    )
    session.add(row)
    await session.flush()
    return row


async def pending_for_topic(session: AsyncSession, *, topic: str, account_id: int) -> OutboxMessage | None:
    """The not-yet-claimed message about `topic` for an account, if any (to update it in place)."""
    return await session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.topic == topic,
            OutboxMessage.account_id == account_id,
            OutboxMessage.status == PENDING,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


async def was_sent(session: AsyncSession, *, topic: str, account_id: int) -> bool:
    row = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.topic == topic,
            OutboxMessage.account_id == account_id,
            OutboxMessage.status.in_((SENT, SENDING)),
        )
        .limit(1)
    )
    return row is not None


async def cancel_pending(session: AsyncSession, *, topic: str, account_id: int | None = None, reason: str) -> int:
    stmt = update(OutboxMessage).where(OutboxMessage.topic == topic, OutboxMessage.status == PENDING)
    if account_id is not None:
        stmt = stmt.where(OutboxMessage.account_id == account_id)
    result = await session.execute(stmt.values(status=CANCELLED, last_error=reason))
    return result.rowcount or 0
