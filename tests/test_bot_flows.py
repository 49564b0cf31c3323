"""The bot's handlers end to end: a real aiogram Bot over HTTP against LocalBotApi, the real
dispatcher (`create_dispatcher`) and services on a migrated database (SQLite and PostgreSQL)."""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer

from bot.callbacks import ChildCb, ChildViewCb, ViewCb
from bot.dispatcher import create_dispatcher
from bot.sandbox.telegram_server import LocalBotApi
from bot.texts import EN, RU
from services.container import Services, build_services
from storage.models import Link
from tests import seed
from tests.e2e import button_data, buttons, contains, has_button, text_of
from tests.bot_harness import FastCloseSession, answer_of, grant, press, say

TOKEN = "7000000001:TEST-token_flows"
PARENT, OTHER, ADMIN, STRANGER, ENGLISH = 5101, 5102, 9102, 5103, 5104
PHONE = "+79001234567"
TIMEOUT = 10


@dataclass
class World:
    api: LocalBotApi
    services: Services
    sessions: object
    school_id: int
    class_id: int
    child_id: int
    sibling_id: int
    foreign_id: int


@pytest.fixture
async def world(db):
    today = date.today()
    async with db.sessions.begin() as s:
        school = await seed.add_school(s, external_id="sch-flows")
        cls = await seed.add_class(s, school, "7А")
        child = await seed.add_student(s, cls, "Иванов Иван Петрович")
        sibling = await seed.add_student(s, cls, "Иванова Анна Петровна")
        foreign = await seed.add_student(s, cls, "Сидоров Пётр Ильич")
        await seed.add_guardian(s, school, [child], phone=PHONE)
        await seed.add_guardian(s, school, [foreign], full_name="Сидорова Ольга", phone="+79009999999")
        algebra = await seed.add_subject(s, school, "Алгебра")
        physics = await seed.add_subject(s, school, "Физика")
        teacher = await seed.add_teacher(s, school, "Петрова Анна Викторовна")
        substitute = await seed.add_teacher(s, school, "Иванов И. И.")
        await seed.add_period(s, school, "2 четверть", today - timedelta(days=40), today + timedelta(days=40))
        for value, weight in (("5", 1), ("4", 1), ("5", 2)):
            await seed.add_mark(s, child, algebra, today, value=value, weight=weight)
        await seed.add_mark(s, foreign, physics, today, value="2")
        await seed.add_lesson(s, cls, algebra, teacher, today, number=1, room="204")
        await seed.add_lesson(s, cls, physics, teacher, today, number=2, substitute=substitute)
        await seed.add_lesson(s, cls, physics, teacher, today, number=3, status="cancelled")
        await seed.add_homework(s, cls, algebra, today + timedelta(days=1), "№ 1–5 <стр. 10>",
                                attachments=[{"name": "лист.pdf", "url": "https://example.org/l.pdf"}])
        await seed.add_school_admin(s, school, telegram_id=ADMIN)
        ids = school.id, cls.id, child.id, sibling.id, foreign.id
    settings = seed.make_settings()
    services = build_services(db.sessions, settings)
    async with LocalBotApi() as api:
        api.add_user(PARENT, "Мария", username="maria")
        api.add_user(OTHER, "Ольга")
        api.add_user(ADMIN, "Завуч", username="zavuch")
        api.add_user(STRANGER, "Пётр")
        api.add_user(ENGLISH, "John", language_code="en")
        api.add_user(seed.REGION_ADMIN_TG, "Регион")
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


async def link_child(w: World, user: int, student_id: int) -> None:
    account = await w.services.accounts.by_telegram_id(user)
    assert account is not None
    async with w.sessions.begin() as s:  # seeding shortcut: an approved link
        s.add(Link(account_id=account.id, student_id=student_id, status="approved", method="phone"))


# --------------------------------------------------------------------------- the main story


