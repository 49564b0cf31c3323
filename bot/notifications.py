"""The Telegram delivery channel: renders outbox rows and sends them with an aiogram `Bot`.

Implements ``services.notify.channel.Channel`` and ``DigestChannel``. Each kind (see
``services/notify/kinds.py``) becomes one short HTML message in Russian, or in English for
``language == "en"``; every value from a payload is clipped and HTML-escaped, so a message stays
far below 4096 characters. A ``digest`` (several news of one parent at once) lists one short
line per item, grouped by child; `digest_fit` tells the dispatcher how many items fit in one
message, so a digest never exceeds 4096 characters either.
aiogram's errors become the channel outcomes the dispatcher understands (`classify_error`).
"""
from __future__ import annotations

import asyncio
import html
from collections.abc import Sequence
from typing import Any, NamedTuple

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    AiogramError,
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

from bot.callbacks import (
    ForecastCb,  # term results (issue 5)
    LinkDecisionCb,
)
from bot.privacy_render import render_privacy_notice
from bot.render_reports import render_delivery_alarm
from bot.render_results import (  # issue 5
    forecast_open_label,
    render_final_grade_notice,
    render_forecast_notice,
)
from bot.texts import TEXTS as CATALOGS
from bot.texts import Html, t
from services.notify.channel import (
    DeliveryError,
    PermanentError,
    Recipient,
    RecipientGone,
    RetryAfter,
    TransientError,
)
from services.notify.kinds import (
    ASSESSMENT_NEW,
    DELIVERY_ALARM,
    DIGEST,
    FINAL_GRADE,
    FINAL_GRADE_DELETED,
    FORECAST,
    FORECAST_RISK,
    HOMEWORK_NEW,
    LESSON_CHANGED,
    LINK_DECISION,
    LINK_REQUEST,
    MARK_CHANGED,
    MARK_DELETED,
    MARK_NEW,
    PRIVACY_KINDS,
    RECOMMENDATION_NEW,
)
from services.notify.wording import format_date, format_weight

MESSAGE_LIMIT = 4096

#: 400 descriptions that mean the chat itself is unreachable (not a fault of this message).
GONE_BAD_REQUESTS = ("chat not found", "peer_id_invalid", "user not found")

#: The texts of notifications ("notify_*") and the names of mark kinds ("mark_kind_*", the
#: same names the views use) come from the gettext catalogs (bot/locales).
TEXTS: dict[str, dict[str, str]] = {
    lang: {key.removeprefix("notify_"): text for key, text in table.items() if key.startswith("notify_")}
    for lang, table in CATALOGS.items()
}
MARK_KINDS: dict[str, dict[str, str]] = {
    lang: {key.removeprefix("mark_kind_"): text for key, text in table.items() if key.startswith("mark_kind_")}
    for lang, table in CATALOGS.items()
}


class Rendered(NamedTuple):
    text: str
    reply_markup: InlineKeyboardMarkup | None = None


# --------------------------------------------------------------------------- rendering


def _lang(language: str | None) -> str:
    return "en" if (language or "").lower().startswith("en") else "ru"


def _esc(value: Any, limit: int = 200) -> str:
    """Clip a payload value to `limit` characters, then escape it for HTML."""
    text = "" if value is None else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=False)


def _date(value: Any, lang: str) -> str:
    return format_date(value, lang) or _esc(value, 32)


def _weight(value: Any, lang: str) -> str:
    return format_weight(value, lang) or _esc(value, 16)


def _details(payload: dict[str, Any], lang: str) -> str:
    """« (ответ на уроке, вес 1)» from the mark's kind and weight, whichever are known."""
    parts = []
    kind = payload.get("kind")
    if kind:
        parts.append(MARK_KINDS[lang].get(str(kind)) or _esc(kind, 32))
    if payload.get("weight") is not None:
        parts.append(TEXTS[lang]["weight"].format(weight=_weight(payload["weight"], lang)))
    return f" ({', '.join(parts)})" if parts else ""


def _who_what(payload: dict[str, Any]) -> str:
    return f"{_esc(payload.get('student_name'))} — {_esc(payload.get('subject'))}"


def _mark_tail(payload: dict[str, Any], lang: str) -> str:
    lines = []
    if payload.get("date"):
        lines.append(_date(payload["date"], lang))
    if payload.get("comment"):
        lines.append(f"💬 {_esc(payload['comment'], 1000)}")
    return "".join(f"\n{line}" for line in lines)


