"""Withdrawal and erasure with a simulated clock, through the real parts: the journal over HTTP
(JournalServer → JournalSync), the bot over HTTP (LocalBotApi + a real aiogram Bot and the
real dispatcher), the outbox dispatcher with the Telegram channel, on SQLite and PostgreSQL.

After a withdrawal nothing about the child is delivered; a reminder comes a few days before
the erasure; after ERASURE_DAYS the person's data is gone from every table (every table is
scanned, not a list of known ones) and the destruction record holds no personal data.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from pypdf import PdfReader
from sqlalchemy import func, select

from bot.dispatcher import create_dispatcher
from bot.notifications import TelegramChannel
from bot.sandbox.telegram_server import LocalBotApi
from bot.texts import RU
from services.consent import Consent
from services.container import Services, build_services
from services.demo.feed import ChangeFeed
from services.demo.server import JournalServer
from services.erasure import Erasure, new_reference
from services.notify.dispatcher import Dispatcher
from services.sync.exchange_v1 import ExchangeV1Client
from services.sync.runner import JournalSync
from storage.models import (
    MIRROR_MODELS,
    Account,
    Base,
    ConsentRecord,
    Link,
    OutboxMessage,
    School,
    utcnow,
)
from storage.privacy import DestructionRecord, ScheduledErasure
from tests import seed
from tests.e2e import button_data, buttons, contains, has_button, text_of
from tests.journal_data import PHONE, mark_data, small_school
from tests.bot_harness import TIMEOUT, FastCloseSession, answer_of, press, say

TOKEN = "7000000001:TEST-token_erasure"
JOURNAL_TOKEN = "journal-erasure"
PARENT, PARENT_NAME, PARENT_USERNAME = 777_000_123, "Зинаида", "zina_privacy_test"
SECOND, SECOND_NAME, SECOND_USERNAME = 777_000_456, "Эльвира", "elvira_forget_test"
ADMIN = 9_200_001
YEKATERINBURG = ZoneInfo("Asia/Yekaterinburg")
#: Tables filled from the journal (the school's own records of its pupils and guardians, kept
#: under education law and re-synced from the journal): outside the service's erasure.
JOURNAL_TABLES = frozenset({m.__tablename__ for m in MIRROR_MODELS.values()} | {"events", "quarantine", "sync_state"})


class Clock:
    """The service's wall clock: real time plus the days the test moved it forward (rows are
    enqueued at real time and must be due for the dispatcher)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    @property
    def now(self) -> datetime:
        return self()

    def advance(self, **kw: float) -> None:
        self.offset += timedelta(**kw)


@dataclass
class World:
    api: LocalBotApi
    services: Services
    sessions: object
    feed: ChangeFeed
    sync: JournalSync
    outbox: Dispatcher
    clock: Clock


@pytest.fixture
async def world(db):
    feed = ChangeFeed()
    small_school(feed)
    feed.upsert("student", "s-2", {"school_id": "sch-1", "class_id": "cls-7a", "full_name": "Иванова Анна Петровна"})
    settings = seed.make_settings(notify_grace_seconds=0, notify_coalesce_seconds=0, notify_quiet_hours="off",
                                  send_rate_per_chat_seconds=0)
    clock = Clock()
    async with JournalServer(feed, token=JOURNAL_TOKEN) as journal, LocalBotApi() as api:
        client = ExchangeV1Client(journal.url, JOURNAL_TOKEN)
        sync = JournalSync(db.sessions, client, source=seed.SOURCE)
        await sync.run_once()  # the first full sync: history, nobody is notified
        async with db.sessions.begin() as s:
            school = await s.scalar(select(School).where(School.external_id == "sch-1"))
            await seed.add_school_admin(s, school, telegram_id=ADMIN)
        services = build_services(db.sessions, settings)
        services.consent = Consent(db.sessions, settings, clock=clock)
        services.erasure = Erasure(db.sessions, settings, clock=clock)
        api.add_user(PARENT, PARENT_NAME, username=PARENT_USERNAME)
        api.add_user(SECOND, SECOND_NAME, username=SECOND_USERNAME)
        api.add_user(ADMIN, "Завуч")
        api.add_user(seed.REGION_ADMIN_TG, "Регион")
        bot = Bot(TOKEN, session=FastCloseSession(api=TelegramAPIServer.from_base(api.base_url)))
        dp = create_dispatcher(services)
        polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
        outbox = Dispatcher(db.sessions, TelegramChannel(bot), settings, clock=clock)
        await say(api, ADMIN, "/start")  # the admin has opened the bot, so it may write to them
        try:
            yield World(api, services, db.sessions, feed, sync, outbox, clock)
        finally:
            with contextlib.suppress(RuntimeError):
                await dp.stop_polling()
            await asyncio.wait_for(polling, timeout=10)
            await bot.session.close()
            await client.close()


