"""Helpers for end-to-end tests: the whole service (`bot.app.run_service`) against a local
Bot API server and an exchange-v1 journal, both on loopback."""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from sqlalchemy import select

from bot.sandbox.telegram_server import LocalBotApi
from services.config import Settings
from storage.models import SyncState

BOT_TOKEN = "7000000001:TEST-TOKEN"
JOURNAL_TOKEN = "journal-secret"


def make_settings(api: LocalBotApi, journal_url: str, db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        bot_token=BOT_TOKEN,
        telegram_api_url=api.base_url,
        database_url=db_url,
        journal_url=journal_url,
        journal_token=JOURNAL_TOKEN,
        journal_poll_seconds=1.0,
        dispatch_poll_seconds=0.2,
        admin_telegram_ids="9001",
        http_port=0,
        # calm delivery off (docs/notifications.md): a new mark arrives as its own message at
        # once, whatever the time of day; tests/test_calm_delivery.py covers the defaults
        notify_grace_seconds=0,
        notify_coalesce_seconds=0,
        notify_quiet_hours="off",
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


@contextlib.asynccontextmanager
async def running_service(settings: Settings):
    from bot.app import run_service

    stop = asyncio.Event()
    task = asyncio.create_task(run_service(settings, stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=20)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def button_data(message: dict[str, Any], prefix: str) -> str:
    for b in buttons(message):
        if b.get("callback_data", "").startswith(prefix):
            return b["callback_data"]
    raise AssertionError(f"no button {prefix!r} on message: {message.get('plain_text')!r} {buttons(message)}")


def has_button(prefix: str):
    return lambda m: any(b.get("callback_data", "").startswith(prefix) for b in buttons(m))


def text_of(message: dict[str, Any]) -> str:
    return message.get("plain_text") or message.get("text") or ""


def contains(*parts: str):
    return lambda m: all(p in text_of(m) for p in parts)


async def wait_first_sync(db, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        async with db.sessions() as s:
            if await s.scalar(select(SyncState.bootstrapped_at)):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the first full sync did not finish")
