"""The journal's push endpoint over HTTP (contract section 3), on SQLite and PostgreSQL:
signature, size and body checks, storage before 202, and a change seen by push and pull
applied once."""
from __future__ import annotations

import json

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.web import start_web
from services.container import build_services
from services.demo.feed import ChangeFeed
from services.sync.apply import Page, apply
from services.sync.push import MAX_PUSH_BYTES, PUSH_PATH, SIGNATURE_HEADER, sign, signature_ok
from storage.models import Account, Event, Link, Mark, OutboxMessage, QuarantinedRecord, Student, SyncState
from tests import seed
from tests.journal_data import PUPIL, mark_data, small_school

SOURCE = "journal"
SECRET = "push-secret-ключ"


def whole(feed: ChangeFeed, cursor: str | None = None) -> Page:
    page = feed.page(cursor, 1000)
    return Page(page["changes"], page["next_cursor"], page["has_more"])


def body_of(*changes: dict) -> bytes:
    return json.dumps({"changes": list(changes)}, ensure_ascii=False).encode()


async def count(db, model, *where) -> int:
    async with db.sessions() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def cursor(db) -> str | None:
    async with db.sessions() as s:
        return await s.scalar(select(SyncState.cursor).where(SyncState.source == SOURCE))


class Journal:
    """The journal's side: a change feed, and the service's HTTP endpoint to push to."""

    def __init__(self, db, feed: ChangeFeed, url: str, services, woken: list[int]) -> None:
        self.db, self.feed, self.url, self.services, self.woken = db, feed, url, services, woken

    async def push(self, body: bytes, signature: str | None = "valid", **headers: str) -> tuple[int, dict]:
        if signature == "valid":
            signature = sign(SECRET, body)
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        headers.setdefault("Content-Type", "application/json")
        async with aiohttp.ClientSession() as http:
            async with http.post(self.url + PUSH_PATH, data=body, headers=headers) as response:
                try:
                    payload = await response.json(content_type=None)
                except ValueError:
                    payload = {}
                return response.status, payload

    async def pull(self) -> None:
        """The service's pull: the next page after its stored cursor."""
        await apply(self.db.sessions, SOURCE, whole(self.feed, await cursor(self.db)))


async def serve(db, feed: ChangeFeed, *, secret: str | None = SECRET):
    settings = seed.make_settings(journal_source=SOURCE, journal_push_secret=secret, http_port=0)
    services = build_services(db.sessions, settings)
    woken: list[int] = []
    services.push.on_stored(lambda: woken.append(1))
    runner, url = await start_web(settings, services)
    return runner, Journal(db, feed, url, services, woken)


@pytest.fixture
async def journal(db):
    """A journal whose first full sync is done, and a parent linked to its pupil."""
    feed = ChangeFeed()
    small_school(feed)
    await apply(db.sessions, SOURCE, whole(feed))
    async with db.sessions.begin() as s:
        student = await s.scalar(select(Student).where(Student.external_id == PUPIL))
        account = Account(telegram_id=5001, chat_id=5001, consent_state="granted", language="ru")
        s.add(account)
        await s.flush()
        s.add(Link(account_id=account.id, student_id=student.id, status="approved", method="phone"))
    runner, j = await serve(db, feed)
    try:
        yield j
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- signatures


def test_signature_is_hmac_sha256_of_the_raw_body_compared_safely():
    body = b'{"changes": []}'
    header = sign(SECRET, body)
    assert header.startswith("sha256=") and len(header) == len("sha256=") + 64
    assert signature_ok(SECRET, body, header)
    assert signature_ok(SECRET, body, "SHA256=" + header[7:].upper())  # hex case does not matter
    assert not signature_ok(SECRET, body + b" ", header)  # the raw body, byte for byte
    assert not signature_ok("other", body, header)
    assert not signature_ok(SECRET, body, header[7:])  # no scheme
    assert not signature_ok(SECRET, body, "sha1=" + header[7:])
    assert not signature_ok(SECRET, body, None) and not signature_ok(SECRET, body, "")
    assert not signature_ok(SECRET, body, "sha256=ЖЖЖ")  # non-ASCII does not crash the comparison


# --------------------------------------------------------------------------- rejected pushes


async def test_bad_signatures_are_rejected_and_change_nothing(journal: Journal, db):
    tables = (Mark, Event, OutboxMessage, QuarantinedRecord)
    before = [await count(db, m) for m in tables]
    stored_cursor = await cursor(db)
    change = journal.feed.upsert("mark", "m-forged", mark_data("2", date="2026-11-30"))
    body = body_of(change)

    assert (await journal.push(body, signature=None))[0] == 401
    assert (await journal.push(body, signature=sign("wrong secret", body)))[0] == 401
    assert (await journal.push(body, signature=sign(SECRET, body_of())))[0] == 401  # another body's signature
    assert (await journal.push(body, signature="sha256=" + "0" * 64))[0] == 401
    assert (await journal.push(body, signature=sign(SECRET, body)[7:]))[0] == 401
    # a valid signature over a body that was tampered with afterwards
    tampered = body.replace(b'"2"', b'"5"')
    status, answer = await journal.push(tampered, signature=sign(SECRET, body))
    assert status == 401 and "signature" in answer["error"]

    assert [await count(db, m) for m in tables] == before
    assert await count(db, Mark, Mark.external_id == "m-forged") == 0
    assert await cursor(db) == stored_cursor and journal.woken == []


