"""Every diary view through the bot (issue 4, item 1): a real aiogram Bot over HTTP against
LocalBotApi, the real dispatcher and services on a migrated database (SQLite and PostgreSQL).

The clock is pinned at 19:30 UTC on Monday 2026-11-30: Tuesday 00:30 for the Surgut pupil
(Asia/Yekaterinburg), still Monday 22:30 for the Moscow one. Buttons are pressed only when they
are on the message (LocalBotApi checks), except where a forged id is the point.
"""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer

from bot.callbacks import ChildListCb, ChildViewCb, DayCb, DiaryViewCb, MenuCb, SubjectCb, ViewCb
from bot.dispatcher import create_dispatcher
from bot.render import MESSAGE_LIMIT
from bot.sandbox.telegram_server import LocalBotApi
from bot.texts import EN, RU
from services.container import Services, build_services
from services.diary import Diary
from storage.models import Link
from tests import seed
from tests.e2e import button_data, buttons, contains, has_button, text_of
from tests.bot_harness import FastCloseSession, answer_of, say

TOKEN = "7000000001:TEST-token_views"
PARENT, ENGLISH = 5201, 5202
TIMEOUT = 10
NOW = datetime(2026, 11, 30, 19, 30, tzinfo=timezone.utc)
MON, TUE, WED, THU = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)
ATTACHMENT = {"name": "лист.pdf", "url": "https://example.org/l.pdf?a=1&b=2"}


@dataclass
class World:
    api: LocalBotApi
    services: Services
    sessions: object
    ivan: int
    olga: int
    foreign: int
    algebra: int
    math_b: int
    c7: object
    algebra_row: object


