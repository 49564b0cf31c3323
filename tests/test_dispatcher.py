"""The outbox dispatcher on SQLite and PostgreSQL, with a fake in-process channel."""
from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from services.config import Settings
from services.notify import outbox
from services.notify.channel import (
    Channel,
    PermanentError,
    Recipient,
    RecipientGone,
    RetryAfter,
    TransientError,
)
from services.notify.dispatcher import Dispatcher
from services.notify.kinds import LINK_DECISION, LINK_REQUEST, MARK_NEW
from services.notify.ratelimit import RateLimiter
from storage.models import Account, Link, OutboxMessage, School, Student

_ids = itertools.count(1)


# --------------------------------------------------------------------------- fakes


class FakeTime:
    """A wall clock (for the database) and a monotonic clock (for the limiter) that move together."""

    def __init__(self) -> None:
        # Ahead of real time so rows enqueued with the real `utcnow()` are already due.
        self.base = datetime.now(timezone.utc) + timedelta(seconds=30)
        self.offset = 0.0

    def wall(self) -> datetime:
        return self.base + timedelta(seconds=self.offset)

    def mono(self) -> float:
        return self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    async def sleep(self, seconds: float) -> None:
        # Concurrent sleepers must not add up: time moves to the latest wake-up asked for.
        target = self.offset + seconds
        await asyncio.sleep(0)
        self.offset = max(self.offset, target)


class FakeChannel:
    """Records every send; `script[chat_id]` lists what the next sends to that chat do
    (an exception to raise, or None for success). `default` is used when the script is empty."""

    name = "telegram"

    def __init__(self, time: FakeTime | None = None, delay: float = 0.0) -> None:
        self.calls: list[tuple[int, str, dict, float | None]] = []
        self.script: dict[int, list[BaseException | None]] = defaultdict(list)
        self.default: dict[int, BaseException] = {}
        self.time = time
        self.delay = delay

    async def send(self, recipient: Recipient, kind: str, payload: dict) -> None:
        assert isinstance(recipient, Recipient)
        self.calls.append((recipient.chat_id, kind, payload, self.time.mono() if self.time else None))
        if self.delay:
            await asyncio.sleep(self.delay)
        queue = self.script.get(recipient.chat_id)
        outcome = queue.pop(0) if queue else self.default.get(recipient.chat_id)
        if outcome is not None:
            raise outcome

    def sent_to(self, chat_id: int) -> list[int]:
        return [p["n"] for c, _, p, _ in self.calls if c == chat_id]


def settings(**kw) -> Settings:
    values = dict(send_rate_per_second=1000, send_rate_per_chat_seconds=1.0, dispatch_poll_seconds=0.05,
                  send_max_attempts=8)
    values.update(kw)
    return Settings(_env_file=None, **values)


def make_dispatcher(db, channel, time: FakeTime, *, per_chat: float = 1.0, **kw) -> Dispatcher:
    s = settings(send_rate_per_chat_seconds=per_chat, send_max_attempts=kw.pop("send_max_attempts", 8))
    limiter = RateLimiter(s.send_rate_per_second, per_chat, clock=time.mono, sleep=time.sleep)
    return Dispatcher(db.sessions, channel, s, limiter=limiter, clock=time.wall, sleep=time.sleep, **kw)


# --------------------------------------------------------------------------- rows


async def make_student(session) -> Student:
    n = next(_ids)
    school = await session.scalar(select(School).where(School.external_id == "sch-1"))
    if school is None:
        school = School(source="demo", external_id="sch-1", last_seq=1, name="СОШ №1", timezone="Asia/Yekaterinburg")
        session.add(school)
    student = Student(
        source="demo", external_id=f"st-{n}", last_seq=n, school_ref="sch-1", class_ref="5a",
        full_name=f"Иванов Иван {n}",
    )
    session.add(student)
    await session.flush()
    return student