async def deliver(w: World) -> None:
    """Run the outbox dispatcher until nothing more is due."""
    for _ in range(20):
        await w.outbox.run_once()
        if not w.outbox.last_claimed:
            return


async def grant_and_link(w: World, user: int) -> int:
    """Consent in the bot, link by the phone the journal knows, the admin approves; the account id."""
    api = w.api
    consent = await say(api, user, "/start", has_button("cs:grant"))
    await press(api, user, consent, button_data(consent, "cs:grant"), contains("согласие записано"))
    since = len(api.bot_messages(user))
    api.share_contact(user, PHONE)
    await api.wait_for_bot_message(user, contains("Запрос отправлен"), timeout=TIMEOUT, since=since)
    account = await w.services.accounts.by_telegram_id(user)
    async with w.sessions() as s:
        link_id = await s.scalar(select(Link.id).where(Link.account_id == account.id))
    await deliver(w)  # the admin gets the request (it names the parent)
    assert any(PARENT_NAME in text_of(m) or SECOND_NAME in text_of(m) for m in api.bot_messages(ADMIN))
    await w.services.linking.decide(ADMIN, link_id, True)
    await deliver(w)  # the parent is told
    return account.id


async def withdraw_in_bot(w: World, user: int) -> dict:
    api = w.api
    status = await say(api, user, "/consent", has_button("cm:ask_withdraw"))
    api.press(user, status["message_id"], button_data(status, "cm:ask_withdraw"))
    await api.wait_until(lambda: has_button("cs:withdraw")(status), timeout=TIMEOUT)
    return await press(api, user, status, button_data(status, "cs:withdraw"), contains("Согласие отозвано"))


async def new_mark(w: World, mark_id: str, value: str) -> None:
    w.feed.upsert("mark", mark_id, mark_data(value, date="2026-12-01"))
    await w.sync.run_once()


def _text(value: object) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else str(value)


async def personal_data_left(sessions, needles: list[str], account_id: int) -> list[str]:
    """Where any of `needles` (or a reference to `account_id`) is still stored: every column of
    every row of every table the service owns (journal mirror tables excepted)."""
    found = []
    async with sessions() as s:
        for table in Base.metadata.sorted_tables:
            if table.name in JOURNAL_TABLES:
                continue
            for row in (await s.execute(select(table))).mappings():
                for column, value in row.items():
                    text = _text(value)
                    found += [f"{table.name}.{column} holds {n!r}" for n in needles if n in text]
            for fk in table.foreign_keys:
                if fk.column.table.name == "accounts":
                    n = await s.scalar(select(func.count()).select_from(table).where(fk.parent == account_id))
                    if n:
                        found.append(f"{table.name}.{fk.parent.name} refers to the account ({n})")
        if await s.get(Account, account_id) is not None:
            found.append("accounts row")
    return found


# --------------------------------------------------------------------------- the story


