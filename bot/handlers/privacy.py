"""Privacy commands (issue 6): /forget for a parent; /audit, /parents, /paper_consent and
/consent_history for admins. Consent itself (/consent, the buttons) lives in start.py.

Scope (which schools an admin may act on) is decided by services; here only "is an admin at
all" is checked first, so a non-admin gets «только администраторам» before any usage hint.
Every admin command here is audited by its service (ids only).
"""
from __future__ import annotations

import logging
import re
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from bot.callbacks import AuditPageCb, ForgetCb
from bot.handlers.common import (
    edit_chunks,
    edit_markup,
    require_admin,
    send,
    send_chunks,
)
from bot.keyboards import no_menu
from bot.privacy_render import paper_reply, render_audit_page, render_parents
from bot.texts import t
from services.consent import PaperForm, PersonKey
from services.errors import AlreadyDecided, NotFound

if TYPE_CHECKING:
    from services.accounts import AccountView
    from services.container import Services

log = logging.getLogger(__name__)

#: /paper_consent decisions, as typed (English verbs and their Russian equivalents).
DECISIONS = {
    "grant": "granted", "granted": "granted", "согласие": "granted",
    "refuse": "refused", "refused": "refused", "отказ": "refused",
    "withdraw": "withdrawn", "withdrawn": "withdrawn", "отзыв": "withdrawn",
}
_FORM_NUMBER = re.compile(r"[\w/.\-№]{1,32}")
_GUARDIAN_REF = re.compile(r"[\w.\-:/]{1,128}")
_ARGS_LIMIT = 300


def parse_person(text: str) -> PersonKey | None:
    """``g:<journal guardian id>`` or ``tg:<Telegram id>``; None for anything else."""
    kind, _, value = text.strip().partition(":")
    kind = kind.lower()
    if kind == "tg" and value.isdigit() and 0 < len(value) <= 15:
        return PersonKey(telegram_id=int(value))
    if kind == "g" and _GUARDIAN_REF.fullmatch(value):
        return PersonKey(guardian_ref=value)
    return None


def parse_signed_on(text: str, today: date) -> date | None:
    try:
        day = datetime.strptime(text.strip(), "%d.%m.%Y").date()
    except ValueError:
        return None
    return day if date(2000, 1, 1) <= day <= today else None


def _args(command: CommandObject) -> str | None:
    """The command's arguments, or None when they are absurdly long."""
    args = (command.args or "").strip()
    return None if len(args) > _ARGS_LIMIT else args


# --------------------------------------------------------------------------- /forget


def forget_keyboard(lang: str, token: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=t(lang, "btn_forget_confirm"),
                             callback_data=ForgetCb(action="confirm", token=token).pack()),
        InlineKeyboardButton(text=t(lang, "btn_cancel"), callback_data=ForgetCb(action="cancel", token=token).pack()),
    ]])