async def make_parent(db, *, consent: str = "granted", link: str | None = "approved", language: str = "ru"):
    """An account (chat id == telegram id) with one child; returns (account_id, chat_id, student_id)."""
    async with db.sessions.begin() as s:
        student = await make_student(s)
        tg = 10_000 + next(_ids)
        account = Account(telegram_id=tg, chat_id=tg, language=language, consent_state=consent,
                          first_name="Анна")
        s.add(account)
        await s.flush()
        if link:
            s.add(Link(account_id=account.id, student_id=student.id, status=link, method="phone"))
        return account.id, tg, student.id


async def add_mark(db, account_id: int, student_id: int, n: int, *, kind: str = MARK_NEW, **kw) -> int:
    payload = {"student_id": student_id, "student_name": "Иван", "subject": "Алгебра", "value": "5",
               "kind": "answer", "weight": 1, "date": "2026-11-30", "comment": None, "n": n}
    async with db.sessions.begin() as s:
        row = await outbox.enqueue(s, account_id=account_id, kind=kind, payload=payload,
                                   dedupe_key=f"t:{next(_ids)}", **kw)
        return row.id


async def rows(db, *ids: int) -> list[OutboxMessage]:
    async with db.sessions() as s:
        found = {r.id: r for r in (await s.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))).all()}
    return [found[i] for i in ids]


async def account(db, account_id: int) -> Account:
    async with db.sessions() as s:
        return await s.get(Account, account_id)


# --------------------------------------------------------------------------- tests


async def test_fake_channel_is_a_channel():
    assert isinstance(FakeChannel(), Channel)


async def test_success_marks_sent_exactly_once(db):
    t = FakeTime()
    ch = FakeChannel(t)
    d = make_dispatcher(db, ch, t)
    a1, chat1, st1 = await make_parent(db)
    a2, chat2, st2 = await make_parent(db, language="en")
    r1 = await add_mark(db, a1, st1, 1)
    r2 = await add_mark(db, a2, st2, 2)

    assert await d.run_once() == 2
    assert sorted(c[0] for c in ch.calls) == [chat1, chat2]
    assert {c[0]: c for c in ch.calls}[chat1][1] == MARK_NEW
    for row in await rows(db, r1, r2):
        assert row.status == outbox.SENT and row.sent_at is not None and row.claimed_at is None

    t.advance(10)
    assert await d.run_once() == 0
    assert len(ch.calls) == 2


async def test_recipient_language_is_passed(db):
    t = FakeTime()
    seen: list[Recipient] = []

    class C(FakeChannel):
        async def send(self, recipient, kind, payload):
            seen.append(recipient)

    a, chat, st = await make_parent(db, language="en")
    await add_mark(db, a, st, 1)
    await make_dispatcher(db, C(), t).run_once()
    assert seen == [Recipient(account_id=a, chat_id=chat, language="en")]


async def test_retry_after_pauses_everything_then_sends(db):
    t = FakeTime()
    ch = FakeChannel(t)
    d = make_dispatcher(db, ch, t, concurrency=1)
    a1, chat1, st1 = await make_parent(db)
    a2, chat2, st2 = await make_parent(db)
    r1 = await add_mark(db, a1, st1, 1)
    r2 = await add_mark(db, a2, st2, 2)
    ch.script[chat1] = [RetryAfter(5)]

    assert await d.run_once() == 0
    assert [c[0] for c in ch.calls] == [chat1]  # the second row of the batch was given back unsent
    row1, row2 = await rows(db, r1, r2)
    assert row1.status == outbox.PENDING and row1.attempts == 0
    assert row1.next_attempt_at == t.wall() + timedelta(seconds=5)
    assert row2.status == outbox.PENDING and row2.attempts == 0 and row2.next_attempt_at >= t.wall()
    assert d.limiter.paused_for() == pytest.approx(5)
    assert d.idle_delay() == pytest.approx(5)

    t.advance(4.9)
    assert await d.run_once() == 0
    assert len(ch.calls) == 1  # nothing is sent before the pause has passed

    t.advance(0.1)
    assert await d.run_once() == 2
    assert sorted(c[0] for c in ch.calls[1:]) == [chat1, chat2]
    assert [r.status for r in await rows(db, r1, r2)] == [outbox.SENT, outbox.SENT]


