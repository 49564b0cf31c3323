"""News beyond marks (issue 4): lesson changes, new homework, recommendations, control works.

Event handlers for `services/sync/fanout.py` HANDLERS. Decisions (docs/notifications.md):

- **Lessons**: only real changes of a lesson today or tomorrow in the school's time zone (its
  date, or the date it was moved from): a lesson that newly becomes cancelled, gets a
  (different) substitute teacher or a (different) `moved_from`, or a new lesson with such a
  flag. Sent when the change appears, not at the lesson. Group lessons go only to the pupils
  of that group.
- **Homework** and **control works** (assessments): new ones due today or later, to every
  pupil of the class. **Recommendations**: new ones, to the pupil's parents.
- A message still waiting in the outbox follows its record: updated in place when the record
  changes, cancelled when the record is deleted (or a lesson's change is undone).

One row per pupil and parent (a parent of two pupils of one class gets each pupil's news;
they arrive together in one digest). Parents who turned the type off get nothing.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import kinds, outbox
from services.notify.prefs import muted_accounts
from services.sync.audience import enqueue_for_event, first_name, lookup, recipients
from storage.models import (
    Assessment,
    Event,
    Homework,
    Lesson,
    Recommendation,
    School,
    SchoolClass,
    Student,
    Subject,
    Teacher,
    utcnow,
)

#: School.timezone is required by the exchange contract; this only covers a broken value.
FALLBACK_TZ = "Asia/Yekaterinburg"
TEXT_LIMIT = 1500
ATTACHMENTS_LIMIT = 10


# --------------------------------------------------------------------------- helpers


async def school_today(session: AsyncSession, source: str, school_ref: str | None) -> date:
    school = await lookup(session, source, School, school_ref)
    try:
        tz = ZoneInfo(school.timezone) if school is not None and school.timezone else ZoneInfo(FALLBACK_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo(FALLBACK_TZ)
    return utcnow().astimezone(tz).date()


async def class_today(session: AsyncSession, source: str, class_ref: str) -> date:
    cls = await lookup(session, source, SchoolClass, class_ref)
    return await school_today(session, source, cls.school_ref if cls is not None else None)


async def class_pupils(session: AsyncSession, source: str, class_ref: str, group: str | None = None) -> list[Student]:
    """Live pupils of a class; with `group`, only those in that subgroup or stream."""
    pupils = list(await session.scalars(
        select(Student)
        .where(Student.source == source, Student.class_ref == class_ref, Student.deleted_at.is_(None))
        .order_by(Student.id)
    ))
    if group is None:
        return pupils
    return [p for p in pupils if group in (p.groups or [])]


async def _name(session: AsyncSession, source: str, model: Any, ref: str | None, attr: str = "name") -> str | None:
    row = await lookup(session, source, model, ref)
    return getattr(row, attr) if row is not None else None


def _clip(text: str | None, limit: int = TEXT_LIMIT) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


async def _fan_out(
    session: AsyncSession,
    event: Event,
    pupils: list[Student],
    kind: str,
    topic_base: str,
    payload_for: Any,
    *,
    new: bool,
) -> int:
    """For each pupil and each parent: update or cancel a waiting message about this record,
    or (when `new`) write one. `payload_for(pupil)` gives the payload, or None when there is
    nothing (left) to tell."""
    pref_type = kinds.PREF_TYPES[kind]
    written = 0
    for pupil in pupils:
        accounts = await recipients(session, pupil.id)
        if not accounts:
            continue
        muted = await muted_accounts(session, accounts, pref_type)
        payload = payload_for(pupil)
        topic = f"{topic_base}:{pupil.id}"
        for account_id in accounts:
            waiting = await outbox.pending_copies_for_topic(session, topic=topic, account_id=account_id)
            if waiting:
                if payload is None or event.kind == "deleted":
                    written += await outbox.cancel_pending(
                        session, topic=topic, account_id=account_id, reason=f"{kind} withdrawn"
                    )
                else:
                    for copy in waiting:  # each channel's copy
                        copy.payload = payload
                    written += 1
                continue
            if new and payload is not None and account_id not in muted:
                written += await enqueue_for_event(session, event, account_id, kind, payload, topic)
    return written


# --------------------------------------------------------------------------- lessons


def lesson_flags(status: str | None, substitute: str | None, moved: Any) -> set[str]:
    flags = set()
    if status == "cancelled":
        flags.add("cancelled")
    if substitute:
        flags.add("substitute")
    if moved:
        flags.add("moved")
    return flags


def new_lesson_flags(lesson: Lesson, before: dict[str, Any] | None) -> set[str]:
    """The flags this change newly set (all of them for a new lesson)."""
    if before is None:
        return lesson_flags(lesson.status, lesson.substitute_teacher_ref, lesson.moved_from)
    flags = set()
    if lesson.status == "cancelled" and before.get("status") != "cancelled":
        flags.add("cancelled")
    if lesson.substitute_teacher_ref and lesson.substitute_teacher_ref != before.get("substitute_teacher_ref"):
        flags.add("substitute")
    if lesson.moved_from and lesson.moved_from != before.get("moved_from"):
        flags.add("moved")
    return flags


def _moved_date(moved: Any) -> date | None:
    try:
        return date.fromisoformat(str((moved or {}).get("date")))
    except ValueError:
        return None


async def on_lesson(session: AsyncSession, source: str, event: Event, lesson: Lesson,
                    before: dict[str, Any] | None) -> int:
    current = set() if event.kind == "deleted" else lesson_flags(
        lesson.status, lesson.substitute_teacher_ref, lesson.moved_from)
    news = set() if event.kind == "deleted" else new_lesson_flags(lesson, before if event.kind == "updated" else None)
    today = await class_today(session, source, lesson.class_ref)
    soon = {today, today + timedelta(days=1)}
    relevant = lesson.date in soon or ("moved" in current and _moved_date(lesson.moved_from) in soon)
    subject = await _name(session, source, Subject, lesson.subject_ref)
    teacher = await _name(session, source, Teacher, lesson.teacher_ref, "full_name")
    substitute = await _name(session, source, Teacher, lesson.substitute_teacher_ref, "full_name")

    def payload_for(pupil: Student) -> dict[str, Any] | None:
        changes = sorted(current)
        if not changes:
            return None
        return {
            "student_id": pupil.id,
            "student_name": first_name(pupil.full_name),
            "subject": subject or "",
            "date": lesson.date.isoformat(),
            "number": lesson.number,
            "starts_at": lesson.starts_at,
            "ends_at": lesson.ends_at,
            "room": lesson.room,
            "group": lesson.group,
            "changes": changes,
            "teacher": teacher,
            "substitute": substitute if "substitute" in current else None,
            "moved_from": lesson.moved_from if "moved" in current else None,
        }

    pupils = await class_pupils(session, source, lesson.class_ref, lesson.group)
    return await _fan_out(session, event, pupils, kinds.LESSON_CHANGED, f"lesson:{source}:{lesson.external_id}",
                          payload_for, new=bool(news) and relevant)


# --------------------------------------------------------------------------- homework


async def on_homework(session: AsyncSession, source: str, event: Event, homework: Homework,
                      before: dict[str, Any] | None) -> int:
    today = await class_today(session, source, homework.class_ref)
    subject = await _name(session, source, Subject, homework.subject_ref)

    def payload_for(pupil: Student) -> dict[str, Any]:
        return {
            "student_id": pupil.id,
            "student_name": first_name(pupil.full_name),
            "subject": subject or "",
            "assigned_on": homework.assigned_on.isoformat(),
            "due_on": homework.due_on.isoformat(),
            "text": _clip(homework.text),
            "attachments": list(homework.attachments or [])[:ATTACHMENTS_LIMIT],
        }

    pupils = await class_pupils(session, source, homework.class_ref)
    new = event.kind == "created" and homework.due_on >= today
    return await _fan_out(session, event, pupils, kinds.HOMEWORK_NEW, f"homework:{source}:{homework.external_id}",
                          payload_for, new=new)


# --------------------------------------------------------------------------- control works


async def on_assessment(session: AsyncSession, source: str, event: Event, assessment: Assessment,
                        before: dict[str, Any] | None) -> int:
    today = await class_today(session, source, assessment.class_ref)
    subject = await _name(session, source, Subject, assessment.subject_ref)

    def payload_for(pupil: Student) -> dict[str, Any]:
        return {
            "student_id": pupil.id,
            "student_name": first_name(pupil.full_name),
            "subject": subject or "",
            "date": assessment.date.isoformat(),
            "lesson_number": assessment.lesson_number,
            "title": _clip(assessment.title, 300),
            "kind": assessment.kind,
        }

    pupils = await class_pupils(session, source, assessment.class_ref)
    new = event.kind == "created" and assessment.date >= today
    return await _fan_out(session, event, pupils, kinds.ASSESSMENT_NEW,
                          f"assessment:{source}:{assessment.external_id}", payload_for, new=new)


# --------------------------------------------------------------------------- recommendations


async def on_recommendation(session: AsyncSession, source: str, event: Event, recommendation: Recommendation,
                            before: dict[str, Any] | None) -> int:
    pupil = await lookup(session, source, Student, recommendation.student_ref)
    if pupil is None or pupil.deleted_at is not None:
        return 0
    subject = await _name(session, source, Subject, recommendation.subject_ref)
    teacher = await _name(session, source, Teacher, recommendation.teacher_ref, "full_name")

    def payload_for(p: Student) -> dict[str, Any]:
        return {
            "student_id": p.id,
            "student_name": first_name(p.full_name),
            "subject": subject,
            "teacher": teacher,
            "date": recommendation.date.isoformat(),
            "text": _clip(recommendation.text),
        }

    return await _fan_out(session, event, [pupil], kinds.RECOMMENDATION_NEW,
                          f"recommendation:{source}:{recommendation.external_id}", payload_for,
                          new=event.kind == "created")