async def test_withdrawal_stops_delivery_reminds_and_erases_after_the_period(world: World):
    w, api = world, world.api
    account_id = await grant_and_link(w, PARENT)
    # a second child, linked with the school's invite code (the code's usage refers to the account)
    code = next(c.code for c in await w.services.linking.issue_codes(ADMIN, await _class_id(w))
                if c.student_name.startswith("Иванова Анна"))
    assert "Код принят" in text_of(await say(api, PARENT, code))

    # Before: a new mark reaches the parent.
    await new_mark(w, "m-2", "5")
    await deliver(w)
    assert any("Новая оценка" in text_of(m) for m in api.bot_messages(PARENT))
    needles = [str(PARENT), PARENT_NAME, PARENT_USERNAME, PHONE.lstrip("+")]
    before = await personal_data_left(w.sessions, needles, account_id)
    assert any(f.startswith("outbox.payload") for f in before), before  # the admin's request names the parent
    assert any(f.startswith("invite_codes.used_by_account_id") for f in before), before

    # A mark waiting in the outbox, then the withdrawal in the bot.
    await new_mark(w, "m-3", "2")
    withdrawn = await withdraw_in_bot(w, PARENT)
    due = (w.clock.now + timedelta(days=30)).astimezone(YEKATERINBURG).strftime("%d.%m.%Y")
    assert f"будут уничтожены {due}" in text_of(withdrawn) and "/forget" in text_of(withdrawn)
    async with w.sessions() as s:
        item = await s.scalar(select(ScheduledErasure).where(ScheduledErasure.account_id == account_id))
    assert item.reference in text_of(withdrawn) and item.rule == "withdrawal"

    # After: nothing about the child is delivered — neither the waiting mark nor new ones.
    quiet = len(api.bot_messages(PARENT))
    await new_mark(w, "m-4", "4")
    w.clock.advance(days=1)
    await deliver(w)
    assert api.bot_messages(PARENT)[quiet:] == []
    async with w.sessions() as s:
        statuses = {r.payload.get("value"): r.status for r in await s.scalars(
            select(OutboxMessage).where(OutboxMessage.account_id == account_id, OutboxMessage.kind == "mark_new"))}
    assert statuses == {"5": "sent", "2": "cancelled"}  # m-4 was never even enqueued

    # Three days before the date: one reminder, while re-consent would still cancel it.
    w.clock.advance(days=26, hours=12)
    report = await w.services.erasure.run_due()
    assert (report.reminded, report.erased) == (1, 0)
    await deliver(w)
    reminder = api.bot_messages(PARENT)[quiet:]
    assert len(reminder) == 1 and "Напоминание" in text_of(reminder[0]) and due in text_of(reminder[0])
    assert (await w.services.erasure.run_due()).reminded == 0  # once
    assert await personal_data_left(w.sessions, needles, account_id)  # not yet

    # The period is over: everything is gone.
    w.clock.advance(days=3, hours=12, minutes=1)
    report = await w.services.erasure.run_due()
    assert report.erased == 1
    left = await personal_data_left(w.sessions, needles, account_id)
    assert left == [], left
    await deliver(w)
    assert len(api.bot_messages(PARENT)) == quiet + 1

    # The destruction record: categories and counts, when, by what rule — no personal data.
    async with w.sessions() as s:
        record = await s.scalar(select(DestructionRecord).where(DestructionRecord.reference == item.reference))
        proofs = list(await s.scalars(select(ConsentRecord).where(ConsentRecord.proof_key.is_not(None))))
    assert record is not None and record.rule == "withdrawal" and "152-ФЗ" in record.legal_basis
    assert item.due_at <= record.executed_at <= w.clock.now and record.due_at == item.due_at
    cats = record.categories
    assert cats["accounts"] == 1 and cats["links"] == 2 and cats["outbox:link_requests_to_admins"] >= 2
    assert cats["invite_codes.used_by_account_id:unlinked"] == 1 and cats["consent_log:pseudonymised"] == 2
    assert cats["outbox"] >= 3
    dump = json.dumps({c.name: _text(getattr(record, c.key)) for c in DestructionRecord.__table__.columns},
                      ensure_ascii=False)
    assert not any(n in dump for n in needles) and all(isinstance(v, int) for v in cats.values())
    # The consent log is kept as proof: decisions, versions, times — and no identity.
    assert [p.decision for p in proofs] == ["granted", "withdrawn"]
    assert all(p.account_id is None and p.text_version and p.language == "ru" for p in proofs)
    assert len({p.proof_key for p in proofs}) == 1

    # A region admin can still prove the history to whoever presents the Telegram id.
    since = len(api.bot_messages(seed.REGION_ADMIN_TG))
    api.send_text(seed.REGION_ADMIN_TG, f"/consent_history tg:{PARENT}")
    doc = await api.wait_for_bot_message(seed.REGION_ADMIN_TG, lambda m: m.get("document"), timeout=TIMEOUT,
                                         since=since)
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(api.file_content(doc["document"]["file_id"]))).pages)
    assert "уничтожены" in pdf_text and "согласие отозвано" in pdf_text and "СОГЛАСИЕ НА ОБРАБОТКУ" in pdf_text
    # ...but a school admin, who no longer has any link to this person, cannot.
    assert text_of(await say(api, ADMIN, f"/consent_history tg:{PARENT}")) == RU["consent_person_not_found"]

    # Writing to the bot again is a fresh start.
    fresh = await say(api, PARENT, "/start", has_button("cs:grant"))
    assert has_button("cs:refuse")(fresh)
    again = await w.services.accounts.by_telegram_id(PARENT)
    assert again.id != account_id and again.consent_state == "none"


