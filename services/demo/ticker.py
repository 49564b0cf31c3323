"""Live activity for the demo journal: a teacher saves one new mark."""
from __future__ import annotations

import random
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from .feed import ChangeFeed
from .school import DEFAULT_TZ

__all__ = ["make_new_mark"]

_MARK_ID = re.compile(r"^m-(\d+)$")
_VALUES = ("5", "4", "3", "2")
_WEIGHTS = (40, 40, 16, 4)


def _school_zone(feed: ChangeFeed) -> ZoneInfo:
    for school in feed.records("school").values():
        try:
            return ZoneInfo(school.get("timezone") or DEFAULT_TZ)
        except (ValueError, KeyError):
            break
    return ZoneInfo(DEFAULT_TZ)


def _next_mark_id(feed: ChangeFeed) -> str:
    numbers = [int(m.group(1)) for rid in feed.known_ids("mark") if (m := _MARK_ID.match(rid))]
    return f"m-{max(numbers, default=0) + 1}"


def make_new_mark(feed: ChangeFeed, rng: random.Random, now: datetime) -> dict:
    """Upsert one plausible new mark and return its change envelope.

    A random pupil, a subject of their class (their own stream for split subjects, the
    individual-plan teacher where one is assigned), dated today in the school's time zone,
    from the teacher of the assignment; linked to today's lesson of that subject when there
    is one. Deterministic given ``rng`` and the feed's state.
    """
    zone = _school_zone(feed)
    if now.tzinfo is None:
        now = now.replace(tzinfo=zone)
    today = now.astimezone(zone).date().isoformat()

    students = sorted(feed.records("student").items(), key=lambda kv: _id_order(kv[0]))
    if not students:
        raise LookupError("the feed has no students")
    assignments = [
        a for a in feed.records("assignment").values()
        if a.get("role") == "subject_teacher" and a.get("subject_id")
    ]
    exempt = {
        (g.get("student_id"), g.get("subject_id"))
        for g in feed.records("final_grade").values() if g.get("value") == "осв"
    }
    for _ in range(50):
        student_id, student = rng.choice(students)
        options = _teachers_by_subject(student_id, student, assignments)
        options = {s: t for s, t in options.items() if (student_id, s) not in exempt}
        if options:
            break
    else:
        raise LookupError("no pupil with a subject teacher in the feed")
    subject_id = rng.choice(sorted(options))
    teacher_id, group, personal = options[subject_id]

    lesson_id = None
    lessons = {} if personal else feed.records("lesson")
    for lid, lesson in lessons.items():
        if (
            lesson.get("class_id") == student["class_id"]
            and lesson.get("subject_id") == subject_id
            and lesson.get("date") == today
            and lesson.get("status") != "cancelled"
            and lesson.get("group") in (None, group)
        ):
            lesson_id = lid
            teacher_id = lesson.get("substitute_teacher_id") or teacher_id
            break

    kind = rng.choices(("answer", "homework", "test"), weights=(60, 30, 10))[0]
    value = "зач" if subject_id == "sub-proj" else rng.choices(_VALUES, weights=_WEIGHTS)[0]
    data = {
        "student_id": student_id,
        "subject_id": subject_id,
        "date": today,
        "value": value,
        "weight": 2 if kind == "test" else 1,
        "kind": kind,
        "teacher_id": teacher_id,
        "lesson_id": lesson_id,
        "comment": None,
    }
    return feed.upsert("mark", _next_mark_id(feed), data, occurred_at=now)


def _id_order(rid: str) -> tuple:
    prefix, _, number = rid.rpartition("-")
    return (prefix, int(number)) if number.isdigit() else (rid, 0)


def _teachers_by_subject(
    student_id: str, student: dict, assignments: list[dict]
) -> dict[str, tuple[str, str | None, bool]]:
    """subject -> (teacher, group, individual?) for the pupil; an individual assignment wins."""
    groups = student.get("groups") or []
    found: dict[str, tuple[str, str | None, bool]] = {}
    personal: dict[str, tuple[str, str | None, bool]] = {}
    for a in assignments:
        if a.get("class_id") != student.get("class_id"):
            continue
        if a.get("student_id"):
            if a["student_id"] == student_id:
                personal[a["subject_id"]] = (a["teacher_id"], None, True)
            continue
        group = a.get("group")
        if group is not None and group not in groups:
            continue
        found.setdefault(a["subject_id"], (a["teacher_id"], group, False))
    found.update(personal)
    return found
