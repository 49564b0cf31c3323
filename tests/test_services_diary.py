"""Diary read models and the access check in front of them."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import update

from services.diary import Diary, weighted_average
from services.errors import ConsentRequired, NotLinked
from storage.models import Account, Link
from tests import seed
from tests.seed import make_settings

# Monday 2026-11-30, 01:00 in Yekaterinburg (UTC+5) while it is still Sunday in UTC:
NOW = datetime(2026, 11, 29, 20, 0, tzinfo=timezone.utc)
MON, TUE, SAT, SUN = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 5), date(2026, 12, 6)


async def _world(db):
    async with db.sessions.begin() as s:
        school = await seed.add_school(s)
        await seed.add_period(s, school, "1 четверть", date(2026, 9, 1), date(2026, 10, 24))
        await seed.add_period(s, school, "2 четверть", date(2026, 11, 5), date(2026, 12, 28))
        await seed.add_period(s, school, "3 четверть (старая)", date(2026, 11, 1), date(2026, 12, 28), deleted=True)
        await seed.add_period(s, school, "1 полугодие", date(2026, 9, 1), date(2026, 12, 28), kind="half")
        await seed.add_period(s, school, "Учебный год", date(2026, 9, 1), date(2027, 5, 31), kind="year")
        c7 = await seed.add_class(s, school, "7А", 7)
        c10 = await seed.add_class(s, school, "10Б", 10)
        ivan = await seed.add_student(s, c7, "Иванов Иван Петрович", groups=["Англ. яз. гр. 2"])
        senior = await seed.add_student(s, c10, "Иванова Ольга Петровна")
        stranger = await seed.add_student(s, c7, "Смирнов Алексей Дмитриевич")
        algebra = await seed.add_subject(s, school, "Алгебра")
        russian = await seed.add_subject(s, school, "Русский язык")
        english = await seed.add_subject(s, school, "Английский язык")
        gone = await seed.add_subject(s, school, "Черчение", deleted=True)
        petrova = await seed.add_teacher(s, school, "Петрова Анна Викторовна")
        sokolov = await seed.add_teacher(s, school, "Соколов Игорь Николаевич")
        parent = await seed.add_account(s)
        await seed.add_link(s, parent, ivan)
        await seed.add_link(s, parent, senior)
        await seed.add_link(s, parent, stranger, status="pending")
    return locals()


async def test_forged_pending_and_no_consent_are_refused_on_every_method(db):
    w = await _world(db)
    diary = Diary(db.sessions, make_settings())
    parent = w["parent"].id
    calls = [
        lambda acc, sid: diary.grades(acc, sid, now=NOW),
        lambda acc, sid: diary.homework(acc, sid, "today", now=NOW),
        lambda acc, sid: diary.schedule(acc, sid, "week", now=NOW),
    ]
    async with db.sessions.begin() as s:
        other = await seed.add_account(s, first_name="Пётр")  # consent granted, no link
    for call in calls:
        await call(parent, w["ivan"].id)  # allowed
        for forged in (999_999, w["stranger"].id, -1):  # unknown / pending link / nonsense
            with pytest.raises(NotLinked):
                await call(parent, forged)
        with pytest.raises(NotLinked):
            await call(other.id, w["ivan"].id)
        with pytest.raises(NotLinked):
            await call(999_999, w["ivan"].id)  # unknown account

    async with db.sessions.begin() as s:
        (await s.get(Account, w["parent"].id)).consent_state = "refused"
    for call in calls:
        with pytest.raises(ConsentRequired):
            await call(parent, w["ivan"].id)

    async with db.sessions.begin() as s:
        (await s.get(Account, w["parent"].id)).consent_state = "granted"
        await s.execute(update(Link).where(Link.student_id == w["ivan"].id).values(status="revoked"))
    with pytest.raises(NotLinked):
        await calls[0](parent, w["ivan"].id)


async def test_deleted_student_is_not_visible(db):
    w = await _world(db)
    diary = Diary(db.sessions, make_settings())
    async with db.sessions.begin() as s:
        (await s.get(type(w["ivan"]), w["ivan"].id)).deleted_at = datetime.now(timezone.utc)
    with pytest.raises(NotLinked):
        await diary.grades(w["parent"].id, w["ivan"].id, now=NOW)


def test_weighted_average_unit():
    assert weighted_average([("5", 1), ("3", 2), ("зач", 1), ("н/а", 1), ("осв", 1), ("незач", 1)]) == (3.67, 2)
    assert weighted_average([("зач", 1)]) == (None, 0)
    assert weighted_average([]) == (None, 0)


async def test_grades_current_quarter_weighted_average(db):
    w = await _world(db)
    async with db.sessions.begin() as s:
        ivan, alg, rus = w["ivan"], w["algebra"], w["russian"]
        await seed.add_mark(s, ivan, alg, date(2026, 11, 10), "5", 1)
        await seed.add_mark(s, ivan, alg, date(2026, 11, 20), "3", 2, kind="control", comment="Контрольная")
        await seed.add_mark(s, ivan, alg, date(2026, 11, 25), "зач", 1)
        await seed.add_mark(s, ivan, alg, date(2026, 11, 26), "2", 1, deleted=True)
        await seed.add_mark(s, ivan, alg, date(2026, 10, 1), "2", 1)  # 1st quarter
        await seed.add_mark(s, ivan, rus, date(2026, 11, 12), "4", 1)
        await seed.add_mark(s, ivan, rus, date(2026, 11, 13), "осв", 1)
        await seed.add_mark(s, ivan, w["gone"], date(2026, 11, 13), "5", 1)
        await seed.add_mark(s, w["stranger"], alg, date(2026, 11, 13), "2", 1)
    diary = Diary(db.sessions, make_settings())
    g = await diary.grades(w["parent"].id, w["ivan"].id, now=NOW)
    assert (g.student_name, g.period_name, g.period_start, g.period_end) == (
        "Иванов Иван Петрович", "2 четверть", date(2026, 11, 5), date(2026, 12, 28))
    assert [x.subject_name for x in g.subjects] == ["Алгебра", "Русский язык"]
    algebra, russian = g.subjects
    assert algebra.subject_id == w["algebra"].id
    assert [(m.date, m.value, m.weight) for m in algebra.marks] == [
        (date(2026, 11, 10), "5", 1), (date(2026, 11, 20), "3", 2), (date(2026, 11, 25), "зач", 1)]
    assert algebra.marks[1].kind == "control" and algebra.marks[1].comment == "Контрольная"
    assert algebra.average == pytest.approx(3.67) and algebra.count == 2
    assert russian.average == 4.0 and russian.count == 1 and len(russian.marks) == 2

    # in the autumn holidays: the quarter that ended last
    holidays = await diary.grades(w["parent"].id, w["ivan"].id, now=datetime(2026, 11, 1, 8, tzinfo=timezone.utc))
    assert holidays.period_name == "1 четверть"
    assert [(x.subject_name, x.average) for x in holidays.subjects] == [("Алгебра", 2.0)]


async def test_grades_half_year_for_grade_10_and_fallback_without_periods(db):
    w = await _world(db)
    async with db.sessions.begin() as s:
        await seed.add_mark(s, w["senior"], w["algebra"], date(2026, 9, 15), "4", 1)
        other_school = await seed.add_school(s, "МБОУ «СОШ № 3» г. Нягань")
        cls = await seed.add_class(s, other_school, "8А", 8)
        pupil = await seed.add_student(s, cls, "Кузнецов Павел Андреевич")
        subj = await seed.add_subject(s, other_school, "География")
        await seed.add_mark(s, pupil, subj, date(2026, 11, 20), "5", 1)
        await seed.add_mark(s, pupil, subj, date(2026, 10, 20), "2", 1)  # older than 30 days
        await seed.add_link(s, w["parent"], pupil)
    diary = Diary(db.sessions, make_settings())
    g = await diary.grades(w["parent"].id, w["senior"].id, now=NOW)
    assert g.period_name == "1 полугодие" and g.period_start == date(2026, 9, 1)
    assert [(x.subject_name, x.average) for x in g.subjects] == [("Алгебра", 4.0)]

    f = await diary.grades(w["parent"].id, pupil.id, now=NOW)
    assert f.period_name is None and f.period_end == MON and (f.period_end - f.period_start).days == 29
    assert [(x.subject_name, [m.value for m in x.marks]) for x in f.subjects] == [("География", ["5"])]


async def test_schedule_substitution_cancellation_reschedule_groups_holiday(db):
    w = await _world(db)
    async with db.sessions.begin() as s:
        c7, alg, rus, eng = w["c7"], w["algebra"], w["russian"], w["english"]
        petrova, sokolov = w["petrova"], w["sokolov"]
        await seed.add_lesson(s, c7, alg, petrova, MON, 1, "08:30", "09:10", substitute=sokolov)
        await seed.add_lesson(s, c7, rus, petrova, MON, 2, "09:20", "10:00", status="cancelled")
        await seed.add_lesson(s, c7, eng, sokolov, MON, 3, "10:20", "11:00", group="Англ. яз. гр. 1")
        await seed.add_lesson(s, c7, eng, petrova, MON, 3, "10:20", "11:00", group="Англ. яз. гр. 2", room="21")
        await seed.add_lesson(s, c7, alg, petrova, MON, 4, "11:10", "11:50", kind="test",
                              moved_from={"date": "2026-11-27", "number": 2})
        await seed.add_lesson(s, c7, alg, petrova, MON, 5, deleted=True)
        await seed.add_lesson(s, c7, w["gone"], petrova, MON, 6)
        await seed.add_lesson(s, c7, rus, petrova, TUE, 1)
        await seed.add_lesson(s, w["c10"], rus, petrova, MON, 1)  # another class
        await seed.add_holiday(s, w["school"], "День здоровья", SAT, SAT, classes=[c7])
        await seed.add_holiday(s, w["school"], "Карантин 10Б", SUN, SUN, classes=[w["c10"]])
    diary = Diary(db.sessions, make_settings())
    today = await diary.schedule(w["parent"].id, w["ivan"].id, "today", now=NOW)
    assert today.student_name == "Иванов Иван Петрович" and [d.date for d in today.days] == [MON]
    lessons = today.days[0].lessons
    assert [(l.number, l.subject_name) for l in lessons] == [
        (1, "Алгебра"), (2, "Русский язык"), (3, "Английский язык"), (4, "Алгебра")]
    sub, cancelled, group, moved = lessons
    assert sub.teacher_name == "Петрова Анна Викторовна" and sub.substitute_teacher_name == "Соколов Игорь Николаевич"
    assert (sub.starts_at, sub.ends_at, sub.status) == ("08:30", "09:10", "planned")
    assert cancelled.status == "cancelled" and cancelled.substitute_teacher_name is None
    assert group.group == "Англ. яз. гр. 2" and group.room == "21"
    assert moved.moved_from == {"date": "2026-11-27", "number": 2} and moved.kind == "test"

    tomorrow = await diary.schedule(w["parent"].id, w["ivan"].id, "tomorrow", now=NOW)
    assert [(d.date, [l.subject_name for l in d.lessons]) for d in tomorrow.days] == [(TUE, ["Русский язык"])]
    week = await diary.schedule(w["parent"].id, w["ivan"].id, "week", now=NOW)
    assert [d.date for d in week.days][0] == MON and week.days[-1].date == SUN and len(week.days) == 7
    assert {d.date: d.holiday_name for d in week.days if d.holiday_name} == {SAT: "День здоровья"}
    with pytest.raises(ValueError):
        await diary.schedule(w["parent"].id, w["ivan"].id, "month", now=NOW)


async def test_homework_today_tomorrow_week(db):
    w = await _world(db)
    async with db.sessions.begin() as s:
        c7, alg, rus = w["c7"], w["algebra"], w["russian"]
        await seed.add_homework(s, c7, rus, MON, "Упр. 125, правило на с. 64")
        await seed.add_homework(s, c7, alg, MON, "№ 312, 315",
                                attachments=[{"name": "задачи.pdf", "url": "https://school.example/t.pdf"}])
        await seed.add_homework(s, c7, alg, MON, "Старое задание", deleted=True)
        await seed.add_homework(s, c7, w["gone"], MON, "Чертёж")
        await seed.add_homework(s, c7, alg, TUE, "№ 320")
        await seed.add_homework(s, c7, rus, SUN, "Сочинение")
        await seed.add_homework(s, c7, rus, date(2026, 12, 7), "Следующая неделя")
        await seed.add_homework(s, w["c10"], rus, MON, "Другой класс")
    diary = Diary(db.sessions, make_settings())
    today = await diary.homework(w["parent"].id, w["ivan"].id, "today", now=NOW)
    assert [d.date for d in today.days] == [MON]
    assert [(i.subject_name, i.text) for i in today.days[0].items] == [
        ("Алгебра", "№ 312, 315"), ("Русский язык", "Упр. 125, правило на с. 64")]
    assert today.days[0].items[0].attachments == [{"name": "задачи.pdf", "url": "https://school.example/t.pdf"}]

    tomorrow = await diary.homework(w["parent"].id, w["ivan"].id, "tomorrow", now=NOW)
    assert [(d.date, [i.text for i in d.items]) for d in tomorrow.days] == [(TUE, ["№ 320"])]

    week = await diary.homework(w["parent"].id, w["ivan"].id, "week", now=NOW)
    assert len(week.days) == 7
    assert {d.date: [i.text for i in d.items] for d in week.days if d.items} == {
        MON: ["№ 312, 315", "Упр. 125, правило на с. 64"], TUE: ["№ 320"], SUN: ["Сочинение"]}

    # in UTC it is still Sunday; a school in UTC sees Sunday as today
    async with db.sessions.begin() as s:
        (await s.get(type(w["school"]), w["school"].id)).timezone = "UTC"
    utc_today = await diary.homework(w["parent"].id, w["ivan"].id, "today", now=NOW)
    assert utc_today.days[0].date == date(2026, 11, 29)