def _render_mark(kind: str, payload: dict[str, Any], lang: str) -> Rendered:
    tx = TEXTS[lang]
    value = _esc(payload.get("value"), 16)
    if kind == MARK_NEW:
        body = f"{_who_what(payload)}: <b>{value}</b>{_details(payload, lang)}"
    elif kind == MARK_CHANGED:
        was_now = tx["was_now"].format(old=_esc(payload.get("old_value"), 16), new=value)
        body = f"{_who_what(payload)}: {was_now}{_details(payload, lang)}"
    else:
        body = f"{_who_what(payload)}: <s>{value}</s>"
        payload = {**payload, "comment": None}
    return Rendered(f"{tx[kind]}\n{body}{_mark_tail(payload, lang)}")


def _render_link_request(payload: dict[str, Any], lang: str) -> Rendered:
    tx = TEXTS[lang]
    link_id = int(payload["link_id"])
    parent = _esc(payload.get("parent_name")) or tx["no_name"]
    username = str(payload.get("parent_username") or "").lstrip("@")
    if username:
        parent += f" (@{_esc(username, 64)})"
    student = _esc(payload.get("student_name"))
    if payload.get("class_name"):
        student += f", {_esc(payload['class_name'], 32)}"
    method = payload.get("method")
    method_text = tx.get(f"method_{method}") or _esc(method, 32)
    lines = [tx["link_request"], tx["parent"].format(name=parent), tx["student"].format(name=student)]
    if payload.get("school_name"):
        lines.append(tx["school"].format(name=_esc(payload["school_name"], 300)))
    if method:
        lines.append(tx["method"].format(method=method_text))
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=tx["approve"], callback_data=LinkDecisionCb(action="approve", link_id=link_id).pack()
                ),
                InlineKeyboardButton(
                    text=tx["reject"], callback_data=LinkDecisionCb(action="reject", link_id=link_id).pack()
                ),
            ]
        ]
    )
    return Rendered("\n".join(lines), keyboard)


def _render_link_decision(payload: dict[str, Any], lang: str) -> Rendered:
    key = "approved" if payload.get("approved") else "rejected"
    return Rendered(TEXTS[lang][key].format(student=_esc(payload.get("student_name"))))


# --------------------------------------------------------------------------- news beyond marks (issue 4)


def _student_subject(payload: dict[str, Any], lang: str) -> str:
    subject = payload.get("subject") or t(lang, "nf_no_subject")
    return f"{_esc(payload.get('student_name'))} — {_esc(subject)}"


def _lesson_when(payload: dict[str, Any], lang: str) -> str:
    return t(lang, "nf_lesson_when", date=Html(_date(payload.get("date"), lang)), number=_esc(payload.get("number"), 4),
             start=_esc(payload.get("starts_at"), 5), end=_esc(payload.get("ends_at"), 5))


def _moved_text(payload: dict[str, Any], lang: str, *, short: bool = False) -> str:
    moved = payload.get("moved_from") or {}
    day = Html(_date(moved.get("date"), lang)) if moved.get("date") else "?"
    if short:
        return t(lang, "nf_d_moved", date=day)
    if moved.get("number") is not None:
        return t(lang, "nf_lesson_moved", date=day, number=_esc(moved.get("number"), 4))
    return t(lang, "nf_lesson_moved_nonumber", date=day)


def _render_lesson(payload: dict[str, Any], lang: str) -> Rendered:
    changes = set(payload.get("changes") or ())
    extra = []
    if payload.get("group"):
        extra.append(t(lang, "nf_lesson_group", group=Html(_esc(payload["group"], 100))))
    if payload.get("room"):
        extra.append(t(lang, "nf_lesson_room", room=Html(_esc(payload["room"], 64))))
    head = f"{_student_subject(payload, lang)}\n{_lesson_when(payload, lang)}"
    if extra:
        head += f" · {', '.join(extra)}"
    lines = [t(lang, "nf_lesson_changed"), head]
    if "cancelled" in changes:
        lines.append(t(lang, "nf_lesson_cancelled"))
    if "substitute" in changes:
        substitute = Html(_esc(payload.get("substitute") or "?", 200))
        if payload.get("teacher"):
            lines.append(t(lang, "nf_lesson_substitute_for", substitute=substitute,
                           teacher=Html(_esc(payload["teacher"], 200))))
        else:
            lines.append(t(lang, "nf_lesson_substitute", substitute=substitute))
    if "moved" in changes:
        lines.append(_moved_text(payload, lang))
    return Rendered("\n".join(lines))