async def test_re_consent_before_the_date_cancels_the_erasure(world: World):
    w, api = world, world.api
    account_id = await grant_and_link(w, PARENT)
    await withdraw_in_bot(w, PARENT)
    w.clock.advance(days=28)
    assert (await w.services.erasure.run_due()).reminded == 1  # queued, not yet sent
    consent = await say(api, PARENT, "/consent", has_button("cs:grant"))
    assert "будут уничтожены" in text_of(consent) or any(
        "будут уничтожены" in text_of(m) for m in api.bot_messages(PARENT)[-3:])
    await press(api, PARENT, consent, button_data(consent, "cs:grant"), contains("согласие записано"))
    async with w.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(ScheduledErasure)) == 0
        reminder = await s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "erasure_reminder"))
        assert reminder.status == "cancelled"  # the queued reminder is not sent after the re-consent
    w.clock.advance(days=5)
    assert (await w.services.erasure.run_due()).erased == 0
    async with w.sessions() as s:
        assert (await s.get(Account, account_id)).consent_state == "granted"
        assert await s.scalar(select(func.count()).select_from(Link).where(Link.account_id == account_id)) == 1
        decisions = [r.decision for r in await s.scalars(
            select(ConsentRecord).where(ConsentRecord.account_id == account_id).order_by(ConsentRecord.id))]
    assert decisions == ["granted", "withdrawn", "granted"]
    await new_mark(w, "m-9", "5")
    await deliver(w)
    assert "Новая оценка" in text_of(api.bot_messages(PARENT)[-1])


async def test_forget_erases_at_once_after_confirmation(world: World):
    w, api = world, world.api
    account_id = await grant_and_link(w, SECOND)
    ask = await say(api, SECOND, "/forget", has_button("gf:confirm"))
    assert "Удалить ваши данные" in text_of(ask) and "акт" in text_of(ask)
    # «Cancel» keeps everything
    cancel = api.press(SECOND, ask["message_id"], button_data(ask, "gf:cancel"))
    await answer_of(api, cancel)
    await api.wait_until(lambda: RU["forget_cancelled"] in text_of(ask), timeout=TIMEOUT)
    assert await w.services.accounts.by_telegram_id(SECOND) is not None

    ask = await say(api, SECOND, "/forget", has_button("gf:confirm"))
    confirm = button_data(ask, "gf:confirm")
    done = await press(api, SECOND, ask, confirm, contains("Ваши данные удалены"))
    assert not buttons(ask)
    needles = [str(SECOND), SECOND_NAME, SECOND_USERNAME, PHONE.lstrip("+")]
    assert await personal_data_left(w.sessions, needles, account_id) == []
    async with w.sessions() as s:
        record = await s.scalar(select(DestructionRecord))
        proofs = [r.decision for r in await s.scalars(select(ConsentRecord).order_by(ConsentRecord.id))]
    assert record.rule == "request" and record.reference in text_of(done)
    assert proofs == ["granted", "withdrawn"]  # the consent in force was withdrawn first
    assert api.reply_keyboard(SECOND) is None

    # the same button again (a stale copy): nothing happens to the fresh account
    query = api.press(SECOND, ask["message_id"], confirm, check=False)
    assert (await answer_of(api, query))["text"] == RU["forget_stale"]
    async with w.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(DestructionRecord)) == 1


async def test_refusal_schedules_erasure_and_paper_withdrawal_reaches_bot_users(world: World):
    w, api = world, world.api
    consent = await say(api, SECOND, "/start", has_button("cs:refuse"))
    refused = await press(api, SECOND, consent, button_data(consent, "cs:refuse"))
    assert "ничего не будем присылать" in text_of(refused) and "будут уничтожены" in text_of(refused)

    # A written withdrawal at school, for the guardian whose phone the bot user shared.
    account_id = await grant_and_link(w, PARENT)
    since = len(api.bot_messages(PARENT))
    signed = (datetime.now(YEKATERINBURG).date() - timedelta(days=1))
    reply = await say(api, ADMIN, f"/paper_consent g:g-1 withdraw 17/2026 {signed:%d.%m.%Y}")
    assert "отзыв согласия" in text_of(reply) and "17/2026" in text_of(reply) and ": 1" in text_of(reply)
    await deliver(w)
    notice = await api.wait_for_bot_message(PARENT, contains("письменный отзыв"), timeout=TIMEOUT, since=since)
    assert "/consent" in text_of(notice)
    async with w.sessions() as s:
        account = await s.get(Account, account_id)
        records = list(await s.scalars(select(ConsentRecord).order_by(ConsentRecord.id)))
    assert account.consent_state == "withdrawn"
    paper = [r for r in records if r.channel == "paper"]
    assert [(r.decision, r.guardian_ref, r.account_id, r.form_number, r.entered_by) for r in paper] == [
        ("withdrawn", "g-1", None, "17/2026", ADMIN), ("withdrawn", None, account_id, "17/2026", ADMIN)]
    assert all(r.form_date == signed and r.language == "ru" for r in paper)


async def _class_id(w: World) -> int:
    classes = await w.services.admins.list_classes(ADMIN)
    return classes[0].id


def test_references_are_random_and_short():
    refs = {new_reference() for _ in range(200)}
    assert len(refs) == 200 and all(len(r) == 14 and r.count("-") == 2 for r in refs)