async def test_malformed_bodies_get_400_and_change_nothing(journal: Journal, db):
    before = await count(db, Event), await count(db, QuarantinedRecord)
    for body in (b"not json", b"\xff\xfe", b"[]", b'{"changes": "m-1"}', b'{"change": []}', b'{"changes": null}'):
        status, answer = await journal.push(body)
        assert status == 400, body
        assert answer["error"]
    assert (await count(db, Event), await count(db, QuarantinedRecord)) == before


async def test_over_5_mib_is_413(journal: Journal, db):
    filler = "x" * (MAX_PUSH_BYTES + 1 - len(b'{"changes": [], "pad": ""}'))
    body = json.dumps({"changes": [], "pad": filler}).encode()
    assert len(body) == MAX_PUSH_BYTES + 1
    assert (await journal.push(body))[0] == 413
    # exactly 5 MiB is accepted
    fitting = json.dumps({"changes": [], "pad": filler[:-1]}).encode()
    assert len(fitting) == MAX_PUSH_BYTES
    assert (await journal.push(fitting))[0] == 202


async def test_push_is_off_without_a_secret(db):
    feed = ChangeFeed()
    small_school(feed)
    runner, j = await serve(db, feed, secret=None)
    try:
        body = body_of(feed.upsert("mark", "m-2", mark_data("5")))
        status, answer = await j.push(body, signature=sign(SECRET, body))
        assert status == 404 and answer == {"error": "push is not enabled"}
        assert await count(db, Mark) == 0
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- accepted pushes


async def test_pushed_change_is_stored_before_202_and_pulled_again_changes_nothing(journal: Journal, db):
    stored_cursor = await cursor(db)
    change = journal.feed.upsert("mark", "m-push", mark_data("5", date="2026-11-30", kind="control", weight=2))

    status, answer = await journal.push(body_of(change))

    assert status == 202
    assert answer == {"received": 1, "applied": 1, "skipped": 0, "quarantined": 0}
    # durably stored when 202 came: a fresh session sees the mark, its event and the message
    assert await count(db, Mark, Mark.external_id == "m-push", Mark.value == "5") == 1
    assert await count(db, Event, Event.external_id == "m-push") == 1
    assert await count(db, OutboxMessage, OutboxMessage.kind == "mark_new") == 1
    assert journal.woken == [1]  # the dispatcher was woken for it
    assert await cursor(db) == stored_cursor  # the pull's cursor did not move

    # the pull sees the same change later: applied once, nobody told twice
    await journal.pull()
    assert await count(db, Event, Event.external_id == "m-push") == 1
    assert await count(db, OutboxMessage) == 1
    assert await cursor(db) != stored_cursor

    # the journal retries the same push: accepted, skipped
    status, answer = await journal.push(body_of(change))
    assert status == 202 and answer["applied"] == 0 and answer["skipped"] == 1
    assert await count(db, OutboxMessage) == 1 and journal.woken == [1]


async def test_pulled_first_then_pushed_is_applied_once(journal: Journal, db):
    change = journal.feed.upsert("mark", "m-pull", mark_data("3", date="2026-11-30"))
    await journal.pull()
    assert await count(db, OutboxMessage) == 1
    status, answer = await journal.push(body_of(change))
    assert status == 202 and answer["skipped"] == 1 and answer["applied"] == 0
    assert await count(db, Event, Event.external_id == "m-pull") == 1 and await count(db, OutboxMessage) == 1


async def test_an_older_push_never_overwrites_a_newer_pulled_change(journal: Journal, db):
    first = journal.feed.upsert("mark", "m-late", mark_data("3", date="2026-11-30"))
    journal.feed.upsert("mark", "m-late", mark_data("4", date="2026-11-30"))  # corrected in the journal
    await journal.pull()
    status, answer = await journal.push(body_of(first))  # a delayed push of the first version
    assert status == 202 and answer["skipped"] == 1
    async with db.sessions() as s:
        assert await s.scalar(select(Mark.value).where(Mark.external_id == "m-late")) == "4"


async def test_malformed_change_in_a_push_is_quarantined_and_the_rest_applied(journal: Journal, db):
    good = journal.feed.upsert("mark", "m-ok", mark_data("5", date="2026-11-30"))
    bad = journal.feed.upsert("mark", "m-bad", mark_data("7", date="2026-11-30"))
    status, answer = await journal.push(body_of(good, bad))
    assert status == 202 and answer["applied"] == 1 and answer["quarantined"] == 1
    assert await count(db, QuarantinedRecord, QuarantinedRecord.external_id == "m-bad") == 1
    assert await count(db, Mark, Mark.external_id == "m-ok") == 1


async def test_push_before_the_first_full_sync_notifies_nobody(db):
    feed = ChangeFeed()
    small_school(feed)
    runner, j = await serve(db, feed)
    try:
        page = feed.page(None, 1000)["changes"]
        status, answer = await j.push(body_of(*page))
        assert status == 202 and answer["applied"] == len(page)
        assert await count(db, Event) == 0 and await count(db, OutboxMessage) == 0  # history, not news
        async with db.sessions() as s:
            state = await s.get(SyncState, SOURCE)
            assert state.cursor is None and state.bootstrapped_at is None
        await j.pull()  # the first full sync replays the same records: nothing changes
        assert await count(db, Event) == 0 and await count(db, Mark) == 1
    finally:
        await runner.cleanup()