@pytest.fixture
async def world(db):
    async with db.sessions.begin() as s:
        school = await seed.add_school(s, "МБОУ «СОШ № 1» г. Сургут", tz="Asia/Yekaterinburg")
        await seed.add_period(s, school, "2 четверть", date(2026, 11, 5), date(2026, 12, 28))
        c7 = await seed.add_class(s, school, "7А")
        ivan = await seed.add_student(s, c7, "Иванов Иван Петрович", groups=["Англ. яз. гр. 2"])
        foreign = await seed.add_student(s, c7, "Сидоров Пётр Ильич")
        algebra = await seed.add_subject(s, school, "Алгебра")
        russian = await seed.add_subject(s, school, "Русский язык")
        english = await seed.add_subject(s, school, "Английский язык")
        petrova = await seed.add_teacher(s, school, "Петрова Анна Викторовна")
        sokolov = await seed.add_teacher(s, school, "Соколов Игорь Николаевич")
        brown = await seed.add_teacher(s, school, "Браун Мария Ивановна")
        smirnova = await seed.add_teacher(s, school, "Смирнова Елена Олеговна")
        # marks: Ivan's, and a foreign pupil's that must never show
        await seed.add_mark(s, ivan, algebra, date(2026, 11, 10), "5")
        await seed.add_mark(s, ivan, algebra, date(2026, 11, 12), "4")
        control = await seed.add_mark(s, ivan, algebra, date(2026, 11, 20), "3", weight=2, kind="control",
                                      comment="Ошибки в задаче № 4")
        control.teacher_ref = petrova.external_id
        await seed.add_mark(s, ivan, russian, date(2026, 11, 11), "4")
        await seed.add_mark(s, foreign, algebra, date(2026, 11, 20), "2", comment="Чужой комментарий")
        # Tuesday (Ivan's today): a substitution, a cancellation, his English group, a moved lesson
        await seed.add_lesson(s, c7, algebra, petrova, TUE, 1, "08:30", "09:10", room="204", substitute=sokolov)
        await seed.add_lesson(s, c7, russian, sokolov, TUE, 2, "09:20", "10:00", status="cancelled")
        await seed.add_lesson(s, c7, english, brown, TUE, 3, "10:20", "11:00", group="Англ. яз. гр. 2")
        await seed.add_lesson(s, c7, english, smirnova, TUE, 3, "10:20", "11:00", group="Англ. яз. гр. 1")
        await seed.add_lesson(s, c7, algebra, petrova, TUE, 4, "11:10", "11:50",
                              moved_from={"date": MON.isoformat(), "number": 6})
        await seed.add_lesson(s, c7, russian, sokolov, WED, 1)
        await seed.add_holiday(s, school, "День здоровья", THU, THU, classes=[c7])
        await seed.add_holiday(s, school, "Зимние каникулы", date(2026, 12, 29), date(2027, 1, 11))
        await seed.add_assessment(s, c7, algebra, date(2026, 12, 10), "Контрольная работа № 3", "control", 2)
        await seed.add_assessment(s, c7, russian, date(2026, 11, 20), "Диктант", "test")
        await seed.add_assignment(s, c7, petrova, role="class_teacher")
        await seed.add_assignment(s, c7, petrova, algebra)
        await seed.add_assignment(s, c7, sokolov, russian)
        await seed.add_assignment(s, c7, brown, english, group="Англ. яз. гр. 2")
        await seed.add_assignment(s, c7, smirnova, english, group="Англ. яз. гр. 1")
        await seed.add_homework(s, c7, algebra, WED, "№ 1–5 <стр. 10>", attachments=[ATTACHMENT])
        await seed.add_homework(s, c7, russian, WED, "Упр. 125")
        await seed.add_homework(s, c7, algebra, date(2026, 11, 20), "№ 290")
        await seed.add_recommendation(s, ivan, petrova, date(2026, 11, 25), "Повторить формулы", subject=algebra)
        await seed.add_recommendation(s, foreign, petrova, date(2026, 11, 26), "Чужая рекомендация")

        other = await seed.add_school(s, "ГБОУ «Школа № 57» г. Москва", tz="Europe/Moscow")
        await seed.add_period(s, other, "2 четверть", date(2026, 11, 9), date(2026, 12, 27))
        c5 = await seed.add_class(s, other, "5Б", 5)
        olga = await seed.add_student(s, c5, "Иванова Ольга Петровна")  # no marks yet
        math_b = await seed.add_subject(s, other, "Математика")
        orlova = await seed.add_teacher(s, other, "Орлова Вера Андреевна")
        await seed.add_lesson(s, c5, math_b, orlova, MON, 1)
        await seed.add_assignment(s, c5, orlova, role="class_teacher")
        ids = ivan.id, olga.id, foreign.id, algebra.id, math_b.id
    settings = seed.make_settings()
    services = build_services(db.sessions, settings)
    services.diary = Diary(db.sessions, settings, clock=lambda: NOW)
    async with LocalBotApi() as api:
        api.add_user(PARENT, "Мария", username="maria")
        api.add_user(ENGLISH, "John", language_code="en")
        bot = Bot(TOKEN, session=FastCloseSession(api=TelegramAPIServer.from_base(api.base_url)))
        dp = create_dispatcher(services)
        polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
        try:
            yield World(api, services, db.sessions, *ids, c7=c7, algebra_row=algebra)
        finally:
            with contextlib.suppress(RuntimeError):
                await dp.stop_polling()
            await asyncio.wait_for(polling, timeout=10)
            await bot.session.close()


# --------------------------------------------------------------------------- helpers


async def ready(w: World, user: int, *children: int) -> None:
    """Consent granted (through the bot) and approved links (a seeding shortcut)."""
    consent = await say(w.api, user, "/start", has_button("cs:grant"))
    since = len(w.api.bot_messages(user))
    w.api.press(user, consent["message_id"], button_data(consent, "cs:grant"))
    await w.api.wait_for_bot_message(user, timeout=TIMEOUT, since=since)
    account = await w.services.accounts.by_telegram_id(user)
    async with w.sessions.begin() as s:
        for student_id in children:
            s.add(Link(account_id=account.id, student_id=student_id, status="approved", method="phone"))


