"""apply(): validation, quarantine, idempotence, diff → events → outbox (both backends)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.demo.feed import ChangeFeed
from services.sync.apply import Page, apply, apply_changes
from services.sync.records import Malformed, normalize
from storage.models import Account, Event, Link, Mark, OutboxMessage, QuarantinedRecord, Student, SyncState
from tests.journal_data import PUPIL, mark_data, small_school

SOURCE = "journal"


def whole_feed(feed: ChangeFeed) -> Page:
    page = feed.page(None, 1000)
    return Page(page["changes"], page["next_cursor"], page["has_more"])


def after(feed: ChangeFeed, cursor: str) -> Page:
    page = feed.page(cursor, 1000)
    return Page(page["changes"], page["next_cursor"], page["has_more"])


async def count(db, model, *where) -> int:
    async with db.sessions() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


async def link_parent(db, *, consent: str = "granted", telegram_id: int = 5001) -> int:
    async with db.sessions.begin() as s:
        student = await s.scalar(select(Student).where(Student.external_id == PUPIL))
        account = Account(telegram_id=telegram_id, chat_id=telegram_id, consent_state=consent, language="ru")
        s.add(account)
        await s.flush()
        s.add(Link(account_id=account.id, student_id=student.id, status="approved", method="phone"))
        return account.id


async def outbox_rows(db) -> list[OutboxMessage]:
    async with db.sessions() as s:
        return list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.mark.parametrize(
    "data, reason",
    [
        (mark_data("7"), "field 'value' must be one of"),
        ({k: v for k, v in mark_data("5").items() if k != "date"}, "missing field 'date'"),
        (dict(mark_data("5"), date="30.11.2026"), "field 'date' must be a date"),
        (dict(mark_data("5"), weight=-1), "field 'weight' must be a positive number"),
    ],
)
def test_normalize_rejects_malformed_marks(data, reason):
    with pytest.raises(Malformed, match=reason):
        normalize("mark", data)


def test_normalize_fills_defaults_and_phone_digits():
    values = normalize("mark", {k: v for k, v in mark_data("5").items() if k != "weight"})
    assert values["weight"] == 1.0 and values["comment"] is None
    guardian = normalize("guardian", {"school_id": "x", "full_name": "А Б", "phone": "8 (900) 111-22-33", "student_ids": []})
    assert guardian["phone_digits"] == "79001112233"


async def test_malformed_records_are_quarantined_and_the_rest_applied(db):
    feed = ChangeFeed()
    small_school(feed)
    feed.upsert("mark", "m-bad-value", mark_data("7"))
    feed.upsert("mark", "m-unknown-pupil", dict(mark_data("5"), student_id="s-404"))
    feed.append_raw({"entity": "mark", "op": "upsert", "id": "m-no-field", "data": {"student_id": PUPIL}})
    feed.append_raw({"entity": "spaceship", "op": "upsert", "id": "x", "data": {}})
    feed.append_raw({"entity": "mark", "op": "upsert", "id": "m-no-data"})
    feed.upsert("mark", "m-good", mark_data("5"))

    report = await apply(db.sessions, SOURCE, whole_feed(feed))

    assert report.quarantined == 5
    assert await count(db, Mark) == 2  # m-1 and m-good
    async with db.sessions() as s:
        reasons = {q.external_id: q.reason for q in await s.scalars(select(QuarantinedRecord))}
        state = await s.get(SyncState, SOURCE)
    assert "must be one of" in reasons["m-bad-value"]
    assert reasons["m-unknown-pupil"] == "unknown student 's-404' in field 'student_id'"
    assert "missing field" in reasons["m-no-field"]
    assert "unknown entity" in reasons["x"]
    assert "without a 'data' object" in reasons["m-no-data"]
    assert state.cursor == str(feed.last_seq) and state.bootstrapped_at is not None


async def test_page_order_does_not_matter_within_a_page(db):
    feed = ChangeFeed()
    small_school(feed)
    changes = list(reversed(whole_feed(feed).changes))  # marks before their pupil
    report = await apply(db.sessions, SOURCE, Page(changes, str(feed.last_seq), False))
    assert report.quarantined == 0 and await count(db, Mark) == 1


async def test_first_full_sync_notifies_nobody_and_replays_change_nothing(db):
    feed = ChangeFeed()
    small_school(feed)
    first = await apply(db.sessions, SOURCE, whole_feed(feed))
    assert first.created == 7 and first.outbox == 0
    await link_parent(db)

    again = await apply(db.sessions, SOURCE, whole_feed(feed))  # the same changes again
    assert (again.created, again.updated, again.events, again.stale) == (0, 0, 0, 7)

    # A provider that replays its state with new seqs: data equal → nothing happens.
    replay = ChangeFeed()
    for _ in range(50):
        replay.upsert("subject", "filler", {"school_id": "sch-1", "name": "x"})
    small_school(replay)
    changes = [c for c in whole_feed(replay).changes if c["id"] != "filler"]
    report = await apply(db.sessions, SOURCE, Page(changes, None, False))
    assert report.events == 0 and report.unchanged == 7
    assert await outbox_rows(db) == []
    assert await count(db, Event) == 0


async def test_new_mark_after_bootstrap_is_one_message_per_parent(db):
    feed = ChangeFeed()
    small_school(feed)
    await apply(db.sessions, SOURCE, whole_feed(feed))
    account_id = await link_parent(db)
    await link_parent(db, consent="refused", telegram_id=5002)  # a second parent who refused: nothing
    cursor = str(feed.last_seq)

    feed.upsert("mark", "m-2", mark_data("5", kind="control", weight=2))
    report = await apply(db.sessions, SOURCE, after(feed, cursor))

    assert report.created == 1 and report.outbox == 1
    [row] = await outbox_rows(db)
    assert row.account_id == account_id and row.kind == "mark_new" and row.status == "pending"
    assert row.payload["value"] == "5" and row.payload["subject"] == "Алгебра"
    assert row.payload["student_name"] == "Иван" and row.payload["kind"] == "control"
    assert row.occurred_at is not None


async def test_correction_before_sending_updates_the_waiting_message(db):
    feed = ChangeFeed()
    small_school(feed)
    await apply(db.sessions, SOURCE, whole_feed(feed))
    await link_parent(db)
    cursor = str(feed.last_seq)
    feed.upsert("mark", "m-2", mark_data("3"))
    await apply(db.sessions, SOURCE, after(feed, cursor))
    cursor = str(feed.last_seq)
    feed.upsert("mark", "m-2", mark_data("4"))
    report = await apply(db.sessions, SOURCE, after(feed, cursor))

    assert report.updated == 1
    [row] = await outbox_rows(db)
    assert (row.kind, row.payload["value"], row.status) == ("mark_new", "4", "pending")


async def test_correction_and_deletion_after_sending(db):
    feed = ChangeFeed()
    small_school(feed)
    await apply(db.sessions, SOURCE, whole_feed(feed))
    await link_parent(db)
    cursor = str(feed.last_seq)
    feed.upsert("mark", "m-2", mark_data("3"))
    await apply(db.sessions, SOURCE, after(feed, cursor))
    async with db.sessions.begin() as s:
        (await s.scalar(select(OutboxMessage))).status = "sent"

    cursor = str(feed.last_seq)
    feed.upsert("mark", "m-2", dict(mark_data("3"), lesson_id="l-9"))  # invisible change
    assert (await apply(db.sessions, SOURCE, after(feed, cursor))).outbox == 0

    cursor = str(feed.last_seq)
    feed.upsert("mark", "m-2", mark_data("4"))
    await apply(db.sessions, SOURCE, after(feed, cursor))
    rows = await outbox_rows(db)
    assert [(r.kind, r.payload["value"], r.payload.get("old_value")) for r in rows][1] == ("mark_changed", "4", "3")

    cursor = str(feed.last_seq)
    feed.delete("mark", "m-2")
    report = await apply(db.sessions, SOURCE, after(feed, cursor))
    assert report.deleted == 1
    rows = await outbox_rows(db)
    assert [r.kind for r in rows] == ["mark_new", "mark_changed", "mark_deleted"]
    assert rows[1].status == "cancelled"  # the correction was never sent: superseded by the deletion
    async with db.sessions() as s:
        mark = await s.scalar(select(Mark).where(Mark.external_id == "m-2"))
    assert mark.deleted_at is not None


async def test_deleting_a_mark_never_sent_cancels_it_silently(db):
    feed = ChangeFeed()
    small_school(feed)
    await apply(db.sessions, SOURCE, whole_feed(feed))
    await link_parent(db)
    upsert = feed.upsert("mark", "m-2", mark_data("2"))
    delete = feed.delete("mark", "m-2")
    await apply(db.sessions, SOURCE, Page([upsert], str(upsert["seq"]), False))
    await apply(db.sessions, SOURCE, Page([delete], str(delete["seq"]), False))
    [row] = await outbox_rows(db)
    assert (row.kind, row.status) == ("mark_new", "cancelled")


async def test_stale_change_is_skipped(db):
    feed = ChangeFeed()
    small_school(feed)
    await apply(db.sessions, SOURCE, whole_feed(feed))
    old = {"seq": 1, "entity": "mark", "op": "upsert", "id": "m-1", "data": mark_data("2")}
    async with db.sessions.begin() as s:
        report = await apply_changes(s, SOURCE, [old], notify=True)
    assert report.stale == 1
    async with db.sessions() as s:
        assert (await s.scalar(select(Mark.value).where(Mark.external_id == "m-1"))) == "4"