async def test_recipient_gone_deactivates_and_cancels_the_rest(db):
    t = FakeTime()
    ch = FakeChannel(t)
    d = make_dispatcher(db, ch, t)
    a1, chat1, st1 = await make_parent(db)
    a2, chat2, st2 = await make_parent(db)
    first = await add_mark(db, a1, st1, 1)
    rest = [await add_mark(db, a1, st1, n) for n in (2, 3)]
    later = await add_mark(db, a1, st1, 4, not_before=t.wall() + timedelta(hours=1))
    other = await add_mark(db, a2, st2, 5)
    ch.script[chat1] = [RecipientGone("Forbidden: bot was blocked by the user")]

    assert await d.run_once() == 2
    acc = await account(db, a1)
    assert acc.is_active is False and "blocked" in acc.inactive_reason
    assert (await account(db, a2)).is_active is True
    r_first, *r_rest = await rows(db, first, *rest, later)
    assert r_first.status == outbox.FAILED
    assert all(r.status == outbox.CANCELLED for r in r_rest)
    assert (await rows(db, other))[0].status == outbox.SENT

    t.advance(7200)
    assert await d.run_once() == 0
    assert ch.sent_to(chat1) == [1]


async def test_transient_errors_back_off_then_fail(db, caplog):
    t = FakeTime()
    ch = FakeChannel(t)
    d = make_dispatcher(db, ch, t, send_max_attempts=4)
    a, chat, st = await make_parent(db)
    r = await add_mark(db, a, st, 1)
    ch.script[chat] = [TransientError("Internal Server Error"), ValueError("Иванов Иван 5 по алгебре")]
    ch.default[chat] = TimeoutError()

    caplog.set_level(logging.DEBUG)
    expected_backoff = [2, 4, 8]
    for attempt, backoff in enumerate(expected_backoff, start=1):
        assert await d.run_once() == 0
        (row,) = await rows(db, r)
        assert row.status == outbox.PENDING and row.attempts == attempt
        assert row.next_attempt_at == t.wall() + timedelta(seconds=backoff)
        t.advance(backoff - 0.5)
        assert await d.run_once() == 0
        assert len(ch.calls) == attempt  # not retried before its time
        t.advance(0.5)
    assert await d.run_once() == 1
    (row,) = await rows(db, r)
    assert row.status == outbox.FAILED and row.attempts == 4
    assert len(ch.calls) == 4
    t.advance(1000)
    assert await d.run_once() == 0 and len(ch.calls) == 4
    # The unexpected exception was logged by type, never with its text (it could quote a mark).
    assert "ValueError" in caplog.text
    assert "Иванов" not in caplog.text and "алгебре" not in caplog.text


async def test_backoff_is_capped(db):
    t = FakeTime()
    ch = FakeChannel(t)
    d = make_dispatcher(db, ch, t, send_max_attempts=20)
    a, chat, st = await make_parent(db)
    r = await add_mark(db, a, st, 1)
    async with db.sessions.begin() as s:
        await s.execute(update(OutboxMessage).where(OutboxMessage.id == r).values(attempts=12))
    ch.default[chat] = TransientError("Bad Gateway")
    await d.run_once()
    (row,) = await rows(db, r)
    assert row.attempts == 13 and row.next_attempt_at == t.wall() + timedelta(seconds=300)


async def test_send_timeout_is_transient(db):
    t = FakeTime()
    ch = FakeChannel(t, delay=1.0)
    d = make_dispatcher(db, ch, t, send_timeout=0.05)
    a, chat, st = await make_parent(db)
    r = await add_mark(db, a, st, 1)
    assert await d.run_once() == 0
    (row,) = await rows(db, r)
    assert row.status == outbox.PENDING and row.attempts == 1 and row.last_error == "timeout"


