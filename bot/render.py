"""Pure render functions: service views in, HTML text chunks out (each ≤ 4096 characters).

Every value that comes from data is escaped here; texts come from ``bot.texts``.
Nothing here talks to Telegram or the database, so it is tested without either.
"""
from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.texts import WEEKDAYS, Html, t

MESSAGE_LIMIT = 4096
DEFAULT_TZ = "Asia/Yekaterinburg"


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=False)


# --------------------------------------------------------------------------- splitting


def _hard_split(line: str, limit: int) -> list[str]:
    """Cut one over-long line, preferring whitespace, never inside an HTML entity or tag."""
    parts: list[str] = []
    while len(line) > limit:
        cut = line.rfind(" ", 0, limit + 1)
        if cut <= limit // 2:
            cut = limit
        # never cut "&amp;" or "<b>" in half
        amp, lt = line.rfind("&", 0, cut), line.rfind("<", 0, cut)
        if amp > line.rfind(";", 0, cut) and amp > 0:
            cut = amp
        if lt > line.rfind(">", 0, cut) and lt > 0:
            cut = lt
        parts.append(line[:cut].rstrip())
        line = line[cut:].lstrip(" ")
    parts.append(line)
    return [p for p in parts if p]


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split `text` into chunks of at most `limit` characters on line boundaries.

    A single line longer than `limit` is cut at a space (or hard at the limit). Empty text
    gives one empty chunk, so a caller always has something to send or edit."""
    if limit < 16:
        raise ValueError("limit too small")
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        pieces = _hard_split(line, limit) if len(line) > limit else [line]
        for piece in pieces:
            extra = len(piece) + (1 if current else 0)
            if current and size + extra > limit:
                chunks.append("\n".join(current))
                current, size = [], 0
                extra = len(piece)
            current.append(piece)
            size += extra
    if current:
        chunks.append("\n".join(current))
    # blank lines at chunk edges are noise (and Telegram rejects an empty message)
    cleaned = [c.strip("\n") for c in chunks]
    return [c for c in cleaned if c.strip()] or [""]


# --------------------------------------------------------------------------- formatting helpers


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def fmt_date(value: Any, *, year: bool = False) -> str:
    d = _as_date(value)
    if d is None:
        return esc(value)
    return d.strftime("%d.%m.%Y" if year else "%d.%m")


def fmt_day(value: Any, lang: str) -> str:
    d = _as_date(value)
    if d is None:
        return esc(value)
    return f"{WEEKDAYS.get(lang, WEEKDAYS['ru'])[d.weekday()]}, {d.strftime('%d.%m')}"


def fmt_datetime(value: datetime | None, tz: str = DEFAULT_TZ) -> str:
    if value is None:
        return "—"
    if value.tzinfo is not None:
        try:
            value = value.astimezone(ZoneInfo(tz))
        except Exception:  # noqa: BLE001 - an unknown zone name must not break a message
            pass
    return value.strftime("%d.%m.%Y %H:%M")


def fmt_average(value: float | None, lang: str) -> str:
    if value is None:
        return "—"
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang != "en" else text


def _chunks(lines: Iterable[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    return split_message("\n".join(lines), limit)


# --------------------------------------------------------------------------- consent


def render_consent(intro: str | None, header: str, body: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Intro (markup), header (markup) and the plain consent text (escaped here)."""
    parts = [p for p in (intro, header) if p]
    parts.append(esc(body))
    return split_message("\n\n".join(parts), limit)


# --------------------------------------------------------------------------- grades


def _mark(mark: Any) -> str:
    value = esc(mark.value)
    weight = getattr(mark, "weight", 1) or 1
    return f"<b>{value}</b>" if weight > 1 else value