async def tap(api: LocalBotApi, user: int, message: dict, data: str, *parts: str) -> dict:
    """Press a button that is on `message` and wait until the message is edited to show `parts`;
    no new message is sent."""
    count = len(api.bot_messages(user))
    edits = message.get("edit_count", 0)
    query = api.press(user, message["message_id"], data)
    await api.wait_until(lambda: message.get("edit_count", 0) > edits and all(p in text_of(message) for p in parts),
                         timeout=TIMEOUT)
    await answer_of(api, query)
    assert len(api.bot_messages(user)) == count, "a view must edit its message, not send a new one"
    return message


def data_with_text(message: dict, text: str) -> str:
    for b in buttons(message):
        if text in b["text"]:
            return b["callback_data"]
    raise AssertionError(f"no button {text!r}: {[b['text'] for b in buttons(message)]}")


def check_limits(api: LocalBotApi, user: int) -> None:
    for message in api.bot_messages(user):
        assert len(text_of(message)) <= MESSAGE_LIMIT
        for b in buttons(message):
            assert 1 <= len(b["callback_data"].encode()) <= 64


# --------------------------------------------------------------------------- the menu and every view


async def test_more_opens_every_view_within_two_taps_in_one_message(world: World):
    api = world.api
    await ready(world, PARENT, world.ivan)
    menu_keys = [b["text"] for row in api.reply_keyboard(PARENT)["keyboard"] for b in row]
    assert {RU["btn_grades"], RU["btn_schedule"], RU["btn_homework"], RU["btn_more"]} <= set(menu_keys)

    menu = await say(api, PARENT, RU["btn_more"], has_button("dv:"))  # tap 1
    assert "Иванов Иван Петрович" in text_of(menu) and "7А" in text_of(menu)
    ivan = world.ivan
    expectations = {
        "works": ["Контрольная работа № 3", "Диктант", "📌", "2 урок", "2 четверть"],
        "teachers": ["Классный руководитель: Петрова Анна Викторовна", "Английский язык: Браун Мария Ивановна",
                     "Русский язык: Соколов Игорь Николаевич"],
        "holidays": ["День здоровья", "через 2 дн.", "Зимние каникулы", "Сейчас каникул нет"],
        "recs": ["Повторить формулы", "Алгебра", "Петрова Анна Викторовна"],
        "grades": ["Алгебра: 5 4 3 — ср. 3,75 (3)", "Русский язык: 4"],
        "schedule": ["Вт, 01.12 (сегодня)", "замена: Соколов Игорь Николаевич (по расписанию — Петрова Анна "
                     "Викторовна)", "❌ отменён", "перенесён с 30.11, 6 урок", "Браун"],
        "homework": ["Ср, 02.12 (завтра)", "№ 1–5 <стр. 10>", "лист.pdf", "Упр. 125"],
        "hwsubj": ["по предметам", "№ 1–5 <стр. 10>", "Упр. 125"],
    }
    for view, parts in expectations.items():  # tap 2: the view, in place of the menu
        await tap(api, PARENT, menu, DiaryViewCb(view=view, student_id=ivan).pack(), *parts)
        assert "Сидоров" not in text_of(menu) and "Чуж" not in text_of(menu)
        assert "Смирнова" not in text_of(menu)  # the other English group's teacher
        await tap(api, PARENT, menu, MenuCb(student_id=ivan).pack(), "Выберите раздел")
    check_limits(api, PARENT)

    # the same views by command, as new messages
    for command, part in (("/works", "Диктант"), ("/teachers", "Петрова"), ("/holidays", "Зимние"),
                          ("/recommendations", "Повторить формулы"), ("/more", "Выберите раздел")):
        await say(api, PARENT, command, contains(part))


