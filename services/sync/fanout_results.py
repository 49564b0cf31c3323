"""Final grades, exam and certificate results → one message to each linked, consenting parent.

Each message is decided by comparing the grade as it now stands with what the parent was last
told about it (the last sent message on the grade's topic), so corrections and replays never
produce a second message for the same news:

| journal change                        | parent told nothing yet  | parent was told                   |
|---------------------------------------|--------------------------|-----------------------------------|
| a new result                          | `final_grade` new        | —                                 |
| a deferral (status deferred)          | `final_grade` deferred   | deferred (again, when the date moves) |
| the value set after a deferral        | `final_grade` new        | `final_grade` set                 |
| the value (or subject, period, title) changed | `final_grade` new | `final_grade` changed (old value) |
| changed back to what was told         | —                        | — (a waiting message is cancelled)|
| only `set_at` changed                 | —                        | —                                 |
| deleted                               | waiting message cancelled | `final_grade_deleted`            |

A message still waiting in the outbox is updated in place (every channel's copy), keeping the
`occurred_at` of the first change: the one-day rule is measured from the earliest save.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import outbox
from services.notify.kinds import FINAL_GRADE, FINAL_GRADE_DELETED
from services.sync.audience import enqueue_for_event, first_name, lookup, recipients
from storage.models import Event, FinalGrade, OutboxMessage, Period, Student, Subject

#: Changes a parent can see; anything else (set_at, teacher references) notifies nobody.
VISIBLE_FIELDS = frozenset({"value", "status", "deferred_until", "kind", "title", "subject_ref", "period_ref"})
#: Payload fields compared with what the parent was told.
COMPARED = ("subject", "period_name", "kind", "title", "value", "status", "deferred_until")


def topic_of(source: str, external_id: str) -> str:
    return f"final_grade:{source}:{external_id}"


def _iso(value: Any) -> str | None:
    """A date as YYYY-MM-DD, a time in UTC (the same whether the row was just parsed or loaded)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    return value.isoformat()


async def _payload(session: AsyncSession, source: str, grade: FinalGrade, student: Student) -> dict[str, Any]:
    subject = await lookup(session, source, Subject, grade.subject_ref)
    period = await lookup(session, source, Period, grade.period_ref)
    return {
        "student_id": student.id,
        "student_name": first_name(student.full_name),
        "subject": subject.name if subject is not None else grade.subject_ref,
        "period_name": period.name if period is not None else None,
        "kind": grade.kind,
        "title": grade.title,
        "value": grade.value,
        "status": grade.status,
        "deferred_until": _iso(grade.deferred_until),
        "set_at": _iso(grade.set_at),
    }


async def _last_told(session: AsyncSession, topic: str, account_id: int) -> dict[str, Any] | None:
    """The payload of the last message about the grade that went (or is going) out; None if
    none, or if the last one told that the grade was withdrawn."""
    row = (await session.execute(
        select(OutboxMessage.kind, OutboxMessage.payload)
        .where(OutboxMessage.topic == topic, OutboxMessage.account_id == account_id,
               OutboxMessage.status.in_((outbox.SENT, outbox.SENDING)))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )).first()
    if row is None or row.kind != FINAL_GRADE:
        return None
    return dict(row.payload or {})


async def _waiting(session: AsyncSession, topic: str, account_id: int) -> list[OutboxMessage]:
    """Every channel's copy of the message about the grade still waiting to be sent."""
    return list(await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.topic == topic, OutboxMessage.account_id == account_id,
               OutboxMessage.status == outbox.PENDING)
        .order_by(OutboxMessage.id)
    ))


def decide(current: dict[str, Any] | None, told: dict[str, Any] | None) -> tuple[str, dict[str, Any]] | None:
    """(kind, payload) of the message the parent should get, or None. `current` None: deleted."""
    if current is None:
        return (FINAL_GRADE_DELETED, dict(told)) if told is not None else None
    if told is None:
        change = "deferred" if current["status"] == "deferred" else "new"
        return FINAL_GRADE, {**current, "change": change, "old_value": None}
    if all(current.get(f) == told.get(f) for f in COMPARED):
        return None
    if current["status"] == "deferred":
        return FINAL_GRADE, {**current, "change": "deferred", "old_value": told.get("value")}
    if told.get("status") == "deferred":
        return FINAL_GRADE, {**current, "change": "set", "old_value": None}
    return FINAL_GRADE, {**current, "change": "changed", "old_value": told.get("value")}


async def on_final_grade(
    session: AsyncSession, source: str, event: Event, grade: FinalGrade, before: dict[str, Any] | None
) -> int:
    """Outbox rows for one final-grade event; returns how many rows were written or changed."""
    if event.kind == "updated" and not VISIBLE_FIELDS & set(event.changes or {}):
        return 0
    student = await lookup(session, source, Student, grade.student_ref)
    if student is None:
        return 0
    current = None if event.kind == "deleted" else await _payload(session, source, grade, student)
    topic = topic_of(source, grade.external_id)
    written = 0
    for account_id in await recipients(session, student.id):
        message = decide(current, await _last_told(session, topic, account_id))
        waiting = await _waiting(session, topic, account_id)
        if message is None:
            if waiting:
                written += await outbox.cancel_pending(session, topic=topic, account_id=account_id,
                                                       reason="nothing new for the parent")
            continue
        kind, payload = message
        if waiting:
            for row in waiting:  # not sent yet: one message, with the final state
                row.kind, row.payload = kind, payload
                row.occurred_at = row.occurred_at or event.occurred_at
            written += 1
            continue
        written += await enqueue_for_event(session, event, account_id, kind, payload, topic)
    return written
