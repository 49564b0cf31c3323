"""Calm delivery end to end, with the default settings (a mark waits 600 s for a correction,
news of one parent within 120 s become one message, quiet hours 21:00–07:00 school time).

Journal changes go through `apply` (a ChangeFeed on a simulated clock), the outbox dispatcher
runs on the same simulated clock, and messages go through the real TelegramChannel and an
aiogram Bot to LocalBotApi over HTTP. SQLite and PostgreSQL.
"""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import func, select

from bot.notifications import MESSAGE_LIMIT, TelegramChannel
from bot.sandbox.telegram_server import LocalBotApi
from services.demo.feed import ChangeFeed
from services.notify.calm import QuietHours
from services.notify.dispatcher import Dispatcher
from services.notify.prefs import NotifyPrefsService
from services.notify.ratelimit import RateLimiter
from services.sync.apply import Page, apply
from storage.models import Account, Link, OutboxMessage, Student
from tests import seed
from tests.e2e import text_of
from tests.journal_data import CLASS, MATH, PUPIL, SCHOOL, mark_data, small_school
from tests.bot_harness import FastCloseSession

YEKT = ZoneInfo("Asia/Yekaterinburg")
SOURCE = "demo"  # seed.make_settings() names the journal "demo"
TOKEN = "7000000001:TEST-token_calm"
PARENT = 5301


class Clock:
    """Simulated time: a wall clock (UTC) for the database and a monotonic one for the limiter."""

    def __init__(self, start: datetime) -> None:
        self.start = start.astimezone(timezone.utc)
        self.offset = 0.0

    def wall(self) -> datetime:
        return self.start + timedelta(seconds=self.offset)

    def mono(self) -> float:
        return self.offset

    def to(self, moment: datetime) -> None:
        self.offset = max(self.offset, (moment.astimezone(timezone.utc) - self.start).total_seconds())

    async def sleep(self, seconds: float) -> None:
        target = self.offset + seconds
        await asyncio.sleep(0)
        self.offset = max(self.offset, target)


@dataclass
class Rig:
    db: object
    feed: ChangeFeed
    api: LocalBotApi
    clock: Clock
    dispatcher: Dispatcher
    prefs: NotifyPrefsService
    cursor: str
    chats: dict[str, int] = field(default_factory=dict)

    async def sync(self) -> None:
        """One pull of the change feed, as the journal sync does it."""
        page = self.feed.page(self.cursor, 1000)
        await apply(self.db.sessions, SOURCE, Page(page["changes"], page["next_cursor"], page["has_more"]))
        self.cursor = page["next_cursor"] or self.cursor

    async def at(self, moment: datetime) -> None:
        """Move the clock to `moment` (the feed stamps changes with it)."""
        self.clock.to(moment)

    async def run_until(self, moment: datetime) -> None:
        """Run the dispatcher as its loop would, jumping the clock from one due row to the next."""
        for _ in range(20000):
            await self.dispatcher.run_once()
            if self.dispatcher.last_claimed:
                continue
            async with self.db.sessions() as s:
                next_due = await s.scalar(select(func.min(OutboxMessage.next_attempt_at))
                                          .where(OutboxMessage.status == "pending"))
            now = self.clock.wall()
            if next_due is None or next_due > moment:
                self.clock.to(moment)
                return
            # due but not claimed: the chat is inside its one-message-a-second interval
            self.clock.to(next_due if next_due > now else now + timedelta(seconds=1))
        raise AssertionError("the dispatcher did not settle")

    def messages(self, chat: int = PARENT) -> list[dict]:
        return self.api.bot_messages(chat)


async def add_parent(db, student_ref: str, telegram_id: int, api: LocalBotApi, **kw) -> int:
    api.add_user(telegram_id, "Родитель")
    async with db.sessions.begin() as s:
        student = await s.scalar(select(Student).where(Student.external_id == student_ref))
        account = Account(telegram_id=telegram_id, chat_id=telegram_id, consent_state="granted",
                          language=kw.get("language", "ru"), first_name="Мария")
        s.add(account)
        await s.flush()
        s.add(Link(account_id=account.id, student_id=student.id, status="approved", method="phone"))
        return account.id