async def test_permanent_error_fails_without_retry(db):
    t = FakeTime()
    ch = FakeChannel(t)
    d = make_dispatcher(db, ch, t)
    a, chat, st = await make_parent(db)
    r = await add_mark(db, a, st, 1)
    r2 = await add_mark(db, a, st, 2)
    ch.script[chat] = [PermanentError("Bad Request: can't parse entities")]
    assert await d.run_once() == 1
    (row,) = await rows(db, r)
    assert row.status == outbox.FAILED and "parse" in row.last_error
    assert (await account(db, a)).is_active is True
    t.advance(5)
    assert await d.run_once() == 1  # the account's next row goes on
    assert ch.sent_to(chat) == [1, 2]
    assert (await rows(db, r2))[0].status == outbox.SENT


async def test_withdrawn_consent_or_missing_link_cancels(db):
    t = FakeTime()
    ch = FakeChannel(t)
    d = make_dispatcher(db, ch, t)
    withdrawn, chat_w, st_w = await make_parent(db, consent="withdrawn")
    revoked, chat_r, st_r = await make_parent(db, link="revoked")
    nolink, chat_n, st_n = await make_parent(db, link=None)
    ok, chat_ok, st_ok = await make_parent(db)
    r_w = await add_mark(db, withdrawn, st_w, 1)
    r_r = await add_mark(db, revoked, st_r, 2)
    r_n = await add_mark(db, nolink, st_n, 3)
    r_other_child = await add_mark(db, ok, st_r, 4)  # approved for another child, not this one
    r_decision = await add_mark(db, withdrawn, st_w, 5, kind=LINK_DECISION)  # parent kind: needs consent

    assert await d.run_once() == 4  # one row per account per round
    assert await d.run_once() == 1
    assert ch.calls == []
    for row in await rows(db, r_w, r_r, r_n, r_other_child, r_decision):
        assert row.status == outbox.CANCELLED, row.id
    w, r, n, o, dec = await rows(db, r_w, r_r, r_n, r_other_child, r_decision)
    assert "consent" in w.last_error and "consent" in dec.last_error
    assert "link" in r.last_error and "link" in n.last_error and "link" in o.last_error


async def test_admin_kinds_need_no_consent_but_an_active_account(db):
    t = FakeTime()
    ch = FakeChannel(t)
    d = make_dispatcher(db, ch, t)
    admin, chat_a, _ = await make_parent(db, consent="none", link=None)
    gone, chat_g, _ = await make_parent(db, consent="none", link=None)
    async with db.sessions.begin() as s:
        await s.execute(update(Account).where(Account.id == gone).values(is_active=False))
    payload_kw = dict(kind=LINK_REQUEST)
    r_a = await add_mark(db, admin, 0, 1, **payload_kw)
    r_g = await add_mark(db, gone, 0, 2, **payload_kw)
    assert await d.run_once() == 2
    a, g = await rows(db, r_a, r_g)
    assert a.status == outbox.SENT and g.status == outbox.CANCELLED
    assert [c[0] for c in ch.calls] == [chat_a]


async def test_linked_kind_with_bad_payload_fails(db):
    t = FakeTime()
    a, chat, st = await make_parent(db)
    async with db.sessions.begin() as s:
        row = await outbox.enqueue(s, account_id=a, kind=MARK_NEW, payload={"value": "5"}, dedupe_key="bad")
    assert await make_dispatcher(db, FakeChannel(t), t).run_once() == 1
    assert (await rows(db, row.id))[0].status == outbox.FAILED


async def test_stale_sending_row_is_reclaimed_sent_rows_never_resent(db):
    t = FakeTime()
    ch = FakeChannel(t)
    d = make_dispatcher(db, ch, t, lease_seconds=120)
    a1, chat1, st1 = await make_parent(db)
    a2, chat2, st2 = await make_parent(db)
    a3, chat3, st3 = await make_parent(db)
    stale = await add_mark(db, a1, st1, 1)
    fresh = await add_mark(db, a2, st2, 2)
    done = await add_mark(db, a3, st3, 3)
    async with db.sessions.begin() as s:
        await s.execute(update(OutboxMessage).where(OutboxMessage.id == stale)
                        .values(status=outbox.SENDING, claimed_at=t.wall() - timedelta(seconds=121)))
        await s.execute(update(OutboxMessage).where(OutboxMessage.id == fresh)
                        .values(status=outbox.SENDING, claimed_at=t.wall() - timedelta(seconds=10)))
        await s.execute(update(OutboxMessage).where(OutboxMessage.id == done)
                        .values(status=outbox.SENT, sent_at=t.wall()))

    assert await d.run_once() == 1
    assert [c[0] for c in ch.calls] == [chat1]
    s_row, f_row, d_row = await rows(db, stale, fresh, done)
    assert s_row.status == outbox.SENT and s_row.attempts == 1
    assert f_row.status == outbox.SENDING  # its sender may still be at work
    assert d_row.status == outbox.SENT

    t.advance(111)
    assert await d.run_once() == 1
    assert [c[0] for c in ch.calls] == [chat1, chat2]
    assert ch.sent_to(chat3) == []


