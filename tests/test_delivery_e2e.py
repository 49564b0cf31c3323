"""Acceptance of the one-day rule end to end, over HTTP on every side (SQLite and PostgreSQL):
final grades saved in the journal reach the linked parent once — one pulled and then pushed,
one pushed with a valid signature and then pulled — the delays are recorded, and a push
with a bad signature is rejected and changes nothing.

Journal: services.demo JournalServer (pull) and the service's own HTTP endpoint (push);
Telegram: LocalBotApi with a real aiogram Bot; delivery: the real outbox dispatcher."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import func, select

from bot.notifications import TelegramChannel
from bot.sandbox.telegram_server import LocalBotApi
from bot.web import start_web
from services.container import build_services
from services.demo.feed import ChangeFeed
from services.demo.server import JournalServer
from services.notify.dispatcher import Dispatcher
from services.notify.kinds import FINAL_GRADE
from services.sync.exchange_v1 import ExchangeV1Client
from services.sync.push import PUSH_PATH, SIGNATURE_HEADER, sign
from services.sync.runner import JournalSync
from storage.delivery import ResultDelivery
from storage.models import Account, Event, FinalGrade, Link, OutboxMessage, Student
from tests import seed
from tests.e2e import text_of
from tests.journal_data import MATH, PUPIL, SCHOOL, small_school

SOURCE = "journal"
TOKEN = "journal-token"
SECRET = "push-secret"
PARENT = 5001
BOT_TOKEN = "7000000001:TEST-delivery"


def grade(value: str, *, kind: str = "period", period: str | None = "p-2", title: str | None = None) -> dict:
    return {"student_id": PUPIL, "subject_id": MATH, "period_id": period, "kind": kind, "title": title,
            "value": value, "status": "final", "set_at": "2026-12-27T12:00:00+05:00"}


async def push(url: str, changes: list[dict], *, secret: str = SECRET) -> int:
    body = json.dumps({"changes": changes}, ensure_ascii=False).encode()
    headers = {SIGNATURE_HEADER: sign(secret, body), "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http, http.post(url + PUSH_PATH, data=body, headers=headers) as response:
        return response.status


async def count(db, model, *where) -> int:
    async with db.sessions() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def test_final_grades_pulled_and_pushed_reach_the_parent_once_with_the_delay_recorded(db):
    feed = ChangeFeed()
    small_school(feed)
    feed.upsert("period", "p-2", {"school_id": SCHOOL, "kind": "quarter", "name": "2 четверть",
                                  "starts_on": "2026-11-09", "ends_on": "2026-12-27"})
    settings = seed.make_settings(journal_source=SOURCE, journal_push_secret=SECRET, http_port=0,
                                  notify_coalesce_seconds=0, notify_quiet_hours="off")
    services = build_services(db.sessions, settings)
    async with JournalServer(feed, token=TOKEN) as journal, LocalBotApi() as api:
        client = ExchangeV1Client(journal.url, TOKEN)
        sync = JournalSync(db.sessions, client, source=SOURCE)
        runner, url = await start_web(settings, services)
        bot = Bot(BOT_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))
        try:
            assert (await sync.run_once()).error is None  # the first full sync: history
            api.add_user(PARENT, "Мария")
            async with db.sessions.begin() as s:
                student = await s.scalar(select(Student).where(Student.external_id == PUPIL))
                account = Account(telegram_id=PARENT, chat_id=PARENT, consent_state="granted", language="ru")
                s.add(account)
                await s.flush()
                s.add(Link(account_id=account.id, student_id=student.id, status="approved", method="phone"))

            saved = datetime.now(timezone.utc) - timedelta(minutes=5)
            # 1. a quarter grade: the pull sees it first, then the journal's push arrives
            quarter = feed.upsert("final_grade", "fg-q2", grade("5"), occurred_at=saved)
            await sync.run_once()
            assert await push(url, [quarter]) == 202
            # 2. an exam result: pushed first (signed), the pull sees it afterwards
            exam = feed.upsert("final_grade", "fg-exam", grade("4", kind="exam", period=None, title="ОГЭ"),
                               occurred_at=saved)
            assert await push(url, [exam]) == 202
            await sync.run_once()
            # 3. a forged push: rejected, nothing stored
            forged = feed.upsert("final_grade", "fg-forged", grade("2"), occurred_at=saved)
            events_before = await count(db, Event)
            assert await push(url, [forged], secret="not the secret") == 401
            assert await count(db, FinalGrade, FinalGrade.external_id == "fg-forged") == 0
            assert await count(db, Event) == events_before

            # one message per result for the parent
            rows = await count(db, OutboxMessage, OutboxMessage.kind == FINAL_GRADE)
            assert rows == 2
            dispatcher = Dispatcher(db.sessions, TelegramChannel(bot), settings)
            for _ in range(10):
                await dispatcher.run_once()
                if await count(db, OutboxMessage, OutboxMessage.status == "sent") == 2:
                    break
            messages = api.bot_messages(PARENT)
            texts = [text_of(m) for m in messages]
            assert len(messages) == 2, texts
            assert any("Алгебра" in x and "5" in x for x in texts) and any("ОГЭ" in x and "4" in x for x in texts)

            # the delays are recorded: from the journal's save to the parent's message
            report = await services.delivery.check()
            assert report.harvested == 2
            async with db.sessions() as s:
                tracked = list(await s.scalars(select(ResultDelivery).order_by(ResultDelivery.id)))
            assert [r.final_grade_ref for r in tracked] == ["fg-q2", "fg-exam"]
            for row in tracked:
                assert row.state == "delivered" and row.channel == "telegram"
                assert row.occurred_at == saved.replace(microsecond=0)
                assert 300 <= row.delay_seconds < 300 + 120
            view = await services.delivery.report(seed.REGION_ADMIN_TG)
            [school] = view.schools
            assert school.delays.delivered == 2 and school.delays.within_hour == 2
            assert (school.waiting, school.warning, school.alarm) == (0, 0, 0)

            # the pull of the forged record later brings the journal's own copy: that is the real one
            await sync.run_once()
            assert await count(db, FinalGrade, FinalGrade.external_id == "fg-forged") == 1
        finally:
            await bot.session.close()
            await runner.cleanup()
            await client.close()
