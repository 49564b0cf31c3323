"""News beyond marks (services/sync/school_news.py): who gets a row for which journal change,
and how each kind renders (bot/notifications.py). SQLite and PostgreSQL for the fan-out."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.notifications import MESSAGE_LIMIT, digest_fit, render_notification
from services.demo.feed import ChangeFeed
from services.notify import kinds
from services.notify.prefs import NotifyPrefsService
from services.sync.apply import Page, apply
from storage.models import Account, Link, OutboxMessage, Student
from tests import seed
from tests.journal_data import CLASS, MATH, PUPIL, SCHOOL, small_school

SOURCE = "journal"
YEKT = ZoneInfo("Asia/Yekaterinburg")
GROUP_1, GROUP_2 = "Англ. яз. гр. 1", "Англ. яз. гр. 2"


def today() -> date:
    return datetime.now(YEKT).date()


class Journal:
    def __init__(self, db) -> None:
        self.db = db
        self.feed = ChangeFeed()
        self.cursor: str | None = None

    async def sync(self) -> None:
        page = self.feed.page(self.cursor, 1000)
        await apply(self.db.sessions, SOURCE, Page(page["changes"], page["next_cursor"], page["has_more"]))
        self.cursor = page["next_cursor"] or self.cursor

    def lesson(self, id_: str, day: date, **kw) -> None:
        data = {"class_id": CLASS, "subject_id": MATH, "teacher_id": "t-1", "date": day.isoformat(), "number": 3,
                "starts_at": "10:10", "ends_at": "10:50", "kind": "regular", "status": "planned", "room": "204"}
        data.update(kw)
        self.feed.upsert("lesson", id_, data)


async def parent(db, student_ref: str, telegram_id: int, *, consent: str = "granted", link: str = "approved",
                 active: bool = True) -> int:
    async with db.sessions.begin() as s:
        student = await s.scalar(select(Student).where(Student.external_id == student_ref))
        account = Account(telegram_id=telegram_id, chat_id=telegram_id, consent_state=consent, language="ru",
                          is_active=active)
        s.add(account)
        await s.flush()
        s.add(Link(account_id=account.id, student_id=student.id, status=link, method="phone"))
        return account.id


@pytest.fixture
async def journal(db):
    j = Journal(db)
    small_school(j.feed)
    j.feed.upsert("teacher", "t-2", {"school_id": SCHOOL, "full_name": "Сидорова Ольга Ивановна"})
    j.feed.upsert("teacher", "t-3", {"school_id": SCHOOL, "full_name": "Кузнецов Игорь Павлович"})
    j.feed.upsert("student", PUPIL, {"school_id": SCHOOL, "class_id": CLASS, "full_name": "Иванов Иван Петрович",
                                     "groups": [GROUP_1]})
    j.feed.upsert("student", "s-2", {"school_id": SCHOOL, "class_id": CLASS, "full_name": "Петрова Анна Ильинична",
                                     "groups": [GROUP_2]})
    j.feed.upsert("student", "s-3", {"school_id": SCHOOL, "class_id": "cls-other", "full_name": "Чужой Ученик"})
    j.feed.upsert("class", "cls-other", {"school_id": SCHOOL, "name": "8Б", "grade": 8})
    j.lesson("l-1", today())
    j.lesson("l-group", today() + timedelta(days=1), group=GROUP_1, number=5)
    j.lesson("l-later", today() + timedelta(days=7))
    await j.sync()
    return j


async def rows(db, kind: str | None = None) -> list[OutboxMessage]:
    async with db.sessions() as s:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        return list(await s.scalars(query))


async def test_lesson_changes_today_and_tomorrow_reach_only_the_pupils_concerned(db, journal):
    ivan = await parent(db, PUPIL, 5001)
    anna = await parent(db, "s-2", 5002)
    await parent(db, PUPIL, 5003, consent="refused")
    await parent(db, PUPIL, 5004, link="pending")
    await parent(db, PUPIL, 5005, active=False)
    await parent(db, "s-3", 5006)

    journal.lesson("l-1", today(), status="cancelled")
    journal.lesson("l-group", today() + timedelta(days=1), group=GROUP_1, number=5, substitute_teacher_id="t-2")
    journal.lesson("l-later", today() + timedelta(days=7), status="cancelled")  # next week: not news yet
    await journal.sync()

    written = await rows(db, kinds.LESSON_CHANGED)
    assert sorted((r.account_id, r.payload["changes"][0]) for r in written) == sorted(
        [(ivan, "cancelled"), (anna, "cancelled"), (ivan, "substitute")])  # the group lesson: Ivan only
    group = next(r for r in written if r.payload["changes"] == ["substitute"])
    assert group.payload["substitute"] == "Сидорова Ольга Ивановна" and group.payload["group"] == GROUP_1
    assert group.payload["teacher"] == "Петрова Анна Сергеевна" and group.payload["number"] == 5

    # the same state again, or a change of something else: nothing new
    journal.lesson("l-1", today(), status="cancelled", room="301")
    await journal.sync()
    assert len(await rows(db, kinds.LESSON_CHANGED)) == 3


async def test_undoing_a_lesson_change_before_it_went_out_cancels_it(db, journal):
    ivan = await parent(db, PUPIL, 5001)
    journal.lesson("l-1", today(), substitute_teacher_id="t-2")
    await journal.sync()
    [waiting] = await rows(db, kinds.LESSON_CHANGED)
    journal.lesson("l-1", today(), substitute_teacher_id="t-3")  # another substitute, still waiting
    await journal.sync()
    [waiting] = await rows(db, kinds.LESSON_CHANGED)
    assert waiting.payload["substitute"] == "Кузнецов Игорь Павлович" and waiting.status == "pending"
    journal.lesson("l-1", today())  # the planned teacher after all
    await journal.sync()
    [cancelled] = await rows(db, kinds.LESSON_CHANGED)
    assert cancelled.status == "cancelled" and cancelled.account_id == ivan


async def test_a_new_substitute_after_the_parent_was_told_is_news_again(db, journal):
    await parent(db, PUPIL, 5001)
    journal.lesson("l-1", today(), substitute_teacher_id="t-2")
    await journal.sync()
    async with db.sessions.begin() as s:
        await s.execute(update(OutboxMessage).values(status="sent"))
    journal.lesson("l-1", today(), substitute_teacher_id="t-3")
    await journal.sync()
    journal.lesson("l-1", today())  # the substitute removed after being told: not pushed
    await journal.sync()
    assert [r.payload["substitute"] for r in await rows(db, kinds.LESSON_CHANGED)] == [
        "Сидорова Ольга Ивановна", "Кузнецов Игорь Павлович"]


async def test_moved_lessons_new_flagged_lessons_and_lessons_moved_away_from_today(db, journal):
    await parent(db, PUPIL, 5001)
    journal.lesson("l-moved-in", today() + timedelta(days=1), number=6,
                   moved_from={"date": (today() + timedelta(days=9)).isoformat(), "number": 2})
    journal.lesson("l-moved-away", today() + timedelta(days=9), number=2,
                   moved_from={"date": today().isoformat(), "number": 4})
    journal.lesson("l-plain-new", today())  # a new lesson without a flag: nothing
    journal.lesson("l-far", today() + timedelta(days=20), status="cancelled")
    await journal.sync()
    written = await rows(db, kinds.LESSON_CHANGED)
    assert sorted(r.topic.split(":")[2] for r in written) == ["l-moved-away", "l-moved-in"]
    assert all(r.payload["changes"] == ["moved"] for r in written)


async def test_homework_and_control_works_go_to_the_class_recommendations_to_the_pupil(db, journal):
    ivan = await parent(db, PUPIL, 5001)
    anna = await parent(db, "s-2", 5002)
    other = await parent(db, "s-3", 5003)
    journal.feed.upsert("homework", "hw-1", {"class_id": CLASS, "subject_id": MATH,
                                             "assigned_on": today().isoformat(),
                                             "due_on": (today() + timedelta(days=1)).isoformat(),
                                             "text": "№ 12–15", "attachments": [
                                                 {"name": "Лист.pdf", "url": "https://school.example/l.pdf"}]})
    journal.feed.upsert("homework", "hw-old", {"class_id": CLASS, "subject_id": MATH, "assigned_on": "2020-01-01",
                                               "due_on": "2020-01-02", "text": "давно", "attachments": []})
    journal.feed.upsert("assessment", "a-1", {"class_id": CLASS, "subject_id": MATH, "lesson_number": 2,
                                              "date": (today() + timedelta(days=3)).isoformat(),
                                              "title": "Дроби", "kind": "control"})
    journal.feed.upsert("assessment", "a-old", {"class_id": CLASS, "subject_id": MATH, "date": "2020-01-01",
                                                "title": "Было", "kind": "test"})
    journal.feed.upsert("recommendation", "r-1", {"student_id": "s-2", "teacher_id": "t-1",
                                                  "date": today().isoformat(), "text": "Больше читать"})
    await journal.sync()

    homework = await rows(db, kinds.HOMEWORK_NEW)
    assert sorted(r.account_id for r in homework) == [ivan, anna]
    assert homework[0].payload["attachments"] == [{"name": "Лист.pdf", "url": "https://school.example/l.pdf"}]
    assert sorted(r.account_id for r in await rows(db, kinds.ASSESSMENT_NEW)) == [ivan, anna]
    [rec] = await rows(db, kinds.RECOMMENDATION_NEW)
    assert rec.account_id == anna and rec.payload["subject"] is None and rec.payload["teacher"]
    assert other not in {r.account_id for r in await rows(db)}

    # a waiting homework follows its record: updated in place, cancelled when deleted
    journal.feed.upsert("homework", "hw-1", {"class_id": CLASS, "subject_id": MATH,
                                             "assigned_on": today().isoformat(),
                                             "due_on": (today() + timedelta(days=1)).isoformat(),
                                             "text": "№ 12–16", "attachments": []})
    await journal.sync()
    assert {r.payload["text"] for r in await rows(db, kinds.HOMEWORK_NEW)} == {"№ 12–16"}
    journal.feed.delete("homework", "hw-1")
    await journal.sync()
    assert {r.status for r in await rows(db, kinds.HOMEWORK_NEW)} == {"cancelled"}


async def test_a_parent_of_two_pupils_gets_each_and_muted_types_get_nothing(db, journal):
    both = await parent(db, PUPIL, 5001)
    async with db.sessions.begin() as s:
        anna = await s.scalar(select(Student).where(Student.external_id == "s-2"))
        s.add(Link(account_id=both, student_id=anna.id, status="approved", method="phone"))
    quiet = await parent(db, "s-2", 5002)
    await NotifyPrefsService(db.sessions, seed.make_settings()).toggle(quiet, "assessments")
    journal.feed.upsert("assessment", "a-2", {"class_id": CLASS, "subject_id": MATH,
                                              "date": (today() + timedelta(days=2)).isoformat(),
                                              "title": "ВПР", "kind": "vpr"})
    await journal.sync()
    written = await rows(db, kinds.ASSESSMENT_NEW)
    assert sorted(r.payload["student_name"] for r in written) == ["Анна", "Иван"]
    assert {r.account_id for r in written} == {both}


# --------------------------------------------------------------------------- rendering

LONG = "Очень длинный текст <b>&amp;</b> " * 400
PAYLOADS = {
    kinds.LESSON_CHANGED: {"student_id": 1, "student_name": "Иван<>", "subject": LONG, "date": "2026-11-30",
                           "number": 3, "starts_at": "10:10", "ends_at": "10:50", "room": LONG, "group": LONG,
                           "changes": ["cancelled", "substitute", "moved"], "teacher": LONG, "substitute": LONG,
                           "moved_from": {"date": "2026-11-27", "number": 2}},
    kinds.HOMEWORK_NEW: {"student_id": 1, "student_name": "Иван", "subject": "Алгебра", "assigned_on": "2026-11-29",
                         "due_on": "2026-11-30", "text": LONG,
                         "attachments": [{"name": LONG, "url": "https://x.example/a?b=1&c=<2>"}] * 30},
    kinds.RECOMMENDATION_NEW: {"student_id": 1, "student_name": "Иван", "subject": None, "teacher": LONG,
                               "date": "2026-11-30", "text": LONG},
    kinds.ASSESSMENT_NEW: {"student_id": 1, "student_name": "Иван", "subject": "Алгебра", "date": "2026-12-03",
                           "lesson_number": 2, "title": LONG, "kind": "vpr"},
    kinds.MARK_NEW: {"student_id": 1, "student_name": "Иван", "subject": "Алгебра", "value": "5", "kind": "control",
                     "weight": 2, "date": "2026-11-30", "comment": LONG},
}


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_every_news_kind_renders_escaped_and_short(kind, lang):
    text = render_notification(kind, PAYLOADS[kind], lang).text
    assert len(text) <= MESSAGE_LIMIT
    assert "<b>&amp;</b>" not in text and "Иван<>" not in text


def test_news_texts_in_both_languages():
    ru = render_notification(kinds.LESSON_CHANGED, PAYLOADS[kinds.LESSON_CHANGED] | {"subject": "Алгебра",
                                                                                     "changes": ["cancelled"]}, "ru")
    en = render_notification(kinds.LESSON_CHANGED, PAYLOADS[kinds.LESSON_CHANGED] | {"subject": "Алгебра",
                                                                                     "changes": ["cancelled"]}, "en")
    assert "урок отменён" in ru.text and "30.11.2026, 3 урок (10:10–10:50)" in ru.text
    assert "lesson cancelled" in en.text and "30 Nov 2026, lesson 3" in en.text
    hw = render_notification(kinds.HOMEWORK_NEW, PAYLOADS[kinds.HOMEWORK_NEW] | {"text": "№ 5"}, "ru").text
    assert '<a href="https://x.example/a?b=1&amp;c=&lt;2&gt;">' in hw and "к 30.11.2026" in hw


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_digests_of_any_size_are_split_into_messages_that_fit(lang):
    items = [{"kind": kind, "payload": dict(PAYLOADS[kind], student_id=i % 3, student_name=f"Ребёнок {i % 3}")}
             for i in range(300) for kind in sorted(PAYLOADS)]
    items.append({"kind": "something_new", "payload": {"student_id": 1}})  # a kind without a digest line
    sent = 0
    while sent < len(items):
        fit = digest_fit(items[sent:], lang)
        assert fit >= 1
        text = render_notification(kinds.DIGEST, {"items": items[sent:sent + fit]}, lang).text
        assert len(text) <= MESSAGE_LIMIT
        sent += fit
    assert sent == len(items)