async def test_consent_contact_approval_and_grades(world: World):
    api = world.api
    # /start: a short explanation and the consent text with agree / disagree
    consent = await say(api, PARENT, "/start", has_button("cs:grant"))
    assert has_button("cs:refuse")(consent)
    assert "152-ФЗ" in text_of(consent) or any("152-ФЗ" in text_of(m) for m in api.bot_messages(PARENT))
    assert api.reply_keyboard(PARENT) is None  # no menu before consent

    granted = await press(api, PARENT, consent, button_data(consent, "cs:grant"), contains("согласие записано"))
    assert "код приглашения" in text_of(granted)
    menu = api.reply_keyboard(PARENT)
    assert menu and any(b.get("request_contact") for row in menu["keyboard"] for b in row)
    assert not buttons(consent)  # the answered prompt lost its buttons

    # sharing one's own number (without "+") sends a request to the school admin
    since = len(api.bot_messages(PARENT))
    api.share_contact(PARENT, PHONE.lstrip("+"))
    sent = await api.wait_for_bot_message(PARENT, timeout=TIMEOUT, since=since)
    assert "Запрос отправлен администратору школы" in text_of(sent)

    # the admin sees it in /pending and approves it
    await say(api, ADMIN, "/pending", contains("Запросов на привязку: 1"))
    request = await api.wait_for_bot_message(ADMIN, has_button("ld:approve"), timeout=TIMEOUT, since=0)
    assert "Иванов Иван Петрович" in text_of(request) and "@maria" in text_of(request)
    link_id = request_link_id(request)
    api.press(ADMIN, request["message_id"], button_data(request, "ld:approve"))
    await api.wait_until(lambda: "Подтверждено" in text_of(request), timeout=TIMEOUT)
    assert "Завуч (@zavuch)" in text_of(request) and not buttons(request)

    # a second press on a stale copy: already decided
    query = api.press(ADMIN, request["message_id"], f"ld:reject:{link_id}", check=False)
    assert (await answer_of(api, query))["text"] == RU["already_decided"]

    # the parent's marks
    grades = await say(api, PARENT, "/grades", contains("Алгебра"))
    assert "Алгебра: 5 4 5 — ср. 4,75 (3)" in text_of(grades)
    assert "2 четверть" in text_of(grades)
    assert "Физика" not in text_of(grades)  # the foreign pupil's mark

    # sharing again: already linked
    since = len(api.bot_messages(PARENT))
    api.share_contact(PARENT, PHONE)
    again = await api.wait_for_bot_message(PARENT, timeout=TIMEOUT, since=since)
    assert "уже привязаны" in text_of(again)


def request_link_id(message: dict) -> int:
    return int(button_data(message, "ld:approve").rsplit(":", 1)[1])


async def test_views_edit_in_place_and_switch_child(world: World):
    api = world.api
    await grant(api, PARENT)
    none = await say(api, PARENT, "/schedule")
    assert "Ни один ребёнок ещё не привязан" in text_of(none)
    await link_child(world, PARENT, world.child_id)

    schedule = await say(api, PARENT, RU["btn_schedule"], contains("Расписание"))
    text = text_of(schedule)
    assert "Алгебра" in text and "каб. 204" in text and "замена: Иванов И. И." in text and "❌ отменён" in text
    assert not has_button("cl:")(schedule)  # one child: no «another child»
    count = len(api.bot_messages(PARENT))
    api.press(PARENT, schedule["message_id"], ViewCb(view="schedule", student_id=world.child_id, arg="week").pack())
    await api.wait_until(lambda: schedule.get("edit_count", 0) >= 1, timeout=TIMEOUT)
    assert len(api.bot_messages(PARENT)) == count  # edited, not sent anew
    assert "неделя" in text_of(schedule)
    # pressing the same range again: "message is not modified" is ignored, the query answered
    query = api.press(PARENT, schedule["message_id"],
                      ViewCb(view="schedule", student_id=world.child_id, arg="week").pack())
    await answer_of(api, query)

    homework = await say(api, PARENT, "/homework", contains("Домашнее задание"))
    assert "№ 1–5 &lt;стр. 10&gt;" in homework["text"] and "лист.pdf" in text_of(homework)

    # a second child: «another child» lists both; choosing one reopens the same view
    await link_child(world, PARENT, world.sibling_id)
    grades = await say(api, PARENT, "/grades", has_button("cl:"))
    api.press(PARENT, grades["message_id"], button_data(grades, "cl:"))
    await api.wait_until(lambda: has_button("cv:")(grades), timeout=TIMEOUT)
    assert text_of(grades) == RU["children_pick"]
    pick = ChildViewCb(student_id=world.sibling_id, view="grades", arg="").pack()
    api.press(PARENT, grades["message_id"], pick)
    await api.wait_until(lambda: "Иванова Анна" in text_of(grades), timeout=TIMEOUT)
    assert RU["grades_none"] in text_of(grades)
    active = await world.services.linking.active_child((await world.services.accounts.by_telegram_id(PARENT)).id)
    assert active.student_id == world.sibling_id

    children = await say(api, PARENT, "/children", has_button("ch:"))
    assert "👉 Иванова Анна Петровна" in text_of(children)
    query = api.press(PARENT, children["message_id"], ChildCb(student_id=world.child_id).pack())
    await api.wait_until(lambda: "👉 Иванов Иван Петрович" in text_of(children), timeout=TIMEOUT)
    assert "Иван" in (await answer_of(api, query))["text"]


