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

from bot.texts import TEXTS, WEEKDAYS, Html, t

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


def render_grades(view: Any, lang: str, limit: int = MESSAGE_LIMIT, *, hint: bool = False) -> list[str]:
    """GradesView → chunks: the period, then one line per subject with marks and average;
    `hint`: a closing line saying that a subject's button opens its detail."""
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
    if subjects and hint:
        lines.extend(["", t(lang, "grades_hint")])
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


def render_homework(view: Any, lang: str, which: str, limit: int = MESSAGE_LIMIT, *,
                    title: str | None = None) -> list[str]:
    """HomeworkView → chunks: per day, «• subject: text» and its attachments as links.

    `title` (markup, e.g. from day_title) replaces the range word of `which` in the header."""
    label = Html(title) if title is not None else _range(lang, which)
    lines = [t(lang, "homework_header", name=view.student_name, range=label)]
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
            lines.extend(_attachment_lines(item))
    return _chunks(lines, limit)


def _attachment_lines(item: Any) -> list[str]:
    return [f"   {_link(attachment)}" for attachment in getattr(item, "attachments", None) or []]


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
    if lesson.substitute_teacher_name and lesson.teacher_name:
        details.append(t(lang, "lesson_substitute_for", teacher=lesson.substitute_teacher_name,
                         planned=lesson.teacher_name))
    elif lesson.substitute_teacher_name:
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


def render_moved_away(moved: Any, lang: str) -> str:
    """A lesson that was planned on this day and now takes place on another day or slot."""
    number = f"{esc(moved.number)}. " if getattr(moved, "number", None) is not None else ""
    group = t(lang, "lesson_group", group=moved.group) + ", " if getattr(moved, "group", None) else ""
    return (f"{number}<s>{esc(moved.subject_name)}</s> — {group}"
            + t(lang, "lesson_moved_to", date=fmt_day(moved.to_date, lang), number=moved.to_number))


def render_schedule(view: Any, lang: str, which: str, limit: int = MESSAGE_LIMIT, *,
                    title: str | None = None) -> list[str]:
    """ScheduleView → chunks: per day the lessons with time, subject, teacher, room and changes
    (substitute and planned teacher, cancellation, moved here from / moved away to), holidays.

    `title` (markup, e.g. from day_title) replaces the range word of `which` in the header."""
    label = Html(title) if title is not None else _range(lang, which)
    lines = [t(lang, "schedule_header", name=view.student_name, range=label)]
    days = list(view.days)

    def moved(day: Any) -> list[Any]:
        return list(getattr(day, "moved_away", None) or [])

    if not any(day.lessons or day.holiday_name or moved(day) for day in days):
        lines.extend(["", t(lang, "schedule_none")])
        return _chunks(lines, limit)
    for day in days:
        if not day.lessons and not day.holiday_name and not moved(day) and len(days) > 1:
            continue  # a week lists only the days with lessons (or a holiday)
        lines.extend(["", f"<b>{fmt_day(day.date, lang)}</b>"])
        if day.holiday_name:
            lines.append(t(lang, "holiday", name=day.holiday_name))
        if not day.lessons and not day.holiday_name:
            lines.append(t(lang, "schedule_day_none"))
        lines.extend(render_lesson(lesson, lang) for lesson in day.lessons)
        lines.extend(render_moved_away(m, lang) for m in moved(day))
    return _chunks(lines, limit)


# --------------------------------------------------------------------------- titles and the views menu


def day_title(days: Sequence[Any], today: date | None, lang: str) -> str:
    """The range of a day view as markup: «Пн, 30.11 (сегодня)» or «неделя 30.11–06.12 (текущая)»."""
    first, last = _as_date(days[0]), _as_date(days[-1])
    if first is None or last is None:
        return ""
    if first == last:
        day = fmt_day(first, lang)
        if today is not None:
            delta = (first - today).days
            key = {0: "title_today", 1: "title_tomorrow", -1: "title_yesterday"}.get(delta)
            if key:
                return t(lang, key, day=day)
        return esc(day)
    key = "title_this_week" if today is not None and first <= today <= last else "title_week"
    return t(lang, key, start=fmt_date(first), end=fmt_date(last))