async def test_marks_and_a_subjects_detail(world: World):
    api = world.api
    await ready(world, PARENT, world.ivan)
    grades = await say(api, PARENT, "/grades", has_button("ds:g"))
    assert RU["grades_hint"].replace("<i>", "").replace("</i>", "") in text_of(grades)
    detail = SubjectCb(view="g", student_id=world.ivan, subject_id=world.algebra).pack()
    assert data_with_text(grades, "Алгебра · 3,75") == detail
    await tap(api, PARENT, grades, detail, "Алгебра: Иванов Иван Петрович", "10.11 — 5, ответ на уроке, вес 1",
              "20.11 — 3, контрольная, вес 2, Петрова Анна Викторовна", "💬 Ошибки в задаче № 4",
              "Средний балл: 3,75")
    assert "<b>3</b>" in grades["text"] and "Чужой" not in text_of(grades)
    await tap(api, PARENT, grades, DiaryViewCb(view="grades", student_id=world.ivan).pack(), "Русский язык: 4")


async def test_timetable_moves_over_days_and_weeks_in_place(world: World):
    api = world.api
    await ready(world, PARENT, world.ivan)
    schedule = await say(api, PARENT, "/schedule", contains("Вт, 01.12 (сегодня)"))
    ivan = world.ivan
    # ◀ to Monday: the lesson that moved away from there is marked
    await tap(api, PARENT, schedule, DayCb(view="s", student_id=ivan, day="20261130", span="d").pack(),
              "Пн, 30.11 (вчера)", "6. Алгебра — ↪️ перенесён на Вт, 01.12, 4 урок")
    # ▶ ▶ ▶ to Thursday: the class's holiday
    for day, title in (("20261201", "(сегодня)"), ("20261202", "Ср, 02.12 (завтра)"), ("20261203", "Чт, 03.12")):
        await tap(api, PARENT, schedule, DayCb(view="s", student_id=ivan, day=day, span="d").pack(), title)
    assert "🌴 День здоровья" in text_of(schedule)
    # the week, then the week after (by arrows), then back to today (quick range)
    await tap(api, PARENT, schedule, ViewCb(view="schedule", student_id=ivan, arg="week").pack(),
              "неделя 30.11–06.12 (текущая)", "Вт, 01.12", "Ср, 02.12", "Чт, 03.12", "День здоровья")
    await tap(api, PARENT, schedule, DayCb(view="s", student_id=ivan, day="20261207", span="w").pack(),
              "неделя 07.12–13.12", RU["schedule_none"])
    await tap(api, PARENT, schedule, ViewCb(view="schedule", student_id=ivan, arg="today").pack(), "(сегодня)")
    check_limits(api, PARENT)


async def test_homework_by_day_and_by_subject_with_links(world: World):
    api = world.api
    await ready(world, PARENT, world.ivan)
    homework = await say(api, PARENT, RU["btn_homework"], contains("(завтра)"))
    assert '<a href="https://example.org/l.pdf?a=1&amp;b=2">лист.pdf</a>' in homework["text"]
    assert "№ 1–5 &lt;стр. 10&gt;" in homework["text"]
    ivan = world.ivan
    await tap(api, PARENT, homework, DayCb(view="h", student_id=ivan, day="20261201", span="d").pack(),
              "(сегодня)", RU["homework_none"])
    await tap(api, PARENT, homework, data_with_text(homework, RU["btn_by_subject"]), "по предметам")
    await tap(api, PARENT, homework, SubjectCb(view="h", student_id=ivan, subject_id=world.algebra).pack(),
              "Алгебра: Иванов Иван Петрович", "№ 290", "задано 19.11", "к Ср, 02.12")
    assert homework["text"].index("№ 1–5") < homework["text"].index("№ 290")  # newest first
    assert 'href="https://example.org/l.pdf?a=1&amp;b=2"' in homework["text"]
    await tap(api, PARENT, homework, data_with_text(homework, RU["btn_by_subject"]), "Упр. 125")
    await tap(api, PARENT, homework, data_with_text(homework, RU["btn_by_day"]), "(завтра)")


# --------------------------------------------------------------------------- two children, two time zones