async def test_forged_callbacks_get_no_access(world: World):
    api = world.api
    await grant(api, PARENT)
    await link_child(world, PARENT, world.child_id)
    grades = await say(api, PARENT, "/grades", contains("Алгебра"))
    before = len(api.bot_messages(PARENT))
    snapshot = text_of(grades)
    forged = [
        ViewCb(view="grades", student_id=world.foreign_id).pack(),
        ViewCb(view="schedule", student_id=world.foreign_id, arg="week").pack(),
        ViewCb(view="grades", student_id=987654321).pack(),  # no such pupil: the same answer
        ChildCb(student_id=world.foreign_id).pack(),
        ChildViewCb(student_id=world.foreign_id, view="grades").pack(),
    ]
    for data in forged:
        query = api.press(PARENT, grades["message_id"], data, check=False)
        answer = await answer_of(api, query)
        assert answer["text"] == RU["no_access"] and answer["show_alert"], data
    await asyncio.sleep(0.2)
    assert len(api.bot_messages(PARENT)) == before and text_of(grades) == snapshot
    assert "Сидоров" not in " ".join(text_of(m) for m in api.bot_messages(PARENT))

    # stale or unknown data: «кнопка устарела» and the menu
    for data in ("zz:1", "v:grades:notanumber:", "v:unknown:1:"):
        since = len(api.bot_messages(PARENT))
        query = api.press(PARENT, grades["message_id"], data, check=False)
        assert (await answer_of(api, query))["text"] == RU["stale_button"]
        await api.wait_for_bot_message(PARENT, contains(RU["stale_button"]), timeout=TIMEOUT, since=since)


# --------------------------------------------------------------------------- consent paths


async def test_refusal_and_withdrawal(world: World):
    api = world.api
    consent = await say(api, OTHER, "/start", has_button("cs:refuse"))
    refused = await press(api, OTHER, consent, button_data(consent, "cs:refuse"))
    assert "ничего не будем присылать" in text_of(refused) and "классного руководителя" in text_of(refused)
    assert "/consent" in text_of(refused)
    # nothing about children without consent: the prompt comes back instead
    prompt = await say(api, OTHER, "/grades", has_button("cs:grant"))
    assert RU["consent_required"].split(".")[0] in " ".join(text_of(m) for m in api.bot_messages(OTHER)[-3:])
    assert has_button("cs:refuse")(prompt)
    since = len(api.bot_messages(OTHER))
    api.share_contact(OTHER, "+79009999999")
    await api.wait_for_bot_message(OTHER, has_button("cs:grant"), timeout=TIMEOUT, since=since)
    status = await say(api, OTHER, "/consent", has_button("cs:grant"))
    assert "отказ" in " ".join(text_of(m) for m in api.bot_messages(OTHER)[-3:])
    assert not has_button("cs:refuse")(status)

    # an outdated version in the button: the new text is shown, nothing recorded
    since = len(api.bot_messages(OTHER))
    query = api.press(OTHER, status["message_id"], "cs:grant:1999-01-01", check=False)
    assert (await answer_of(api, query))["text"] == RU["consent_outdated"]
    fresh = await api.wait_for_bot_message(OTHER, has_button("cs:grant"), timeout=TIMEOUT, since=since)
    assert not buttons(status)  # the outdated prompt lost its buttons
    account = await world.services.accounts.by_telegram_id(OTHER)
    assert account.consent_state == "refused"

    # changing one's mind, then withdrawing
    await press(api, OTHER, fresh, button_data(fresh, "cs:grant"), contains("согласие записано"))
    status = await say(api, OTHER, RU["btn_consent"], has_button("cm:ask_withdraw"))
    assert "согласие дано" in text_of(status)
    api.press(OTHER, status["message_id"], button_data(status, "cm:ask_withdraw"))
    await api.wait_until(lambda: has_button("cs:withdraw")(status), timeout=TIMEOUT)
    withdrawn = await press(api, OTHER, status, button_data(status, "cs:withdraw"), contains("Согласие отозвано"))
    assert "на бумаге" in text_of(withdrawn)
    assert api.reply_keyboard(OTHER) is None
    assert (await world.services.consent.status(account.id)).state == "withdrawn"
    await say(api, OTHER, RU["btn_grades"], has_button("cs:grant"))


