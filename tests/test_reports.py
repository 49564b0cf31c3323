"""Reports for school admins (services/reports, bot/handlers/reports.py) on SQLite and
PostgreSQL: the generated PDF (pypdf) and XLSX (openpyxl) files are opened and their contents
checked against hand-computed numbers; scope, audit and the bot commands over HTTP."""
from __future__ import annotations

import asyncio
import contextlib
import io
from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from bot.dispatcher import create_dispatcher
from bot.sandbox.telegram_server import LocalBotApi
from bot.texts import RU
from services.container import build_services
from services.errors import NotAdmin, NotFound
from services.reports.service import UnknownPeriod
from storage.models import AuditEntry
from tests import seed
from tests.e2e import button_data, contains, has_button, text_of
from tests.bot_harness import FastCloseSession, say

NOW = datetime(2026, 12, 20, 7, 0, tzinfo=timezone.utc)  # in the 2nd quarter
ADMIN, FOREIGN_ADMIN, STRANGER = 9_400_001, 9_400_002, 5_400_003
PUPILS = ("Иванов Иван Петрович", "Петрова Анна Сергеевна", "Сидоров Пётр Ильич", "Ёлкина Дарья Олеговна",
          "Абрамов Глеб Юрьевич")


@dataclass
class World:
    services: object
    sessions: object
    class_id: int
    q1_id: int
    q2_id: int
    year_id: int
    foreign_class_id: int


@pytest.fixture
async def world(db) -> World:
    async with db.sessions.begin() as s:
        school = await seed.add_school(s, "МБОУ «СОШ № 5» г. Сургут")
        cls = await seed.add_class(s, school, "7А", grade=7)
        pupils = {name.split()[0]: await seed.add_student(s, cls, name) for name in PUPILS}
        gone = await seed.add_student(s, cls, "Выбывший Ученик", deleted=True)
        algebra = await seed.add_subject(s, school, "Алгебра")
        russian = await seed.add_subject(s, school, "Русский язык")
        pe = await seed.add_subject(s, school, "Физическая культура")
        teacher = await seed.add_teacher(s, school)
        q = [await seed.add_period(s, school, f"{n} четверть", start, end) for n, (start, end) in enumerate((
            (date(2026, 9, 1), date(2026, 10, 26)), (date(2026, 11, 5), date(2026, 12, 28)),
            (date(2027, 1, 9), date(2027, 3, 21)), (date(2027, 3, 31), date(2027, 5, 26))), 1)]
        year = await seed.add_period(s, school, "2026/2027 учебный год", date(2026, 9, 1), date(2027, 5, 26),
                                     kind="year")
        fg = seed.add_final_grade
        iv, pe_, si, yo, ab = (pupils[k] for k in ("Иванов", "Петрова", "Сидоров", "Ёлкина", "Абрамов"))
        # Алгебра, 2nd quarter: 5, 4, н/а, осв, (Абрамов: deferred) → N = 5 − 1 − 1 = 3
        await fg(s, iv, algebra, q[1], "5")
        await fg(s, pe_, algebra, q[1], "4")
        await fg(s, si, algebra, q[1], "н/а")
        await fg(s, yo, algebra, q[1], "осв")
        await fg(s, ab, algebra, q[1], None, status="deferred", deferred_until=date(2027, 1, 20))
        # Русский язык, 2nd quarter: 5 5 3 2 and one without a mark → N = 4
        for pupil, value in ((iv, "5"), (pe_, "5"), (si, "3"), (yo, "2")):
            await fg(s, pupil, russian, q[1], value)
        # Физическая культура, pass/fail
        for pupil, value in ((iv, "зач"), (pe_, "зач"), (si, "незач")):
            await fg(s, pupil, pe, q[1], value)
        # the 1st quarter, a year mark and an exam for the summary sheet
        await fg(s, iv, algebra, q[0], "4")
        await fg(s, iv, algebra, year, "5", kind="year")
        await fg(s, iv, algebra, None, "72", kind="exam", title="ВПР")
        await fg(s, gone, algebra, q[1], "2")  # a pupil who left: not counted
        # study plan: Алгебра 16 lessons in the 2nd quarter; Русский язык 20, split into two groups
        await seed.add_curriculum(s, cls, algebra, q[1], 16)
        await seed.add_curriculum(s, cls, russian, q[1], 20)
        lessons = [(algebra, date(2026, 11, 10), "held", "regular", None),
                   (algebra, date(2026, 11, 12), "held", "regular", None),
                   (algebra, date(2026, 11, 17), "held", "test", None),
                   (algebra, date(2026, 11, 19), "cancelled", "regular", None),
                   (algebra, date(2026, 12, 24), "planned", "regular", None),
                   (algebra, date(2026, 10, 1), "held", "regular", None),  # the 1st quarter
                   (russian, date(2026, 11, 10), "held", "regular", "гр. 1"),
                   (russian, date(2026, 11, 10), "held", "lab", "гр. 2"),
                   (russian, date(2026, 11, 11), "held", "regular", "гр. 2")]
        for n, (subject, on, status, kind, group) in enumerate(lessons, 1):
            await seed.add_lesson(s, cls, subject, teacher, on, number=n, status=status, kind=kind, group=group)
        await seed.add_school_admin(s, school, telegram_id=ADMIN)
        other = await seed.add_school(s, "Другая школа")
        foreign_cls = await seed.add_class(s, other, "8В", grade=8)
        await seed.add_school_admin(s, other, telegram_id=FOREIGN_ADMIN)
        ids = cls.id, q[0].id, q[1].id, year.id, foreign_cls.id
    services = build_services(db.sessions, seed.make_settings())
    return World(services, db.sessions, ids[0], ids[1], ids[2], ids[3], ids[4])


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def sheet_rows(content: bytes, index: int = 0) -> list[tuple]:
    wb = load_workbook(io.BytesIO(content))
    return list(wb.worksheets[index].iter_rows(values_only=True))


