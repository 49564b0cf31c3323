"""Figures for the outbox dispatcher: how far the software is from Telegram's physical limit.

    .venv/bin/python bench/dispatch_bench.py [--rows 2000] [--chats 400]

Prints, without asserting anything:

1. rate-limiter decisions per second (pure CPU, fake clock);
2. dispatcher throughput on SQLite with an in-memory channel and the limits raised — what
   the database and the claim/record cycle can carry — next to the configured 25/s and
   Telegram's ~30/s;
3. the same with a simulated network round trip per send (real sleeps, a quarter of the
   rows), to show that the sends in flight hide the latency;
4. the configured limits (25/s in total, 1 s per chat) on a fake clock: simulated seconds,
   achieved rate / configured rate, and the limits as observed (they must hold);
5. a tenth of a quarter of the rows for one chat, in real time with both limits scaled ×10: the
   other chats must not wait for it, and it should still get about one message a second.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from services.config import Settings  # noqa: E402
from services.notify.channel import Recipient  # noqa: E402
from services.notify.dispatcher import Dispatcher  # noqa: E402
from services.notify.kinds import MARK_NEW  # noqa: E402
from services.notify.ratelimit import RateLimiter  # noqa: E402
from storage.db import create_engine, create_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Account, Link, OutboxMessage, School, Student  # noqa: E402

TELEGRAM_LIMIT = 30.0


class FakeTime:
    def __init__(self) -> None:
        self.base = datetime.now(timezone.utc) + timedelta(seconds=5)
        self.offset = 0.0

    def wall(self) -> datetime:
        return self.base + timedelta(seconds=self.offset)

    def mono(self) -> float:
        return self.offset

    async def sleep(self, seconds: float) -> None:
        target = self.offset + seconds
        await asyncio.sleep(0)
        self.offset = max(self.offset, target)


class MemoryChannel:
    name = "telegram"

    def __init__(self, clock=time.monotonic, latency: float = 0.0) -> None:
        self.clock = clock
        self.latency = latency
        self.sent: list[tuple[float, int]] = []

    async def send(self, recipient: Recipient, kind: str, payload: dict) -> None:
        self.sent.append((self.clock(), recipient.chat_id))
        if self.latency:
            await asyncio.sleep(self.latency)


def bench_limiter(n: int = 300_000) -> None:
    t = FakeTime()
    lim = RateLimiter(25, 1.0, clock=t.mono)
    granted = 0
    start = time.perf_counter()
    for i in range(n):
        if lim.try_acquire(i % 400) == 0:
            granted += 1
        t.offset += 0.001
    elapsed = time.perf_counter() - start
    rate = n / elapsed
    print(f"1. limiter: {rate:,.0f} decisions/s ({granted} granted over {t.offset:.0f} simulated s)"
          f" = {rate / TELEGRAM_LIMIT:,.0f}x Telegram's {TELEGRAM_LIMIT:.0f}/s")


async def make_db(path: Path, rows: int, chats: int, hot: int = 0):
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    await upgrade(engine)
    sessions = create_session_factory(engine)
    async with sessions.begin() as s:
        s.add(School(source="b", external_id="s", last_seq=1, name="School", timezone="Asia/Yekaterinburg"))
        await s.execute(insert(Student), [
            dict(id=i + 1, source="b", external_id=f"st{i}", last_seq=1, school_ref="s", class_ref="c",
                 full_name=f"Pupil {i}") for i in range(chats)])
        await s.execute(insert(Account), [
            dict(id=i + 1, telegram_id=100_000 + i, chat_id=100_000 + i, language="ru", consent_state="granted",
                 is_active=True) for i in range(chats)])
        await s.execute(insert(Link), [
            dict(account_id=i + 1, student_id=i + 1, status="approved", method="phone") for i in range(chats)])
        now = datetime.now(timezone.utc) - timedelta(seconds=1)
        await s.execute(insert(OutboxMessage), [
            dict(account_id=acc, channel="telegram", kind=MARK_NEW, dedupe_key=f"k{i}", status="pending",
                 attempts=0, next_attempt_at=now, created_at=now,
                 payload={"student_id": acc, "student_name": "P", "subject": "S", "value": "5",
                          "kind": "answer", "weight": 1, "date": "2026-11-30"})
            # Every (rows/hot)-th row goes to chat 1, the "hot" one; the rest round-robin.
            for i in range(rows)
            for acc in [1 if hot and i % (rows // hot) == 0 else i % chats + 1]])
    return engine, sessions


def settings(rate: float, per_chat: float) -> Settings:
    return Settings(_env_file=None, send_rate_per_second=rate, send_rate_per_chat_seconds=per_chat,
                    dispatch_poll_seconds=1.0, send_max_attempts=8)


async def drain(d: Dispatcher, rows: int, on_idle=None) -> int:
    done = 0
    idle = 0
    while done < rows:
        n = await d.run_once()
        done += n
        if d.last_claimed == 0:
            idle += 1
            if on_idle:
                await on_idle(d.idle_delay())
            else:
                await asyncio.sleep(d.idle_delay())
    return idle


async def bench_raised(tmp: Path, rows: int, chats: int, latency: float, label: str) -> None:
    engine, sessions = await make_db(tmp / f"raised{latency}.sqlite3", rows, chats)
    try:
        ch = MemoryChannel(latency=latency)
        d = Dispatcher(sessions, ch, settings(1e6, 0), limiter=RateLimiter(1e6, 0), batch_size=100)
        start = time.perf_counter()
        await drain(d, rows)
        elapsed = time.perf_counter() - start
    finally:
        await engine.dispose()
    rate = rows / elapsed
    print(f"{label}: {rows} rows / {chats} chats in {elapsed:.2f} s = {rate:,.0f} msg/s"
          f" = {rate / 25:.1f}x the configured 25/s, {rate / TELEGRAM_LIMIT:.1f}x Telegram's ~30/s")


async def bench_configured(tmp: Path, rows: int, chats: int) -> None:
    engine, sessions = await make_db(tmp / "configured.sqlite3", rows, chats)
    t = FakeTime()
    try:
        ch = MemoryChannel(clock=t.mono)
        s = settings(25, 1.0)
        lim = RateLimiter.from_settings(s, clock=t.mono, sleep=t.sleep)
        d = Dispatcher(sessions, ch, s, limiter=lim, clock=t.wall, sleep=t.sleep)
        start = time.perf_counter()
        idle = await drain(d, rows, on_idle=t.sleep)
        elapsed = time.perf_counter() - start
    finally:
        await engine.dispose()
    times = [at for at, _ in ch.sent]
    span = max(times) - min(times)
    rate = (rows - 1) / span if span else float("inf")
    ideal = (rows - lim.burst) / 25
    per_chat: dict[int, list[float]] = defaultdict(list)
    for at, chat in ch.sent:
        per_chat[chat].append(at)
    min_gap = min(b - a for ts in per_chat.values() for a, b in zip(ts, ts[1:]))
    times.sort()
    j = worst = 0
    for i, at in enumerate(times):
        while times[j] <= at - 1.0:
            j += 1
        worst = max(worst, i - j + 1)
    print(f"4. configured limits (25/s, 1 s/chat), fake clock: {rows} rows / {chats} chats in {span:.1f} simulated s"
          f" (ideal {ideal:.1f} s) = {rate:.2f} msg/s = {rate / 25:.0%} of 25/s, {rate / TELEGRAM_LIMIT:.0%} of ~30/s;"
          f" observed: max {worst} msg in any 1 s, min per-chat gap {min_gap:.2f} s; {idle} idle rounds;"
          f" {elapsed:.1f} s real")


async def bench_hot_chat(tmp: Path, rows: int, chats: int, scale: float = 10.0) -> None:
    """Real time, with both limits scaled by `scale` (rate × scale, interval / scale): a fake
    clock cannot model sends to other chats going on while one chat waits."""
    hot = rows // 10
    engine, sessions = await make_db(tmp / "hot.sqlite3", rows, chats, hot=hot)
    try:
        ch = MemoryChannel()
        s = settings(25 * scale, 1.0 / scale)
        # The batch is what the default would be at 25/s: one second of sending, scaled too.
        d = Dispatcher(sessions, ch, s, batch_size=25)
        await drain(d, rows)
    finally:
        await engine.dispose()
    hot_chat = 100_000
    start = ch.sent[0][0]
    n_hot = sum(1 for _, chat in ch.sent if chat == hot_chat)
    others = (max(at for at, chat in ch.sent if chat != hot_chat) - start) * scale
    hot_done = (max(at for at, chat in ch.sent if chat == hot_chat) - start) * scale
    ideal = (rows - n_hot) / 25
    print(f"5. one hot chat ({n_hot} of {rows} rows), configured limits scaled x{scale:g} in real time,"
          f" in configured seconds: the other chats done after {others:.1f} s (ideal {ideal:.1f} s, {ideal / others:.0%});"
          f" the hot chat after {hot_done:.1f} s (at 1 msg/s: {n_hot - 1} s, {(n_hot - 1) / hot_done:.0%})")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--chats", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.05, help="simulated round trip per send, s (run 3)")
    args = parser.parse_args()
    bench_limiter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        await bench_raised(tmp_path, args.rows, args.chats, 0.0, "2. SQLite, limits raised, no latency")
        rows = max(1, args.rows // 4)  # real sleeps: a quarter of the rows is enough for the figure
        await bench_raised(tmp_path, rows, min(args.chats, rows), args.latency,
                           f"3. SQLite, limits raised, {args.latency * 1000:.0f} ms per send")
        await bench_configured(tmp_path, args.rows, args.chats)
        await bench_hot_chat(tmp_path, max(10, args.rows // 4), args.chats)


if __name__ == "__main__":
    asyncio.run(main())
