"""A tiny school for sync tests, written into a `ChangeFeed` the way a journal would."""
from __future__ import annotations

from services.demo.feed import ChangeFeed

SCHOOL = "sch-1"
CLASS = "cls-7a"
MATH = "sub-math"
PUPIL = "s-1"
PHONE = "+79001112233"


def small_school(feed: ChangeFeed) -> None:
    feed.upsert("school", SCHOOL, {"name": "Школа № 1", "timezone": "Asia/Yekaterinburg"})
    feed.upsert("class", CLASS, {"school_id": SCHOOL, "name": "7А", "grade": 7})
    feed.upsert("subject", MATH, {"school_id": SCHOOL, "name": "Алгебра"})
    feed.upsert("teacher", "t-1", {"school_id": SCHOOL, "full_name": "Петрова Анна Сергеевна"})
    feed.upsert(
        "student", PUPIL, {"school_id": SCHOOL, "class_id": CLASS, "full_name": "Иванов Иван Петрович"}
    )
    feed.upsert(
        "guardian",
        "g-1",
        {"school_id": SCHOOL, "full_name": "Иванова Мария Олеговна", "phone": PHONE, "student_ids": [PUPIL]},
    )
    feed.upsert("mark", "m-1", mark_data("4"))


def mark_data(value: str, *, date: str = "2026-11-27", kind: str = "answer", weight: int = 1) -> dict:
    return {
        "student_id": PUPIL,
        "subject_id": MATH,
        "date": date,
        "value": value,
        "weight": weight,
        "kind": kind,
        "teacher_id": "t-1",
    }