async def test_two_children_in_two_time_zones(world: World):
    api = world.api
    await ready(world, PARENT, world.ivan, world.olga)
    # the active child is the first by name: Ivan; his "today" is already Tuesday
    schedule = await say(api, PARENT, "/schedule", contains("Иванов Иван", "Вт, 01.12 (сегодня)"))
    await tap(api, PARENT, schedule, ChildListCb(view="schedule", arg="today").pack(), RU["children_pick"])
    # Olga's "today" in Moscow is still Monday
    await tap(api, PARENT, schedule, ChildViewCb(student_id=world.olga, view="schedule", arg="today").pack(),
              "Иванова Ольга", "Пн, 30.11 (сегодня)", "Математика")
    # a given date stays the same date when switching back
    await tap(api, PARENT, schedule, DayCb(view="s", student_id=world.olga, day="20261201", span="d").pack(),
              "Вт, 01.12 (завтра)")
    await tap(api, PARENT, schedule, DayCb(view="s", student_id=world.olga, day="20261202", span="d").pack(),
              "Ср, 02.12")
    assert "(завтра)" not in text_of(schedule)  # two days after Olga's today
    await tap(api, PARENT, schedule, ChildListCb(view="schedule", arg="d20261202").pack(), RU["children_pick"])
    await tap(api, PARENT, schedule, ChildViewCb(student_id=world.ivan, view="schedule", arg="d20261202").pack(),
              "Иванов Иван", "Ср, 02.12 (завтра)", "Русский язык")

    # Olga has no marks yet; her school has its own teachers and no holidays
    menu = await say(api, PARENT, RU["btn_more"], has_button("dv:"))
    await tap(api, PARENT, menu, ChildListCb(view="menu").pack(), RU["children_pick"])
    await tap(api, PARENT, menu, ChildViewCb(student_id=world.olga, view="menu").pack(), "Иванова Ольга", "5Б")
    await tap(api, PARENT, menu, DiaryViewCb(view="grades", student_id=world.olga).pack(), RU["grades_none"])
    assert not has_button("ds:")(menu)
    await tap(api, PARENT, menu, MenuCb(student_id=world.olga).pack(), "5Б")
    await tap(api, PARENT, menu, DiaryViewCb(view="teachers", student_id=world.olga).pack(),
              "Классный руководитель: Орлова Вера Андреевна")
    assert "Петрова" not in text_of(menu)
    await tap(api, PARENT, menu, MenuCb(student_id=world.olga).pack(), "5Б")
    await tap(api, PARENT, menu, DiaryViewCb(view="holidays", student_id=world.olga).pack(),
              RU["holidays_none_next"])
    await tap(api, PARENT, menu, MenuCb(student_id=world.olga).pack(), "5Б")
    await tap(api, PARENT, menu, DiaryViewCb(view="recs", student_id=world.olga).pack(), RU["recs_none"])
    # switching child from a subject's detail opens the other child's list of subjects
    grades = await say(api, PARENT, "/grades", contains("Иванова Ольга"))
    await tap(api, PARENT, grades, ChildListCb(view="grades").pack(), RU["children_pick"])
    await tap(api, PARENT, grades, ChildViewCb(student_id=world.ivan, view="grades").pack(), "Алгебра: 5 4 3")
    await tap(api, PARENT, grades, SubjectCb(view="g", student_id=world.ivan, subject_id=world.algebra).pack(),
              "Ошибки в задаче № 4")
    await tap(api, PARENT, grades, ChildListCb(view="grades").pack(), RU["children_pick"])
    await tap(api, PARENT, grades, ChildViewCb(student_id=world.olga, view="grades").pack(), RU["grades_none"])
    check_limits(api, PARENT)


# --------------------------------------------------------------------------- forged and stale buttons


