"""The catch-all router, included last: never leave a user in silence.

Unknown text or commands get a short help; stale or unknown buttons get «кнопка устарела»
and the menu.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, Message

from bot.handlers.common import send
from bot.keyboards import main_menu
from bot.texts import t

if TYPE_CHECKING:
    from services.accounts import AccountView


async def on_unknown_message(message: Message, bot: Bot, account: AccountView, lang: str) -> None:
    granted = account.consent_state == "granted"
    await send(bot, message.chat.id, t(lang, "unknown"), main_menu(lang) if granted else None)


async def on_stale_button(query: CallbackQuery, bot: Bot, account: AccountView, lang: str) -> None:
    await query.answer(t(lang, "stale_button"), show_alert=True)
    if account.consent_state == "granted":
        await send(bot, query.from_user.id, t(lang, "stale_button"), main_menu(lang))


def router() -> Router:
    r = Router(name="fallback")
    r.message.register(on_unknown_message)
    r.callback_query.register(on_stale_button)
    return r
