"""/settings through HTTP: a real aiogram Bot and dispatcher against LocalBotApi, the services
on a migrated database (SQLite and PostgreSQL). Every press edits the one settings message."""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import select

from bot.dispatcher import create_dispatcher
from bot.keyboards import settings_keyboard
from bot.sandbox.telegram_server import LocalBotApi
from bot.texts import EN, RU
from services.container import Services, build_services
from storage.models import Account
from storage.notify_prefs import NotifyPrefs
from tests import seed
from tests.e2e import button_data, buttons, contains, text_of
from tests.bot_harness import FastCloseSession, say

TOKEN = "7000000001:TEST-token_settings"
PARENT, ENGLISH = 5401, 5402
TIMEOUT = 10


@dataclass
class World:
    api: LocalBotApi
    services: Services
    db: object


@pytest.fixture
async def world(db):
    async with db.sessions.begin() as s:
        school = await seed.add_school(s, external_id="sch-settings", tz="Asia/Yekaterinburg")
        cls = await seed.add_class(s, school)
        child = await seed.add_student(s, cls)
        parent = await seed.add_account(s, telegram_id=PARENT)
        await seed.add_link(s, parent, child)
        await seed.add_account(s, telegram_id=ENGLISH, language="en", first_name="John")
    services = build_services(db.sessions, seed.make_settings())
    async with LocalBotApi() as api:
        api.add_user(PARENT, "Мария")
        api.add_user(ENGLISH, "John", language_code="en")
        bot = Bot(TOKEN, session=FastCloseSession(api=TelegramAPIServer.from_base(api.base_url)))
        dp = create_dispatcher(services)
        polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
        try:
            yield World(api, services, db)
        finally:
            with contextlib.suppress(RuntimeError):
                await dp.stop_polling()
            await asyncio.wait_for(polling, timeout=10)
            await bot.session.close()


async def press_in_place(api: LocalBotApi, user: int, message: dict, prefix: str, expect) -> None:
    """Press the button whose data starts with `prefix`; wait until the message shows `expect`."""
    count = len(api.bot_messages(user))
    api.press(user, message["message_id"], button_data(message, prefix))
    await api.wait_until(lambda: expect(message), timeout=TIMEOUT)
    assert len(api.bot_messages(user)) == count  # edited in place, nothing new sent


async def prefs_row(w: World, telegram_id: int) -> NotifyPrefs | None:
    async with w.db.sessions() as s:
        account = await s.scalar(select(Account).where(Account.telegram_id == telegram_id))
        return await s.get(NotifyPrefs, account.id)


def button_texts(message: dict) -> list[str]:
    return [b["text"] for b in buttons(message)]


async def test_toggles_quiet_hours_digest_and_language_edit_the_message(world: World):
    api = world.api
    menu = await say(api, PARENT, "/settings", contains("Настройки уведомлений"))
    assert "21:00–07:00 (по умолчанию)" in text_of(menu) and "Asia/Yekaterinburg" in text_of(menu)
    assert "✅ Оценки" in button_texts(menu) and "✅ Новые домашние задания" in button_texts(menu)

    await press_in_place(api, PARENT, menu, "ns:type:homework",
                         lambda m: "🔕 Новые домашние задания" in button_texts(m))
    assert (await prefs_row(world, PARENT)).muted == ["homework"]
    await press_in_place(api, PARENT, menu, "ns:type:homework",
                         lambda m: "✅ Новые домашние задания" in button_texts(m))
    assert (await prefs_row(world, PARENT)).muted == []

    await press_in_place(api, PARENT, menu, "ns:quiet:", lambda m: "Тихие часы</b>" in m["text"])
    assert "✓ 21:00–07:00" in button_texts(menu)  # what applies now is marked
    await press_in_place(api, PARENT, menu, "ns:quiet:2200-0800",
                         lambda m: "Тихие часы: 22:00–08:00" in text_of(m))
    row = await prefs_row(world, PARENT)
    assert (row.quiet_start, row.quiet_end) == (22 * 60, 8 * 60)
    await press_in_place(api, PARENT, menu, "ns:quiet:", lambda m: "✓ 22:00–08:00" in button_texts(m))
    await press_in_place(api, PARENT, menu, "ns:quiet:off", lambda m: "Тихие часы: нет" in text_of(m))

    await press_in_place(api, PARENT, menu, "ns:digest:", lambda m: "Сводка раз в день</b>" in m["text"])
    await press_in_place(api, PARENT, menu, "ns:digest:1900", lambda m: "сводкой в день, в 19:00" in text_of(m))
    assert (await prefs_row(world, PARENT)).digest_at == 19 * 60
    await press_in_place(api, PARENT, menu, "ns:digest:", lambda m: "✓ 19:00" in button_texts(m))
    await press_in_place(api, PARENT, menu, "ns:back", lambda m: "Настройки уведомлений" in text_of(m))

    since = len(api.bot_messages(PARENT))
    api.press(PARENT, menu["message_id"], button_data(menu, "ns:lang:en"))
    await api.wait_until(lambda: "Notification settings" in text_of(menu), timeout=TIMEOUT)
    assert "Quiet hours: none" in text_of(menu) and "one digest a day, at 19:00" in text_of(menu)
    assert "✅ Marks" in button_texts(menu)
    # the reply keyboard follows the new language
    note = await api.wait_for_bot_message(PARENT, contains("Language switched"), timeout=TIMEOUT, since=since)
    assert note["reply_markup"]["keyboard"]
    assert (await world.services.accounts.by_telegram_id(PARENT)).language == "en"
    await say(api, PARENT, "/settings", contains("Notification settings"))


async def test_forged_or_stale_buttons_change_nothing(world: World):
    api = world.api
    menu = await say(api, PARENT, "/settings", contains("Настройки уведомлений"))
    for forged in ("ns:type:bogus", "ns:quiet:0000-2359", "ns:digest:0315", "ns:lang:de", "ns:nothing"):
        api.press(PARENT, menu["message_id"], forged, check=False)
        answer = await api.wait_until(
            lambda: next((a for a in api.callback_answers if a["data"] == forged), None), timeout=TIMEOUT)
        assert answer["text"] == RU["stale_button"]
    assert await prefs_row(world, PARENT) is None


async def test_menu_button_and_english_parent(world: World):
    menu = await say(world.api, ENGLISH, EN["btn_settings"], contains("Notification settings"))
    assert "21:00–07:00 (default)" in text_of(menu)
    assert "Asia/Yekaterinburg" in text_of(menu)  # no child yet: the service's default zone
    assert "🌐 Русский" in button_texts(menu)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_settings_button_fits_callback_data_and_every_text_fits(lang):
    from services.notify.kinds import PREF_TYPE_ORDER

    keyboards = [
        settings_keyboard(lang, "main", enabled={name: i % 2 == 0 for i, name in enumerate(PREF_TYPE_ORDER)}),
        settings_keyboard(lang, "quiet", current="2300-0800"),
        settings_keyboard(lang, "digest", current="off"),
    ]
    for keyboard in keyboards:
        for row in keyboard.inline_keyboard:
            for button in row:
                assert 1 <= len(button.callback_data.encode()) <= 64
    for key in [k for k in RU if k.startswith(("ns_", "nf_"))]:
        assert len(RU[key]) < 1000 and len(EN[key]) < 1000
