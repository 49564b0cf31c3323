"""Turning events into outbox rows for the parents who may receive them.

Decisions (documented in docs/notifications.md):
- a new mark → one `mark_new` message to each linked, consenting, active parent;
- a corrected mark (value, weight, kind, subject, date or comment) whose message is still
  waiting in the outbox → that message is updated in place: the parent gets one message with
  the final value; a message already sent → one `mark_changed` message ("было 3, стало 4");
- a deleted mark whose message is still waiting → the message is cancelled; a message already
  sent → one `mark_deleted` message, so the parent is not left believing a mark that is gone;
- a mark restored while its `mark_deleted` notice waits → the notice is cancelled (and, if the
  value differs from what the parent was told, one `mark_changed` instead).

Mark messages wait NOTIFY_GRACE_SECONDS from the first save before they may go out
(services/notify/calm.py), so a correction or deletion within that time is folded in here;
a waiting message keeps the `occurred_at` of the first save (the grace period does not restart).
Parents who turned marks off get no new rows. News beyond marks: services/sync/school_news.py.
"""
from __future__ import annotations

from typing import Any

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import kinds, outbox
from services.notify.prefs import muted_accounts
from services.sync import school_news
from services.sync.audience import enqueue_for_event, first_name, lookup, recipients
from services.sync.fanout_results import on_final_grade
from storage.models import Event, Mark, Student, Subject

VISIBLE_MARK_FIELDS = frozenset({"value", "weight", "kind", "subject_ref", "date", "comment"})


EventHandler = Callable[[AsyncSession, str, Event, Any, "dict[str, Any] | None"], Awaitable[int]]


async def on_event(
    session: AsyncSession, source: str, entity: str, event: Event, row: Any, before: dict[str, Any] | None
) -> int:
    """Outbox rows for one event; returns how many rows were written or changed."""
    handler = HANDLERS.get(entity)
    return 0 if handler is None else await handler(session, source, event, row, before)


async def _on_mark(session: AsyncSession, source: str, event: Event, mark: Mark, before: dict[str, Any] | None) -> int:
    if event.kind == "updated" and not VISIBLE_MARK_FIELDS & set(event.changes or {}):
        return 0
    student = await lookup(session, source, Student, mark.student_ref)
    if student is None:
        return 0
    subject = await lookup(session, source, Subject, mark.subject_ref)
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
    accounts = await recipients(session, student.id)
    muted = await muted_accounts(session, accounts, kinds.PREF_TYPES[kinds.MARK_NEW])
    for account_id in accounts:
        waiting = await outbox.pending_for_topic(session, topic=topic, account_id=account_id)
        if event.kind == "deleted":
            if waiting is not None:
                written += await outbox.cancel_pending(session, topic=topic, account_id=account_id, reason="mark deleted")
            if account_id not in muted and await outbox.was_sent(session, topic=topic, account_id=account_id):
                written += await enqueue_for_event(session, event, account_id, kinds.MARK_DELETED, payload, topic)
            continue
        if waiting is not None and waiting.kind == kinds.MARK_DELETED:
            # Restored before the deletion notice went out: the parent still knows the old value.
            told = waiting.payload.get("value")
            written += await outbox.cancel_pending(session, topic=topic, account_id=account_id, reason="mark restored")
            if told != mark.value and account_id not in muted:
                changed = dict(payload, old_value=told)
                written += await enqueue_for_event(session, event, account_id, kinds.MARK_CHANGED, changed, topic)
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
            for copy in await outbox.pending_copies_for_topic(session, topic=topic, account_id=account_id):
                copy.payload = new_payload  # each channel's waiting copy (Telegram, e-mail)
            written += 1
            continue
        if account_id in muted:
            continue
        if event.kind == "created":
            written += await enqueue_for_event(session, event, account_id, kinds.MARK_NEW, payload, topic)
        else:
            changed = dict(payload, old_value=(before or {}).get("value"))
            written += await enqueue_for_event(session, event, account_id, kinds.MARK_CHANGED, changed, topic)
    return written


#: entity → handler of its events. One line per entity that notifies someone.
HANDLERS: dict[str, EventHandler] = {
    "mark": _on_mark,
    "lesson": school_news.on_lesson,  # news beyond marks (issue 4): services/sync/school_news.py
    "homework": school_news.on_homework,
    "assessment": school_news.on_assessment,
    "recommendation": school_news.on_recommendation,
    "final_grade": on_final_grade,  # term results (issue 5): services/sync/fanout_results.py
}