def cells_after(text: str, marker: str, n: int) -> list[str]:
    """The `n` table cells after the first cell `marker` in a PDF's text (one cell a line)."""
    lines = [line.strip() for line in text.splitlines()]
    start = lines.index(marker) + 1
    return lines[start : start + n]


def row_of(rows: list[tuple], first: str) -> tuple:
    return next(r for r in rows if r[1] == first)


# --------------------------------------------------------------------------- results statistics


async def test_stats_numbers_match_the_hand_computed_ones(world: World):
    pdf = await world.services.reports.build(ADMIN, "stats", world.class_id, fmt="pdf", now=NOW)  # current period
    assert pdf.period_name == "2 четверть" and pdf.filename == f"stats-class{world.class_id}-period{world.q2_id}.pdf"
    text = pdf_text(pdf.content)
    assert "Статистика результатов, 7А, 2 четверть" in text and "МБОУ «СОШ № 5» г. Сургут" in text
    assert "учеников в классе: 5" in text
    # Алгебра: 5 pupils, 1 exempt, 1 without (deferred), N 3; 5:1 4:1 н/а:1; avg 4,50; 66,7 / 66,7 / 57,0
    # (the columns «зач», «незач» appear because of Физическая культура; no «1» anywhere: no column)
    assert cells_after(text, "Алгебра", 15) == ["5", "1", "1", "3", "1", "1", "0", "0", "0", "0", "1",
                                                "4,50", "66,7", "66,7", "57,0"]
    assert cells_after(text, "Физическая культура", 15)[-4:] == ["—", "66,7", "—", "—"]

    xlsx = await world.services.reports.build(ADMIN, "stats", world.class_id, fmt="xlsx", period_id=world.q2_id,
                                              now=NOW)
    rows = sheet_rows(xlsx.content)
    header = rows[1]
    assert header[:6] == ("№", "Предмет", "Учеников", "Осв.", "Без отметки", "N")
    col = {name: i for i, name in enumerate(header)}
    alg, rus, pe = row_of(rows, "Алгебра"), row_of(rows, "Русский язык"), row_of(rows, "Физическая культура")
    assert (alg[col["N"]], alg[col["«5»"]], alg[col["«н/а»"]], alg[col["Средний балл"]]) == (3, 1, 1, 4.5)
    assert (alg[col["Успеваемость, %"]], alg[col["Качество, %"]], alg[col["СОУ, %"]]) == (66.7, 66.7, 57.0)
    # Русский язык: 5 5 3 2, one without → N 4; avg 3,75; успеваемость 75; качество 50; СОУ (200+36+16)/4 = 63
    assert (rus[col["N"]], rus[col["Без отметки"]], rus[col["Средний балл"]]) == (4, 1, 3.75)
    assert (rus[col["Успеваемость, %"]], rus[col["Качество, %"]], rus[col["СОУ, %"]]) == (75.0, 50.0, 63.0)
    # Физическая культура: зач зач незач → N 3; успеваемость 66,7; no quality or СОУ
    assert (pe[col["N"]], pe[col["«зач»"]], pe[col["«незач»"]], pe[col["Успеваемость, %"]]) == (3, 2, 1, 66.7)
    assert pe[col["Качество, %"]] is None and pe[col["СОУ, %"]] is None
    assert "СОУ = (100·n5" in " ".join(str(r[0]) for r in sheet_rows(xlsx.content, 1))


