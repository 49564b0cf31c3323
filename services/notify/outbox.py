"""Writing outbox rows: always inside the caller's transaction, deduplicated by key.

Below them, the delivery bookkeeping the dispatcher uses (claim, reclaim, mark, release)."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.notify.calm import NOT_NEWS_KINDS
from storage.models import Account, OutboxMessage, utcnow

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
        # Due since its event happened (never later than now): a row is "ready" from the event's
        # time on (services/notify/calm.py), and tests can run the dispatcher on a past clock.
        next_attempt_at=not_before or (min(occurred_at, utcnow()) if occurred_at is not None else utcnow()),
    )
    session.add(row)
    await session.flush()
    return row


async def pending_for_topic(session: AsyncSession, *, topic: str, account_id: int) -> OutboxMessage | None:
    """The not-yet-claimed message about `topic` for an account, if any (to update it in place).

    Locked (PostgreSQL) so that a dispatcher cannot claim it while it is being changed: the
    dispatcher skips locked rows, and a row it claimed first is no longer pending here."""
    return await session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.topic == topic,
            OutboxMessage.account_id == account_id,
            OutboxMessage.status == PENDING,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
        .with_for_update()
    )


async def pending_copies_for_topic(session: AsyncSession, *, topic: str, account_id: int) -> list[OutboxMessage]:
    """Every not-yet-claimed message about `topic` for an account, one per channel (Telegram,
    e-mail: contacts, issue 6), to update them in place together. Locked like
    `pending_for_topic`."""
    result = await session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.topic == topic,
            OutboxMessage.account_id == account_id,
            OutboxMessage.status == PENDING,
        )
        .order_by(OutboxMessage.id)
        .with_for_update()
    )
    return list(result)


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


# --------------------------------------------------------------------------- delivery bookkeeping
# Used by the dispatcher (services/notify/dispatcher.py). Each function runs inside the caller's
# transaction; keep those transactions short.


def _due_ids_query(*, channel: str, now: datetime, limit: int, skip_chat_ids: Collection[int]):
    """Ids of due pending rows, oldest first, at most one per account: a row waits while an
    older row of its account is being sent, is due, or is waiting for a retry. Rows scheduled
    for later (``not_before``, never tried) do not hold back the account's other rows."""
    o = aliased(OutboxMessage)
    older = aliased(OutboxMessage)
    held_back = (
        select(older.id)
        .where(
            older.account_id == o.account_id,
            older.channel == o.channel,  # contacts (issue 6): an e-mail row never holds back a Telegram one
            older.id < o.id,
            or_(
                older.status == SENDING,
                and_(
                    older.status == PENDING,
                    or_(older.next_attempt_at <= now, older.attempts > 0, older.last_error.is_not(None)),
                ),
            ),
        )
        .exists()
    )
    query = (
        select(o.id)
        .join(Account, Account.id == o.account_id)
        .where(o.status == PENDING, o.next_attempt_at <= now, o.channel == channel, ~held_back)
    )
    if skip_chat_ids:
        query = query.where(Account.chat_id.not_in(sorted(skip_chat_ids)))
    return o, query.order_by(o.id).limit(limit)


