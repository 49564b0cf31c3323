"""Figures for journal sync: how fast `apply` takes a school's feed, and what a replay costs.

    .venv/bin/python bench/sync_bench.py [--pg postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

Prints, without asserting anything, for SQLite and (if reachable) PostgreSQL:

1. the first full sync of the generated demo school (about 5k records) through the real
   exchange-v1 HTTP adapter in pages of 500: seconds, records per second, peak Python memory;
2. a replay of the whole feed from the start (nothing changed): seconds and the ratio to (1);
3. 500 new marks after the first sync for pupils with linked parents: seconds and outbox rows.
The ratios in one run are the figures to compare between runs; absolute seconds depend on the
machine's load.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, update  # noqa: E402

from services.demo.feed import ChangeFeed  # noqa: E402
from services.demo.journal import populate_feed  # noqa: E402
from services.demo.school import generate_school  # noqa: E402
from services.demo.server import JournalServer  # noqa: E402
from services.demo.ticker import make_new_mark  # noqa: E402
from services.sync.exchange_v1 import ExchangeV1Client  # noqa: E402
from services.sync.runner import JournalSync  # noqa: E402
from storage.db import create_engine, create_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Account, Link, Student, SyncState  # noqa: E402


async def bench(url: str, label: str) -> None:
    import random
    from datetime import datetime
    from zoneinfo import ZoneInfo

    engine = create_engine(url)
    await upgrade(engine)
    sessions = create_session_factory(engine)
    feed = ChangeFeed()
    tz = ZoneInfo("Asia/Yekaterinburg")
    today = date(2026, 11, 25)
    populate_feed(feed, generate_school(today), now=datetime(2026, 11, 25, 15, 0, tzinfo=tz))
    async with JournalServer(feed, token="t") as journal:
        client = ExchangeV1Client(journal.url, "t", limit=500)
        sync = JournalSync(sessions, client, source="bench")
        try:
            tracemalloc.start()
            t0 = time.perf_counter()
            first = await sync.run_once()
            t_first = time.perf_counter() - t0
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"[{label}] first full sync: {first.changes} records in {first.pages} pages, "
                  f"{t_first:.2f} s, {first.changes / t_first:,.0f} records/s, peak Python memory {peak / 2**20:.1f} MiB")

            async with sessions.begin() as s:
                await s.execute(update(SyncState).values(cursor=None))
            t0 = time.perf_counter()
            replay = await sync.run_once()
            t_replay = time.perf_counter() - t0
            print(f"[{label}] replay from the start: {t_replay:.2f} s ({t_replay / t_first:.2f}× the first sync), "
                  f"{replay.events} events, {replay.outbox} messages")

            async with sessions.begin() as s:
                students = list(await s.scalars(select(Student)))
                for n, student in enumerate(students):
                    account = Account(telegram_id=10_000 + n, chat_id=10_000 + n, consent_state="granted")
                    s.add(account)
                    await s.flush()
                    s.add(Link(account_id=account.id, student_id=student.id, status="approved", method="phone"))
            rng = random.Random(1)
            now = datetime(2026, 11, 25, 16, 0, tzinfo=tz)
            for _ in range(500):
                make_new_mark(feed, rng, now)
            t0 = time.perf_counter()
            news = await sync.run_once()
            t_news = time.perf_counter() - t0
            print(f"[{label}] 500 new marks: {t_news:.2f} s, {news.changes / t_news:,.0f} changes/s, "
                  f"{news.outbox} outbox rows (Telegram would need {news.outbox / 30:.0f} s to send them at ~30/s)")
        finally:
            await client.close()
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await bench(f"sqlite+aiosqlite:///{tmp}/bench.sqlite3", "sqlite")
    try:
        import asyncpg

        name = f"ediary_bench_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(args.pg, timeout=3)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
    except Exception as exc:  # noqa: BLE001
        print(f"[postgres] skipped: {exc}")
        return
    base = args.pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        await bench(f"{base}/{name}", "postgres")
    finally:
        conn = await asyncpg.connect(args.pg, timeout=3)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
