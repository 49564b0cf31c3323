"""Rendering outbox rows as e-mails: a subject, a plain-text part and an HTML part.

Pure functions (no I/O, no aiogram). The payloads are those of ``services/notify/kinds.py``;
the wording follows the Telegram messages (bot/notifications.py), in Russian or English.
Every payload value is clipped, stripped of control characters (no header injection through
a subject) and HTML-escaped in the HTML part. `build_message` makes the MIME message:
multipart/alternative, UTF-8 bodies, the subject encoded per RFC 2047 by the stdlib policy.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from typing import Any

from services.notify.channel import PermanentError
from services.notify.kinds import (
    FINAL_GRADE,
    FINAL_GRADE_DELETED,
    LINK_DECISION,
    MARK_CHANGED,
    MARK_DELETED,
    MARK_NEW,
)
from services.notify.wording import format_date, format_weight

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
TEXTS: dict[str, dict[str, str]] = {
    "ru": {
        "mark_new": "Новая оценка",
        "mark_changed": "Оценка изменена",
        "mark_deleted": "Оценка удалена",
        "was_now": "было {old}, стало {new}",
        "weight": "вес {weight}",
        "date": "Дата",
        "comment": "Комментарий",
        "approved_subject": "Доступ к электронному дневнику подтверждён",
        "rejected_subject": "Доступ к электронному дневнику не подтверждён",
        "approved": "Школа подтвердила доступ: {student}. О новых оценках мы сообщим сами.",
        "rejected": ("Школа не подтвердила доступ: {student}. Если это ошибка, обратитесь к классному "
                     "руководителю или в администрацию школы."),
        "footer": ("Это письмо отправил сервис «Электронный дневник», потому что вы выбрали доставку по "
                   "электронной почте. Изменить способ доставки можно в боте (/email) или письменным "
                   "заявлением в школе."),
        "code_subject": "Код подтверждения адреса: {code}",
        "code_body": ("Ваш код подтверждения адреса электронной почты: {code}\n"
                      "Введите его в боте «Электронный дневник». Код действует {minutes} минут и "
                      "подходит только один раз.\n"
                      "Если вы не запрашивали код, просто удалите это письмо."),
    },
    "en": {
        "mark_new": "New mark",
        "mark_changed": "Mark changed",
        "mark_deleted": "Mark deleted",
        "was_now": "was {old}, now {new}",
        "weight": "weight {weight}",
        "date": "Date",
        "comment": "Comment",
        "approved_subject": "Electronic diary access approved",
        "rejected_subject": "Electronic diary access not approved",
        "approved": "The school approved your access: {student}. We will tell you about new marks.",
        "rejected": ("The school did not approve your access: {student}. If this is a mistake, please "
                     "contact the class teacher or the school office."),
        "footer": ("This e-mail was sent by the Electronic diary service because you chose delivery by "
                   "e-mail. You can change the delivery form in the bot (/email) or by a written "
                   "application at school."),
        "code_subject": "Address confirmation code: {code}",
        "code_body": ("Your e-mail confirmation code: {code}\n"
                      "Type it in the Electronic diary bot. The code is valid for {minutes} minutes and "
                      "works only once.\n"
                      "If you did not ask for a code, just delete this e-mail."),
    },
}

MARK_KINDS: dict[str, dict[str, str]] = {
    "ru": {"answer": "ответ на уроке", "test": "проверочная", "control": "контрольная",
           "homework": "домашняя работа", "other": "другое"},
    "en": {"answer": "answer in class", "test": "quiz", "control": "control work",
           "homework": "homework", "other": "other"},
}

#: News kinds of services/notify/kinds.py (issue 4), named here so this module stands alone.
NEWS_KINDS = frozenset({"lesson_changed", "homework_new", "recommendation_new", "assessment_new"})
#: Kinds this module can render; fan-out writes e-mail rows only for these ("digest" is built
#: by the dispatcher from stored rows and is rendered too).
RESULT_KINDS = frozenset({FINAL_GRADE, FINAL_GRADE_DELETED})
EMAIL_KINDS = frozenset({MARK_NEW, MARK_CHANGED, MARK_DELETED, LINK_DECISION}) | NEWS_KINDS | RESULT_KINDS

#: Final grades and exam results by e-mail (issue 5): a parent on e-mail only must get them too.
RESULTS: dict[str, dict[str, str]] = {
    "ru": {
        "final_grade": "Итоговая оценка",
        "final_grade_exam": "Результат экзамена",
        "final_grade_deleted": "Итоговая оценка отменена",
        "deferred": "аттестация перенесена",
        "deferred_until": "аттестация перенесена до {date}",
        "period": "Период",
        "exam": "Экзамен",
    },
    "en": {
        "final_grade": "Final grade",
        "final_grade_exam": "Exam result",
        "final_grade_deleted": "Final grade withdrawn",
        "deferred": "assessment deferred",
        "deferred_until": "assessment deferred until {date}",
        "period": "Period",
        "exam": "Exam",
    },
}

NEWS: dict[str, dict[str, str]] = {
    "ru": {
        "lesson_changed": "Изменение в расписании", "homework_new": "Домашнее задание",
        "recommendation_new": "Рекомендация учителя", "assessment_new": "Контрольная работа",
        "digest": "Новости электронного дневника: {count}",
        "when": "Когда", "slot": "{number}-й урок, {starts}–{ends}", "cancelled": "Урок отменён",
        "substitute": "Замена", "moved_from": "Перенесён с", "room": "Кабинет", "due": "К сроку",
        "task": "Задание", "file": "Файл", "teacher": "Учитель", "text": "Текст", "work": "Работа",
    },
    "en": {
        "lesson_changed": "Timetable change", "homework_new": "Homework",
        "recommendation_new": "Teacher's recommendation", "assessment_new": "Control work",
        "digest": "Electronic diary news: {count}",
        "when": "When", "slot": "lesson {number}, {starts}–{ends}", "cancelled": "Lesson cancelled",
        "substitute": "Substitute", "moved_from": "Moved from", "room": "Room", "due": "Due",
        "task": "Task", "file": "File", "teacher": "Teacher", "text": "Text", "work": "Work",
    },
}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def can_render(kind: str) -> bool:
    return kind in EMAIL_KINDS


def _lang(language: str | None) -> str:
    return "en" if (language or "").lower().startswith("en") else "ru"


def clean(value: Any, limit: int = 200) -> str:
    """A payload value as one safe line: control characters (CR, LF, NUL...) become spaces,
    clipped to `limit` characters."""
    text = _CONTROL.sub(" ", "" if value is None else str(value)).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _date(value: Any, lang: str) -> str:
    return format_date(value, lang) or clean(value, 32)


def _weight(value: Any, lang: str) -> str:
    return format_weight(value, lang) or clean(value, 16)


def _details(payload: dict[str, Any], lang: str) -> str:
    parts = []
    kind = payload.get("kind")
    if kind:
        parts.append(MARK_KINDS[lang].get(str(kind)) or clean(kind, 32))
    if payload.get("weight") is not None:
        parts.append(TEXTS[lang]["weight"].format(weight=_weight(payload["weight"], lang)))
    return f" ({', '.join(parts)})" if parts else ""


def _page(title: str, lines: list[str], footer: str) -> str:
    """A small, table-free HTML document (mail clients strip styles; keep it plain)."""
    body = "".join(f"<p style=\"margin:0 0 8px 0\">{line}</p>" for line in lines)
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title></head>"
        "<body style=\"font-family:Arial,Helvetica,sans-serif;font-size:15px;color:#222\">"
        f"<h2 style=\"font-size:18px;margin:0 0 12px 0\">{html.escape(title)}</h2>{body}"
        f"<hr><p style=\"font-size:12px;color:#777\">{html.escape(footer)}</p></body></html>"
    )


@dataclass(frozen=True)
class _Part:
    """One notification inside an e-mail: a title, a one-line summary and detail lines
    (text and HTML twins; HTML lines are already escaped)."""

    title: str
    summary: str
    lines: list[str]
    html_lines: list[str]


def _line(label: str, value: str) -> tuple[str, str]:
    return f"{label}: {value}", f"{html.escape(label)}: {html.escape(value)}"


def _mark_part(kind: str, payload: dict[str, Any], lang: str) -> _Part:
    tx = TEXTS[lang]
    student, subject = clean(payload.get("student_name")), clean(payload.get("subject"))
    value = clean(payload.get("value"), 16)
    details = _details(payload, lang) if kind != MARK_DELETED else ""
    if kind == MARK_CHANGED:
        old = clean(payload.get("old_value"), 16)
        what = tx["was_now"].format(old=old, new=value)
        what_html = tx["was_now"].format(old=html.escape(old), new=f"<b>{html.escape(value)}</b>")
    elif kind == MARK_DELETED:
        what, what_html = value, f"<s>{html.escape(value)}</s>"
    else:
        what, what_html = value, f"<b>{html.escape(value)}</b>"
    head = f"{student} — {subject}"
    lines = [f"{head}: {what}{details}"]
    html_lines = [f"{html.escape(head)}: {what_html}{html.escape(details)}"]
    if payload.get("date"):
        for out, text in zip((lines, html_lines), _line(tx["date"], _date(payload["date"], lang))):
            out.append(text)
    if payload.get("comment") and kind != MARK_DELETED:
        for out, text in zip((lines, html_lines), _line(tx["comment"], clean(payload["comment"], 1000))):
            out.append(text)
    return _Part(tx[kind], f"{head}: {what}", lines, html_lines)


def _link_decision_part(payload: dict[str, Any], lang: str) -> _Part:
    tx = TEXTS[lang]
    key = "approved" if payload.get("approved") else "rejected"
    student = clean(payload.get("student_name"))
    return _Part(tx[f"{key}_subject"], student, [tx[key].format(student=student)],
                 [tx[key].format(student=html.escape(student))])


def _safe_url(value: Any) -> str | None:
    url = clean(value, 500)
    return url if re.match(r"^https?://[^\s<>\"']+$", url) else None


def _news_part(kind: str, payload: dict[str, Any], lang: str) -> _Part:
    """lesson_changed, homework_new, recommendation_new, assessment_new (kinds.py formats)."""
    tx = NEWS[lang]
    student, subject = clean(payload.get("student_name")), clean(payload.get("subject"))
    head = f"{student} — {subject}" if subject else student
    pairs: list[tuple[str, str]] = []
    if kind == "lesson_changed":
        changes = [str(c) for c in payload.get("changes") or []]
        when = _date(payload.get("date"), lang)
        slot = tx["slot"].format(number=clean(payload.get("number"), 4), starts=clean(payload.get("starts_at"), 8),
                                 ends=clean(payload.get("ends_at"), 8))
        pairs.append(_line(tx["when"], f"{when}, {slot}"))
        if "cancelled" in changes:
            pairs.append((tx["cancelled"], html.escape(tx["cancelled"])))
        if "substitute" in changes:
            pairs.append(_line(tx["substitute"], clean(payload.get("substitute")) or "—"))
        moved = payload.get("moved_from") or {}
        if "moved" in changes and isinstance(moved, dict):
            pairs.append(_line(tx["moved_from"], f"{_date(moved.get('date'), lang)}, {clean(moved.get('number'), 4)}"))
        if payload.get("room"):
            pairs.append(_line(tx["room"], clean(payload["room"], 64)))
        summary = f"{head}, {when}"
    elif kind == "homework_new":
        pairs.append(_line(tx["due"], _date(payload.get("due_on"), lang)))
        pairs.append(_line(tx["task"], clean(payload.get("text"), 2000)))
        for item in payload.get("attachments") or []:
            if not isinstance(item, dict):
                continue
            name, url = clean(item.get("name"), 120) or "file", _safe_url(item.get("url"))
            if url:
                pairs.append((f"{tx['file']}: {name} {url}",
                              f"{html.escape(tx['file'])}: <a href=\"{html.escape(url)}\">{html.escape(name)}</a>"))
        summary = head
    elif kind == "recommendation_new":
        pairs.append(_line(tx["teacher"], clean(payload.get("teacher"))))
        pairs.append(_line(TEXTS[lang]["date"], _date(payload.get("date"), lang)))
        pairs.append(_line(tx["text"], clean(payload.get("text"), 2000)))
        summary = head
    else:  # assessment_new
        when = _date(payload.get("date"), lang)
        pairs.append(_line(tx["when"], when))
        pairs.append(_line(tx["work"], clean(payload.get("title"), 300)))
        summary = f"{head}, {when}"
    lines = [head] + [p[0] for p in pairs]
    html_lines = [html.escape(head)] + [p[1] for p in pairs]
    return _Part(tx[kind], summary, lines, html_lines)


def _result_part(kind: str, payload: dict[str, Any], lang: str) -> _Part:
    """final_grade / final_grade_deleted (kinds.py formats)."""
    tx = RESULTS[lang]
    student, subject = clean(payload.get("student_name")), clean(payload.get("subject"))
    head = f"{student} — {subject}"
    value = clean(payload.get("value"), 16)
    if kind == FINAL_GRADE_DELETED:
        title, what, what_html = tx["final_grade_deleted"], value or "—", f"<s>{html.escape(value or '—')}</s>"
    else:
        title = tx["final_grade_exam"] if payload.get("kind") == "exam" else tx["final_grade"]
        if payload.get("status") == "deferred":
            until = payload.get("deferred_until")
            what = tx["deferred_until"].format(date=_date(until, lang)) if until else tx["deferred"]
            what_html = html.escape(what)
        elif payload.get("old_value"):
            old = clean(payload.get("old_value"), 16)
            what = TEXTS[lang]["was_now"].format(old=old, new=value)
            what_html = TEXTS[lang]["was_now"].format(old=html.escape(old), new=f"<b>{html.escape(value)}</b>")
        else:
            what, what_html = value, f"<b>{html.escape(value)}</b>"
    lines, html_lines = [f"{head}: {what}"], [f"{html.escape(head)}: {what_html}"]
    for label, raw in ((tx["exam"], payload.get("title")), (tx["period"], payload.get("period_name"))):
        if raw:
            for out, text in zip((lines, html_lines), _line(label, clean(raw, 200))):
                out.append(text)
    return _Part(title, f"{head}: {what}", lines, html_lines)


def _part(kind: str, payload: dict[str, Any], lang: str) -> _Part:
    if kind in RESULT_KINDS:
        return _result_part(kind, payload, lang)
    if kind in (MARK_NEW, MARK_CHANGED, MARK_DELETED):
        return _mark_part(kind, payload, lang)
    if kind == LINK_DECISION:
        return _link_decision_part(payload, lang)
    if kind in NEWS_KINDS:
        return _news_part(kind, payload, lang)
    raise PermanentError(f"no e-mail rendering for kind {kind[:32]!r}")


def _single(part: _Part, lang: str) -> RenderedEmail:
    footer = TEXTS[lang]["footer"]
    text = "\n".join([part.title, "", *part.lines, "", "--", footer]) + "\n"
    return RenderedEmail(clean(f"{part.title}: {part.summary}", 180), text, _page(part.title, part.html_lines, footer))


def _digest(payload: dict[str, Any], lang: str) -> RenderedEmail:
    items = [i for i in payload.get("items") or [] if isinstance(i, dict)]
    parts = [_part(str(i.get("kind")), dict(i.get("payload") or {}), lang) for i in items]
    if not parts:
        raise PermanentError("empty digest")
    title = NEWS[lang]["digest"].format(count=len(parts))
    footer = TEXTS[lang]["footer"]
    text_lines: list[str] = [title, ""]
    html_lines: list[str] = []
    for part in parts:
        text_lines += [part.title, *part.lines, ""]
        html_lines.append(f"<b>{html.escape(part.title)}</b><br>" + "<br>".join(part.html_lines))
    text = "\n".join([*text_lines, "--", footer]) + "\n"
    return RenderedEmail(title, text, _page(title, html_lines, footer))


def render_email(kind: str, payload: dict[str, Any], language: str | None = "ru") -> RenderedEmail:
    """The e-mail for one outbox row (or a dispatcher's digest of several); `PermanentError`
    for an unknown kind or a broken payload."""
    lang = _lang(language)
    try:
        if kind == "digest":
            return _digest(payload, lang)
        return _single(_part(kind, payload, lang), lang)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PermanentError(f"cannot render {kind[:32]} as e-mail: {type(exc).__name__}") from None


def render_code_email(code: str, minutes: int, language: str | None = "ru") -> RenderedEmail:
    """The message with an address-confirmation code."""
    tx = TEXTS[_lang(language)]
    subject = tx["code_subject"].format(code=code)
    body = tx["code_body"].format(code=code, minutes=minutes)
    text = body + "\n"
    html_lines = [html.escape(line) for line in body.split("\n")]
    html_lines[0] = html_lines[0].replace(code, f"<b style=\"font-size:20px\">{code}</b>")
    return RenderedEmail(subject, text, _page(subject, html_lines, ""))


def build_message(rendered: RenderedEmail, *, sender: str, to: str) -> EmailMessage:
    """multipart/alternative (text, then HTML) in UTF-8; header values may not carry CR/LF
    (the stdlib policy refuses them), and `to` has been validated by services.contacts."""
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = clean(rendered.subject, 250)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = sender.rsplit("@", 1)[-1].strip("> ") or "ediary.local"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text, charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return message