async def test_english_user(world: World):
    api = world.api
    consent = await say(api, ENGLISH, "/start", has_button("cs:grant"))
    assert "I agree" in [b["text"] for b in buttons(consent)][0]
    await press(api, ENGLISH, consent, button_data(consent, "cs:grant"), contains("consent is recorded"))
    reply = await say(api, ENGLISH, "what?")
    assert text_of(reply) == EN["unknown"]


# --------------------------------------------------------------------------- linking edge cases


async def test_contact_codes_and_unknown_input(world: World):
    api = world.api
    await grant(api, STRANGER)
    since = len(api.bot_messages(STRANGER))
    api.share_contact(STRANGER, PHONE, contact_user_id=PARENT)  # someone else's number
    reply = await api.wait_for_bot_message(STRANGER, timeout=TIMEOUT, since=since)
    assert "своим" in text_of(reply)
    since = len(api.bot_messages(STRANGER))
    api.share_contact(STRANGER, "+79000000000")  # own number, unknown to the journal
    reply = await api.wait_for_bot_message(STRANGER, timeout=TIMEOUT, since=since)
    assert "не нашли ваш номер" in text_of(reply) and "код приглашения" in text_of(reply)

    # admin prints codes; a parent redeems one
    classes = await say(api, ADMIN, "/classes", contains("7А"))
    assert str(world.class_id) in text_of(classes)
    assert RU["invite_usage"].split("<")[0] in (await say(api, ADMIN, "/invite")).get("text", "")
    codes = await say(api, ADMIN, f"/invite {world.class_id}", contains("одноразовый"))
    line = next(l for l in text_of(codes).splitlines() if l.startswith("Сидоров Пётр Ильич"))
    code = line.rsplit("— ", 1)[1].strip()
    assert (await say(api, STRANGER, "ABCD-EFGH")).get("text") == RU["code_invalid"]
    done = await say(api, STRANGER, f"{code[:4]}-{code[4:]}")
    assert "Код принят" in text_of(done) and "Сидоров Пётр Ильич" in text_of(done)
    assert text_of(await say(api, STRANGER, f"/code {code}")) == RU["code_invalid"]  # one-time
    assert text_of(await say(api, STRANGER, "/code")) == "Отправьте код приглашения так: /code ABCD-EFGH"

    # unknown text and commands: a short help, never silence
    assert text_of(await say(api, STRANGER, "привет")) == RU["unknown"]
    assert text_of(await say(api, STRANGER, "/nonsense")) == RU["unknown"]
    helptext = text_of(await say(api, STRANGER, "/help"))
    assert "/grades" in helptext and "/pending" not in helptext
    assert "/pending" in text_of(await say(api, ADMIN, "/help"))


async def test_admin_commands_are_refused_to_others(world: World):
    api = world.api
    for command in ("/pending", "/classes", "/invite 1", "/schools", "/admin_add 1 sch-flows"):
        assert text_of(await say(api, STRANGER, command)) == RU["admin_only"], command
    assert text_of(await say(api, ADMIN, "/schools")) == RU["region_admin_only"]
    assert text_of(await say(api, ADMIN, "/pending")) == RU["pending_none"]
    # forged approval by a non-admin
    await grant(api, STRANGER)
    message = api.bot_messages(STRANGER)[-1]
    query = api.press(STRANGER, message["message_id"], "ld:approve:1", check=False)
    answer = await answer_of(api, query)
    assert answer["text"] == RU["admin_only"]

    region = seed.REGION_ADMIN_TG
    assert "sch-flows" in text_of(await say(api, region, "/schools"))
    assert "Использование" in text_of(await say(api, region, "/admin_add 42"))
    added = text_of(await say(api, region, f"/admin_add {STRANGER} sch-flows"))
    assert str(STRANGER) in added and "назначен" in added
    assert text_of(await say(api, region, f"/admin_add {STRANGER} nope")) == RU["school_not_found"]
    assert text_of(await say(api, STRANGER, "/pending")) == RU["pending_none"]
    removed = text_of(await say(api, region, f"/admin_remove {STRANGER} sch-flows"))
    assert "снят" in removed
    assert text_of(await say(api, STRANGER, "/pending")) == RU["admin_only"]
