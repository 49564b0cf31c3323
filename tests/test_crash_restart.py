"""SIGKILL mid-sync and mid-dispatch, then restart: no change lost, nothing recorded as sent
is sent again (a subprocess runs `python -m bot`)."""
from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.sandbox.telegram_server import LocalBotApi
from services.demo.feed import ChangeFeed
from services.demo.server import JournalServer
from storage.db import create_engine, create_session_factory
from storage.models import Account, Link, OutboxMessage, Student, SyncState
from tests.e2e import BOT_TOKEN, JOURNAL_TOKEN, text_of
from tests.journal_data import CLASS, MATH, SCHOOL, small_school

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PUPILS = 8
MARKS_PER_PUPIL = 6
FIRST_DAY = date(2026, 11, 16)


def day(i: int) -> date:
    return FIRST_DAY + timedelta(days=i)


def service_env(api: LocalBotApi, journal: JournalServer, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOURNAL_", "BOT_", "DATABASE_", "ADMIN_"))}
    env.update(
        BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_API_URL=api.base_url,
        DATABASE_URL=db_url,
        JOURNAL_URL=journal.url,
        JOURNAL_TOKEN=JOURNAL_TOKEN,
        JOURNAL_POLL_SECONDS="0.5",
        JOURNAL_PAGE_LIMIT="4",
        DISPATCH_POLL_SECONDS="0.1",
        DISPATCH_LEASE_SECONDS="3",
        SEND_RATE_PER_SECOND="6",
        # calm delivery off: one message per mark at once, whatever the time of day
        NOTIFY_GRACE_SECONDS="0",
        NOTIFY_COALESCE_SECONDS="0",
        NOTIFY_QUIET_HOURS="off",
        LOG_LEVEL="WARNING",
        HTTP_PORT="0",
        PYTHONUNBUFFERED="1",
    )
    return env


async def start_service(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as stream:  # a file, not a pipe: a full pipe would stall the service
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=ROOT, env=env, stdout=stream, stderr=stream,
        )


async def wait_for(check, timeout: float, what: str, log: Path | None = None):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.02)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}; service log:\n{tail}")


async def test_sigkill_mid_sync_and_mid_dispatch_loses_nothing(db_url, tmp_path):
    log = tmp_path / "service.log"
    feed = ChangeFeed()
    small_school(feed)
    for i in range(2, PUPILS + 1):
        feed.upsert("student", f"s-{i}", {"school_id": SCHOOL, "class_id": CLASS, "full_name": f"Петров{i} Пётр Ильич"})
    engine = create_engine(db_url)
    sessions = create_session_factory(engine)
    proc = None
    async with LocalBotApi() as api, JournalServer(feed, token=JOURNAL_TOKEN) as journal:
        env = service_env(api, journal, db_url)
        try:
            proc = await start_service(env, log)

            async def bootstrapped():
                async with sessions() as s:
                    return await s.scalar(select(SyncState.bootstrapped_at).where(SyncState.source == "journal"))

            await wait_for(bootstrapped, 30, "the first full sync", log)

            # Eight linked, consenting parents, one per pupil.
            chats: dict[str, int] = {}
            async with sessions.begin() as s:
                for i in range(1, PUPILS + 1):
                    chat = 6000 + i
                    api.add_user(chat, f"Родитель{i}")
                    student = await s.scalar(select(Student).where(Student.external_id == f"s-{i}"))
                    account = Account(telegram_id=chat, chat_id=chat, consent_state="granted", language="ru")
                    s.add(account)
                    await s.flush()
                    s.add(Link(account_id=account.id, student_id=student.id, status="approved", method="phone"))
                    chats[f"s-{i}"] = chat

            # 48 new marks, served slowly in pages of 4, delivered at most 6 per second.
            journal.delay_next(0.15, times=1000)
            for n in range(MARKS_PER_PUPIL):
                for i in range(1, PUPILS + 1):
                    feed.upsert("mark", f"new-{i}-{n}", {
                        "student_id": f"s-{i}", "subject_id": MATH, "date": day(n).isoformat(),
                        "value": "5", "weight": 1, "kind": "answer",
                    })
            last_seq = feed.last_seq

            async def mid_everything():
                async with sessions() as s:
                    cursor = await s.scalar(select(SyncState.cursor).where(SyncState.source == "journal"))
                sent = sum(len(api.bot_messages(c)) for c in chats.values())
                return sent >= 4 and cursor is not None and int(cursor) < last_seq

            await wait_for(mid_everything, 30, "sync and dispatch both under way", log)
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            async with sessions() as s:
                sent_rows = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.status == "sent")))
                cursor = await s.scalar(select(SyncState.cursor).where(SyncState.source == "journal"))
            assert sent_rows and int(cursor) < last_seq, "the kill did not land mid-sync and mid-dispatch"

            proc = await start_service(env, log)

            def delivered() -> Counter:
                got: Counter = Counter()
                for pupil, chat in chats.items():
                    for message in api.bot_messages(chat):
                        for n in range(MARKS_PER_PUPIL):
                            if day(n).strftime("%d.%m.%Y") in text_of(message):
                                got[(chat, n)] += 1
                return got

            async def all_delivered():
                return len(delivered()) == PUPILS * MARKS_PER_PUPIL

            await wait_for(all_delivered, 60, "every mark delivered after the restart", log)
            await asyncio.sleep(4)  # past the lease: a late duplicate would show now
            got = delivered()
            chat_of_account = {}
            async with sessions() as s:
                for account in await s.scalars(select(Account)):
                    chat_of_account[account.id] = account.chat_id
            for row in sent_rows:
                n = (date.fromisoformat(row.payload["date"]) - FIRST_DAY).days
                assert got[(chat_of_account[row.account_id], n)] == 1, "a message recorded as sent was sent again"
            duplicates = {k: v for k, v in got.items() if v > 1}
            assert len(duplicates) <= 1, f"more than the one in-flight message repeated: {duplicates}"
        finally:
            if proc is not None and proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), 15)
                except asyncio.TimeoutError:
                    proc.kill()
            await engine.dispose()
    assert proc.returncode == 0, log.read_text(errors="replace")[-3000:]
