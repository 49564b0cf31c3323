"""What every bot test needs to talk to the bot through LocalBotApi like a person would:
a quick-closing aiogram session, and `say` / `press` / `answer_of` / `grant` helpers."""
from __future__ import annotations

from aiogram.client.session.aiohttp import AiohttpSession

from bot.sandbox.telegram_server import LocalBotApi
from tests.e2e import button_data, contains, has_button

TIMEOUT = 10


class FastCloseSession(AiohttpSession):
    """aiogram's session without the TLS grace sleep on close (nothing here uses TLS)."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


async def say(api: LocalBotApi, user: int, text: str, predicate=None, *, timeout: float = TIMEOUT) -> dict:
    """The user sends `text`; the first bot message after it (matching `predicate`)."""
    since = len(api.bot_messages(user))
    api.send_text(user, text)
    return await api.wait_for_bot_message(user, predicate, timeout=timeout, since=since)


async def press(api: LocalBotApi, user: int, message: dict, data: str, predicate=None, *, check=True) -> dict:
    """The user presses a button of `message`; the first bot message after it."""
    since = len(api.bot_messages(user))
    api.press(user, message["message_id"], data, check=check)
    return await api.wait_for_bot_message(user, predicate, timeout=TIMEOUT, since=since)


async def answer_of(api: LocalBotApi, query: dict) -> dict:
    """The bot's answerCallbackQuery for `query`."""
    return await api.wait_until(
        lambda: next((a for a in api.callback_answers if a["callback_query_id"] == query["id"]), None),
        timeout=TIMEOUT)


async def grant(api: LocalBotApi, user: int) -> None:
    """/start and «Согласен» («I agree»): the user consents to the current text, in any language."""
    consent = await say(api, user, "/start", has_button("cs:grant"))
    recorded = lambda m: contains("согласие записано")(m) or contains("consent is recorded")(m)  # noqa: E731
    await press(api, user, consent, button_data(consent, "cs:grant"), recorded)