async def claim_due(
    session: AsyncSession,
    *,
    channel: str,
    now: datetime,
    limit: int,
    skip_chat_ids: Collection[int] = (),
) -> list[int]:
    """Mark up to `limit` due rows `sending` (claimed_at = now) and return their ids, oldest first.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so concurrent dispatchers never claim one row twice.
    SQLite: one ``UPDATE ... RETURNING`` statement, so the transaction starts by writing (a
    read-then-write transaction could fail with SQLITE_BUSY under a concurrent writer).
    The caller commits before sending."""
    o, due = _due_ids_query(channel=channel, now=now, limit=limit, skip_chat_ids=skip_chat_ids)
    mark = (
        update(OutboxMessage)
        .values(status=SENDING, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if session.bind.dialect.name == "postgresql":
        ids = list((await session.scalars(due.with_for_update(of=o, skip_locked=True))).all())
        if not ids:
            return []
        result = await session.execute(
            mark.where(OutboxMessage.id.in_(ids), OutboxMessage.status == PENDING).returning(OutboxMessage.id)
        )
        return sorted(result.scalars().all())
    result = await session.execute(
        mark.where(OutboxMessage.id.in_(due), OutboxMessage.status == PENDING).returning(
            OutboxMessage.id
        )
    )
    return sorted(result.scalars().all())


async def reclaim_stale(session: AsyncSession, *, now: datetime, lease_seconds: float, max_attempts: int) -> int:
    """Rows left `sending` longer than the lease (the process died mid-send) go back to
    `pending`; the lost try counts as an attempt, so a row that keeps killing its sender
    ends `failed`. Returns how many rows were touched."""
    cutoff = now - timedelta(seconds=lease_seconds)
    stale = and_(OutboxMessage.status == SENDING, OutboxMessage.claimed_at < cutoff)
    failed = await session.execute(
        update(OutboxMessage)
        .where(stale, OutboxMessage.attempts + 1 >= max_attempts)
        .values(status=FAILED, attempts=OutboxMessage.attempts + 1, claimed_at=None, last_error="lease expired")
        .execution_options(synchronize_session=False)
    )
    back = await session.execute(
        update(OutboxMessage)
        .where(stale)
        .values(status=PENDING, attempts=OutboxMessage.attempts + 1, claimed_at=None, last_error="lease expired")
        .execution_options(synchronize_session=False)
    )
    return (failed.rowcount or 0) + (back.rowcount or 0)


def _ids(message_id: int | Collection[int]):
    """A WHERE clause for one row id or several (a digest is several rows sent as one message)."""
    if isinstance(message_id, int):
        return OutboxMessage.id == message_id
    return OutboxMessage.id.in_(sorted(message_id))


async def mark_sent(session: AsyncSession, message_id: int | Collection[int], *, now: datetime) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(_ids(message_id))
        .values(status=SENT, sent_at=now, claimed_at=None, last_error=None)
        .execution_options(synchronize_session=False)
    )


async def release(
    session: AsyncSession,
    ids: Collection[int],
    *,
    not_before: datetime | None = None,
    note: str | None = None,
    claimed_at: datetime | None = None,
) -> int:
    """Give claimed rows back unsent (no attempt counted), optionally not before a time.
    With `claimed_at`, only rows still held by that claim (not reclaimed by another dispatcher)."""
    if not ids:
        return 0
    values: dict[str, Any] = {"status": PENDING, "claimed_at": None}
    if not_before is not None:
        values["next_attempt_at"] = not_before
    if note is not None:
        values["last_error"] = note
    held = [OutboxMessage.id.in_(list(ids)), OutboxMessage.status == SENDING]
    if claimed_at is not None:
        held.append(OutboxMessage.claimed_at == claimed_at)
    result = await session.execute(
        update(OutboxMessage)
        .where(*held)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


async def retry_later(
    session: AsyncSession, message_id: int | Collection[int], *, at: datetime, attempts: int, error: str
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(_ids(message_id))
        .values(status=PENDING, next_attempt_at=at, attempts=attempts, claimed_at=None, last_error=error)
        .execution_options(synchronize_session=False)
    )


async def finish(
    session: AsyncSession, message_id: int | Collection[int], *, status: str, error: str,
    attempts: int | None = None,
) -> None:
    """End a row as `failed` or `cancelled` with a reason."""
    values: dict[str, Any] = {"status": status, "claimed_at": None, "last_error": error}
    if attempts is not None:
        values["attempts"] = attempts
    await session.execute(
        update(OutboxMessage)
        .where(_ids(message_id))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def cancel_account_pending(session: AsyncSession, account_id: int, *, reason: str) -> int:
    """Cancel every pending row of an account (e.g. the recipient blocked the bot)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.account_id == account_id, OutboxMessage.status == PENDING)
        .values(status=CANCELLED, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# --------------------------------------------------------------------------- calm delivery
# News rows (services/notify/calm.py: caused by a journal event, not for an admin) of one
# account, as the dispatcher plans them. Inside the dispatcher's claim transaction.


def _news_of(account_id: int, channel: str):
    return (
        OutboxMessage.account_id == account_id,
        OutboxMessage.channel == channel,
        OutboxMessage.status == PENDING,
        OutboxMessage.event_id.is_not(None),
        OutboxMessage.kind.not_in(sorted(NOT_NEWS_KINDS)),
    )


async def pending_news(
    session: AsyncSession, *, account_id: int, channel: str, limit: int = 1000
) -> list[OutboxMessage]:
    """The account's pending news rows, oldest first. PostgreSQL: locked, skipping rows another
    transaction holds (the fan-out updating one in place): those are left for a later round."""
    query = select(OutboxMessage).where(*_news_of(account_id, channel)).order_by(OutboxMessage.id).limit(limit)
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list((await session.scalars(query)).all())


async def claim_rows(session: AsyncSession, ids: Collection[int], *, now: datetime) -> list[int]:
    """Mark these pending rows `sending` (with the claim's time); returns the ids claimed."""
    if not ids:
        return []
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(sorted(ids)), OutboxMessage.status == PENDING)
        .values(status=SENDING, claimed_at=now)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars().all())


async def reschedule(session: AsyncSession, when: dict[int, datetime]) -> int:
    """Set `next_attempt_at` of pending rows (a row → its time); returns how many changed."""
    changed = 0
    for message_id, at in when.items():
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == PENDING,
                   OutboxMessage.next_attempt_at != at)
            .values(next_attempt_at=at)
            .execution_options(synchronize_session=False)
        )
        changed += result.rowcount or 0
    return changed


async def make_news_due(session: AsyncSession, account_id: int, *, now: datetime) -> int:
    """Make the account's held news rows (never tried) due now, in every channel, so that the
    dispatcher plans them again (after the parent changed quiet hours or the digest time)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.account_id == account_id,
            OutboxMessage.status == PENDING,
            OutboxMessage.event_id.is_not(None),
            OutboxMessage.kind.not_in(sorted(NOT_NEWS_KINDS)),
            OutboxMessage.attempts == 0,
            OutboxMessage.last_error.is_(None),
            OutboxMessage.next_attempt_at > now,
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