async def test_row_that_keeps_killing_its_sender_ends_failed(db):
    t = FakeTime()
    d = make_dispatcher(db, FakeChannel(t), t, send_max_attempts=3)
    a, chat, st = await make_parent(db)
    r = await add_mark(db, a, st, 1)
    async with db.sessions.begin() as s:
        await s.execute(update(OutboxMessage).where(OutboxMessage.id == r)
                        .values(status=outbox.SENDING, attempts=2, claimed_at=t.wall() - timedelta(hours=1)))
    await d.run_once()
    (row,) = await rows(db, r)
    assert row.status == outbox.FAILED and row.attempts == 3 and d.channel.calls == []


async def test_order_per_account_and_per_chat_spacing(db):
    t = FakeTime()
    ch = FakeChannel(t)
    d = make_dispatcher(db, ch, t, per_chat=1.0)
    a, chat, st = await make_parent(db)
    b, chat_b, st_b = await make_parent(db)
    for n in range(1, 6):
        await add_mark(db, a, st, n)
    await add_mark(db, b, st_b, 100)

    assert await d.run_once() == 2  # one row per account per round
    assert await d.run_once() == 0  # the chat is inside its interval: nothing claimed...
    assert d.last_claimed == 0
    c, chat_c, st_c = await make_parent(db)
    await add_mark(db, c, st_c, 200)
    assert await d.run_once() == 1  # ...but other chats are served meanwhile
    assert ch.sent_to(chat_c) == [200]
    assert 0 < d.idle_delay() <= 1.0

    ch.script[chat] = [TransientError("Bad Gateway")]  # the 2nd row fails once
    for _ in range(30):
        t.advance(0.5)
        await d.run_once()
    assert ch.sent_to(chat) == [1, 2, 2, 3, 4, 5]  # the retried row kept its place
    times = [m for c_, _, _, m in ch.calls if c_ == chat]
    assert all(b_ - a_ >= 1.0 - 1e-9 for a_, b_ in zip(times, times[1:]))


async def test_scheduled_row_does_not_hold_back_later_rows(db):
    t = FakeTime()
    ch = FakeChannel(t)
    d = make_dispatcher(db, ch, t)
    a, chat, st = await make_parent(db)
    await add_mark(db, a, st, 1, not_before=t.wall() + timedelta(hours=8))
    await add_mark(db, a, st, 2)
    assert await d.run_once() == 1
    assert ch.sent_to(chat) == [2]


async def test_only_rows_of_the_channel_are_claimed(db):
    t = FakeTime()
    ch = FakeChannel(t)
    a, chat, st = await make_parent(db)
    r = await add_mark(db, a, st, 1, channel="email")
    assert await make_dispatcher(db, ch, t).run_once() == 0
    assert (await rows(db, r))[0].status == outbox.PENDING and ch.calls == []


async def test_global_rate_is_respected(db):
    t = FakeTime()
    ch = FakeChannel(t)
    s = settings(send_rate_per_second=10)
    limiter = RateLimiter(10, 1.0, burst=2, clock=t.mono, sleep=t.sleep)
    d = Dispatcher(db.sessions, ch, s, limiter=limiter, clock=t.wall, sleep=t.sleep)
    for _ in range(40):
        a, chat, st = await make_parent(db)
        await add_mark(db, a, st, 1)
    finished = 0
    while finished < 40:
        finished += await d.run_once()
    times = sorted(c[3] for c in ch.calls)
    assert len(times) == 40
    # 40 messages at 10/s with a burst of 2: at least 3.8 s of (fake) time.
    assert times[-1] - times[0] >= (40 - 2) / 10 - 1e-6