async def on_forget(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    years = max(1, round(services.settings.consent_proof_days / 365))
    token = await services.erasure.forget_token(account.id)
    await send(bot, message.chat.id, t(lang, "forget_ask", years=years), forget_keyboard(lang, token))


async def on_forget_answer(query: CallbackQuery, callback_data: ForgetCb, bot: Bot, account: AccountView,
                           services: Services, lang: str) -> None:
    message = query.message if isinstance(query.message, Message) else None
    if callback_data.action != "confirm":
        await query.answer()
        if message:
            await edit_chunks(bot, message, [t(lang, "forget_cancelled")])
        return
    try:
        record = await services.erasure.forget(account.id, callback_data.token)
    except AlreadyDecided:  # pressed again after the erasure: the account is a fresh one
        await query.answer(t(lang, "forget_stale"), show_alert=True)
        if message:
            await edit_markup(bot, message, None)
        return
    await query.answer()
    if message:
        await edit_markup(bot, message, None)
    await send(bot, query.from_user.id, t(lang, "forget_done", reference=record.reference), no_menu())


# --------------------------------------------------------------------------- /audit


def audit_keyboard(lang: str, page: int, pages: int) -> InlineKeyboardMarkup | None:
    row = []
    if page < pages:
        row.append(InlineKeyboardButton(text=t(lang, "btn_audit_older"),
                                        callback_data=AuditPageCb(page=page + 1).pack()))
    if page > 1:
        row.append(InlineKeyboardButton(text=t(lang, "btn_audit_newer"),
                                        callback_data=AuditPageCb(page=page - 1).pack()))
    return InlineKeyboardMarkup(inline_keyboard=[row]) if row else None


async def on_audit(message: Message, command: CommandObject, bot: Bot, account: AccountView,
                   services: Services, lang: str) -> None:
    if not await require_admin(message, bot, services, lang):
        return
    arg = _args(command)
    if arg is None or (arg and not (arg.isdigit() and len(arg) <= 6)):
        await send(bot, message.chat.id, t(lang, "audit_usage"))
        return
    view = await services.audit.page(account.telegram_id, int(arg) if arg else 1)
    text = render_audit_page(view, lang, services.settings.default_timezone)
    await send(bot, message.chat.id, text, audit_keyboard(lang, view.page, view.pages))


async def on_audit_page(query: CallbackQuery, callback_data: AuditPageCb, bot: Bot, account: AccountView,
                        services: Services, lang: str) -> None:
    view = await services.audit.page(account.telegram_id, callback_data.page)  # NotAdmin → errors router
    await query.answer()
    text = render_audit_page(view, lang, services.settings.default_timezone)
    keyboard = audit_keyboard(lang, view.page, view.pages)
    if isinstance(query.message, Message):
        await edit_chunks(bot, query.message, [text], keyboard)
    else:
        await send(bot, query.from_user.id, text, keyboard)


# --------------------------------------------------------------------------- /parents


async def on_parents(message: Message, command: CommandObject, bot: Bot, account: AccountView,
                     services: Services, lang: str) -> None:
    if not await require_admin(message, bot, services, lang):
        return
    arg = _args(command)
    if not arg or not arg.isdigit() or len(arg) > 12:
        await send(bot, message.chat.id, t(lang, "consent_parents_usage"))
        return
    try:
        view = await services.consent_export.parents(account.telegram_id, int(arg))
    except NotFound:  # another school's class is "not found" too
        await send(bot, message.chat.id, t(lang, "class_not_found"))
        return
    await send_chunks(bot, message.chat.id, render_parents(view, lang))


# --------------------------------------------------------------------------- /paper_consent


async def on_paper_consent(message: Message, command: CommandObject, bot: Bot, account: AccountView,
                           services: Services, lang: str) -> None:
    if not await require_admin(message, bot, services, lang):
        return
    parts = (_args(command) or "").split()
    person = parse_person(parts[0]) if len(parts) == 4 else None
    decision = DECISIONS.get(parts[1].lower()) if len(parts) == 4 else None
    if person is None or decision is None:
        await send(bot, message.chat.id, t(lang, "paper_consent_usage"))
        return
    number = parts[2]
    if not _FORM_NUMBER.fullmatch(number):
        await send(bot, message.chat.id, t(lang, "paper_consent_bad_number"))
        return
    tz = services.settings.default_timezone
    signed_on = parse_signed_on(parts[3], datetime.now(ZoneInfo(tz)).date())
    if signed_on is None:
        await send(bot, message.chat.id, t(lang, "paper_consent_bad_date"))
        return
    try:
        result = await services.consent.record_paper(account.telegram_id, person, decision,
                                                     PaperForm(number=number, signed_on=signed_on))
    except NotFound:
        await send(bot, message.chat.id, t(lang, "consent_person_not_found"))
        return
    except AlreadyDecided:
        await send(bot, message.chat.id, t(lang, "paper_consent_nothing"))
        return
    await send(bot, message.chat.id, paper_reply(lang, result, number, signed_on, tz))


# --------------------------------------------------------------------------- /consent_history


async def on_consent_history(message: Message, command: CommandObject, bot: Bot, account: AccountView,
                             services: Services, lang: str) -> None:
    if not await require_admin(message, bot, services, lang):
        return
    parts = (_args(command) or "").split()
    person = parse_person(parts[0]) if len(parts) == 1 else None
    if person is None:
        await send(bot, message.chat.id, t(lang, "consent_history_usage"))
        return
    try:
        doc = await services.consent_export.history_pdf(account.telegram_id, person)
    except NotFound:
        await send(bot, message.chat.id, t(lang, "consent_person_not_found"))
        return
    await bot.send_document(message.chat.id, BufferedInputFile(doc.content, filename=doc.filename),
                            caption=t(lang, "consent_history_caption", count=doc.entries))
    log.info("consent history sent to admin %s (%s entries)", account.telegram_id, doc.entries)


def router() -> Router:
    r = Router(name="privacy")
    r.message.register(on_forget, Command("forget"))
    r.message.register(on_audit, Command("audit"))
    r.message.register(on_parents, Command("parents"))
    r.message.register(on_paper_consent, Command("paper_consent"))
    r.message.register(on_consent_history, Command("consent_history"))
    r.callback_query.register(on_forget_answer, ForgetCb.filter(F.action.in_({"confirm", "cancel"})))
    r.callback_query.register(on_audit_page, AuditPageCb.filter())
    return r
