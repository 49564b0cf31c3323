"""The audit log: every admin command leaves an entry (ids and action names only), and /audit
shows an admin the log of their schools (region admins: all), paginated within Telegram's 4096
characters — over HTTP with LocalBotApi and a real aiogram Bot, on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import select

from bot.dispatcher import create_dispatcher
from bot.sandbox.telegram_server import LocalBotApi
from bot.texts import RU
from services.admins import audit
from services.audit import Audit, safe_details
from services.container import Services, build_services
from services.errors import NotAdmin
from storage.models import AuditEntry
from tests import seed
from tests.e2e import button_data, contains, has_button, text_of
from tests.bot_harness import TIMEOUT, FastCloseSession, answer_of, say

TOKEN = "7000000001:TEST-token_audit"
HEAD, OTHER_HEAD, PARENT, STRANGER = 9401, 9402, 5401, 5402
PHONE = "+79003332211"


@dataclass
class World:
    api: LocalBotApi
    services: Services
    sessions: object
    school_id: int
    other_school_id: int
    class_id: int
    other_class_id: int
    guardian_ref: str


@pytest.fixture
async def world(db):
    async with db.sessions.begin() as s:
        school = await seed.add_school(s, "МБОУ «СОШ № 4» г. Когалым", external_id="sch-kg-4")
        other = await seed.add_school(s, "МБОУ «СОШ № 9» г. Урай", external_id="sch-ur-9")
        cls, other_cls = await seed.add_class(s, school, "8В", 8), await seed.add_class(s, other, "9А", 9)
        child = await seed.add_student(s, cls, "Сергеев Антон Павлович")
        await seed.add_student(s, other_cls, "Орлова Вера Николаевна")
        guardian = await seed.add_guardian(s, school, [child], full_name="Сергеева Алла Викторовна", phone=PHONE)
        await seed.add_school_admin(s, school, telegram_id=HEAD)
        await seed.add_school_admin(s, other, telegram_id=OTHER_HEAD)
        ids = school.id, other.id, cls.id, other_cls.id, guardian.external_id
    services = build_services(db.sessions, seed.make_settings())
    async with LocalBotApi() as api:
        for uid, name in ((HEAD, "Завуч"), (OTHER_HEAD, "Директор"), (PARENT, "Алла"), (STRANGER, "Гость"),
                          (seed.REGION_ADMIN_TG, "Регион")):
            api.add_user(uid, name, username=f"user{uid}")
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


async def actions(w: World) -> list[tuple[str, int | None, int | None]]:
    async with w.sessions() as s:
        return [(a.action, a.actor_telegram_id, a.school_id)
                for a in await s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


async def test_every_admin_command_is_audited_and_audit_shows_own_schools(world: World):
    w, api = world, world.api
    signed = f"{datetime.now(ZoneInfo('Asia/Yekaterinburg')).date() - timedelta(days=1):%d.%m.%Y}"

    # A parent asks for a link; the school admin works through the commands.
    consent = await say(api, PARENT, "/start", has_button("cs:grant"))
    api.press(PARENT, consent["message_id"], button_data(consent, "cs:grant"))
    await api.wait_for_bot_message(PARENT, contains("согласие записано"), timeout=TIMEOUT)
    since = len(api.bot_messages(PARENT))
    api.share_contact(PARENT, PHONE)
    await api.wait_for_bot_message(PARENT, contains("Запрос отправлен"), timeout=TIMEOUT, since=since)
    await say(api, HEAD, "/pending", contains("Запросов на привязку: 1"))
    request = await api.wait_for_bot_message(HEAD, has_button("ld:approve"), timeout=TIMEOUT, since=0)
    api.press(HEAD, request["message_id"], button_data(request, "ld:approve"))
    await api.wait_until(lambda: "Подтверждено" in text_of(request), timeout=TIMEOUT)
    await say(api, HEAD, "/classes", contains("8В"))
    await say(api, HEAD, f"/invite {w.class_id}", contains("одноразовый"))
    await say(api, HEAD, f"/parents {w.class_id}", contains("Сергеев Антон"))
    await say(api, HEAD, f"/paper_consent g:{w.guardian_ref} grant 7/2026 {signed}", contains("Записано"))
    since = len(api.bot_messages(HEAD))
    api.send_text(HEAD, f"/consent_history tg:{PARENT}")
    await api.wait_for_bot_message(HEAD, lambda m: m.get("document"), timeout=TIMEOUT, since=since)
    # the other school's admin and the region admin
    await say(api, OTHER_HEAD, "/classes", contains("9А"))
    await say(api, seed.REGION_ADMIN_TG, "/schools", contains("sch-kg-4"))
    await say(api, seed.REGION_ADMIN_TG, f"/admin_add {STRANGER} sch-kg-4", contains("назначен"))
    await say(api, seed.REGION_ADMIN_TG, f"/admin_remove {STRANGER} sch-kg-4", contains("снят"))

    done = await actions(w)
    s1, s2 = w.school_id, w.other_school_id
    for entry in [("links.view", HEAD, s1), ("link.approve", HEAD, s1), ("classes.view", HEAD, s1),
                  ("codes.issue", HEAD, s1), ("parents.view", HEAD, s1), ("consent.paper", HEAD, s1),
                  ("consent.export", HEAD, s1), ("classes.view", OTHER_HEAD, s2),
                  ("schools.view", seed.REGION_ADMIN_TG, None), ("admin.appoint", seed.REGION_ADMIN_TG, s1),
                  ("admin.remove", seed.REGION_ADMIN_TG, s1)]:
        assert entry in done, entry

    # The school admin's /audit: their school's entries and their own, never the other school's.
    page = await say(api, HEAD, "/audit", contains("Журнал аудита"))
    text = text_of(page)
    assert "страница 1 из 1" in text and len(page["text"]) <= 4096
    for action in ("consent.export", "consent.paper", "parents.view", "codes.issue", "link.approve",
                   "admin.appoint", "admin.remove"):
        assert action in text, action
    assert f"админ {OTHER_HEAD}" not in text and f"школа {s2}" not in text
    # ids and action names only: no names, usernames or phone numbers
    for personal in ("Сергеев", "Алла", "user5401", PHONE, PHONE.lstrip("+"), "Завуч"):
        assert personal not in page["text"], personal
    assert ("audit.view", HEAD, s1) in await actions(w)  # looking at the log is recorded too

    # The region admin sees both schools.
    region = text_of(await say(api, seed.REGION_ADMIN_TG, "/audit", contains("Журнал аудита")))
    assert f"админ {OTHER_HEAD}" in region and f"школа {s2}" in region and f"админ {HEAD}" in region

    # Refusals: not an admin, a bad page number.
    assert text_of(await say(api, STRANGER, "/audit")) == RU["admin_only"]
    assert "Использование" in text_of(await say(api, HEAD, "/audit abc"))
    assert "Использование" in text_of(await say(api, HEAD, "/audit " + "9" * 50))


async def test_audit_pages_fit_one_message_and_move_with_buttons(world: World):
    w, api = world, world.api
    async with w.sessions.begin() as s:
        for i in range(70):
            audit(s, actor=HEAD, action="paper.pupil_extract", target_type="student", target_id=10_000 + i,
                  details={"school_id": w.school_id, "pupils": list(range(200)), "note": "x" * 500,
                           "form_number": f"{i}/2026"})
        for i in range(5):
            audit(s, actor=OTHER_HEAD, action="classes.view", target_type=None, target_id=None,
                  details={"school_id": w.other_school_id, "count": i})
    first = await say(api, HEAD, "/audit", contains("Журнал аудита"))
    assert "страница 1 из 5" in text_of(first) and len(first["text"]) <= 4096
    assert "#" in text_of(first) and "10069" in text_of(first)  # the newest first
    assert "xxxx" not in text_of(first) and "pupils" not in text_of(first)  # long or nested details left out
    assert "form_number=69/2026" in text_of(first)
    older = button_data(first, "ga:")
    assert older == "ga:2" and len(older.encode()) <= 64
    query = api.press(HEAD, first["message_id"], older)
    await answer_of(api, query)
    await api.wait_until(lambda: "страница 2 из 5" in text_of(first), timeout=TIMEOUT)
    assert {b["callback_data"] for row in first["reply_markup"]["inline_keyboard"] for b in row} == {"ga:3", "ga:1"}
    last = await say(api, HEAD, "/audit 999", contains("Журнал аудита"))  # past the end: the last page
    assert "страница 5 из 5" in text_of(last) and button_data(last, "ga:") == "ga:4"
    for message in api.bot_messages(HEAD):
        assert len(message.get("text") or "") <= 4096
    assert "админ 9402" not in " ".join(text_of(m) for m in api.bot_messages(HEAD))
    # a forged page button of a non-admin reveals nothing
    since = len(api.bot_messages(STRANGER))
    await say(api, STRANGER, "/help")
    stranger_msg = api.bot_messages(STRANGER)[since]
    query = api.press(STRANGER, stranger_msg["message_id"], "ga:1", check=False)
    assert (await answer_of(api, query))["text"] == RU["admin_only"]


async def test_audit_service_scope(db):
    async with db.sessions.begin() as s:
        a = await seed.add_school(s, external_id="sch-a")
        b = await seed.add_school(s, "Школа Б", external_id="sch-b")
        head_a = (await seed.add_school_admin(s, a, with_account=False)).telegram_id
        head_b = (await seed.add_school_admin(s, b, with_account=False)).telegram_id
        audit(s, actor=head_b, action="link.approve", target_type="link", target_id=1, details={"school_id": b.id})
        audit(s, actor=None, action="system.note", target_type=None, target_id=None, details={})
        audit(s, actor=seed.REGION_ADMIN_TG, action="forecast.rule_set", target_type="school", target_id=a.id,
              details={"before": {"x": 1}})
    service = Audit(db.sessions, seed.make_settings())
    page = await service.page(head_a)
    assert [line.action for line in page.lines] == ["forecast.rule_set"]  # school taken from the target
    assert page.lines[0].details == ()  # nested values are left out
    region = await service.page(seed.REGION_ADMIN_TG)
    assert [line.action for line in region.lines][-3:] == ["forecast.rule_set", "system.note", "link.approve"]
    with pytest.raises(NotAdmin):
        await service.page(424242)


def test_safe_details_keeps_short_scalars_only():
    assert safe_details({"b": True, "a": 3, "n": None, "l": [1], "d": {"x": 1}, "s": "y" * 41, "k": "15/2026"}) == (
        ("a", "3"), ("b", "true"), ("k", "15/2026"))