async def test_stats_of_another_period_and_an_unknown_one(world: World):
    q1 = await world.services.reports.build(ADMIN, "stats", world.class_id, fmt="xlsx", period_id=world.q1_id)
    rows = sheet_rows(q1.content)
    alg = row_of(rows, "Алгебра")
    assert alg[5] == 1 and alg[6] == 0 and alg[7] == 1  # N 1: Иванов's «4»
    year = await world.services.reports.build(ADMIN, "stats", world.class_id, fmt="xlsx", period_id=world.year_id)
    assert row_of(sheet_rows(year.content), "Алгебра")[6] == 1  # the year «5»
    with pytest.raises(UnknownPeriod):
        await world.services.reports.build(ADMIN, "stats", world.class_id, period_id=987654)


# --------------------------------------------------------------------------- study plan


async def test_study_plan_fulfilment(world: World):
    xlsx = await world.services.reports.build(ADMIN, "plan", world.class_id, fmt="xlsx", period_id=world.q2_id)
    rows = sheet_rows(xlsx.content)
    assert rows[0][0].startswith("Выполнение учебного плана, 7А, 2 четверть")
    header = rows[1]
    assert header[:8] == ("№", "Предмет", "План", "Проведено", "% выполнения", "Осталось по плану", "Отменено",
                          "В расписании")
    assert "Проведено: контр. работы" in header and "Проведено: лаб. и практ." in header
    col = {name: i for i, name in enumerate(header)}
    alg = row_of(rows, "Алгебра")
    # 16 planned; held 3 (2 regular, 1 test) — the 1st quarter lesson is outside; 1 cancelled; 1 still planned
    assert alg[2:8] == (16, 3, 18.8, 13, 1, 1)
    assert (alg[col["Проведено: обычные"]], alg[col["Проведено: контр. работы"]]) == (2, 1)
    g1, g2 = row_of(rows, "Русский язык (гр. 1)"), row_of(rows, "Русский язык (гр. 2)")
    assert g1[2:5] == (20, 1, 5.0) and g2[2:5] == (20, 2, 10.0)
    assert g2[col["Проведено: лаб. и практ."]] == 1

    pdf = await world.services.reports.build(ADMIN, "plan", world.class_id, fmt="pdf", period_id=world.q2_id)
    text = pdf_text(pdf.content)
    assert "Выполнение учебного плана, 7А, 2 четверть" in text and "05.11.2026 – 28.12.2026" in text
    assert cells_after(text, "Алгебра", 6) == ["16", "3", "18,8", "13", "1", "1"]
    assert "Русский язык (гр. 2)" in text


# --------------------------------------------------------------------------- summary sheet


async def test_summary_sheet(world: World):
    xlsx = await world.services.reports.build(ADMIN, "summary", world.class_id, fmt="xlsx", now=NOW)
    assert xlsx.year_label == "2026/2027" and xlsx.filename.endswith("-2026-2027.xlsx")
    rows = sheet_rows(xlsx.content)
    subjects_row, periods_row = rows[0], rows[1]
    assert subjects_row[:3] == ("№", "Ученик", "Алгебра")
    assert "Русский язык" in subjects_row and "Физическая культура" in subjects_row
    assert periods_row[2:9] == ("I", "II", "III", "IV", "Год", "Экз.", "I")  # no certificate marks: no «Итог»
    names = [r[1] for r in rows[2:]]
    assert names == ["Абрамов Глеб Юрьевич", "Ёлкина Дарья Олеговна", "Иванов Иван Петрович",
                     "Петрова Анна Сергеевна", "Сидоров Пётр Ильич"]  # ё sorts as е; the pupil who left is out
    ivanov = row_of(rows, "Иванов Иван Петрович")
    assert ivanov[0] == 3 and ivanov[2:8] == (4, 5, None, None, 5, 72)
    assert row_of(rows, "Абрамов Глеб Юрьевич")[3] == "отл."
    assert row_of(rows, "Сидоров Пётр Ильич")[3] == "н/а"
    deferred = sheet_rows(xlsx.content, 1)
    assert ("Абрамов Глеб Юрьевич", "Алгебра", "II", "20.01.2027") in deferred

    pdf = await world.services.reports.build(ADMIN, "summary", world.class_id, fmt="pdf", now=NOW)
    text = pdf_text(pdf.content)
    assert "Сводная ведомость итоговых отметок, 7А, 2026/2027 учебный год" in text
    for name in PUPILS:
        assert name in text
    assert "Алгебра" in text and "отл." in text
    assert "Абрамов Глеб Юрьевич — Алгебра, II: до 20.01.2027" in text
    assert "Выбывший" not in text


# --------------------------------------------------------------------------- scope and audit


