"""/email, /contacts, /contact_set and /paper through the bot: a real aiogram Bot over HTTP
against LocalBotApi, the real dispatcher and services, and a real SMTP server on loopback that
receives the confirmation codes. Forged and replayed codes, header injection and oversized
input are refused with a clear message."""
from __future__ import annotations

import asyncio
import contextlib
import io
import re
from dataclasses import dataclass

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from pypdf import PdfReader
from sqlalchemy import select

from bot.dispatcher import create_dispatcher
from bot.sandbox.telegram_server import LocalBotApi
from bot.texts import RU
from services.container import Services, build_services
from storage.models import AuditEntry
from tests import seed
from tests.e2e import button_data, contains, has_button, text_of
from tests.smtp_sink import SmtpSink, parts
from tests.bot_harness import FastCloseSession, grant, say

TOKEN = "7000000001:TEST-token_contacts"
PARENT, ADMIN = 6101, 9201
TIMEOUT = 10


@dataclass
class World:
    api: LocalBotApi
    sink: SmtpSink
    services: Services
    sessions: object
    class_id: int
    guardian_id: int
    student_ids: list[int]


@pytest.fixture
async def world(db):
    async with db.sessions.begin() as s:
        school = await seed.add_school(s, external_id="sch-contacts")
        cls = await seed.add_class(s, school, "6В", grade=6)
        first = await seed.add_student(s, cls, "Жуков Иван Андреевич")
        second = await seed.add_student(s, cls, "Зайцева Ольга Петровна")
        guardian = await seed.add_guardian(s, school, [second], full_name="Зайцева Мария", phone=None)
        await seed.add_school_admin(s, school, telegram_id=ADMIN)
        ids = cls.id, guardian.id, [first.id, second.id]
    async with SmtpSink() as sink:
        settings = seed.make_settings(smtp_host="127.0.0.1", smtp_port=sink.port,
                                      smtp_from="Электронный дневник <noreply@school.example>",
                                      smtp_starttls=False, smtp_timeout_seconds=5)
        services = build_services(db.sessions, settings)
        async with LocalBotApi() as api:
            api.add_user(PARENT, "Мария", username="maria")
            api.add_user(ADMIN, "Завуч")
            bot = Bot(TOKEN, session=FastCloseSession(api=TelegramAPIServer.from_base(api.base_url)))
            dp = create_dispatcher(services)
            polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
            try:
                yield World(api, sink, services, db.sessions, *ids)
            finally:
                with contextlib.suppress(RuntimeError):
                    await dp.stop_polling()
                await asyncio.wait_for(polling, timeout=10)
                await bot.session.close()


def code_in(message) -> str:
    return re.search(r"\b(\d{6})\b", str(message["Subject"])).group(1)


async def test_parent_adds_an_email_with_a_code_and_bad_input_is_refused(world: World):
    api, sink = world.api, world.sink
    await grant(api, PARENT)
    ask = await say(api, PARENT, "/email", contains("адрес электронной почты"))
    assert has_button("ef:cancel")(ask)

    # header injection, a list, oversized input: refused with the reason, nothing is sent
    injected = await say(api, PARENT, "ivanova@mail.ru\nBcc: evil@example.org")
    assert text_of(injected).startswith("В адресе есть недопустимые символы")
    listed = await say(api, PARENT, "ivanova@mail.ru, evil@example.org")
    assert "недопустимые символы" in text_of(listed)
    oversized = await say(api, PARENT, "a" * 3000 + "@mail.ru")
    assert text_of(oversized).startswith("Слишком длинно")
    nonsense = await say(api, PARENT, "моя почта")
    assert "не похоже на адрес" in text_of(nonsense)
    assert sink.messages == []

    sent = await say(api, PARENT, "Ivanova@Mail.ru", contains("Код отправлен"))
    assert "I***@mail.ru" in text_of(sent)
    [mail] = await sink.wait_for(1)
    assert sink.envelopes[0][1] == ["Ivanova@mail.ru"]
    assert str(mail["Subject"]).startswith("Код подтверждения адреса: ")
    text, html = parts(mail)
    code = code_in(mail)
    assert code in text and code in html and "Электронный дневник" in text

    forged = "000000" if code != "000000" else "111111"
    wrong = await say(api, PARENT, forged)
    assert text_of(wrong) == "Неверный код. Осталось попыток: 4."
    short = await say(api, PARENT, "12345")
    assert text_of(short) == RU["email_code_format"]
    long = await say(api, PARENT, "1" * 500)
    assert text_of(long) == RU["email_code_format"]
    done = await say(api, PARENT, code)
    assert text_of(done) == "✅ Адрес Ivanova@mail.ru подтверждён. Уведомления будут приходить и на почту."

    # asking again, then typing the old (used) code: a replay is refused
    status = await say(api, PARENT, "/email", contains("Способ доставки"))
    assert "Ivanova@mail.ru" in text_of(status) and "✅ электронная почта" in str(status["reply_markup"])
    since = len(api.bot_messages(PARENT))
    api.press(PARENT, status["message_id"], button_data(status, "ef:set"))
    await api.wait_for_bot_message(PARENT, contains("адрес электронной почты"), timeout=TIMEOUT, since=since)
    await say(api, PARENT, "ivanova@mail.ru", contains("Код отправлен"))
    await sink.wait_for(2)
    newer = code_in(sink.messages[1])
    if newer != code:
        replay = await say(api, PARENT, code)
        assert text_of(replay) == RU["email_code_used"]
    assert "подтверждён" in text_of(await say(api, PARENT, newer))

    # the delivery form: switch Telegram off (e-mail only), then paper on
    status = await say(api, PARENT, "/email", contains("Способ доставки"))
    api.press(PARENT, status["message_id"], "ef:toggle:telegram")
    await api.wait_until(lambda: "Способ доставки</b>: электронная почта" in status["text"], timeout=TIMEOUT)
    view = await world.services.contacts.get((await world.services.accounts.by_telegram_id(PARENT)).id)
    assert view.forms == {"email"}


