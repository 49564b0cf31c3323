"""The errors router: domain exceptions from services become user-facing answers here,
so handlers do not wrap every call in try/except.

A forged or stale student id (NotLinked) gets «нет доступа» and nothing else: the answer
never tells whether the id exists.
"""
from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, Message

from bot.handlers.common import edit_markup, send, send_consent_prompt
from bot.texts import lang_of, t
from services.errors import (
    AlreadyDecided,
    ConsentRequired,
    InvalidCode,
    NotAdmin,
    NotFound,
    NotLinked,
)

log = logging.getLogger(__name__)


def _origin(event: ErrorEvent) -> tuple[CallbackQuery | None, int | None, str]:
    """(the callback query if any, the chat to answer in, the language)."""
    update = event.update
    query = update.callback_query
    message = update.message
    user = query.from_user if query else (message.from_user if message else None)
    chat_id: int | None = None
    if query is not None and query.message is not None:
        chat_id = query.message.chat.id
    elif message is not None:
        chat_id = message.chat.id
    elif user is not None:
        chat_id = user.id
    return query, chat_id, lang_of(user.language_code if user else None)


async def _tell(event: ErrorEvent, bot: Bot, key: str, *, alert: bool = True) -> None:
    query, chat_id, lang = _origin(event)
    if query is not None:
        await query.answer(t(lang, key), show_alert=alert)
    elif chat_id is not None:
        await send(bot, chat_id, t(lang, key))


async def on_not_linked(event: ErrorEvent, bot: Bot) -> None:
    log.info("not linked: %s", event.exception)
    await _tell(event, bot, "no_access")


async def on_consent_required(event: ErrorEvent, bot: Bot) -> None:
    query, chat_id, lang = _origin(event)
    if query is not None:
        await query.answer()
    if chat_id is not None:
        await send_consent_prompt(bot, chat_id, lang, intro_key="consent_required")


async def on_not_admin(event: ErrorEvent, bot: Bot) -> None:
    log.info("not admin: %s", event.exception)
    await _tell(event, bot, "admin_only")


async def on_already_decided(event: ErrorEvent, bot: Bot) -> None:
    await _tell(event, bot, "already_decided")
    query = event.update.callback_query
    if query is not None and isinstance(query.message, Message):
        await edit_markup(bot, query.message, None)


async def on_invalid_code(event: ErrorEvent, bot: Bot) -> None:
    await _tell(event, bot, "code_invalid")


async def on_not_found(event: ErrorEvent, bot: Bot) -> None:
    log.info("not found: %s", event.exception)
    await _tell(event, bot, "not_found")


async def on_any_error(event: ErrorEvent, bot: Bot) -> None:
    log.error("update %s failed: %s", event.update.update_id, type(event.exception).__name__,
              exc_info=event.exception)
    try:
        await _tell(event, bot, "error")
    except Exception:  # noqa: BLE001 - the answer itself may fail (e.g. Telegram down); do not loop
        log.warning("could not tell the user about the error of update %s", event.update.update_id)


def router() -> Router:
    r = Router(name="errors")
    r.errors.register(on_not_linked, ExceptionTypeFilter(NotLinked))
    r.errors.register(on_consent_required, ExceptionTypeFilter(ConsentRequired))
    r.errors.register(on_not_admin, ExceptionTypeFilter(NotAdmin))
    r.errors.register(on_already_decided, ExceptionTypeFilter(AlreadyDecided))
    r.errors.register(on_invalid_code, ExceptionTypeFilter(InvalidCode))
    r.errors.register(on_not_found, ExceptionTypeFilter(NotFound))
    r.errors.register(on_any_error, ExceptionTypeFilter(Exception))
    return r
