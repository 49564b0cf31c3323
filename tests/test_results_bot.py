"""/forecast, /finals, /forecast_push and the admins' /forecast_rule, /forecast_round through a
real aiogram Bot over HTTP against LocalBotApi (SQLite and PostgreSQL)."""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import select

from bot.callbacks import FinalsCb, ForecastCb, ForecastPushCb, ResultsChildCb, ResultsChildListCb
from bot.dispatcher import create_dispatcher
from bot.sandbox.telegram_server import LocalBotApi
from bot.texts import EN, RU
from services.container import Services, build_services
from storage.models import AuditEntry, Link, OutboxMessage
from tests import seed
from tests.e2e import button_data, buttons, contains, has_button, text_of
from tests.bot_harness import FastCloseSession, answer_of, grant, say

TOKEN = "7000000001:TEST-token_results"
PARENT, STRANGER, ADMIN, ENGLISH, OTHER_ADMIN = 5201, 5202, 9202, 5204, 9203
TIMEOUT = 10


@dataclass
class World:
    api: LocalBotApi
    services: Services
    sessions: object
    class_id: int
    other_class_id: int
    child_id: int
    sibling_id: int
    foreign_id: int
    q1_id: int


@pytest.fixture
async def world(db):
    today = date.today()
    async with db.sessions.begin() as s:
        school = await seed.add_school(s, external_id="sch-results")
        cls = await seed.add_class(s, school, "7А")
        child = await seed.add_student(s, cls, "Иванов Иван Петрович")
        sibling = await seed.add_student(s, cls, "Иванова Анна Петровна")
        foreign = await seed.add_student(s, cls, "Сидоров Пётр Ильич")
        algebra = await seed.add_subject(s, school, "Алгебра")
        physics = await seed.add_subject(s, school, "Физика <эксп>")
        russian = await seed.add_subject(s, school, "Русский язык")
        q1 = await seed.add_period(s, school, "1 четверть", today - timedelta(days=120), today - timedelta(days=61))
        await seed.add_period(s, school, "2 четверть", today - timedelta(days=40), today + timedelta(days=40))
        await seed.add_period(s, school, "Учебный год", today - timedelta(days=120), today + timedelta(days=150),
                              kind="year")
        for value in ("4", "4", "5", "4"):
            await seed.add_mark(s, child, algebra, today, value=value)
        for value in ("3", "2", "3", "2"):
            await seed.add_mark(s, child, physics, today, value=value)
        await seed.add_mark(s, child, algebra, today - timedelta(days=100), value="2")
        await seed.add_mark(s, sibling, algebra, today, value="5")
        await seed.add_mark(s, foreign, algebra, today, value="2")
        await seed.add_final_grade(s, child, algebra, q1, "4")
        await seed.add_final_grade(s, child, russian, q1, None, status="deferred",
                                   deferred_until=date(2026, 12, 20))
        await seed.add_final_grade(s, child, algebra, None, "18", kind="exam", title="ОГЭ")
        await seed.add_final_grade(s, foreign, algebra, q1, "2")
        await seed.add_school_admin(s, school, telegram_id=ADMIN)
        other = await seed.add_school(s, "Другая школа", external_id="sch-other")
        other_cls = await seed.add_class(s, other, "9Б", 9)
        await seed.add_school_admin(s, other, telegram_id=OTHER_ADMIN)
        ids = cls.id, other_cls.id, child.id, sibling.id, foreign.id, q1.id
    services = build_services(db.sessions, seed.make_settings())
    async with LocalBotApi() as api:
        api.add_user(PARENT, "Мария", username="maria")
        api.add_user(STRANGER, "Пётр")
        api.add_user(ADMIN, "Завуч")
        api.add_user(OTHER_ADMIN, "Завуч 2")
        api.add_user(ENGLISH, "John", language_code="en")
        bot = Bot(TOKEN, session=FastCloseSession(api=TelegramAPIServer.from_base(api.base_url)))
        dp = create_dispatcher(services)
        polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
        try:
            yield World(api, services, db.sessions, *ids)
        finally:
            with contextlib.suppress(RuntimeError):
                await dp.stop_polling()
            await asyncio.wait_for(polling, timeout=10)
            await bot.session.close()


async def link(w: World, user: int, *student_ids: int) -> None:
    account = await w.services.accounts.by_telegram_id(user)
    async with w.sessions.begin() as s:
        for sid in student_ids:
            s.add(Link(account_id=account.id, student_id=sid, status="approved", method="phone"))


async def edited(api: LocalBotApi, message: dict, count: int) -> None:
    await api.wait_until(lambda: message.get("edit_count", 0) >= count, timeout=TIMEOUT)


# --------------------------------------------------------------------------- /forecast


