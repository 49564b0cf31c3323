"""Small helpers shared by the handler modules: sending chunks, editing in place, prompts."""
from __future__ import annotations

import logging
from collections.abc import Sequence

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.keyboards import consent_keyboard, main_menu
from bot.render import render_consent
from bot.texts import t
from services.consent_text import CURRENT_VERSION, consent_text
from services.container import Services

log = logging.getLogger(__name__)

HTML = ParseMode.HTML
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


async def send(bot: Bot, chat_id: int, text: str, reply_markup: Markup = None) -> Message:
    return await bot.send_message(chat_id, text, parse_mode=HTML, reply_markup=reply_markup,
                                  disable_web_page_preview=True)


async def send_chunks(bot: Bot, chat_id: int, chunks: Sequence[str], reply_markup: Markup = None) -> Message:
    """Send the chunks in order; the keyboard goes with the last one."""
    last: Message | None = None
    for i, chunk in enumerate(chunks):
        last = await send(bot, chat_id, chunk, reply_markup if i == len(chunks) - 1 else None)
    assert last is not None
    return last


def _not_modified(exc: TelegramBadRequest) -> bool:
    return "message is not modified" in str(exc).lower()


async def edit_chunks(bot: Bot, message: Message, chunks: Sequence[str],
                      reply_markup: InlineKeyboardMarkup | None = None) -> None:
    """Show `chunks` in place of `message`: the first chunk replaces it, the rest follow as new
    messages and the inline keyboard stays under the last one. A message that can no longer be
    edited (too old, deleted) is answered with new messages instead."""
    first_markup = reply_markup if len(chunks) == 1 else None
    try:
        await bot.edit_message_text(chunks[0], chat_id=message.chat.id, message_id=message.message_id,
                                    parse_mode=HTML, reply_markup=first_markup,
                                    disable_web_page_preview=True)
    except TelegramBadRequest as exc:
        if not _not_modified(exc):
            log.info("edit failed, sending anew: %s", exc.message)
            await send_chunks(bot, message.chat.id, chunks, reply_markup)
            return
    if len(chunks) > 1:
        await send_chunks(bot, message.chat.id, chunks[1:], reply_markup)


async def edit_markup(bot: Bot, message: Message, reply_markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace (or drop) a message's inline keyboard; quietly ignores an unchanged or gone message."""
    try:
        await bot.edit_message_reply_markup(chat_id=message.chat.id, message_id=message.message_id,
                                            reply_markup=reply_markup)
    except TelegramBadRequest as exc:
        if not _not_modified(exc):
            log.info("edit markup failed: %s", exc.message)


async def send_consent_prompt(bot: Bot, chat_id: int, lang: str, *, intro_key: str | None = "start_intro",
                              version: str = CURRENT_VERSION) -> None:
    """The current consent text with «Согласен» / «Не согласен» (the version rides in the buttons)."""
    chunks = render_consent(t(lang, intro_key) if intro_key else None,
                            t(lang, "consent_text_header", version=version),
                            consent_text(version, lang))
    await send_chunks(bot, chat_id, chunks, consent_keyboard(lang, version))


async def send_menu(bot: Bot, chat_id: int, lang: str, text: str | None = None) -> None:
    await send(bot, chat_id, text or t(lang, "menu"), main_menu(lang))


async def ensure_admin(bot: Bot, chat_id: int, telegram_id: int, services: Services, lang: str) -> bool:
    """True for an admin; anyone else is told the command is for admins only."""
    if await services.admins.is_admin(telegram_id):
        return True
    await send(bot, chat_id, t(lang, "admin_only"))
    return False


async def require_admin(message: Message, bot: Bot, services: Services, lang: str) -> bool:
    """`ensure_admin` for the sender of a command."""
    assert message.from_user is not None
    return await ensure_admin(bot, message.chat.id, message.from_user.id, services, lang)