@contextlib.asynccontextmanager
async def rig_at(db, start: datetime, **settings_overrides):
    clock = Clock(start)
    feed = ChangeFeed(clock=lambda: clock.wall().astimezone(YEKT))
    small_school(feed)
    feed.upsert("teacher", "t-2", {"school_id": SCHOOL, "full_name": "Сидорова Ольга Ивановна"})
    first = feed.page(None, 1000)
    await apply(db.sessions, SOURCE, Page(first["changes"], first["next_cursor"], False))
    settings = seed.make_settings(**settings_overrides)
    async with LocalBotApi() as api:
        bot = Bot(TOKEN, session=FastCloseSession(api=TelegramAPIServer.from_base(api.base_url)))
        limiter = RateLimiter(settings.send_rate_per_second, settings.send_rate_per_chat_seconds,
                              clock=clock.mono, sleep=clock.sleep)
        dispatcher = Dispatcher(db.sessions, TelegramChannel(bot), settings, limiter=limiter, clock=clock.wall,
                                sleep=clock.sleep)
        rig = Rig(db, feed, api, clock, dispatcher, NotifyPrefsService(db.sessions, settings, clock=clock.wall), first["next_cursor"])
        rig.chats["parent"] = await add_parent(db, PUPIL, PARENT, api)
        try:
            yield rig
        finally:
            await bot.session.close()


async def sent_rows(db) -> list[OutboxMessage]:
    async with db.sessions() as s:
        return list(await s.scalars(select(OutboxMessage).where(OutboxMessage.status == "sent")
                                    .order_by(OutboxMessage.id)))


