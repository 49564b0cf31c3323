"""The whole service (`bot.app.run_service`) against an exchange-v1 journal and a Bot API, both
over HTTP: a final grade saved in the journal reaches the linked parent once; a deferred grade
is told, and so is its value when the school sets it later."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.sandbox.telegram_server import LocalBotApi
from services.demo.feed import ChangeFeed
from services.demo.server import JournalServer
from storage.models import Account, Link, OutboxMessage, Student
from tests.e2e import (
    JOURNAL_TOKEN,
    button_data,
    contains,
    has_button,
    make_settings,
    running_service,
    text_of,
    wait_first_sync,
)
from tests.journal_data import MATH, PUPIL, SCHOOL, small_school

PARENT, OTHER = 5301, 5302


def final(value: str | None, *, status: str = "final", deferred_until: str | None = None,
          subject: str = MATH) -> dict:
    return {"student_id": PUPIL, "subject_id": subject, "period_id": "p-q2", "kind": "period", "title": None,
            "value": value, "status": status, "deferred_until": deferred_until, "set_at": None}


async def test_final_grades_reach_the_parent_once(db):
    feed = ChangeFeed()
    small_school(feed)
    feed.upsert("subject", "sub-rus", {"school_id": SCHOOL, "name": "Русский язык"})
    feed.upsert("period", "p-q2", {"school_id": SCHOOL, "kind": "quarter", "name": "2 четверть",
                                   "starts_on": "2026-11-09", "ends_on": "2026-12-27"})
    feed.upsert("final_grade", "fg-old", final("4"))  # history: the first sync tells nobody
    async with LocalBotApi() as api, JournalServer(feed, token=JOURNAL_TOKEN) as journal:
        settings = make_settings(api, journal.url, db.url, notify_grace_seconds=0, notify_coalesce_seconds=0,
                                 notify_quiet_hours="off")
        api.add_user(PARENT, "Мария")
        api.add_user(OTHER, "Пётр")
        async with running_service(settings):
            await wait_first_sync(db)
            for uid in (PARENT, OTHER):
                api.send_text(uid, "/start")
                consent = await api.wait_for_bot_message(uid, has_button("cs:grant"), timeout=10)
                since = len(api.bot_messages(uid))
                api.press(uid, consent["message_id"], button_data(consent, "cs:grant"))
                await api.wait_for_bot_message(uid, since=since, timeout=10)
            # the school approved the parent earlier (the linking path has its own tests); the
            # other account is not linked to this pupil
            async with db.sessions.begin() as s:
                student = await s.scalar(select(Student).where(Student.external_id == PUPIL))
                account = await s.scalar(select(Account).where(Account.telegram_id == PARENT))
                s.add(Link(account_id=account.id, student_id=student.id, status="approved", method="phone"))

            # a final grade saved in the journal reaches the parent once
            since = len(api.bot_messages(PARENT))
            saved_at = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=3)
            feed.upsert("final_grade", "fg-1", final("5"), occurred_at=saved_at)
            told = await api.wait_for_bot_message(PARENT, contains("Итоговая оценка"), since=since, timeout=10)
            assert text_of(told) == "🎓 Итоговая оценка\nИван — Алгебра, 2 четверть: 5"

            # a deferred grade is told with its date, and its value when it is set later
            feed.upsert("final_grade", "fg-2", final(None, status="deferred", deferred_until="2027-01-20",
                                                      subject="sub-rus"))
            deferred = await api.wait_for_bot_message(PARENT, contains("отложена"), since=since, timeout=10)
            assert text_of(deferred) == ("⏳ Итоговая оценка отложена\n"
                                         "Иван — Русский язык, 2 четверть: ⏳ отложена до 20.01.2027")
            feed.upsert("final_grade", "fg-2", final("4", subject="sub-rus"))
            set_later = await api.wait_for_bot_message(PARENT, contains("Выставлена"), since=since, timeout=10)
            assert text_of(set_later) == ("🎓 Выставлена отложенная итоговая оценка\n"
                                          "Иван — Русский язык, 2 четверть: 4")

            # once each: a few more poll rounds bring nothing new
            await asyncio.sleep(2 * settings.journal_poll_seconds + 0.5)
            got = [text_of(m) for m in api.bot_messages(PARENT)[since:]]
            assert got == [text_of(told), text_of(deferred), text_of(set_later)]
            assert not any("Итогов" in text_of(m) for m in api.bot_messages(OTHER))

            # the one-day rule reads the journal's time and the sending time from the outbox
            async with db.sessions() as s:
                rows = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "final_grade")
                                            .order_by(OutboxMessage.id)))
            assert [r.status for r in rows] == ["sent", "sent", "sent"]
            assert rows[0].occurred_at == saved_at
            assert all(r.sent_at is not None and r.sent_at >= r.occurred_at for r in rows)
            assert api.rate_limited == []