def render_menu(pupil: Any, lang: str) -> str:
    """The header of the inline menu of views of one child."""
    return t(lang, "menu_header", name=pupil.full_name, class_name=pupil.class_name or "—",
             school=pupil.school_name or "—")


def _weight(value: Any) -> str:
    number = float(value if value is not None else 1)
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _kind(prefix: str, kind: Any, lang: str) -> str:
    key = f"{prefix}{kind}"
    return t(lang, key) if key in TEXTS["ru"] else esc(kind)


# --------------------------------------------------------------------------- one subject's marks


def render_subject_marks(view: Any, lang: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """SubjectMarksView → chunks: every mark with its date, kind, weight, teacher and comment."""
    lines = [t(lang, "subject_marks_header", subject=view.subject_name, name=view.student_name)]
    if view.period_start and view.period_end:
        lines.append(t(lang, "grades_period", period=view.period_name or "",
                       start=fmt_date(view.period_start), end=fmt_date(view.period_end)).strip())
    if view.average is not None:
        lines.append(t(lang, "subject_marks_average", average=fmt_average(view.average, lang), count=view.count))
    lines.append("")
    if not view.marks:
        lines.append(t(lang, "subject_marks_none"))
    for mark in view.marks:
        parts = [f"{fmt_date(mark.date)} — <b>{esc(mark.value)}</b>", _kind("mark_kind_", mark.kind, lang),
                 t(lang, "mark_weight", weight=_weight(mark.weight))]
        if mark.teacher_name:
            parts.append(esc(mark.teacher_name))
        lines.append(", ".join(parts))
        if mark.comment:
            lines.append("   " + t(lang, "mark_comment", comment=mark.comment))
    return _chunks(lines, limit)


# --------------------------------------------------------------------------- homework by subject


def _homework_entry(entry: Any, lang: str, *, assigned: bool = False) -> list[str]:
    head = t(lang, "homework_due", date=fmt_day(entry.due_on, lang))
    if assigned and entry.assigned_on:
        head += ", " + t(lang, "homework_assigned", date=fmt_date(entry.assigned_on))
    return [f"• <b>{head}</b>: {esc(entry.text)}", *_attachment_lines(entry)]


def render_homework_subjects(view: Any, lang: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """HomeworkSubjectsView → chunks: per subject what is due soon, with attachments as links."""
    lines = [t(lang, "homework_subjects_header", name=view.student_name, start=fmt_date(view.today),
               end=fmt_date(view.until))]
    days = (view.until - view.today).days + 1
    if not any(subject.items for subject in view.subjects):
        lines.extend(["", t(lang, "homework_subjects_none", days=days)])
    else:
        for subject in view.subjects:
            if not subject.items:
                continue
            lines.extend(["", f"<b>{esc(subject.subject_name)}</b>"])
            for entry in subject.items:
                lines.extend(_homework_entry(entry, lang))
    if any(subject.subject_id for subject in view.subjects):
        lines.extend(["", t(lang, "homework_subjects_hint")])
    return _chunks(lines, limit)


def render_subject_homework(view: Any, lang: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """SubjectHomeworkView → chunks: the subject's homework, newest due date first."""
    lines = [t(lang, "subject_homework_header", subject=view.subject_name, name=view.student_name)]
    if view.period_start and view.period_end:
        lines.append(t(lang, "grades_period", period=view.period_name or "",
                       start=fmt_date(view.period_start), end=fmt_date(view.period_end)).strip())
    lines.append("")
    if not view.items:
        lines.append(t(lang, "subject_homework_none"))
    for entry in view.items:
        lines.extend(_homework_entry(entry, lang, assigned=True))
    return _chunks(lines, limit)


# --------------------------------------------------------------------------- control works


def render_assessments(view: Any, lang: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """AssessmentsView → chunks: the period's control works by date; upcoming ones marked 📌."""
    lines = [t(lang, "works_header", name=view.student_name)]
    if view.period_start and view.period_end:
        lines.append(t(lang, "grades_period", period=view.period_name or "",
                       start=fmt_date(view.period_start), end=fmt_date(view.period_end)).strip())
    lines.append("")
    if not view.items:
        lines.append(t(lang, "works_none"))
        return _chunks(lines, limit)
    for item in view.items:
        upcoming = item.date >= view.today
        details = [_kind("work_kind_", item.kind, lang)]
        if item.lesson_number is not None:
            details.append(t(lang, "work_lesson", number=item.lesson_number))
        when = fmt_day(item.date, lang)
        delta = (item.date - view.today).days
        if delta in (0, 1):
            when += ", " + t(lang, "work_today" if delta == 0 else "work_tomorrow")
        lines.append(f"{'📌' if upcoming else '▫️'} <b>{when}</b> — <b>{esc(item.subject_name)}</b>: "
                     f"{esc(item.title)} ({', '.join(details)})")
    lines.extend(["", t(lang, "works_legend")])
    return _chunks(lines, limit)


# --------------------------------------------------------------------------- teachers


def render_teachers(view: Any, lang: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """TeachersView → chunks: the class teacher first, then «subject: teachers» lines."""
    lines = [t(lang, "teachers_header", name=view.student_name, class_name=view.class_name or "—"), ""]
    if not view.class_teachers and not view.subjects:
        lines.append(t(lang, "teachers_none"))
        return _chunks(lines, limit)
    lines.extend(t(lang, "teachers_class_teacher", teacher=name) for name in view.class_teachers)
    if view.class_teachers and view.subjects:
        lines.append("")
    for subject in view.subjects:
        names = []
        for teacher in subject.teachers:
            notes = []
            if teacher.group:
                notes.append(t(lang, "lesson_group", group=teacher.group))
            if teacher.individual:
                notes.append(t(lang, "teacher_individual"))
            names.append(esc(teacher.name) + (f" ({', '.join(notes)})" if notes else ""))
        subject_name = esc(subject.subject_name) if subject.subject_name else t(lang, "teachers_no_subject")
        lines.append(f"• <b>{subject_name}</b>: {'; '.join(names)}")
    return _chunks(lines, limit)


# --------------------------------------------------------------------------- holidays


def _holiday_line(item: Any, lang: str, today: date, *, current: bool) -> str:
    dates = fmt_date(item.starts_on) if item.starts_on == item.ends_on else \
        f"{fmt_date(item.starts_on)}–{fmt_date(item.ends_on)}"
    notes = []
    if current:
        left = (item.ends_on - today).days
        if left > 0:
            notes.append(t(lang, "holiday_left", days=left))
    else:
        notes.append(t(lang, "holiday_in", days=(item.starts_on - today).days))
    if item.class_only:
        notes.append(t(lang, "holiday_class_only"))
    return f"• <b>{esc(item.name)}</b>: {dates}" + (f" ({', '.join(notes)})" if notes else "")


def render_holidays(view: Any, lang: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """HolidaysView → chunks: holidays going on now, then the next ones."""
    lines = [t(lang, "holidays_header", name=view.student_name), "", t(lang, "holidays_now")]
    if view.current:
        lines.extend(_holiday_line(h, lang, view.today, current=True) for h in view.current)
    else:
        lines.append(t(lang, "holidays_none_now"))
    lines.extend(["", t(lang, "holidays_next")])
    if view.upcoming:
        lines.extend(_holiday_line(h, lang, view.today, current=False) for h in view.upcoming)
    else:
        lines.append(t(lang, "holidays_none_next"))
    return _chunks(lines, limit)


# --------------------------------------------------------------------------- recommendations


def render_recommendations(view: Any, lang: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """RecommendationsView → chunks: newest first, «date · subject · teacher» and the text."""
    lines = [t(lang, "recs_header", name=view.student_name)]
    if not view.items:
        lines.extend(["", t(lang, "recs_none")])
        return _chunks(lines, limit)
    for item in view.items:
        head = [f"<b>{fmt_date(item.date, year=True)}</b>"]
        if item.subject_name:
            head.append(f"<b>{esc(item.subject_name)}</b>")
        if item.teacher_name:
            head.append(esc(item.teacher_name))
        lines.extend(["", " · ".join(head), esc(item.text)])
    if view.total > len(view.items):
        lines.extend(["", t(lang, "recs_more", shown=len(view.items), total=view.total)])
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


def subject_label(name: str, average: float | None, lang: str) -> str:
    """A subject button's label (plain text), with the average when there is one."""
    label = name if len(name) <= 28 else name[:27] + "…"
    return f"{label} · {fmt_average(average, lang)}" if average is not None else label


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