async def test_admin_lists_contacts_records_an_application_and_prints_paper(world: World):
    api = world.api
    usage = await say(api, ADMIN, "/contacts")
    assert "/contacts ID_КЛАССА" in text_of(usage)
    listing = await say(api, ADMIN, f"/contacts {world.class_id}", contains("Контакты и способ доставки"))
    assert f"g{world.guardian_id} Зайцева Мария: форма не выбрана" in text_of(listing)
    assert "Жуков Иван Андреевич" in text_of(listing)

    key = f"g{world.guardian_id}"
    bad_mail = await say(api, ADMIN, f"/contact_set {key} paper,email 12 20.11.2026 a@b.ru%0ABcc:x@y.z")
    assert text_of(bad_mail) == RU["email_forbidden_chars"].replace("<code>", "").replace("</code>", "")
    bad_date = await say(api, ADMIN, f"/contact_set {key} paper 12 31.02.2026")
    assert text_of(bad_date) == RU["contact_set_bad_date"]
    forged = await say(api, ADMIN, "/contact_set g999999 paper 12 20.11.2026")
    assert text_of(forged) == RU["contact_set_not_found"]
    long = await say(api, ADMIN, "/contact_set " + "x" * 700)
    assert "Использование" in text_of(long)
    done = await say(api, ADMIN, f"/contact_set {key} paper,email 12/2026 20.11.2026 zaitseva@mail.ru")
    assert "Записано по заявлению № 12/2026 от 20.11.2026: электронная почта, бумажная выписка" in text_of(done)
    assert "не пользуется ботом" in text_of(done)
    async with world.sessions() as s:
        entries = list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "contacts.application")))
    assert len(entries) == 1 and entries[0].actor_telegram_id == ADMIN

    # the class PDF: both pupils (one has nobody on the bot, one's parent chose paper)
    since = len(api.bot_messages(ADMIN))
    api.send_text(ADMIN, f"/paper {world.class_id}")
    doc = await api.wait_for_bot_message(ADMIN, lambda m: "document" in m, timeout=TIMEOUT, since=since)
    assert "учеников: 2" in doc["plain_caption"]
    pdf = api.file_content(doc["document"]["file_id"])
    texts = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    assert len(texts) == 2
    assert "Жуков Иван Андреевич" in texts[0] and "Зайцева Ольга Петровна" in texts[1]
    assert all("ВЫПИСКА ИЗ ЭЛЕКТРОННОГО ЖУРНАЛА" in t for t in texts)

    since = len(api.bot_messages(ADMIN))
    api.send_text(ADMIN, f"/paper_pupil {world.student_ids[0]}")
    single = await api.wait_for_bot_message(ADMIN, lambda m: "document" in m, timeout=TIMEOUT, since=since)
    assert "Жуков Иван Андреевич" in single["plain_caption"]
    assert text_of(await say(api, ADMIN, "/paper_pupil 99999999")) == RU["pupil_not_found"]
    assert text_of(await say(api, ADMIN, "/paper_queue")) == RU["paper_queue_empty"]


async def test_parents_cannot_use_admin_commands(world: World):
    api = world.api
    await grant(api, PARENT)
    for command in (f"/contacts {world.class_id}", f"/paper {world.class_id}", "/paper_queue",
                    f"/contact_set g{world.guardian_id} paper 1 20.11.2026"):
        answer = await say(api, PARENT, command)
        assert text_of(answer) == RU["admin_only"]
