"""/start, consent (grant, refuse, withdraw, status) and /help.

Every decision is recorded with the version of the text the user saw: the version travels in
the callback data, and a press on an outdated text shows the new one instead of recording.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.callbacks import ConsentCb, ConsentMenuCb
from bot.handlers.common import (
    edit_chunks,
    edit_markup,
    send,
    send_consent_prompt,
    send_menu,
)
from bot.keyboards import (
    consent_keyboard,
    main_menu,
    no_menu,
    withdraw_confirm_keyboard,
    withdraw_keyboard,
)
from bot.privacy_render import erasure_note, fmt_day  # consent lifecycle (issue 6)
from bot.render import fmt_datetime, render_consent
from bot.texts import t, variants
from services.consent_text import CURRENT_VERSION, KNOWN_VERSIONS, consent_text

if TYPE_CHECKING:
    from services.accounts import AccountView
    from services.container import Services

GRANTED = "granted"


async def on_start(message: Message, bot: Bot, account: AccountView, lang: str) -> None:
    if account.consent_state == GRANTED:
        text = (t(lang, "welcome_back", name=account.first_name) if account.first_name
                else t(lang, "welcome_back_noname"))
        await send_menu(bot, message.chat.id, lang, text)
        return
    # consent lifecycle (issue 6): a consent to an older text is asked again with the reason
    intro = "consent_outdated" if account.consent_state == "outdated" else "start_intro"
    await send_consent_prompt(bot, message.chat.id, lang, intro_key=intro)


async def on_consent_status(message: Message, bot: Bot, account: AccountView, services: Services,
                            lang: str) -> None:
    status = await services.consent.status(account.id)
    tz = services.settings.default_timezone
    if status.state == GRANTED:
        text = t(lang, "consent_status_granted", date=fmt_datetime(status.decided_at, tz),
                 version=status.version or "—")
        await send(bot, message.chat.id, text, withdraw_keyboard(lang))
        return
    if status.state in ("refused", "withdrawn", "outdated"):  # outdated: consent lifecycle (issue 6)
        line = t(lang, f"consent_status_{status.state}", date=fmt_datetime(status.decided_at, tz),
                 version=status.version or "—")
    else:
        line = t(lang, "consent_status_none")
    scheduled = await services.erasure.scheduled(account.id)  # consent lifecycle (issue 6)
    if scheduled is not None:
        line += "\n" + t(lang, "consent_status_erasure", date=fmt_day(scheduled.due_date),
                         reference=scheduled.reference)
    chunks = render_consent(line, t(lang, "consent_text_header", version=CURRENT_VERSION),
                            consent_text(CURRENT_VERSION, lang))
    keyboard = consent_keyboard(lang, CURRENT_VERSION, refuse=status.state in ("none", "outdated"))
    for i, chunk in enumerate(chunks):
        await send(bot, message.chat.id, chunk, keyboard if i == len(chunks) - 1 else None)


async def on_consent_decision(query: CallbackQuery, callback_data: ConsentCb, bot: Bot, account: AccountView,
                              services: Services, lang: str) -> None:
    message = query.message if isinstance(query.message, Message) else None
    chat_id = message.chat.id if message else query.from_user.id
    action, version = callback_data.action, callback_data.version

    if action == "withdraw":
        recorded = account.consent_version if account.consent_version in KNOWN_VERSIONS else CURRENT_VERSION
        await services.consent.decide(account.id, "withdrawn", recorded)  # AlreadyDecided unless granted
        await query.answer()
        if message:
            await edit_markup(bot, message, None)
        note = erasure_note(lang, "withdrawn", await services.erasure.scheduled(account.id))  # issue 6
        await send(bot, chat_id, t(lang, "consent_withdrawn") + (f"\n\n{note}" if note else ""), no_menu())
        return

    if version != CURRENT_VERSION:
        await query.answer(t(lang, "consent_outdated"))
        if message:
            await edit_markup(bot, message, None)
        await send_consent_prompt(bot, chat_id, lang, intro_key="consent_outdated")
        return

    decision = GRANTED if action == "grant" else "refused"
    if account.consent_state == decision and account.consent_version == version:
        await query.answer(t(lang, "consent_already"))
        if message:
            await edit_markup(bot, message, None)
        if decision == GRANTED:
            await send_menu(bot, chat_id, lang)
        return
    await services.consent.decide(account.id, decision, version)
    await query.answer()
    if message:
        await edit_markup(bot, message, None)
    if decision == GRANTED:
        await send(bot, chat_id, t(lang, "consent_granted", version=version), main_menu(lang))
    else:
        note = erasure_note(lang, "refused", await services.erasure.scheduled(account.id))  # issue 6
        await send(bot, chat_id, t(lang, "consent_refused") + (f"\n\n{note}" if note else ""), no_menu())


async def on_ask_withdraw(query: CallbackQuery, bot: Bot, account: AccountView, lang: str) -> None:
    await query.answer()
    if account.consent_state != GRANTED:
        await send(bot, query.from_user.id, t(lang, "consent_already"))
        return
    version = account.consent_version or CURRENT_VERSION
    text, keyboard = t(lang, "consent_withdraw_ask"), withdraw_confirm_keyboard(lang, version)
    if isinstance(query.message, Message):
        await edit_chunks(bot, query.message, [text], keyboard)
    else:
        await send(bot, query.from_user.id, text, keyboard)


async def on_cancel_withdraw(query: CallbackQuery, bot: Bot, lang: str) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await edit_chunks(bot, query.message, [t(lang, "consent_cancelled")])


async def help_text(services: Services, telegram_id: int, lang: str) -> str:
    text = t(lang, "help_parent") + t(lang, "help_privacy_parent")  # /forget: issue 6
    if await services.admins.is_admin(telegram_id):
        text += t(lang, "help_admin") + t(lang, "help_privacy_admin")  # privacy commands: issue 6
        text += t(lang, "help_reports_admin")  # reports and the one-day rule: issue 5
        text += t(lang, "help_results_admin")  # forecast rule and rounds: issue 5
        if await services.admins.is_region_admin_any(telegram_id):
            text += t(lang, "help_region_admin")
    return text


async def on_help(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    markup = main_menu(lang) if account.consent_state == GRANTED else None
    await send(bot, message.chat.id, await help_text(services, account.telegram_id, lang), markup)


def router() -> Router:
    r = Router(name="start")
    r.message.register(on_start, CommandStart())
    r.message.register(on_consent_status, Command("consent"))
    r.message.register(on_consent_status, F.text.in_(variants("btn_consent")))
    r.message.register(on_help, Command("help"))
    r.message.register(on_help, F.text.in_(variants("btn_help")))
    r.callback_query.register(on_consent_decision,
                              ConsentCb.filter(F.action.in_({"grant", "refuse", "withdraw"})))
    r.callback_query.register(on_ask_withdraw, ConsentMenuCb.filter(F.action == "ask_withdraw"))
    r.callback_query.register(on_cancel_withdraw, ConsentMenuCb.filter(F.action == "cancel"))
    return r