def _attachment_links(payload: dict[str, Any], limit: int = 10) -> list[str]:
    links = []
    for item in list(payload.get("attachments") or [])[:limit]:
        url = str((item or {}).get("url") or "")
        if not url.startswith(("https://", "http://")) or len(url) > 1000:
            continue
        name = _esc((item or {}).get("name") or url, 60)
        links.append(f'<a href="{html.escape(url, quote=True)}">{name}</a>')
    return links


def _render_homework(payload: dict[str, Any], lang: str) -> Rendered:
    due = t(lang, "nf_homework_due", date=Html(_date(payload.get("due_on"), lang)))
    lines = [t(lang, "nf_homework_new"), f"{_student_subject(payload, lang)}, {due}",
             _esc(payload.get("text"), 1500)]
    lines += [f"📎 {link}" for link in _attachment_links(payload)]
    return Rendered("\n".join(lines))


def _render_recommendation(payload: dict[str, Any], lang: str) -> Rendered:
    lines = [t(lang, "nf_recommendation_new"),
             f"{_student_subject(payload, lang)}, {_date(payload.get('date'), lang)}"]
    if payload.get("teacher"):
        lines.append(t(lang, "nf_teacher", teacher=Html(_esc(payload["teacher"], 200))))
    lines.append(_esc(payload.get("text"), 1500))
    return Rendered("\n".join(lines))


def _assessment_when(payload: dict[str, Any], lang: str) -> str:
    day = _date(payload.get("date"), lang)
    if payload.get("lesson_number") is not None:
        return t(lang, "nf_assessment_when", date=Html(day), number=_esc(payload["lesson_number"], 4))
    return day


def _assessment_kind(payload: dict[str, Any], lang: str) -> str:
    kind = str(payload.get("kind") or "other")
    key = f"nf_assessment_kind_{kind}"
    return t(lang, key) if kind in ("control", "test", "vpr", "other") else _esc(kind, 32)


def _render_assessment(payload: dict[str, Any], lang: str) -> Rendered:
    lines = [t(lang, "nf_assessment_new"),
             f"{_student_subject(payload, lang)}, {_assessment_when(payload, lang)}",
             f"«{_esc(payload.get('title'), 300)}» ({_assessment_kind(payload, lang)})"]
    return Rendered("\n".join(lines))


# --------------------------------------------------------------------------- digests (issue 4)

#: A digest item never takes more than this many characters (clipped values), so that any one
#: item fits a message with room to spare.
DIGEST_ITEM_LIMIT = 900


def _digest_line(kind: str, payload: dict[str, Any], lang: str) -> str:
    """One news item as a short bullet (the child is named in the group's heading)."""
    subject = _esc(payload.get("subject") or t(lang, "nf_no_subject"), 100)
    if kind == MARK_NEW:
        text = f"🆕 {subject}: <b>{_esc(payload.get('value'), 16)}</b>{_details(payload, lang)}"
    elif kind == MARK_CHANGED:
        was_now = TEXTS[lang]["was_now"].format(old=_esc(payload.get("old_value"), 16),
                                                new=_esc(payload.get("value"), 16))
        text = f"✏️ {subject}: {was_now}"
    elif kind == MARK_DELETED:
        text = f"🗑 {subject}: <s>{_esc(payload.get('value'), 16)}</s> {t(lang, 'nf_d_deleted')}"
    elif kind == LESSON_CHANGED:
        changes = set(payload.get("changes") or ())
        parts = []
        if "cancelled" in changes:
            parts.append(t(lang, "nf_d_cancelled"))
        if "substitute" in changes:
            parts.append(t(lang, "nf_d_substitute", substitute=Html(_esc(payload.get("substitute") or "?", 100))))
        if "moved" in changes:
            parts.append(_moved_text(payload, lang, short=True))
        text = f"🗓 {subject}, {_lesson_when(payload, lang)}: {'; '.join(parts)}"
    elif kind == HOMEWORK_NEW:
        due = t(lang, "nf_homework_due", date=Html(_date(payload.get("due_on"), lang)))
        text = f"📚 {subject}, {due}: {_esc(payload.get('text'), 300)}"
        links = _attachment_links(payload, 3)
        if links:
            text += " 📎 " + ", ".join(links)
    elif kind == RECOMMENDATION_NEW:
        teacher = f" ({_esc(payload['teacher'], 100)})" if payload.get("teacher") else ""
        text = f"💡 {subject}{teacher}: {_esc(payload.get('text'), 300)}"
    elif kind == ASSESSMENT_NEW:
        text = (f"📝 {subject}, {_assessment_when(payload, lang)}: «{_esc(payload.get('title'), 150)}» "
                f"({_assessment_kind(payload, lang)})")
    else:
        return _digest_fallback(kind, payload, lang)
    if kind in (MARK_NEW, MARK_CHANGED, MARK_DELETED):
        if payload.get("date"):
            text += f" · {_date(payload['date'], lang)}"
        if payload.get("comment") and kind != MARK_DELETED:
            text += f" 💬 {_esc(payload['comment'], 200)}"
    return f"• {text}"


