"""Final grades from the journal → messages to parents (services/sync/fanout_results.py),
through apply() as the sync runs it, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update

from services.demo.feed import ChangeFeed
from services.notify.kinds import FINAL_GRADE, FINAL_GRADE_DELETED
from services.sync.apply import Page, apply
from storage.models import Account, Link, OutboxMessage, Student, SyncState
from tests.journal_data import MATH, PUPIL, small_school

SOURCE = "journal"
PERIOD = "p-q1"


def grade(value: str | None = "5", *, status: str = "final", deferred_until: str | None = None,
          kind: str = "period", title: str | None = None, set_at: str = "2026-10-25T15:00:00+05:00") -> dict:
    return {"student_id": PUPIL, "subject_id": MATH, "period_id": PERIOD if kind in ("period", "year") else None,
            "kind": kind, "title": title, "value": value, "status": status, "deferred_until": deferred_until,
            "set_at": set_at}


class Journal:
    """The feed and the service's cursor: `sync()` applies what changed since the last call."""

    def __init__(self, db) -> None:
        self.db = db
        self.feed = ChangeFeed()
        small_school(self.feed)
        self.feed.upsert("period", PERIOD, {"school_id": "sch-1", "kind": "quarter", "name": "1 четверть",
                                            "starts_on": "2026-09-01", "ends_on": "2026-10-25"})
        self.cursor: str | None = None

    async def sync(self):
        page = self.feed.page(self.cursor, 1000)
        report = await apply(self.db.sessions, SOURCE, Page(page["changes"], page["next_cursor"], page["has_more"]))
        self.cursor = page["next_cursor"]
        return report

    async def replay(self):
        self.cursor = None
        return await self.sync()


async def start(db, *consents: str) -> tuple[Journal, list[int]]:
    journal = Journal(db)
    await journal.sync()  # the first full sync: history, nobody is told
    ids = []
    async with db.sessions.begin() as s:
        student = await s.scalar(select(Student).where(Student.external_id == PUPIL))
        for i, consent in enumerate(consents or ("granted",)):
            account = Account(telegram_id=7000 + i, chat_id=7000 + i, consent_state=consent, language="ru")
            s.add(account)
            await s.flush()
            s.add(Link(account_id=account.id, student_id=student.id, status="approved", method="phone"))
            ids.append(account.id)
    return journal, ids


async def rows(db) -> list[OutboxMessage]:
    async with db.sessions() as s:
        return list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def mark_all_sent(db) -> None:
    async with db.sessions.begin() as s:
        await s.execute(update(OutboxMessage).where(OutboxMessage.status == "pending")
                        .values(status="sent", sent_at=datetime.now(timezone.utc)))


async def test_a_new_final_grade_is_told_once_with_its_journal_time(db):
    journal, (parent,) = await start(db)
    journal.feed.upsert("final_grade", "fg-1", grade("5"), occurred_at="2026-10-25T15:02:00+05:00")
    report = await journal.sync()
    assert report.outbox == 1
    (row,) = await rows(db)
    assert (row.kind, row.account_id, row.status, row.topic) == (FINAL_GRADE, parent, "pending",
                                                                 "final_grade:journal:fg-1")
    assert row.occurred_at == datetime(2026, 10, 25, 10, 2, tzinfo=timezone.utc)
    assert row.event_id is not None
    p = row.payload
    assert (p["student_name"], p["subject"], p["period_name"], p["kind"], p["value"], p["status"], p["change"]) == (
        "Иван", "Алгебра", "1 четверть", "period", "5", "final", "new")
    assert p["set_at"] == "2026-10-25T10:00:00+00:00" and p["deferred_until"] is None and p["old_value"] is None
    # replaying the feed, or a change of set_at only, tells nobody anything
    await journal.replay()
    journal.feed.upsert("final_grade", "fg-1", grade("5", set_at="2026-10-26T09:00:00+05:00"))
    await journal.sync()
    assert len(await rows(db)) == 1