async def test_run_loop_wakes_and_stops(db):
    ch = FakeChannel()
    s = settings(dispatch_poll_seconds=30)
    d = Dispatcher(db.sessions, ch, s, limiter=RateLimiter(1000, 0))
    stop = asyncio.Event()
    task = asyncio.create_task(d.run(stop))
    await asyncio.sleep(0.1)  # idle now, for up to 30 s
    a, chat, st = await make_parent(db)
    await add_mark(db, a, st, 1)
    d.wake()
    for _ in range(100):
        if ch.calls:
            break
        await asyncio.sleep(0.02)
    assert ch.sent_to(chat) == [1]
    stop.set()
    await asyncio.wait_for(task, 2)


async def test_two_dispatchers_never_send_a_row_twice(pg_db):
    db = pg_db
    n_accounts, per_account = 40, 6
    expected: dict[int, list[int]] = {}
    n = 0
    for _ in range(n_accounts):
        a, chat, st = await make_parent(db)
        expected[chat] = []
        for _ in range(per_account):
            n += 1
            await add_mark(db, a, st, n)
            expected[chat].append(n)

    ch = FakeChannel(delay=0.001)

    def make() -> Dispatcher:
        s = settings()
        return Dispatcher(db.sessions, ch, s, limiter=RateLimiter(1e6, 0), batch_size=7, concurrency=4)

    async def drain(d: Dispatcher) -> int:
        done = 0
        for _ in range(1000):
            done += await d.run_once()
            async with db.sessions() as s:
                left = await s.scalar(select(OutboxMessage.id).where(
                    OutboxMessage.status.in_((outbox.PENDING, outbox.SENDING))).limit(1))
            if left is None:
                return done
        raise AssertionError("did not drain")

    done = await asyncio.gather(drain(make()), drain(make()), drain(make()))
    sent = Counter(p["n"] for _, _, p, _ in ch.calls)
    assert len(sent) == n_accounts * per_account
    assert max(sent.values()) == 1
    assert sum(done) == n_accounts * per_account
    assert sum(1 for x in done if x) >= 2, done  # they really worked side by side
    for chat, ns in expected.items():
        assert ch.sent_to(chat) == ns  # order per account holds across processes
    async with db.sessions() as s:
        statuses = set((await s.scalars(select(OutboxMessage.status))).all())
    assert statuses == {outbox.SENT}


async def test_row_waiting_too_long_in_its_batch_is_given_back_not_sent(db):
    t = FakeTime()

    class Slow(FakeChannel):
        async def send(self, recipient, kind, payload):
            await super().send(recipient, kind, payload)
            t.advance(29)  # a send that nearly hits its timeout

    ch = Slow(t)
    d = make_dispatcher(db, ch, t, concurrency=1, lease_seconds=60, send_timeout=30)
    a1, chat1, st1 = await make_parent(db)
    a2, chat2, st2 = await make_parent(db)
    r1 = await add_mark(db, a1, st1, 1)
    r2 = await add_mark(db, a2, st2, 2)
    assert await d.run_once() == 1
    row1, row2 = await rows(db, r1, r2)
    assert row1.status == outbox.SENT
    assert row2.status == outbox.PENDING and row2.claimed_at is None and row2.attempts == 0
    assert await d.run_once() == 1
    assert [c[0] for c in ch.calls] == [chat1, chat2]


def test_lease_must_exceed_send_timeout():
    with pytest.raises(ValueError):
        Dispatcher(None, FakeChannel(), settings(), lease_seconds=30, send_timeout=30)


def test_short_lease_gets_a_shorter_send_timeout():
    d = Dispatcher(None, FakeChannel(), settings(), lease_seconds=3)
    assert 0 < d.send_timeout < 3
    assert Dispatcher(None, FakeChannel(), settings(), lease_seconds=120).send_timeout == 30