async def test_scope_and_audit(world: World, db):
    reports = world.services.reports
    with pytest.raises(NotFound):  # another school's class looks like an unknown one
        await reports.build(FOREIGN_ADMIN, "summary", world.class_id)
    with pytest.raises(NotFound):
        await reports.build(ADMIN, "summary", 987654)
    with pytest.raises(NotAdmin):
        await reports.build(STRANGER, "summary", world.class_id)
    region = await reports.build(seed.REGION_ADMIN_TG, "plan", world.class_id, period_id=world.q2_id)
    assert region.content.startswith(b"%PDF")
    async with db.sessions() as s:
        entries = list(await s.scalars(select(AuditEntry).where(AuditEntry.action.like("report.%"))))
    assert [(e.action, e.actor_telegram_id, e.target_id) for e in entries] == [
        ("report.plan", seed.REGION_ADMIN_TG, str(world.class_id))]
    assert entries[0].details["period_id"] == world.q2_id and entries[0].details["format"] == "pdf"
    assert "Иванов" not in str(entries[0].details)


# --------------------------------------------------------------------------- the bot


@pytest.fixture
async def api(world: World):
    async with LocalBotApi() as api:
        for uid, name in ((ADMIN, "Завуч"), (FOREIGN_ADMIN, "Чужой"), (STRANGER, "Пётр"),
                          (seed.REGION_ADMIN_TG, "Регион")):
            api.add_user(uid, name)
        bot = Bot("7000000001:TEST-reports", session=FastCloseSession(api=TelegramAPIServer.from_base(api.base_url)))
        dp = create_dispatcher(world.services)
        polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
        try:
            yield api
        finally:
            with contextlib.suppress(RuntimeError):
                await dp.stop_polling()
            await asyncio.wait_for(polling, timeout=10)
            await bot.session.close()


def is_document(message: dict) -> bool:
    return bool(message.get("document"))


async def test_reports_in_the_chat(world: World, api: LocalBotApi):
    helptext = text_of(await say(api, ADMIN, "/help"))
    assert "/report" in helptext and "/delivery" in helptext
    assert "/report" not in text_of(await say(api, STRANGER, "/help"))
    usage = await say(api, ADMIN, "/report")
    assert "/report summary" in text_of(usage) and "/delivery" in text_of(usage)
    assert text_of(await say(api, ADMIN, "/report summary abc")) == text_of(usage)

    doc = await say(api, ADMIN, f"/report stats {world.class_id} {world.q2_id} xlsx", is_document)
    assert doc["document"]["file_name"] == f"stats-class{world.class_id}-period{world.q2_id}.xlsx"
    assert "Статистика результатов: 7А, 2 четверть" in (doc.get("caption") or "")
    rows = sheet_rows(api.file_content(doc["document"]["file_id"]))
    assert row_of(rows, "Русский язык")[5] == 4

    doc = await say(api, ADMIN, f"/report summary {world.class_id}", is_document)
    assert doc["document"]["file_name"].endswith(".pdf")
    assert "Иванов Иван Петрович" in pdf_text(api.file_content(doc["document"]["file_id"]))

    # an unknown period: the school's periods with buttons; pressing one sends the report
    listing = await say(api, ADMIN, f"/report plan {world.class_id} 999999", has_button("pr:"))
    assert RU["rp_period_unknown"].split(".")[0] in text_of(listing)
    periods_text = " ".join(text_of(m) for m in api.bot_messages(ADMIN)[-2:])
    assert "2 четверть" in periods_text and str(world.q2_id) in periods_text
    since = len(api.bot_messages(ADMIN))
    api.press(ADMIN, listing["message_id"], button_data(listing, f"pr:plan:{world.class_id}:{world.q2_id}"))
    doc = await api.wait_for_bot_message(ADMIN, is_document, timeout=10, since=since)
    assert "Выполнение учебного плана, 7А, 2 четверть" in pdf_text(api.file_content(doc["document"]["file_id"]))

    listing = await say(api, ADMIN, f"/report periods {world.class_id}", contains("Учебные периоды: 7А"))
    assert "1 четверть" in text_of(listing)

    # another school's admin, a stranger, a forged button
    assert text_of(await say(api, FOREIGN_ADMIN, f"/report summary {world.class_id}")) == RU["class_not_found"]
    assert text_of(await say(api, STRANGER, f"/report summary {world.class_id}")) == RU["admin_only"]
    assert text_of(await say(api, STRANGER, "/delivery")) == RU["admin_only"]
    prompt = api.bot_messages(STRANGER)[-1]
    query = api.press(STRANGER, prompt["message_id"], f"pr:stats:{world.class_id}:{world.q2_id}:pdf", check=False)
    answer = await api.wait_until(
        lambda: next((a for a in api.callback_answers if a["callback_query_id"] == query["id"]), None), timeout=10)
    assert answer["text"] == RU["admin_only"]
    assert not any(is_document(m) for m in api.bot_messages(STRANGER))

    delivery = await say(api, ADMIN, "/delivery")
    assert "Доставка итоговых отметок родителям" in text_of(delivery) and "МБОУ «СОШ № 5»" in text_of(delivery)
    assert "Использование" in text_of(await say(api, ADMIN, "/results_delay 0"))