async def statuses(db) -> dict[str, int]:
    async with db.sessions() as s:
        rows = (await s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all()
    return dict(rows)


def yekt(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=YEKT)


def assert_fits(messages: list[dict]) -> None:
    for message in messages:
        assert len(message["text"]) <= MESSAGE_LIMIT


# --------------------------------------------------------------------------- acceptance


async def test_thirty_marks_within_a_minute_arrive_as_one_or_two_messages_with_all_of_them(db):
    t0 = yekt(20, 10)
    async with rig_at(db, t0) as rig:
        for i in range(30):
            await rig.at(t0 + timedelta(seconds=2 * i))
            rig.feed.upsert("mark", f"m-flood-{i}", dict(mark_data("5" if i % 2 else "4"), comment=f"работа №{i:02d}"))
            if i % 5 == 4:
                await rig.sync()  # the journal is polled while the teacher types

        await rig.run_until(t0 + timedelta(seconds=599))
        assert rig.messages() == []  # every mark waits out its grace period

        await rig.run_until(t0 + timedelta(minutes=30))
        messages = rig.messages()
        assert 1 <= len(messages) <= 2, [text_of(m) for m in messages]
        text = "\n".join(text_of(m) for m in messages)
        for i in range(30):
            assert f"работа №{i:02d}" in text
        assert_fits(messages)
        rows = await sent_rows(rig.db)
        assert len(rows) == 30 and await statuses(rig.db) == {"sent": 30}
        assert min(r.sent_at for r in rows) >= t0 + timedelta(seconds=600)


async def test_news_at_half_past_eleven_arrive_after_seven_none_lost(db):
    night = yekt(20, 23, 30)
    today = datetime.now(YEKT).date()  # lesson news are about the real today and tomorrow
    async with rig_at(db, night) as rig:
        rig.feed.upsert("mark", "m-night-1", dict(mark_data("5"), comment="ночная оценка"))
        rig.feed.upsert("homework", "hw-night", {"class_id": CLASS, "subject_id": MATH, "assigned_on": today.isoformat(),
                                                 "due_on": (today + timedelta(days=2)).isoformat(),
                                                 "text": "Упражнение 512", "attachments": []})
        rig.feed.upsert("lesson", "l-night", {"class_id": CLASS, "subject_id": MATH, "teacher_id": "t-1",
                                              "date": today.isoformat(), "number": 2, "starts_at": "09:20",
                                              "ends_at": "10:00", "kind": "regular", "status": "planned",
                                              "substitute_teacher_id": "t-2"})
        rig.feed.upsert("recommendation", "r-night", {"student_id": PUPIL, "subject_id": MATH, "teacher_id": "t-1",
                                                      "date": "2026-11-20", "text": "Повторить дроби"})
        rig.feed.upsert("assessment", "a-night", {"class_id": CLASS, "subject_id": MATH,
                                                  "date": (today + timedelta(days=5)).isoformat(),
                                                  "title": "Контрольная по дробям", "kind": "control"})
        await rig.sync()
        await rig.at(yekt(21, 2, 15))
        rig.feed.upsert("mark", "m-night-2", dict(mark_data("4"), comment="ещё одна ночная"))
        await rig.sync()

        await rig.run_until(yekt(21, 6, 59))
        assert rig.messages() == []
        assert await statuses(rig.db) == {"pending": 6}  # held, not dropped

        await rig.run_until(yekt(21, 9, 0))
        messages = rig.messages()
        assert len(messages) == 1, [text_of(m) for m in messages]
        text = text_of(messages[0])
        for expected in ("ночная оценка", "ещё одна ночная", "Упражнение 512", "Сидорова Ольга Ивановна",
                         "Повторить дроби", "Контрольная по дробям"):
            assert expected in text
        rows = await sent_rows(rig.db)
        assert len(rows) == 6 and all(r.sent_at >= yekt(21, 7, 0) for r in rows)


async def test_a_mark_corrected_within_the_grace_period_arrives_once_with_the_final_value(db):
    t0 = yekt(20, 11)
    async with rig_at(db, t0) as rig:
        rig.feed.upsert("mark", "m-fix", mark_data("3"))
        await rig.sync()
        await rig.run_until(t0 + timedelta(minutes=4))
        await rig.at(t0 + timedelta(minutes=5))
        rig.feed.upsert("mark", "m-fix", mark_data("4"))  # the teacher corrects it
        await rig.sync()
        await rig.run_until(t0 + timedelta(minutes=30))
        [message] = rig.messages()
        assert "Новая оценка" in text_of(message) and "Алгебра: 4" in text_of(message)
        assert "3" not in text_of(message).replace("2026", "")

        # deleted within the grace period: never heard of
        t1 = t0 + timedelta(hours=1)
        await rig.at(t1)
        rig.feed.upsert("mark", "m-gone", mark_data("2"))
        await rig.sync()
        await rig.at(t1 + timedelta(minutes=3))
        rig.feed.delete("mark", "m-gone")
        await rig.sync()
        await rig.run_until(t1 + timedelta(minutes=30))
        assert len(rig.messages()) == 1

        # corrected after the parent saw it: one «changed» message
        t2 = t0 + timedelta(hours=2)
        await rig.at(t2)
        rig.feed.upsert("mark", "m-fix", mark_data("5"))
        await rig.sync()
        await rig.run_until(t2 + timedelta(minutes=30))
        assert len(rig.messages()) == 2
        assert "было 4, стало 5" in text_of(rig.messages()[-1])


async def test_a_teacher_entering_the_whole_class_gives_each_parent_one_message(db):
    t0 = yekt(20, 12)
    async with rig_at(db, t0) as rig:
        pupils = [f"s-x{i}" for i in range(20)]
        for i, ref in enumerate(pupils):
            rig.feed.upsert("student", ref, {"school_id": SCHOOL, "class_id": CLASS, "full_name": f"Петров{i} Пётр"})
        await rig.sync()
        for i, ref in enumerate(pupils):
            await add_parent(rig.db, ref, 7000 + i, rig.api)
        for i, ref in enumerate(pupils):
            await rig.at(t0 + timedelta(seconds=3 * i))
            rig.feed.upsert("mark", f"m-class-{i}", dict(mark_data("5"), student_id=ref, comment=f"класс {i}"))
            rig.feed.upsert("mark", f"m-class-b{i}", dict(mark_data("4"), student_id=ref, comment=f"вторая {i}"))
        await rig.sync()
        await rig.run_until(t0 + timedelta(minutes=30))
        for i in range(20):
            [message] = rig.messages(7000 + i)
            assert f"класс {i}" in text_of(message) and f"вторая {i}" in text_of(message)
        assert await statuses(rig.db) == {"sent": 40}


async def test_a_flood_for_one_child_is_split_into_digests_that_each_fit_and_lose_nothing(db):
    t0 = yekt(20, 13)
    async with rig_at(db, t0) as rig:
        for i in range(200):
            await rig.at(t0 + timedelta(seconds=i // 4))
            rig.feed.upsert("mark", f"m-big-{i}", dict(mark_data("5"), comment=f"отметка {i:03d} " + "я" * 40))
        await rig.sync()
        await rig.run_until(t0 + timedelta(minutes=40))
        messages = rig.messages()
        assert 2 <= len(messages) <= 6
        assert_fits(messages)
        text = "\n".join(text_of(m) for m in messages)
        assert all(f"отметка {i:03d}" in text for i in range(200))
        assert await statuses(rig.db) == {"sent": 200}


async def test_parent_choices_turn_types_off_and_hold_news_for_the_daily_digest(db):
    t0 = yekt(20, 9)
    async with rig_at(db, t0) as rig:
        account_id = rig.chats["parent"]
        await rig.prefs.toggle(account_id, "homework")
        await rig.prefs.set_digest(account_id, 19 * 60)
        today = date(2026, 11, 20)
        rig.feed.upsert("homework", "hw-muted", {"class_id": CLASS, "subject_id": MATH,
                                                 "assigned_on": today.isoformat(), "due_on": "2099-01-01",
                                                 "text": "не нужно", "attachments": []})
        rig.feed.upsert("mark", "m-day-1", dict(mark_data("5"), comment="утро"))
        await rig.sync()
        await rig.at(yekt(20, 15))
        rig.feed.upsert("mark", "m-day-2", dict(mark_data("4"), comment="день"))
        await rig.sync()
        await rig.run_until(yekt(20, 18, 59))
        assert rig.messages() == []
        await rig.run_until(yekt(20, 19, 30))
        [digest] = rig.messages()
        assert "утро" in text_of(digest) and "день" in text_of(digest) and "не нужно" not in text_of(digest)
        async with rig.db.sessions() as s:
            kinds = set(await s.scalars(select(OutboxMessage.kind)))
        assert "homework_new" not in kinds  # a type turned off writes nothing

        # quiet hours turned off in the middle of the night: what was held goes out at once
        await rig.prefs.set_digest(account_id, None)
        await rig.at(yekt(20, 23, 0))
        rig.feed.upsert("mark", "m-late", dict(mark_data("3"), comment="поздно"))
        await rig.sync()
        await rig.run_until(yekt(20, 23, 30))
        assert len(rig.messages()) == 1
        await rig.prefs.set_quiet(account_id, None)
        await rig.run_until(yekt(20, 23, 45))
        assert len(rig.messages()) == 2 and "поздно" in text_of(rig.messages()[-1])


@pytest.mark.parametrize("quiet", ["22:00-08:00"])
async def test_own_quiet_hours_replace_the_default(db, quiet):
    t0 = yekt(20, 21, 30)
    async with rig_at(db, t0) as rig:
        await rig.prefs.set_quiet(rig.chats["parent"], QuietHours.parse(quiet))
        rig.feed.upsert("mark", "m-evening", dict(mark_data("5"), comment="вечер"))
        await rig.sync()
        await rig.run_until(yekt(20, 21, 59))
        assert len(rig.messages()) == 1  # 21:30 + grace: before this parent's quiet hours
        await rig.at(yekt(21, 7, 30))
        rig.feed.upsert("mark", "m-morning", dict(mark_data("4"), comment="утро"))
        await rig.sync()
        await rig.run_until(yekt(21, 7, 59))
        assert len(rig.messages()) == 1
        await rig.run_until(yekt(21, 8, 30))
        assert len(rig.messages()) == 2
        rows = await sent_rows(rig.db)
        assert rows[-1].sent_at >= yekt(21, 8, 0)


class PlainChannel:
    """A channel without digests (like e-mail): records what it is asked to send."""

    name = "telegram"

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    async def send(self, recipient, kind: str, payload: dict) -> None:
        self.sent.append((kind, payload))


async def test_a_channel_without_digests_gets_one_message_per_row_still_held_at_night(db):
    night = yekt(20, 22, 0)
    async with rig_at(db, night) as rig:
        channel = PlainChannel()
        settings = seed.make_settings()
        rig.dispatcher = Dispatcher(rig.db.sessions, channel, settings, clock=rig.clock.wall, sleep=rig.clock.sleep,
                                    limiter=RateLimiter(100, 1, clock=rig.clock.mono, sleep=rig.clock.sleep))
        for i in range(3):
            rig.feed.upsert("mark", f"m-plain-{i}", dict(mark_data("5"), comment=f"№{i}"))
        await rig.sync()
        await rig.run_until(yekt(21, 6, 59))
        assert channel.sent == []
        await rig.run_until(yekt(21, 7, 30))
        assert [kind for kind, _ in channel.sent] == ["mark_new"] * 3
        assert sorted(p["comment"] for _, p in channel.sent) == ["№0", "№1", "№2"]