async def test_forged_ids_in_new_callbacks_get_no_access(world: World):
    api = world.api
    await ready(world, PARENT, world.ivan)
    menu = await say(api, PARENT, "/more", has_button("dv:"))
    before, snapshot = len(api.bot_messages(PARENT)), text_of(menu)
    foreign, ivan = world.foreign, world.ivan
    forged = [
        DiaryViewCb(view="works", student_id=foreign).pack(),
        DiaryViewCb(view="recs", student_id=foreign).pack(),
        DiaryViewCb(view="teachers", student_id=987_654_321).pack(),
        DayCb(view="s", student_id=foreign, day="20261201", span="w").pack(),
        DayCb(view="h", student_id=world.olga, day="20261201", span="d").pack(),  # not (yet) linked
        SubjectCb(view="g", student_id=foreign, subject_id=world.algebra).pack(),
        SubjectCb(view="g", student_id=ivan, subject_id=world.math_b).pack(),  # another school's subject
        SubjectCb(view="h", student_id=ivan, subject_id=987_654_321).pack(),
        MenuCb(student_id=foreign).pack(),
        ChildViewCb(student_id=foreign, view="works").pack(),
        ChildViewCb(student_id=foreign, view="schedule", arg="w20261130").pack(),
    ]
    for data in forged:
        query = api.press(PARENT, menu["message_id"], data, check=False)
        answer = await answer_of(api, query)
        assert answer["text"] == RU["no_access"] and answer["show_alert"], data
    await asyncio.sleep(0.2)
    assert len(api.bot_messages(PARENT)) == before and text_of(menu) == snapshot
    assert not any(w in " ".join(text_of(m) for m in api.bot_messages(PARENT))
                   for w in ("Сидоров", "Чуж", "Математика"))

    # unreadable data: «кнопка устарела» and the menu
    for data in (f"dn:s:{ivan}:20261340:d", f"dn:s:{ivan}:20261201:m", f"dn:x:{ivan}:20261201:d",
                 f"dv:bogus:{ivan}", f"ds:x:{ivan}:1", f"ds:g:{ivan}:abc", "dm:", f"cv:{ivan}:bogus:"):
        since = len(api.bot_messages(PARENT))
        query = api.press(PARENT, menu["message_id"], data, check=False)
        assert (await answer_of(api, query))["text"] == RU["stale_button"], data
        await api.wait_for_bot_message(PARENT, contains(RU["stale_button"]), timeout=TIMEOUT, since=since)


# --------------------------------------------------------------------------- long answers and English


async def test_a_long_week_is_split_and_keeps_its_keyboard_last(world: World):
    api = world.api
    async with world.sessions.begin() as s:
        subject = world.algebra_row
        for i in range(40):
            await seed.add_homework(s, world.c7, subject, TUE + timedelta(days=(0, 2, 3, 4)[i % 4]),
                                    f"Задание {i}: " + "решить задачи и выписать правила " * 12,
                                    attachments=[{"name": f"файл {i}.pdf", "url": f"https://example.org/{i}.pdf"}])
    await ready(world, PARENT, world.ivan)
    homework = await say(api, PARENT, "/homework", contains("(завтра)"))
    first = len(api.bot_messages(PARENT))
    await tap(api, PARENT, homework, ViewCb(view="homework", student_id=world.ivan, arg="week").pack(),
              "неделя 30.11–06.12")
    await api.wait_until(lambda: len(api.bot_messages(PARENT)) > first and has_button("dn:")(
        api.bot_messages(PARENT)[-1]), timeout=TIMEOUT)
    messages = [homework, *api.bot_messages(PARENT)[first:]]
    assert len(messages) >= 2
    assert not buttons(homework)  # the keyboard moved to the last part
    whole = "\n".join(text_of(m) for m in messages)
    assert all(f"Задание {i}:" in whole for i in range(40))
    check_limits(api, PARENT)


async def test_english_views(world: World):
    api = world.api
    await ready(world, ENGLISH, world.ivan)
    menu = await say(api, ENGLISH, EN["btn_more"], has_button("dv:"))
    assert "Choose a section" in text_of(menu)
    await tap(api, ENGLISH, menu, DiaryViewCb(view="works", student_id=world.ivan).pack(), "Control works",
              "control work", "lesson 2")
    await tap(api, ENGLISH, menu, MenuCb(student_id=world.ivan).pack(), "Choose a section")
    await tap(api, ENGLISH, menu, DiaryViewCb(view="schedule", student_id=world.ivan).pack(), "Tue, 01.12 (today)",
              "substitute: Соколов Игорь Николаевич (instead of Петрова Анна Викторовна)", "moved from 30.11")
