"""Paper extracts: the class PDF holds exactly the pupils on paper delivery, one per page, in
Cyrillic (read back with pypdf); single extracts on demand; the paper queue for final grades."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from services.errors import NotAdmin, NotFound
from services.paper import PaperExtracts
from storage.contacts import ContactProfile, PaperQueueItem
from storage.models import Assignment, AuditEntry, FinalGrade, Recommendation, utcnow
from tests import seed


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


async def paper_class(db):
    """Five pupils: on Telegram (left out), nobody linked, consent refused, a parent who chose
    paper in the bot, a parent without Telegram entered from a written application (paper)."""
    today = date.today()
    async with db.sessions.begin() as s:
        school = await seed.add_school(s, external_id="sch-paper")
        other = await seed.add_school(s, name="Другая школа", external_id="sch-other")
        cls = await seed.add_class(s, school, "5Б", grade=5)
        await seed.add_period(s, school, "2 четверть", today - timedelta(days=30), today + timedelta(days=30))
        algebra = await seed.add_subject(s, school, "Алгебра")
        russian = await seed.add_subject(s, school, "Русский язык")
        teacher = await seed.add_teacher(s, school, "Петрова Анна Викторовна")
        s.add(Assignment(source=seed.SOURCE, external_id="as-ct", last_seq=1, class_ref=cls.external_id,
                         subject_ref=None, teacher_ref=teacher.external_id, role="class_teacher"))
        online = await seed.add_student(s, cls, "Алексеев Артём Олегович")
        nobody = await seed.add_student(s, cls, "Борисова Вера Игоревна")
        refused = await seed.add_student(s, cls, "Васильев Глеб Павлович")
        chose = await seed.add_student(s, cls, "Григорьева Дарья Сергеевна")
        written = await seed.add_student(s, cls, "Денисов Егор Ильич")
        for account_kw, student in ((dict(), online), (dict(consent="refused"), refused), (dict(), chose)):
            account = await seed.add_account(s, **account_kw)
            await seed.add_link(s, account, student)
            if student is chose:
                s.add(ContactProfile(account_id=account.id, forms="telegram,paper"))
        guardian = await seed.add_guardian(s, school, [written], full_name="Денисова Жанна", phone=None)
        s.add(ContactProfile(guardian_source=seed.SOURCE, guardian_ref=guardian.external_id, forms="paper",
                             application_no="7", application_date=today))
        for value, weight in (("5", 1), ("4", 1), ("5", 1)):
            await seed.add_mark(s, nobody, algebra, today - timedelta(days=2), value=value, weight=weight)
        await seed.add_mark(s, nobody, russian, today - timedelta(days=1), value="3", weight=2)
        await seed.add_mark(s, online, algebra, today, value="2")
        s.add(Recommendation(source=seed.SOURCE, external_id="rec-1", last_seq=1, student_ref=nobody.external_id,
                             subject_ref=russian.external_id, teacher_ref=teacher.external_id, date=today,
                             text="Больше читать вслух"))
        admin = await seed.add_school_admin(s, school)
        other_admin = await seed.add_school_admin(s, other)
        return dict(cls=cls.id, online=online.id, nobody=nobody.id, refused=refused.id, chose=chose.id,
                    written=written.id, algebra=algebra, nobody_row=nobody, admin=admin.telegram_id,
                    other_admin=other_admin.telegram_id)


async def test_class_pdf_holds_only_pupils_on_paper_one_per_page(db):
    w = await paper_class(db)
    paper = PaperExtracts(db.sessions, seed.make_settings())
    doc = await paper.class_extracts(w["admin"], w["cls"])
    assert doc.student_ids == [w["nobody"], w["refused"], w["chose"], w["written"]]
    texts = pages(doc.pdf)
    assert len(texts) == 4
    names = ["Борисова Вера Игоревна", "Васильев Глеб Павлович", "Григорьева Дарья Сергеевна", "Денисов Егор Ильич"]
    for text, name in zip(texts, names):
        assert name in text
        assert "ВЫПИСКА ИЗ ЭЛЕКТРОННОГО ЖУРНАЛА" in text
        assert "5Б" in text and "2 четверть" in text
        assert "Классный руководитель" in text and "Петрова Анна Викторовна" in text
        assert "Родитель (законный представитель)" in text and "Дата выдачи" in text
    assert all("Алексеев" not in text for text in texts)  # the Telegram pupil is left out
    first = texts[0]
    assert "Алгебра" in first and "5 4 5" in first and "4,67" in first
    assert "Русский язык" in first and "3(2)" in first and "3,00" in first
    assert "Больше читать вслух" in first
    async with db.sessions() as s:
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "paper.class_extract"))
    assert entry.actor_telegram_id == w["admin"] and entry.details["pupils"] == doc.student_ids


async def test_single_extract_and_scope(db):
    w = await paper_class(db)
    paper = PaperExtracts(db.sessions, seed.make_settings())
    doc = await paper.pupil_extract(w["admin"], w["online"])  # on demand, whatever the form
    [text] = pages(doc.pdf)
    assert "Алексеев Артём Олегович" in text and "Алгебра" in text
    with pytest.raises(NotFound):
        await paper.pupil_extract(w["other_admin"], w["online"])
    with pytest.raises(NotFound):
        await paper.class_extracts(w["other_admin"], w["cls"])
    with pytest.raises(NotFound):
        await paper.pupil_extract(w["admin"], 987654)
    with pytest.raises(NotAdmin):
        await paper.class_extracts(4242, w["cls"])


async def test_new_final_grades_of_paper_pupils_are_queued_and_printed_once(db):
    w = await paper_class(db)
    now = utcnow()
    async with db.sessions.begin() as s:
        for ref, student in (("fg-1", w["nobody_row"]),):
            s.add(FinalGrade(source=seed.SOURCE, external_id=ref, last_seq=10, student_ref=student.external_id,
                             subject_ref=w["algebra"].external_id, period_ref=None, kind="year", value="5",
                             status="final", set_at=now))
        online = await s.get(__import__("storage.models", fromlist=["Student"]).Student, w["online"])
        s.add(FinalGrade(source=seed.SOURCE, external_id="fg-2", last_seq=11, student_ref=online.external_id,
                         subject_ref=w["algebra"].external_id, kind="year", value="4", status="final", set_at=now))
        s.add(FinalGrade(source=seed.SOURCE, external_id="fg-old", last_seq=12,
                         student_ref=w["nobody_row"].external_id, subject_ref=w["algebra"].external_id,
                         kind="year", value="3", status="final", set_at=now - timedelta(days=90)))
    paper = PaperExtracts(db.sessions, seed.make_settings())
    assert await paper.queue_final_grades() == 1  # the Telegram pupil's grade and old history are not queued
    assert await paper.queue_final_grades() == 0
    assert await paper.queue_size(w["admin"]) == 1
    assert await paper.queue_size(w["other_admin"]) == 0
    doc = await paper.drain_queue(w["admin"])
    [text] = pages(doc.pdf)
    assert "Борисова Вера Игоревна" in text and "годовая: 5" in text
    async with db.sessions() as s:
        item = await s.scalar(select(PaperQueueItem))
    assert item.produced_at is not None and item.produced_by == w["admin"]
    assert (await paper.drain_queue(w["admin"])).pdf is None


async def test_queued_extract_is_measured_by_the_one_day_rule(db):
    delivery = pytest.importorskip("services.delivery")
    from storage.delivery import ResultDelivery

    w = await paper_class(db)
    now = utcnow()
    async with db.sessions.begin() as s:
        s.add(FinalGrade(source=seed.SOURCE, external_id="fg-d", last_seq=20, student_ref=w["nobody_row"].external_id,
                         subject_ref=w["algebra"].external_id, kind="year", value="4", status="final",
                         set_at=now - timedelta(hours=2)))
    paper = PaperExtracts(db.sessions, seed.make_settings())
    assert await paper.queue_final_grades(now=now) == 1
    async with db.sessions() as s:
        [owed] = list(await s.scalars(select(ResultDelivery)))
    assert (owed.channel, owed.state) == ("paper", "open")
    await paper.drain_queue(w["admin"], now=now)
    async with db.sessions() as s:
        [done] = list(await s.scalars(select(ResultDelivery)))
    assert done.state == "delivered" and 7000 < done.delay_seconds < 7400
    assert delivery is not None
