"""Who may receive news about a pupil, and small helpers every event handler uses."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts import delivery_channels
from services.notify import outbox
from storage.models import Account, Event, Link


def first_name(full_name: str) -> str:
    """"Иванов Иван Петрович" → "Иван" (surname first, as journals store names)."""
    parts = full_name.split()
    return parts[1] if len(parts) >= 2 else full_name


async def recipients(session: AsyncSession, student_id: int) -> list[int]:
    """Accounts that may receive news about a student: approved link, consent granted, active."""
    result = await session.scalars(
        select(Account.id)
        .join(Link, Link.account_id == Account.id)
        .where(
            Link.student_id == student_id,
            Link.status == "approved",
            Account.is_active.is_(True),
            Account.consent_state == "granted",
        )
        .order_by(Account.id)
    )
    return list(result)


async def lookup(session: AsyncSession, source: str, model: Any, ref: str | None) -> Any:
    """The mirror row `ref` of `model` in `source`, or None."""
    if ref is None:
        return None
    return await session.scalar(select(model).where(model.source == source, model.external_id == ref))


async def enqueue_for_event(
    session: AsyncSession, event: Event, account_id: int, kind: str, payload: dict, topic: str
) -> int:
    """Outbox rows caused by `event` for one account (deduplicated), one per channel of the
    parent's agreed delivery form (services/contacts.py: Telegram and/or e-mail); the number written."""
    written = 0
    for channel in await delivery_channels(session, account_id, kind):
        key = f"{topic}:{event.seq}:{event.kind}:{account_id}"
        row = await outbox.enqueue(
            session,
            account_id=account_id,
            kind=kind,
            payload=payload,
            dedupe_key=key if channel == "telegram" else f"{key}:{channel}",
            topic=topic,
            occurred_at=event.occurred_at,
            event_id=event.id,
            channel=channel,
        )
        written += 1 if row is not None else 0
    return written