async def test_forecast_view_switches_period_in_place(world: World):
    api = world.api
    await grant(api, PARENT)
    none = await say(api, PARENT, "/forecast")
    assert "Ни один ребёнок ещё не привязан" in text_of(none)
    await link(world, PARENT, world.child_id)

    view = await say(api, PARENT, "/forecast", contains("Прогноз"))
    text = text_of(view)
    assert "Иванов Иван Петрович" in text and "2 четверть" in text
    assert "Алгебра: ср. 4,25 (4) → 4" in text
    assert "↑ ещё две пятёрки — и будет 5" in text and "↓ три двойки — и будет 3" in text
    assert "Физика <эксп>: ср. 2,50 (4) → 3" in text and "⚠️ одна двойка — и будет 2" in text
    assert "<b>Физика &lt;эксп&gt;</b>" in view["text"]  # escaped
    assert "«5» от 4,5" in text and "не меньше 3 оценок" in text
    assert button_data(view, "rf:") == ForecastCb(student_id=world.child_id, which="term").pack()
    labels = [b["text"] for b in buttons(view)]
    assert labels[:3] == ["✓ Четверть", "Полугодие", "Год"]
    assert not has_button("rk:")(view)  # one child: no «another child»

    count = len(api.bot_messages(PARENT))
    api.press(PARENT, view["message_id"], ForecastCb(student_id=world.child_id, which="year").pack())
    await edited(api, view, 1)
    assert len(api.bot_messages(PARENT)) == count  # edited, not sent anew
    assert "Учебный год" in text_of(view) and "Алгебра: ср. 3,80 (5) → 4" in text_of(view)
    assert "✓ Год" in [b["text"] for b in buttons(view)]
    # the half-year made of the two quarters
    api.press(PARENT, view["message_id"], ForecastCb(student_id=world.child_id, which="half").pack())
    await edited(api, view, 2)
    assert "1 полугодие" in text_of(view)


async def test_forecast_other_child_and_forged_ids(world: World):
    api = world.api
    await grant(api, PARENT)
    await link(world, PARENT, world.child_id, world.sibling_id)
    view = await say(api, PARENT, "/forecast", contains("Прогноз"))
    assert "Иванов Иван Петрович" in text_of(view)  # the first child by name is active
    data = button_data(view, "rk:")
    assert data == ResultsChildListCb(view="forecast", arg="term").pack()
    api.press(PARENT, view["message_id"], data)
    await api.wait_until(lambda: has_button("rc:")(view), timeout=TIMEOUT)
    api.press(PARENT, view["message_id"],
              ResultsChildCb(student_id=world.sibling_id, view="forecast", arg="term").pack())
    await api.wait_until(lambda: "Иванова Анна Петровна" in text_of(view), timeout=TIMEOUT)
    assert "Алгебра: ср. 5,00 (1) → 5" in text_of(view) and "мало оценок: 1 из 3" in text_of(view)
    # the sibling is the active child now
    again = await say(api, PARENT, "/finals", contains("Итоговые оценки"))
    assert "Иванова Анна Петровна" in text_of(again) and "Итоговых оценок пока нет." in text_of(again)

    snapshot, before = text_of(view), len(api.bot_messages(PARENT))
    for forged in (ForecastCb(student_id=world.foreign_id, which="term").pack(),
                   ForecastCb(student_id=987654321, which="year").pack(),
                   FinalsCb(student_id=world.foreign_id, group="exam").pack(),
                   ResultsChildCb(student_id=world.foreign_id, view="finals").pack()):
        query = api.press(PARENT, view["message_id"], forged, check=False)
        answer = await answer_of(api, query)
        assert answer["text"] == RU["no_access"] and answer["show_alert"], forged
    await asyncio.sleep(0.2)
    assert text_of(view) == snapshot and len(api.bot_messages(PARENT)) == before
    assert "Сидоров" not in " ".join(text_of(m) for m in api.bot_messages(PARENT))
    # an unknown period in a button is a stale button
    query = api.press(PARENT, view["message_id"], f"rf:{world.child_id}:decade", check=False)
    assert (await answer_of(api, query))["text"] == RU["stale_button"]


async def test_forecast_needs_consent_and_speaks_english(world: World):
    api = world.api
    prompt = await say(api, STRANGER, "/forecast", has_button("cs:grant"))
    assert "согласия" in text_of(prompt) or any("согласи" in text_of(m) for m in api.bot_messages(STRANGER))
    await grant(api, ENGLISH)
    await link(world, ENGLISH, world.child_id)
    view = await say(api, ENGLISH, "/forecast", contains("Forecast"))
    assert "Алгебра: avg 4.25 (4) → 4" in text_of(view) and "two more 5s — and it will be 5" in text_of(view)
    assert [b["text"] for b in buttons(view)][:3] == ["✓ Quarter", "Half-year", "Year"]


# --------------------------------------------------------------------------- /finals