async def test_a_correction_before_sending_updates_the_waiting_message(db):
    journal, _ = await start(db)
    journal.feed.upsert("final_grade", "fg-1", grade("4"), occurred_at="2026-10-25T15:00:00+05:00")
    await journal.sync()
    journal.feed.upsert("final_grade", "fg-1", grade("5"), occurred_at="2026-10-25T15:30:00+05:00")
    await journal.sync()
    (row,) = await rows(db)
    assert (row.payload["value"], row.payload["change"], row.status) == ("5", "new", "pending")
    # the one-day rule counts from the first save
    assert row.occurred_at == datetime(2026, 10, 25, 10, 0, tzinfo=timezone.utc)


async def test_a_correction_after_sending_and_back(db):
    journal, _ = await start(db)
    journal.feed.upsert("final_grade", "fg-1", grade("4"))
    await journal.sync()
    await mark_all_sent(db)
    journal.feed.upsert("final_grade", "fg-1", grade("5"))
    await journal.sync()
    changed = (await rows(db))[-1]
    assert (changed.kind, changed.payload["change"], changed.payload["old_value"], changed.payload["value"]) == (
        FINAL_GRADE, "changed", "4", "5")
    # corrected back to what the parent was told before the correction went out: cancelled
    journal.feed.upsert("final_grade", "fg-1", grade("4"))
    await journal.sync()
    assert [r.status for r in await rows(db)] == ["sent", "cancelled"]


async def test_a_deferred_grade_and_its_later_value(db):
    journal, _ = await start(db)
    journal.feed.upsert("final_grade", "fg-2", grade(None, status="deferred", deferred_until="2026-11-20"))
    await journal.sync()
    (deferred,) = await rows(db)
    assert (deferred.payload["change"], deferred.payload["status"], deferred.payload["deferred_until"]) == (
        "deferred", "deferred", "2026-11-20")
    await mark_all_sent(db)
    # the date moves: told again
    journal.feed.upsert("final_grade", "fg-2", grade(None, status="deferred", deferred_until="2026-11-27"))
    await journal.sync()
    moved = (await rows(db))[-1]
    assert (moved.payload["change"], moved.payload["deferred_until"]) == ("deferred", "2026-11-27")
    await mark_all_sent(db)
    journal.feed.upsert("final_grade", "fg-2", grade("4"), occurred_at="2026-11-27T12:00:00+05:00")
    await journal.sync()
    set_later = (await rows(db))[-1]
    assert (set_later.kind, set_later.payload["change"], set_later.payload["value"], set_later.status) == (
        FINAL_GRADE, "set", "4", "pending")
    assert set_later.occurred_at == datetime(2026, 11, 27, 7, 0, tzinfo=timezone.utc)
    assert len(await rows(db)) == 3


async def test_a_deleted_grade(db):
    journal, _ = await start(db)
    journal.feed.upsert("final_grade", "fg-1", grade("3"))
    await journal.sync()
    journal.feed.delete("final_grade", "fg-1")
    await journal.sync()
    assert [r.status for r in await rows(db)] == ["cancelled"]  # never sent: the parent never hears of it
    journal.feed.upsert("final_grade", "fg-9", grade("3"))
    await journal.sync()
    await mark_all_sent(db)
    journal.feed.delete("final_grade", "fg-9")
    await journal.sync()
    withdrawn = (await rows(db))[-1]
    assert (withdrawn.kind, withdrawn.payload["value"]) == (FINAL_GRADE_DELETED, "3")


async def test_exam_results_and_who_is_told(db):
    journal, (granted, refused, other) = await start(db, "granted", "refused", "granted")
    journal.feed.upsert("final_grade", "ex-1", grade("18", kind="exam", title="ОГЭ"))
    await journal.sync()
    got = await rows(db)
    assert {r.account_id for r in got} == {granted, other}
    assert all((r.payload["kind"], r.payload["title"], r.payload["period_name"]) == ("exam", "ОГЭ", None)
               for r in got)
    async with db.sessions() as s:
        assert (await s.get(SyncState, SOURCE)).bootstrapped_at is not None