def _digest_fallback(kind: str, payload: dict[str, Any], lang: str) -> str:
    """A kind without a digest line of its own: its full message, if short enough."""
    try:
        text = render_notification(kind, payload, lang).text
    except PermanentError:
        return t(lang, "nf_digest_other")
    return text if len(text) <= DIGEST_ITEM_LIMIT else t(lang, "nf_digest_other")


def _digest_blocks(items: list[dict[str, Any]], lang: str) -> list[tuple[int, str]]:
    """(number of items, text) blocks in order: a child's heading comes with its first item."""
    blocks: list[tuple[int, str]] = []
    current_student: Any = object()
    for item in items:
        kind, payload = str(item.get("kind")), dict(item.get("payload") or {})
        line = _digest_line(kind, payload, lang)
        student = payload.get("student_id")
        if student != current_student:
            current_student = student
            if payload.get("student_name"):
                line = t(lang, "nf_digest_student", name=Html(_esc(payload["student_name"], 100))) + "\n" + line
        blocks.append((1, line))
    return blocks


def _grouped(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items grouped by child (children in order of their first item), order kept within."""
    order: dict[Any, int] = {}
    for item in items:
        order.setdefault((item.get("payload") or {}).get("student_id"), len(order))
    return sorted(items, key=lambda item: order[(item.get("payload") or {}).get("student_id")])


def digest_fit(items: list[dict[str, Any]], language: str | None = "ru") -> int:
    """How many of the first `items` fit in one digest message (at least 1)."""
    lang = _lang(language)
    size = len(t(lang, "nf_digest_header", count=len(items))) + 1
    count = 0
    # In the given order a child's heading comes at every change of child; the message groups
    # by child, so it has at most as many headings: this size is an upper bound.
    for n, (_, block) in enumerate(_digest_blocks(items, lang), start=1):
        size += len(block) + 1
        if size > MESSAGE_LIMIT and count:
            break
        count = n
    return max(1, count)


def _render_digest(payload: dict[str, Any], lang: str) -> Rendered:
    items = _grouped(list(payload["items"]))
    lines = [t(lang, "nf_digest_header", count=len(items))]
    lines += [block for _, block in _digest_blocks(items, lang)]
    return Rendered("\n".join(lines))


# --------------------------------------------------------------------------- term results (issue 5)
# Final grades, exam results and forecasts. The texts are in bot/texts.py (block "term
# results"), the line formats in bot/render_results.py, shared with the /forecast view.


RESULT_NOTICE_KINDS = frozenset({FINAL_GRADE, FINAL_GRADE_DELETED, FORECAST, FORECAST_RISK})

# one-day rule (issue 5): the admins' alarm about results undelivered too long
# consent lifecycle and erasure (issue 6): re-ask after a new consent text, erasure notices


def _render_result(kind: str, payload: dict[str, Any], lang: str) -> Rendered:
    if not isinstance(payload, dict):
        raise TypeError("payload must be an object")
    if kind in (FINAL_GRADE, FINAL_GRADE_DELETED):
        return Rendered(render_final_grade_notice(kind, payload, lang))
    open_button = InlineKeyboardButton(
        text=forecast_open_label(lang),
        callback_data=ForecastCb(student_id=int(payload["student_id"]), which="term").pack(),
    )
    return Rendered(render_forecast_notice(kind, payload, lang),
                    InlineKeyboardMarkup(inline_keyboard=[[open_button]]))


# --------------------------------------------------------------------------- dispatch


def render_notification(kind: str, payload: dict[str, Any], language: str | None = "ru") -> Rendered:
    """The message for one outbox row; `PermanentError` for an unknown kind or a broken payload."""
    lang = _lang(language)
    try:
        if kind in (MARK_NEW, MARK_CHANGED, MARK_DELETED):
            rendered = _render_mark(kind, payload, lang)
        elif kind == LESSON_CHANGED:
            rendered = _render_lesson(payload, lang)
        elif kind == HOMEWORK_NEW:
            rendered = _render_homework(payload, lang)
        elif kind == RECOMMENDATION_NEW:
            rendered = _render_recommendation(payload, lang)
        elif kind == ASSESSMENT_NEW:
            rendered = _render_assessment(payload, lang)
        elif kind == DIGEST:
            rendered = _render_digest(payload, lang)
        elif kind == LINK_REQUEST:
            rendered = _render_link_request(payload, lang)
        elif kind == LINK_DECISION:
            rendered = _render_link_decision(payload, lang)
        elif kind in RESULT_NOTICE_KINDS:  # term results (issue 5)
            rendered = _render_result(kind, payload, lang)
        elif kind == DELIVERY_ALARM:  # one-day rule (issue 5)
            rendered = Rendered(render_delivery_alarm(payload, lang))
        elif kind in PRIVACY_KINDS:  # consent lifecycle and erasure (issue 6)
            rendered = Rendered(render_privacy_notice(kind, payload, lang))
        else:
            raise PermanentError(f"unknown kind {kind[:32]!r}")
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentError(f"cannot render {kind}: {type(exc).__name__}") from None
    if len(rendered.text) > MESSAGE_LIMIT:  # cannot happen with the clipping above; never send a cut tag
        raise PermanentError(f"{kind} message too long")
    return rendered


# --------------------------------------------------------------------------- errors


def classify_error(exc: BaseException) -> DeliveryError:
    """Map an aiogram (or asyncio) exception to the channel outcome the dispatcher acts on."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, TelegramRetryAfter):
        return RetryAfter(exc.retry_after, f"Too Many Requests: retry after {exc.retry_after}")
    if isinstance(exc, TelegramForbiddenError):
        return RecipientGone(exc.message)
    if isinstance(exc, TelegramBadRequest):
        if any(marker in exc.message.lower() for marker in GONE_BAD_REQUESTS):
            return RecipientGone(exc.message)
        return PermanentError(exc.message)
    if isinstance(exc, TelegramEntityTooLarge):
        return PermanentError(exc.message)
    if isinstance(exc, TelegramMigrateToChat):
        return PermanentError(f"chat migrated to {exc.migrate_to_chat_id}")
    if isinstance(exc, (TelegramServerError, TelegramNetworkError)):
        return TransientError(exc.message)
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return TransientError("timeout")
    if isinstance(exc, ClientDecodeError):
        return TransientError("undecodable answer from the Bot API")
    if isinstance(exc, TelegramAPIError):
        # 401 (bad token), 404, 409 and unknown codes: a fault of our set-up, not of this message;
        # retried with backoff (and failed after the maximum attempts) while someone fixes it.
        return TransientError(exc.message)
    if isinstance(exc, AiogramError):
        return TransientError(type(exc).__name__)
    return TransientError(type(exc).__name__)


# --------------------------------------------------------------------------- channel


class TelegramChannel:
    """Delivers outbox rows to Telegram chats through an aiogram `Bot`."""

    name = "telegram"

    def __init__(self, bot: Bot, *, request_timeout: float | None = None) -> None:
        self.bot = bot
        self.request_timeout = request_timeout

    def digest_fit(self, recipient: Recipient, items: Sequence[dict[str, Any]]) -> int:
        return digest_fit(list(items), recipient.language)

    async def send(self, recipient: Recipient, kind: str, payload: dict[str, Any]) -> None:
        rendered = render_notification(kind, payload, recipient.language)
        try:
            await self.bot.send_message(
                chat_id=recipient.chat_id,
                text=rendered.text,
                parse_mode=ParseMode.HTML,
                reply_markup=rendered.reply_markup,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                request_timeout=self.request_timeout,  # type: ignore[arg-type]
            )
        except (AiogramError, asyncio.TimeoutError, TimeoutError) as exc:
            raise classify_error(exc) from None