async def test_finals_by_period_with_a_deferred_grade(world: World):
    api = world.api
    await grant(api, PARENT)
    await link(world, PARENT, world.child_id)
    view = await say(api, PARENT, "/finals", contains("Итоговые оценки"))
    text = text_of(view)
    assert "1 четверть" in text and "Алгебра — 4" in text
    assert "Русский язык — ⏳ отложена до 20.12.2026" in text and "Сидоров" not in text
    assert [b["text"] for b in buttons(view)] == ["✓ 1 четверть", "Экзамены"]
    api.press(PARENT, view["message_id"], FinalsCb(student_id=world.child_id, group="exam").pack())
    await edited(api, view, 1)
    assert "Алгебра, ОГЭ — 18" in text_of(view)
    assert [b["text"] for b in buttons(view)] == ["1 четверть", "✓ Экзамены"]


# --------------------------------------------------------------------------- push frequency


async def test_push_frequency_buttons(world: World):
    api = world.api
    await grant(api, PARENT)
    settings = await say(api, PARENT, "/forecast_push", has_button("rn:"))
    assert "раз в неделю (по пятницам в 18:00)" in text_of(settings)
    assert [b["text"] for b in buttons(settings)] == ["✓ Раз в неделю", "Раз в две недели", "Выключить"]
    query = api.press(PARENT, settings["message_id"], ForecastPushCb(frequency="off").pack())
    assert (await answer_of(api, query))["text"] == RU["fp_saved"]
    await edited(api, settings, 1)
    assert "Сейчас: выключена." in text_of(settings)
    account = await world.services.accounts.by_telegram_id(PARENT)
    assert await world.services.results.push_frequency(account.id) == "off"
    # the same settings from the forecast view's button
    await link(world, PARENT, world.child_id)
    view = await say(api, PARENT, "/forecast", contains("Прогноз"))
    since = len(api.bot_messages(PARENT))
    api.press(PARENT, view["message_id"], ForecastPushCb(frequency="show").pack())
    shown = await api.wait_for_bot_message(PARENT, has_button("rn:"), timeout=TIMEOUT, since=since)
    assert "✓ Выключить" in [b["text"] for b in buttons(shown)]


# --------------------------------------------------------------------------- admins


async def test_forecast_rule_command(world: World):
    api = world.api
    assert text_of(await say(api, STRANGER, "/forecast_rule")) == RU["admin_only"]
    shown = await say(api, ADMIN, "/forecast_rule")
    text = text_of(shown)
    assert "Правило прогноза" in text and "sch-results" in text and "«5» — от 4,5" in text
    assert "Правило по умолчанию" in text
    saved = await say(api, ADMIN, "/forecast_rule thresholds=4.6/3.6/2.6 min_marks=4 control=2")
    assert "Правило сохранено" in text_of(saved) and "«5» — от 4,6" in text_of(saved)
    assert "контрольная — 2" in text_of(saved) and "не меньше 4 оценок" in text_of(saved)
    bad = await say(api, ADMIN, "/forecast_rule sch-results thresholds=3/4/5")
    assert text_of(bad).startswith("Правило не изменено: пороги")
    assert "не аттестован" not in text_of(bad)
    assert text_of(await say(api, OTHER_ADMIN, "/forecast_rule sch-results")) == RU["fr_school_not_found"]
    assert text_of(await say(api, ADMIN, "/forecast_rule sch-nowhere")) == RU["fr_school_not_found"]
    async with world.sessions() as s:
        entries = list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "forecast.rule_set")))
    assert len(entries) == 1 and entries[0].actor_telegram_id == ADMIN
    # the parent's forecast follows the new rule: 4.25 < 4.6 and at least 4 marks
    await grant(api, PARENT)
    await link(world, PARENT, world.child_id)
    view = await say(api, PARENT, "/forecast", contains("Прогноз"))
    assert "«5» от 4,6" in text_of(view) and "не меньше 4 оценок" in text_of(view)


async def test_forecast_round_command(world: World):
    api = world.api
    await grant(api, PARENT)
    await link(world, PARENT, world.child_id, world.sibling_id)
    assert text_of(await say(api, ADMIN, "/forecast_round")) == "Использование: /forecast_round ID_КЛАССА (список классов: /classes)"
    assert text_of(await say(api, OTHER_ADMIN, f"/forecast_round {world.class_id}")) == RU["class_not_found"]
    done = await say(api, ADMIN, f"/forecast_round {world.class_id}")
    assert text_of(done) == "📨 Прогнозы на «2 четверть» для класса 7А: сообщений родителям — 2 (учеников в классе: 3)."
    empty = await say(api, OTHER_ADMIN, f"/forecast_round {world.other_class_id}")
    assert text_of(empty) == "Для класса 9Б в журнале нет четверти — прогнозы не отправлены."
    async with world.sessions() as s:
        rows = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "forecast")))
    assert {r.payload["student_id"] for r in rows} == {world.child_id, world.sibling_id}
    assert set(EN) >= {"fr_round_done", "fcn_header"}
