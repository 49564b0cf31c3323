"""Turning events into outbox rows for the parents who may receive them.

Decisions (documented in docs/notifications.md):
- a new mark → one `mark_new` message to each linked, consenting, active parent;
- a corrected mark (value, weight, kind, subject, date or comment) whose message is still
  waiting in the outbox → that message is updated in place: the parent gets one message with
  the final value; a message already sent → one `mark_changed` message ("было 3, стало 4");
- a deleted mark whose message is still waiting → the message is cancelled; a message already
  sent → one `mark_deleted` message, so the parent is not left believing a mark that is gone.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import kinds, outbox
from storage.models import Account, Event, Link, Mark, Student, Subject

VISIBLE_MARK_FIELDS = frozenset({"value", "weight", "kind", "subject_ref", "date", "comment"})


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


async def _lookup(session: AsyncSession, source: str, model, ref: str):
    return await session.scalar(select(model).where(model.source == source, model.external_id == ref))


async def on_event(
    session: AsyncSession, source: str, entity: str, event: Event, row: Any, before: dict[str, Any] | None
) -> int:
    """Outbox rows for one event; returns how many rows were written or changed."""
    if entity == "mark":
        return await _on_mark(session, source, event, row, before)
    return 0


async def _on_mark(session: AsyncSession, source: str, event: Event, mark: Mark, before: dict[str, Any] | None) -> int:
    if event.kind == "updated" and not VISIBLE_MARK_FIELDS & set(event.changes or {}):
        return 0
    student = await _lookup(session, source, Student, mark.student_ref)
    if student is None:
        return 0
    subject = await _lookup(session, source, Subject, mark.subject_ref)
    topic = f"mark:{source}:{mark.external_id}"
    payload = {
        "student_id": student.id,
        "student_name": first_name(student.full_name),
        "subject": subject.name if subject else "",
        "value": mark.value,
        "kind": mark.kind,
        "weight": mark.weight,
        "date": mark.date.isoformat(),
        "comment": mark.comment,
    }
    written = 0
    for account_id in await recipients(session, student.id):
        waiting = await outbox.pending_for_topic(session, topic=topic, account_id=account_id)
        if event.kind == "deleted":
            if waiting is not None:
                written += await outbox.cancel_pending(session, topic=topic, account_id=account_id, reason="mark deleted")
            if await outbox.was_sent(session, topic=topic, account_id=account_id):
                written += await _enqueue(session, event, account_id, kinds.MARK_DELETED, payload, topic)
            continue
        if waiting is not None:
            # Not sent yet: the parent will get one message, with the final value.
            new_payload = dict(payload)
            if waiting.kind == kinds.MARK_CHANGED:
                new_payload["old_value"] = waiting.payload.get("old_value")
                if new_payload["old_value"] == mark.value:
                    written += await outbox.cancel_pending(
                        session, topic=topic, account_id=account_id, reason="mark changed back"
                    )
                    continue
            waiting.payload = new_payload
            waiting.occurred_at = event.occurred_at
            written += 1
            continue
        if event.kind == "created":
            written += await _enqueue(session, event, account_id, kinds.MARK_NEW, payload, topic)
        else:
            changed = dict(payload, old_value=(before or {}).get("value"))
            written += await _enqueue(session, event, account_id, kinds.MARK_CHANGED, changed, topic)
    return written


async def _enqueue(session: AsyncSession, event: Event, account_id: int, kind: str, payload: dict, topic: str) -> int:
    row = await outbox.enqueue(
        session,
        account_id=account_id,
        kind=kind,
        payload=payload,
        dedupe_key=f"{topic}:{event.seq}:{event.kind}:{account_id}",
        topic=topic,
        occurred_at=event.occurred_at,
        event_id=event.id,
    )
    return 1 if row is not None else 0
