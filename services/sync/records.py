"""Validation and normalisation of exchange-v1 records (contract section 4).

Each entity is described once as a list of fields; `normalize(entity, data)` turns a record's
`data` into column values or raises `Malformed` with a reason a school's admin can act on.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.phones import normalize_phone


class Malformed(ValueError):
    """A record that cannot be applied; the message is the quarantine reason."""


Parser = Callable[[Any], Any]


def text(max_len: int | None = None) -> Parser:
    def parse(v: Any) -> str:
        if not isinstance(v, str) or not v.strip():
            raise Malformed("must be a non-empty string")
        if max_len is not None and len(v) > max_len:
            raise Malformed(f"longer than {max_len} characters")
        return v

    return parse


def optional_text(max_len: int | None = None) -> Parser:
    inner = text(max_len)
    return lambda v: None if v is None or v == "" else inner(v)


def ref(v: Any) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        v = str(v)
    if not isinstance(v, str) or not v or len(v) > 128:
        raise Malformed("must be an id string of 1..128 characters")
    return v


def optional_ref(v: Any) -> str | None:
    return None if v is None else ref(v)


def ref_list(v: Any) -> list[str]:
    if not isinstance(v, list):
        raise Malformed("must be a list of ids")
    return [ref(x) for x in v]


def optional_ref_list(v: Any) -> list[str] | None:
    return None if v is None else ref_list(v)


def day(v: Any) -> date:
    if not isinstance(v, str):
        raise Malformed("must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(v)
    except ValueError as exc:
        raise Malformed("must be a date YYYY-MM-DD") from exc


def optional_day(v: Any) -> date | None:
    return None if v is None else day(v)


def timestamp(v: Any) -> datetime:
    """RFC 3339 with an offset; returned as an aware datetime."""
    if not isinstance(v, str):
        raise Malformed("must be an RFC 3339 time with an offset")
    try:
        parsed = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Malformed("must be an RFC 3339 time with an offset") from exc
    if parsed.tzinfo is None:
        raise Malformed("time has no offset")
    return parsed


def optional_timestamp(v: Any) -> datetime | None:
    return None if v is None else timestamp(v)


def clock(v: Any) -> str:
    if not isinstance(v, str) or len(v) != 5 or v[2] != ":":
        raise Malformed("must be a clock time HH:MM")
    hh, mm = v[:2], v[3:]
    if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
        raise Malformed("must be a clock time HH:MM")
    return v


def integer(lo: int | None = None, hi: int | None = None) -> Parser:
    def parse(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise Malformed("must be an integer")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise Malformed(f"must be between {lo} and {hi}")
        return v

    return parse


def optional_integer(lo: int | None = None, hi: int | None = None) -> Parser:
    inner = integer(lo, hi)
    return lambda v: None if v is None else inner(v)


def weight(v: Any) -> float:
    if v is None:
        return 1.0
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 < v <= 100):
        raise Malformed("must be a positive number")
    return float(v)


def one_of(*values: str) -> Parser:
    allowed = frozenset(values)

    def parse(v: Any) -> str:
        if v not in allowed:
            raise Malformed(f"must be one of {', '.join(values)}")
        return v

    return parse


def optional_one_of(*values: str) -> Parser:
    inner = one_of(*values)
    return lambda v: None if v is None else inner(v)


def optional_bool(v: Any) -> bool | None:
    if v is None or isinstance(v, bool):
        return v
    raise Malformed("must be true or false")


def optional_str_list(v: Any) -> list[str] | None:
    if v is None:
        return None
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise Malformed("must be a list of strings")
    return v


def attachments(v: Any) -> list[dict[str, str]]:
    if v is None:
        return []
    if not isinstance(v, list):
        raise Malformed("must be a list of {name, url}")
    out = []
    for item in v:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise Malformed("each attachment needs a url")
        url = item["url"]
        if not url.startswith(("https://", "http://")):
            raise Malformed("attachment url must be http(s)")
        out.append({"name": str(item.get("name") or url), "url": url})
    return out


def moved_from(v: Any) -> dict[str, Any] | None:
    if v is None:
        return None
    if not isinstance(v, dict):
        raise Malformed("must be {date, number}")
    return {"date": day(v.get("date")).isoformat(), "number": optional_integer(1, 20)(v.get("number"))}


MARK_VALUES = ("1", "2", "3", "4", "5", "зач", "незач", "н/а", "осв")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    parse: Parser
    column: str | None = None  # defaults to name
    refers_to: str | None = None  # entity whose record must exist (checked by apply)
    required: bool = False  # the key must be present (even if its value may be null)

    @property
    def target(self) -> str:
        return self.column or self.name


def F(name, parse, *, column=None, refers_to=None, required=True) -> FieldSpec:  # noqa: N802 - table-like
    return FieldSpec(name, parse, column, refers_to, required)


def O(name, parse, *, column=None, refers_to=None) -> FieldSpec:  # noqa: N802,E743 - optional field
    return FieldSpec(name, parse, column, refers_to, required=False)


ENTITIES: dict[str, tuple[FieldSpec, ...]] = {
    "school": (F("name", text()), F("timezone", text(64)), O("address", optional_text())),
    "period": (
        F("school_id", ref, column="school_ref", refers_to="school"),
        F("kind", one_of("quarter", "trimester", "half", "year")),
        F("name", text()),
        F("starts_on", day),
        F("ends_on", day),
    ),
    "class": (
        F("school_id", ref, column="school_ref", refers_to="school"),
        F("name", text(32)),
        F("grade", integer(1, 11)),
    ),
    "subject": (F("school_id", ref, column="school_ref", refers_to="school"), F("name", text())),
    "teacher": (F("school_id", ref, column="school_ref", refers_to="school"), F("full_name", text())),
    "student": (
        F("school_id", ref, column="school_ref", refers_to="school"),
        F("class_id", ref, column="class_ref", refers_to="class"),
        F("full_name", text()),
        O("birth_date", optional_day),
        O("groups", optional_str_list),
        O("individual_plan", optional_bool),
    ),
    "guardian": (
        F("school_id", ref, column="school_ref", refers_to="school"),
        F("full_name", text()),
        O("phone", optional_text(32)),
        O("email", optional_text(320)),
        F("student_ids", ref_list, column="student_refs"),
    ),
    "assignment": (
        F("class_id", ref, column="class_ref", refers_to="class"),
        O("subject_id", optional_ref, column="subject_ref"),
        F("teacher_id", ref, column="teacher_ref"),
        F("role", one_of("subject_teacher", "class_teacher")),
        O("group", optional_text()),
        O("student_id", optional_ref, column="student_ref"),
    ),
    "curriculum": (
        F("class_id", ref, column="class_ref", refers_to="class"),
        F("subject_id", ref, column="subject_ref", refers_to="subject"),
        F("period_id", ref, column="period_ref", refers_to="period"),
        F("planned_lessons", integer(0, 10000)),
    ),
    "lesson": (
        F("class_id", ref, column="class_ref", refers_to="class"),
        F("subject_id", ref, column="subject_ref", refers_to="subject"),
        F("teacher_id", ref, column="teacher_ref"),
        F("date", day),
        F("number", integer(0, 20)),
        F("starts_at", clock),
        F("ends_at", clock),
        O("room", optional_text(64)),
        O("topic", optional_text()),
        F("kind", one_of("regular", "test", "lab", "excursion", "other")),
        F("status", one_of("planned", "held", "cancelled")),
        O("group", optional_text()),
        O("substitute_teacher_id", optional_ref, column="substitute_teacher_ref"),
        O("moved_from", moved_from),
    ),
    "assessment": (
        F("class_id", ref, column="class_ref", refers_to="class"),
        F("subject_id", ref, column="subject_ref", refers_to="subject"),
        F("date", day),
        O("lesson_number", optional_integer(0, 20)),
        F("title", text()),
        F("kind", one_of("control", "test", "vpr", "other")),
    ),
    "homework": (
        F("class_id", ref, column="class_ref", refers_to="class"),
        F("subject_id", ref, column="subject_ref", refers_to="subject"),
        O("lesson_id", optional_ref, column="lesson_ref"),
        F("assigned_on", day),
        F("due_on", day),
        F("text", text()),
        O("attachments", attachments),
    ),
    "mark": (
        F("student_id", ref, column="student_ref", refers_to="student"),
        F("subject_id", ref, column="subject_ref", refers_to="subject"),
        F("date", day),
        F("value", one_of(*MARK_VALUES)),
        O("weight", weight),
        F("kind", one_of("answer", "test", "control", "homework", "other")),
        O("teacher_id", optional_ref, column="teacher_ref"),
        O("lesson_id", optional_ref, column="lesson_ref"),
        O("comment", optional_text()),
    ),
    "final_grade": (
        F("student_id", ref, column="student_ref", refers_to="student"),
        F("subject_id", ref, column="subject_ref", refers_to="subject"),
        O("period_id", optional_ref, column="period_ref"),
        F("kind", one_of("period", "year", "exam", "certificate")),
        O("title", optional_text()),
        O("value", optional_text(16)),
        F("status", one_of("final", "deferred")),
        O("deferred_until", optional_day),
        O("set_at", optional_timestamp),
    ),
    "holiday": (
        F("school_id", ref, column="school_ref", refers_to="school"),
        F("name", text()),
        F("starts_on", day),
        F("ends_on", day),
        O("class_ids", optional_ref_list, column="class_refs"),
    ),
    "recommendation": (
        F("student_id", ref, column="student_ref", refers_to="student"),
        O("subject_id", optional_ref, column="subject_ref"),
        F("teacher_id", ref, column="teacher_ref"),
        F("date", day),
        F("text", text()),
    ),
}

#: Order in which one page's changes are applied, so that a record's references exist first.
APPLY_ORDER = {name: rank for rank, name in enumerate(ENTITIES)}


def normalize(entity: str, data: Any) -> dict[str, Any]:
    """Column values for a record's `data`, or `Malformed` naming the field at fault."""
    if not isinstance(data, dict):
        raise Malformed("data must be an object")
    out: dict[str, Any] = {}
    for spec in ENTITIES[entity]:
        if spec.required and data.get(spec.name) is None:
            raise Malformed(f"missing field '{spec.name}'")
        try:
            out[spec.target] = spec.parse(data.get(spec.name))
        except Malformed as exc:
            raise Malformed(f"field '{spec.name}' {exc}") from None
    _check_consistency(entity, out)
    if entity == "guardian":
        out["phone_digits"] = normalize_phone(out["phone"]) if out["phone"] else None
    return out


def _check_consistency(entity: str, out: dict[str, Any]) -> None:
    for start, end in (("starts_on", "ends_on"), ("assigned_on", "due_on")):
        if start in out and end in out and out[end] < out[start]:
            raise Malformed(f"'{end}' is before '{start}'")
    if entity == "lesson" and out["ends_at"] <= out["starts_at"]:
        raise Malformed("'ends_at' is not after 'starts_at'")
    if entity == "final_grade" and out["status"] == "final" and out["value"] is None:
        raise Malformed("a final grade with status 'final' needs a value")


def references(entity: str, values: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field name, referenced entity, referenced id) that must exist for the record to apply."""
    return [
        (spec.name, spec.refers_to, values[spec.target])
        for spec in ENTITIES[entity]
        if spec.refers_to and values.get(spec.target) is not None
    ]
