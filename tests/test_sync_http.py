"""The pull adapter and the sync runner against an exchange-v1 server over HTTP."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.demo.feed import ChangeFeed
from services.demo.server import JournalServer
from services.sync.exchange_v1 import (
    BadCursor,
    ExchangeV1Client,
    JournalAuthError,
    JournalUnavailable,
    retry_after_seconds,
)
from services.sync.runner import JournalSync
from storage.models import Mark, QuarantinedRecord, SyncState
from tests.journal_data import mark_data, small_school

TOKEN = "t0ken"


class Sleeps:
    """Records the waits the client asks for instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
async def journal():
    feed = ChangeFeed()
    small_school(feed)
    async with JournalServer(feed, token=TOKEN) as server:
        yield server


def client_for(server, **kw) -> ExchangeV1Client:
    kw.setdefault("sleep", Sleeps())
    return ExchangeV1Client(server.url, TOKEN, **kw)


def test_retry_after_parses_seconds_and_http_dates():
    from datetime import datetime, timezone

    now = datetime(2026, 11, 30, 10, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds("Mon, 30 Nov 2026 10:00:30 GMT", now=now) == 30
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


async def test_honours_retry_after_and_retries_the_same_page(journal):
    journal.fail_next(429, retry_after=7)
    journal.fail_next(503, retry_after=2)
    journal.fail_next(500)
    sleeps = Sleeps()
    client = client_for(journal, sleep=sleeps, limit=3)
    try:
        page = await client.fetch(None)
    finally:
        await client.close()
    assert sleeps.calls[:2] == [7, 2] and 2 <= sleeps.calls[2] <= 4  # third attempt: backoff 4 s with jitter
    assert [c["seq"] for c in page.changes] == [1, 2, 3] and page.has_more
    assert [r.cursor for r in journal.requests] == [None] * 4


async def test_gives_up_after_max_attempts_without_skipping(journal):
    journal.fail_next(502, times=10)
    client = client_for(journal, max_attempts=3)
    try:
        with pytest.raises(JournalUnavailable, match="502"):
            await client.fetch("2")
    finally:
        await client.close()
    assert [r.cursor for r in journal.requests] == ["2", "2", "2"]


async def test_malformed_body_is_retried(journal):
    journal.fail_next(200, body="{not json")
    client = client_for(journal)
    try:
        page = await client.fetch(None)
    finally:
        await client.close()
    assert len(page.changes) == 7


async def test_wrong_token_and_bad_cursor(journal):
    bad = ExchangeV1Client(journal.url, "wrong", sleep=Sleeps())
    good = client_for(journal)
    try:
        with pytest.raises(JournalAuthError):
            await bad.fetch(None)
        with pytest.raises(BadCursor):
            await good.fetch("not-a-cursor")
    finally:
        await bad.close()
        await good.close()


async def test_runner_pages_through_the_feed_and_goes_on_after_quarantine(db, journal):
    feed = journal.feed
    feed.upsert("mark", "m-bad", mark_data("7"))
    for i in range(2, 12):
        feed.upsert("mark", f"m-{i}", mark_data(str(2 + i % 4)))
    client = client_for(journal, limit=4)
    sync = JournalSync(db.sessions, client, source="journal")
    try:
        report = await sync.run_once()
        assert report.error is None and report.pages == 5 and report.quarantined == 1
        async with db.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(Mark)) == 11
            state = await s.get(SyncState, "journal")
            assert state.cursor == str(feed.last_seq) and state.bootstrapped_at is not None
            assert await s.scalar(select(func.count()).select_from(QuarantinedRecord)) == 1

        # An outage is recorded, and the next run resumes from the stored cursor.
        feed.upsert("mark", "m-20", mark_data("5"))
        journal.fail_next(500, times=10)
        failed = await JournalSync(db.sessions, client_for(journal, max_attempts=2), source="journal").run_once()
        assert failed.error and "500" in failed.error
        async with db.sessions() as s:
            assert (await s.get(SyncState, "journal")).last_error
        journal.clear_faults()
        report = await sync.run_once()
        assert report.changes == 1 and report.error is None
        async with db.sessions() as s:
            assert (await s.get(SyncState, "journal")).last_error is None
    finally:
        await client.close()


async def test_runner_replays_from_start_when_the_cursor_is_rejected(db, journal):
    client = client_for(journal)
    sync = JournalSync(db.sessions, client, source="journal")
    try:
        await sync.run_once()
        async with db.sessions.begin() as s:
            (await s.get(SyncState, "journal")).cursor = "999999"  # a place the provider never had
        report = await sync.run_once()
        assert report.pages == 1 and report.events == 0  # everything replayed, nothing new
        assert await sync.cursor() == str(journal.feed.last_seq)
    finally:
        await client.close()
