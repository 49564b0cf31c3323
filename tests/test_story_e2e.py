"""The whole story, as a parent and a school admin meet it, through HTTP on both sides."""
from __future__ import annotations

import asyncio

from sqlalchemy import select, update

from bot.sandbox.telegram_server import LocalBotApi
from services.demo.feed import ChangeFeed
from services.demo.server import JournalServer
from storage.models import SyncState
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
from tests.journal_data import PHONE, mark_data, small_school

PARENT, SCHOOL_ADMIN, REGION_ADMIN = 5001, 9002, 9001


async def test_parent_story_from_start_to_pushed_mark(db):
    feed = ChangeFeed()
    small_school(feed)
    async with LocalBotApi() as api, JournalServer(feed, token=JOURNAL_TOKEN) as journal:
        settings = make_settings(api, journal.url, db.url)
        for uid, name in ((PARENT, "Мария"), (SCHOOL_ADMIN, "Ольга"), (REGION_ADMIN, "Регион")):
            api.add_user(uid, name)
        async with running_service(settings):
            await wait_first_sync(db)
            # The region admin appoints the school admin, who opens the bot once.
            api.send_text(REGION_ADMIN, f"/admin_add {SCHOOL_ADMIN} sch-1")
            await api.wait_for_bot_message(REGION_ADMIN, timeout=10)
            api.send_text(SCHOOL_ADMIN, "/start")
            await api.wait_for_bot_message(SCHOOL_ADMIN, timeout=10)

            # A new parent: /start shows the consent text with agree / refuse.
            api.send_text(PARENT, "/start")
            consent = await api.wait_for_bot_message(PARENT, has_button("cs:grant"), timeout=10)
            assert has_button("cs:refuse")(consent)
            api.press(PARENT, consent["message_id"], button_data(consent, "cs:grant"))
            await api.wait_for_bot_message(PARENT, timeout=10)

            # Shares their own phone (without "+", as clients often do).
            api.share_contact(PARENT, PHONE.lstrip("+"))
            await api.wait_for_bot_message(PARENT, timeout=10)

            # The school admin gets the request and approves it.
            request = await api.wait_for_bot_message(SCHOOL_ADMIN, has_button("ld:approve"), timeout=10)
            assert "Иванов Иван" in text_of(request)
            since = len(api.bot_messages(PARENT))
            api.press(SCHOOL_ADMIN, request["message_id"], button_data(request, "ld:approve"))
            await api.wait_for_bot_message(PARENT, since=since, timeout=10)  # the parent is told

            # /grades shows the pupil's marks.
            api.send_text(PARENT, "/grades")
            grades = await api.wait_for_bot_message(PARENT, contains("Алгебра"), timeout=10)
            assert "4" in text_of(grades)

            # A new mark in the journal reaches the parent once, within two poll intervals.
            since = len(api.bot_messages(PARENT))
            feed.upsert("mark", "m-new", mark_data("5", date="2026-11-30", kind="control", weight=2))
            pushed = await api.wait_for_bot_message(
                PARENT, contains("Алгебра", "5"), since=since, timeout=2 * settings.journal_poll_seconds + 1.5
            )
            assert "Иван" in text_of(pushed)
            await asyncio.sleep(2 * settings.journal_poll_seconds)
            assert len(api.bot_messages(PARENT)) == since + 1

            # Replaying the whole feed from the start sends nothing more.
            for _attempt in range(3):  # a sync run in flight may write its cursor back: reset again
                replayed = len(journal.requests)
                async with db.sessions.begin() as s:
                    await s.execute(update(SyncState).values(cursor=None))
                try:
                    await api.wait_until(
                        lambda: any(r.cursor is None for r in journal.requests[replayed:]), timeout=3
                    )
                    break
                except TimeoutError:
                    continue
            else:
                raise AssertionError("the service never replayed the feed from the start")
            await asyncio.sleep(2 * settings.journal_poll_seconds)
            assert len(api.bot_messages(PARENT)) == since + 1
            assert api.rate_limited == []


async def test_refusal_and_withdrawal_stop_pushes(db):
    """A parent who refused gets nothing; one who withdraws stops getting marks at once."""
    from storage.models import Account, Link, Student

    feed = ChangeFeed()
    small_school(feed)
    refusing, withdrawing = 5101, 5102
    async with LocalBotApi() as api, JournalServer(feed, token=JOURNAL_TOKEN) as journal:
        settings = make_settings(api, journal.url, db.url)
        api.add_user(refusing, "Пётр")
        api.add_user(withdrawing, "Анна")
        async with running_service(settings):
            await wait_first_sync(db)
            for uid, choice in ((refusing, "cs:refuse"), (withdrawing, "cs:grant")):
                api.send_text(uid, "/start")
                consent = await api.wait_for_bot_message(uid, has_button(choice), timeout=10)
                since = len(api.bot_messages(uid))
                api.press(uid, consent["message_id"], button_data(consent, choice))
                await api.wait_for_bot_message(uid, since=since, timeout=10)
            # Both were approved by the school earlier (seeded: the linking path has its own tests).
            async with db.sessions.begin() as s:
                student = await s.scalar(select(Student).where(Student.external_id == "s-1"))
                for uid in (refusing, withdrawing):
                    account = await s.scalar(select(Account).where(Account.telegram_id == uid))
                    s.add(Link(account_id=account.id, student_id=student.id, status="approved", method="phone"))

            feed.upsert("mark", "m-a", mark_data("3", date="2026-11-30"))
            await api.wait_for_bot_message(withdrawing, contains("Алгебра", "3"), since=0, timeout=5)

            api.send_text(withdrawing, "/consent")
            status = await api.wait_for_bot_message(withdrawing, has_button("cm:ask_withdraw"), timeout=10)
            api.press(withdrawing, status["message_id"], button_data(status, "cm:ask_withdraw"))
            await api.wait_until(lambda: has_button("cs:withdraw")(status), timeout=10)
            since = len(api.bot_messages(withdrawing))
            api.press(withdrawing, status["message_id"], button_data(status, "cs:withdraw"))
            await api.wait_for_bot_message(withdrawing, contains("отозвано"), since=since - 1, timeout=10)

            quiet_since = {uid: len(api.bot_messages(uid)) for uid in (refusing, withdrawing)}
            feed.upsert("mark", "m-b", mark_data("5", date="2026-11-30"))
            await asyncio.sleep(2 * settings.journal_poll_seconds + 1)
            for uid in (refusing, withdrawing):
                new = api.bot_messages(uid)[quiet_since[uid]:]
                assert new == [], f"{uid} got {[text_of(m) for m in new]}"
            assert not any("Алгебра" in text_of(m) for m in api.bot_messages(refusing))