def render_grades(view: Any, lang: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """GradesView → chunks: the period, then one line per subject with marks and average."""
    lines = [t(lang, "grades_header", name=view.student_name)]
    if view.period_start and view.period_end:
        lines.append(t(lang, "grades_period", period=view.period_name or "",
                       start=fmt_date(view.period_start), end=fmt_date(view.period_end)).strip())
    lines.append("")
    subjects = [s for s in view.subjects if s.marks]
    weighted = False
    for subject in subjects:
        marks = " ".join(_mark(m) for m in subject.marks)
        weighted = weighted or any((getattr(m, "weight", 1) or 1) > 1 for m in subject.marks)
        if subject.average is None:
            lines.append(t(lang, "grades_line_noavg", subject=subject.subject_name, marks=Html(marks)))
        else:
            lines.append(t(lang, "grades_line", subject=subject.subject_name, marks=Html(marks),
                           average=fmt_average(subject.average, lang), count=subject.count))
    if not subjects:
        lines.append(t(lang, "grades_none"))
    elif weighted:
        lines.extend(["", t(lang, "grades_legend")])
    return _chunks(lines, limit)


# --------------------------------------------------------------------------- homework


def _range(lang: str, which: str) -> str:
    return t(lang, f"range_{which}") if which in ("today", "tomorrow", "week") else esc(which)


def _link(attachment: Any) -> str:
    if isinstance(attachment, dict):
        name, url = attachment.get("name"), attachment.get("url")
    else:
        name, url = getattr(attachment, "name", None), getattr(attachment, "url", None)
    label = esc(name or url or "📎")
    if url and str(url).lower().startswith(("http://", "https://")):
        return f'📎 <a href="{html.escape(str(url), quote=True)}">{label}</a>'
    return f"📎 {label}"


def render_homework(view: Any, lang: str, which: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """HomeworkView → chunks: per day, «• subject: text» and its attachments as links."""
    lines = [t(lang, "homework_header", name=view.student_name, range=_range(lang, which))]
    days = list(view.days)
    if not any(day.items for day in days):
        lines.extend(["", t(lang, "homework_none")])
        return _chunks(lines, limit)
    for day in days:
        if not day.items and len(days) > 1:
            continue  # a week lists only the days with homework
        lines.extend(["", f"<b>{fmt_day(day.date, lang)}</b>"])
        if not day.items:
            lines.append(t(lang, "homework_day_none"))
            continue
        for item in day.items:
            lines.append(f"• <b>{esc(item.subject_name)}</b>: {esc(item.text)}")
            for attachment in getattr(item, "attachments", None) or []:
                lines.append(f"   {_link(attachment)}")
    return _chunks(lines, limit)


# --------------------------------------------------------------------------- schedule


def _moved(moved_from: Any, lang: str) -> str:
    if isinstance(moved_from, dict):
        when, number = moved_from.get("date"), moved_from.get("number")
    else:
        when, number = getattr(moved_from, "date", None), getattr(moved_from, "number", None)
    if number is None:
        return t(lang, "lesson_moved_nonumber", date=fmt_date(when))
    return t(lang, "lesson_moved", date=fmt_date(when), number=number)


def render_lesson(lesson: Any, lang: str) -> str:
    time = f"{esc(lesson.starts_at)}–{esc(lesson.ends_at)}" if lesson.starts_at else ""
    cancelled = lesson.status == "cancelled"
    subject = esc(lesson.subject_name)
    head = f"{esc(lesson.number)}. {time} " + (f"<s>{subject}</s>" if cancelled else f"<b>{subject}</b>")
    details: list[str] = []
    if cancelled:
        details.append(t(lang, "lesson_cancelled"))
    if lesson.substitute_teacher_name:
        details.append(t(lang, "lesson_substitute", teacher=lesson.substitute_teacher_name))
    elif lesson.teacher_name:
        details.append(esc(lesson.teacher_name))
    if lesson.room:
        details.append(t(lang, "lesson_room", room=lesson.room))
    if getattr(lesson, "group", None):
        details.append(t(lang, "lesson_group", group=lesson.group))
    kind = getattr(lesson, "kind", None)
    if kind in ("test", "lab", "excursion"):
        details.append(t(lang, f"lesson_kind_{kind}"))
    if getattr(lesson, "moved_from", None):
        details.append(_moved(lesson.moved_from, lang))
    return head + (" — " + ", ".join(details) if details else "")


def render_schedule(view: Any, lang: str, which: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """ScheduleView → chunks: per day the lessons with time, subject, teacher, room and changes."""
    lines = [t(lang, "schedule_header", name=view.student_name, range=_range(lang, which))]
    days = list(view.days)
    if not any(day.lessons or day.holiday_name for day in days):
        lines.extend(["", t(lang, "schedule_none")])
        return _chunks(lines, limit)
    for day in days:
        if not day.lessons and not day.holiday_name and len(days) > 1:
            continue  # a week lists only the days with lessons (or a holiday)
        lines.extend(["", f"<b>{fmt_day(day.date, lang)}</b>"])
        if day.holiday_name:
            lines.append(t(lang, "holiday", name=day.holiday_name))
        if not day.lessons:
            if not day.holiday_name:
                lines.append(t(lang, "schedule_day_none"))
            continue
        lines.extend(render_lesson(lesson, lang) for lesson in day.lessons)
    return _chunks(lines, limit)


# --------------------------------------------------------------------------- children


def render_children(children: Sequence[Any], active_id: int | None, lang: str) -> str:
    lines = [t(lang, "children_header")]
    for child in children:
        mark = "👉" if child.student_id == active_id else "•"
        lines.append(t(lang, "child_line", mark=mark, name=child.full_name,
                       class_name=child.class_name or "—", school=child.school_name or "—"))
    return "\n".join(lines)


def child_label(child: Any, active_id: int | None) -> str:
    """A button label (plain text: Telegram does not parse button markup)."""
    prefix = "👉 " if child.student_id == active_id else ""
    label = f"{prefix}{child.first_name or child.full_name}"
    if child.class_name:
        label += f", {child.class_name}"
    return label[:60]


# --------------------------------------------------------------------------- admin


def render_pending(item: Any, lang: str, tz: str = DEFAULT_TZ) -> str:
    parent = item.parent_name or ""
    if item.parent_username:
        parent = f"{parent} (@{item.parent_username})".strip()
    method = t(lang, f"method_{item.method}") if item.method in ("phone", "code") else item.method
    return t(lang, "pending_item", student=item.student_name, class_name=item.class_name or "—",
             school=item.school_name or "—", parent=parent or "—", method=method,
             created=fmt_datetime(item.created_at, tz))


def render_decision(original_html: str, approved: bool, who: str, when: datetime | None, lang: str,
                    tz: str = DEFAULT_TZ, limit: int = MESSAGE_LIMIT) -> str:
    """The admin's request message with the outcome appended (fits one message)."""
    line = t(lang, "decision_approved" if approved else "decision_rejected", who=who,
             when=fmt_datetime(when, tz))
    room = limit - len(line) - 2
    body = original_html if len(original_html) <= room else split_message(original_html, room)[0]
    return f"{body}\n\n{line}" if body else line


def render_classes(classes: Sequence[Any], lang: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    if not classes:
        return [t(lang, "classes_none")]
    lines = [t(lang, "classes_header")]
    lines.extend(t(lang, "class_line", id=c.id, name=c.name, school=c.school_name, pupils=c.pupils)
                 for c in classes)
    return _chunks(lines, limit)


def render_schools(schools: Sequence[Any], lang: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    if not schools:
        return [t(lang, "schools_none")]
    lines = [t(lang, "schools_header")]
    lines.extend(t(lang, "school_line", ref=s.external_id, name=s.name) for s in schools)
    return _chunks(lines, limit)


def render_invite_codes(class_name: str, codes: Sequence[Any], days: int, lang: str,
                        limit: int = MESSAGE_LIMIT) -> list[str]:
    """«ФИО — КОД» lines for printing, split into messages of at most `limit` characters."""
    if not codes:
        return [t(lang, "invite_none")]
    lines = [t(lang, "invite_header", class_name=class_name, days=days), ""]
    lines.extend(t(lang, "invite_line", name=c.student_name, code=c.code) for c in codes)
    return _chunks(lines, limit)
