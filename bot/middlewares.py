"""Middlewares: who is asking (the account) and the consent gate for child-related handlers."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Chat, TelegramObject, User

from bot.texts import I18N, lang_of

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class AccountMiddleware(BaseMiddleware):
    """Outer middleware for messages and callback queries.

    Refreshes the sender's account (``services.accounts.touch``) and injects ``account``,
    ``services`` and ``lang``. Only private chats are served: children's data never goes to
    a group, so updates from other chats are dropped here."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is None or user.is_bot:
            return None
        if chat is not None and chat.type != "private":
            return None
        services = data["services"]
        account = await services.accounts.touch(
            telegram_id=user.id,
            chat_id=chat.id if chat is not None else user.id,
            first_name=user.first_name,
            username=user.username,
            language_code=user.language_code,
        )
        data["account"] = account
        data["lang"] = lang = lang_of(account.language)
        # aiogram's I18n context: gettext/lazy texts in handlers and filters follow the account.
        data["i18n"] = I18N
        with I18N.context(), I18N.use_locale(lang):
            return await handler(event, data)


class ConsentGate(BaseMiddleware):
    """Inner middleware of the child-related routers: without granted consent the handler
    does not run and the sender gets the consent prompt instead."""

    def __init__(self, prompt: Callable[..., Awaitable[Any]]) -> None:
        self._prompt = prompt

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        account = data.get("account")
        if account is not None and account.consent_state == "granted":
            return await handler(event, data)
        lang = data.get("lang", "ru")
        chat: Chat | None = data.get("event_chat")
        if isinstance(event, CallbackQuery):
            await event.answer()
        if chat is not None:
            await self._prompt(data["bot"], chat.id, lang, intro_key="consent_required")
        return None
