"""Every diary view of a child (issue 4, item 1) on SQLite and PostgreSQL: marks detail,
timetable and homework over any date, homework by subject, control works, teachers, holidays,
recommendations; two children in schools of different time zones; forged ids refused."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from services.diary import HOLIDAYS_AHEAD, Diary, span_days, week_of
from services.errors import ConsentRequired, NotLinked
from storage.models import Account
from tests import seed
from tests.seed import make_settings

# 19:30 UTC on Monday 2026-11-30: already Tuesday 00:30 in Yekaterinburg (UTC+5), still
# Monday 22:30 in Moscow (UTC+3). "Today" differs between the two children.
NOW = datetime(2026, 11, 30, 19, 30, tzinfo=timezone.utc)
MON, TUE, WED, SAT = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 5)
LAST_FRI = date(2026, 11, 27)
ATTACHMENT = {"name": "задачи.pdf", "url": "https://school.example/t.pdf?a=1&b=2"}


async def _world(db):
    async with db.sessions.begin() as s:
        # school A, Surgut (Asia/Yekaterinburg)
        school = await seed.add_school(s, "МБОУ «СОШ № 1» г. Сургут", tz="Asia/Yekaterinburg")
        await seed.add_period(s, school, "1 четверть", date(2026, 9, 1), date(2026, 10, 24))
        await seed.add_period(s, school, "2 четверть", date(2026, 11, 5), date(2026, 12, 28))
        c7 = await seed.add_class(s, school, "7А", 7)
        c7b = await seed.add_class(s, school, "7Б", 7)
        ivan = await seed.add_student(s, c7, "Иванов Иван Петрович", groups=["Англ. яз. гр. 2"])
        petya = await seed.add_student(s, c7, "Петров Пётр Ильич")  # individual plan in algebra
        algebra = await seed.add_subject(s, school, "Алгебра")
        russian = await seed.add_subject(s, school, "Русский язык")
        english = await seed.add_subject(s, school, "Английский язык")
        music = await seed.add_subject(s, school, "Музыка")
        gone = await seed.add_subject(s, school, "Черчение", deleted=True)
        petrova = await seed.add_teacher(s, school, "Петрова Анна Викторовна")
        sokolov = await seed.add_teacher(s, school, "Соколов Игорь Николаевич")
        smith = await seed.add_teacher(s, school, "Смирнова Елена Олеговна")
        brown = await seed.add_teacher(s, school, "Браун Мария Ивановна")
        tutor = await seed.add_teacher(s, school, "Кузнецова Ольга Павловна")
        # school B, Moscow (Europe/Moscow)
        other = await seed.add_school(s, "ГБОУ «Школа № 57» г. Москва", tz="Europe/Moscow")
        await seed.add_period(s, other, "2 четверть", date(2026, 11, 9), date(2026, 12, 27))
        c5 = await seed.add_class(s, other, "5Б", 5)
        olga = await seed.add_student(s, c5, "Иванова Ольга Петровна")
        math_b = await seed.add_subject(s, other, "Математика")
        teacher_b = await seed.add_teacher(s, other, "Орлова Вера Андреевна")

        parent = await seed.add_account(s)
        await seed.add_link(s, parent, ivan)
        await seed.add_link(s, parent, olga)
        await seed.add_link(s, parent, petya, status="pending")
        petya_parent = await seed.add_account(s, first_name="Ирина")
        await seed.add_link(s, petya_parent, petya)
    return locals()


async def _diary(db) -> Diary:
    return Diary(db.sessions, make_settings())


# --------------------------------------------------------------------------- who and when


async def test_today_follows_each_childs_school_time_zone(db):
    w = await _world(db)
    async with db.sessions.begin() as s:
        await seed.add_lesson(s, w["c7"], w["algebra"], w["petrova"], TUE, 1)
        await seed.add_lesson(s, w["c5"], w["math_b"], w["teacher_b"], MON, 1)
        await seed.add_homework(s, w["c7"], w["algebra"], TUE, "№ 1")
        await seed.add_homework(s, w["c5"], w["math_b"], MON, "№ 2")
    diary = await _diary(db)
    parent = w["parent"].id
    ivan = await diary.pupil(parent, w["ivan"].id, now=NOW)
    olga = await diary.pupil(parent, w["olga"].id, now=NOW)
    assert (ivan.today, ivan.timezone, ivan.class_name) == (TUE, "Asia/Yekaterinburg", "7А")
    assert (olga.today, olga.timezone, olga.school_name) == (MON, "Europe/Moscow", "ГБОУ «Школа № 57» г. Москва")

    for student, day, subject in ((w["ivan"], TUE, "Алгебра"), (w["olga"], MON, "Математика")):
        schedule = await diary.schedule_for(parent, student.id, now=NOW)
        assert schedule.today == day and [d.date for d in schedule.days] == [day]
        assert [lesson.subject_name for lesson in schedule.days[0].lessons] == [subject]
        homework = await diary.homework_for(parent, student.id, now=NOW)
        assert homework.today == day and [len(d.items) for d in homework.days] == [1]
        # the relative ranges agree with the dated ones
        assert (await diary.schedule(parent, student.id, "today", now=NOW)).days == schedule.days


def test_span_days_unit():
    assert span_days(WED, "day") == [WED]
    assert span_days(WED, "week") == week_of(WED) == [MON + timedelta(days=i) for i in range(7)]
    assert week_of(MON)[0] == MON and week_of(date(2026, 12, 6))[0] == MON
    with pytest.raises(ValueError):
        span_days(WED, "month")


# --------------------------------------------------------------------------- marks


async def test_subject_marks_detail(db):
    w = await _world(db)
    async with db.sessions.begin() as s:
        ivan, alg = w["ivan"], w["algebra"]
        await seed.add_mark(s, ivan, alg, date(2026, 11, 10), "5", 1, kind="answer")
        control = await seed.add_mark(s, ivan, alg, date(2026, 11, 20), "3", 2, kind="control",
                                      comment="Ошибки в задаче № 4")
        control.teacher_ref = w["petrova"].external_id
        await seed.add_mark(s, ivan, alg, date(2026, 11, 25), "зач", 1, kind="other")
        await seed.add_mark(s, ivan, alg, date(2026, 11, 26), "2", 1, deleted=True)
        await seed.add_mark(s, ivan, alg, date(2026, 10, 1), "2", 1)  # the 1st quarter
        await seed.add_mark(s, w["petya"], alg, date(2026, 11, 13), "2", 1)  # another pupil
        await seed.add_mark(s, ivan, w["russian"], date(2026, 11, 12), "4", 1)
    diary = await _diary(db)
    parent = w["parent"].id
    grades = await diary.grades(parent, w["ivan"].id, now=NOW)
    algebra_id = next(g.subject_id for g in grades.subjects if g.subject_name == "Алгебра")
    assert algebra_id == w["algebra"].id

    detail = await diary.subject_marks(parent, w["ivan"].id, algebra_id, now=NOW)
    assert (detail.subject_name, detail.period_name, detail.period_start) == (
        "Алгебра", "2 четверть", date(2026, 11, 5))
    assert [(m.date, m.value, m.weight, m.kind) for m in detail.marks] == [
        (date(2026, 11, 10), "5", 1, "answer"), (date(2026, 11, 20), "3", 2, "control"),
        (date(2026, 11, 25), "зач", 1, "other")]
    assert detail.marks[1].comment == "Ошибки в задаче № 4"
    assert detail.marks[1].teacher_name == "Петрова Анна Викторовна" and detail.marks[0].teacher_name is None
    assert detail.average == pytest.approx(3.67) and detail.count == 2

    # a subject of the pupil's own school without marks: an empty detail
    empty = await diary.subject_marks(parent, w["ivan"].id, w["music"].id, now=NOW)
    assert empty.marks == [] and empty.average is None and empty.count == 0
    # another school's subject, a deleted one, an unknown id: nothing revealed
    for forged in (w["math_b"].id, w["gone"].id, 987_654, -1):
        with pytest.raises(NotLinked):
            await diary.subject_marks(parent, w["ivan"].id, forged, now=NOW)
    # the right subject through someone else's child
    with pytest.raises(NotLinked):
        await diary.subject_marks(parent, w["petya"].id, algebra_id, now=NOW)


async def test_child_without_marks_yet(db):
    w = await _world(db)
    diary = await _diary(db)
    parent, olga = w["parent"].id, w["olga"].id
    grades = await diary.grades(parent, olga, now=NOW)
    assert grades.subjects == [] and grades.period_name == "2 четверть"
    detail = await diary.subject_marks(parent, olga, w["math_b"].id, now=NOW)
    assert detail.marks == [] and detail.average is None
    assert (await diary.assessments(parent, olga, now=NOW)).items == []
    teachers = await diary.teachers(parent, olga)
    assert teachers.class_teachers == [] and teachers.subjects == []
    holidays = await diary.holidays(parent, olga, now=NOW)
    assert holidays.current == [] and holidays.upcoming == []
    recs = await diary.recommendations(parent, olga)
    assert recs.items == [] and recs.total == 0
    by_subject = await diary.homework_by_subject(parent, olga, now=NOW)
    assert by_subject.subjects == [] and by_subject.today == MON


# --------------------------------------------------------------------------- timetable


async def test_timetable_any_day_and_week_with_changes(db):
    w = await _world(db)
    async with db.sessions.begin() as s:
        c7, alg, rus, eng = w["c7"], w["algebra"], w["russian"], w["english"]
        petrova, sokolov = w["petrova"], w["sokolov"]
        await seed.add_lesson(s, c7, alg, petrova, TUE, 1, "08:30", "09:10", substitute=sokolov)
        await seed.add_lesson(s, c7, rus, sokolov, TUE, 2, "09:20", "10:00", status="cancelled")
        await seed.add_lesson(s, c7, eng, w["smith"], TUE, 3, group="Англ. яз. гр. 1")
        await seed.add_lesson(s, c7, eng, w["brown"], TUE, 3, group="Англ. яз. гр. 2", room="21")
        # moved from last Friday's 6th lesson to Tuesday's 4th
        await seed.add_lesson(s, c7, alg, petrova, TUE, 4, kind="test", moved_from={"date": "2026-11-27", "number": 6})
        # a group lesson of the other group, moved: neither shown here nor on Friday
        await seed.add_lesson(s, c7, eng, w["smith"], WED, 5, group="Англ. яз. гр. 1",
                              moved_from={"date": "2026-11-27", "number": 5})
        await seed.add_lesson(s, c7, rus, sokolov, LAST_FRI, 1)
        await seed.add_lesson(s, w["c7b"], rus, sokolov, TUE, 1)  # another class
        await seed.add_holiday(s, w["school"], "День здоровья", SAT, SAT, classes=[c7])
        await seed.add_holiday(s, w["school"], "Карантин 7Б", WED, WED, classes=[w["c7b"]])
    diary = await _diary(db)
    parent, ivan = w["parent"].id, w["ivan"].id

    day = await diary.schedule_for(parent, ivan, TUE, "day", now=NOW)
    lessons = day.days[0].lessons
    assert [(x.number, x.subject_name) for x in lessons] == [
        (1, "Алгебра"), (2, "Русский язык"), (3, "Английский язык"), (4, "Алгебра")]
    sub, cancelled, group, moved = lessons
    assert (sub.teacher_name, sub.substitute_teacher_name) == ("Петрова Анна Викторовна", "Соколов Игорь Николаевич")
    assert cancelled.status == "cancelled"
    assert group.group == "Англ. яз. гр. 2" and group.teacher_name == "Браун Мария Ивановна"
    assert moved.moved_from == {"date": "2026-11-27", "number": 6} and moved.kind == "test"
    assert day.days[0].moved_away == []

    # last Friday: its own lesson, and the one that moved away to Tuesday
    friday = await diary.schedule_for(parent, ivan, LAST_FRI, now=NOW)
    [fri] = friday.days
    assert [x.subject_name for x in fri.lessons] == ["Русский язык"]
    assert [(m.number, m.subject_name, m.to_date, m.to_number) for m in fri.moved_away] == [
        (6, "Алгебра", TUE, 4)]

    week = await diary.schedule_for(parent, ivan, WED, "week", now=NOW)
    assert [d.date for d in week.days] == week_of(TUE) and week.today == TUE
    assert {d.date: d.holiday_name for d in week.days if d.holiday_name} == {SAT: "День здоровья"}
    assert [len(d.lessons) for d in week.days] == [0, 4, 0, 0, 0, 0, 0]
    previous = await diary.schedule_for(parent, ivan, LAST_FRI, "week", now=NOW)
    assert previous.days[4].moved_away and previous.days[4].date == LAST_FRI

    # far away dates are simply empty
    empty = await diary.schedule_for(parent, ivan, date(2031, 5, 5), "week", now=NOW)
    assert all(not d.lessons and not d.moved_away and not d.holiday_name for d in empty.days)
    with pytest.raises(ValueError):
        await diary.schedule_for(parent, ivan, TUE, "month", now=NOW)


# --------------------------------------------------------------------------- homework


async def test_homework_by_day_and_by_subject(db):
    w = await _world(db)
    async with db.sessions.begin() as s:
        c7, alg, rus = w["c7"], w["algebra"], w["russian"]
        await seed.add_homework(s, c7, alg, TUE, "№ 312, 315", attachments=[ATTACHMENT, "not a dict"])
        await seed.add_homework(s, c7, rus, WED, "Упр. 125")
        await seed.add_homework(s, c7, alg, date(2026, 11, 20), "№ 290")  # earlier in the period
        await seed.add_homework(s, c7, w["music"], date(2026, 11, 18), "Песня")  # nothing upcoming
        await seed.add_homework(s, c7, alg, date(2026, 10, 10), "1st quarter")  # before the period
        await seed.add_homework(s, c7, alg, date(2027, 1, 20), "После каникул")  # beyond two weeks
        await seed.add_homework(s, c7, alg, WED, "Удалено", deleted=True)
        await seed.add_homework(s, c7, w["gone"], WED, "Чертёж")
        await seed.add_homework(s, w["c7b"], rus, TUE, "Другой класс")
    diary = await _diary(db)
    parent, ivan = w["parent"].id, w["ivan"].id

    day = await diary.homework_for(parent, ivan, WED, now=NOW)
    assert [(i.subject_name, i.text) for i in day.days[0].items] == [("Русский язык", "Упр. 125")]
    week = await diary.homework_for(parent, ivan, TUE, "week", now=NOW)
    assert {d.date: [i.text for i in d.items] for d in week.days if d.items} == {
        TUE: ["№ 312, 315"], WED: ["Упр. 125"]}
    assert week.days[1].items[0].attachments == [ATTACHMENT]

    by_subject = await diary.homework_by_subject(parent, ivan, now=NOW)
    assert (by_subject.today, by_subject.until) == (TUE, TUE + timedelta(days=13))
    assert [(x.subject_name, [i.text for i in x.items]) for x in by_subject.subjects] == [
        ("Алгебра", ["№ 312, 315"]), ("Музыка", []), ("Русский язык", ["Упр. 125"])]
    assert by_subject.subjects[0].subject_id == w["algebra"].id
    assert by_subject.subjects[0].items[0].attachments == [ATTACHMENT]

    algebra = await diary.subject_homework(parent, ivan, w["algebra"].id, now=NOW)
    assert [(i.due_on, i.text) for i in algebra.items] == [
        (date(2027, 1, 20), "После каникул"), (TUE, "№ 312, 315"), (date(2026, 11, 20), "№ 290")]
    assert algebra.items[1].assigned_on == MON and algebra.period_name == "2 четверть"
    for forged in (w["math_b"].id, w["gone"].id, 987_654):
        with pytest.raises(NotLinked):
            await diary.subject_homework(parent, ivan, forged, now=NOW)


# --------------------------------------------------------------------------- control works


async def test_control_works_of_the_current_period(db):
    w = await _world(db)
    async with db.sessions.begin() as s:
        c7, alg, rus = w["c7"], w["algebra"], w["russian"]
        await seed.add_assessment(s, c7, alg, date(2026, 12, 10), "Контрольная работа № 3", "control", 2)
        await seed.add_assessment(s, c7, rus, date(2026, 11, 20), "Диктант", "test")
        await seed.add_assessment(s, c7, rus, date(2026, 12, 10), "ВПР по русскому языку", "vpr", 1)
        await seed.add_assessment(s, c7, alg, date(2026, 10, 10), "1 четверть", "control")
        await seed.add_assessment(s, c7, alg, date(2026, 12, 11), "Отменена", deleted=True)
        await seed.add_assessment(s, c7, w["gone"], date(2026, 12, 11), "Черчение")
        await seed.add_assessment(s, w["c7b"], alg, date(2026, 12, 10), "Другой класс")
    diary = await _diary(db)
    view = await diary.assessments(w["parent"].id, w["ivan"].id, now=NOW)
    assert (view.period_name, view.today) == ("2 четверть", TUE)
    assert [(a.date, a.subject_name, a.title, a.kind, a.lesson_number) for a in view.items] == [
        (date(2026, 11, 20), "Русский язык", "Диктант", "test", None),
        (date(2026, 12, 10), "Русский язык", "ВПР по русскому языку", "vpr", 1),
        (date(2026, 12, 10), "Алгебра", "Контрольная работа № 3", "control", 2),
    ]


# --------------------------------------------------------------------------- teachers


async def test_teachers_class_teacher_first_groups_and_individual_plan(db):
    w = await _world(db)
    async with db.sessions.begin() as s:
        c7 = w["c7"]
        await seed.add_assignment(s, c7, w["petrova"], role="class_teacher")
        await seed.add_assignment(s, c7, w["sokolov"], w["russian"])
        await seed.add_assignment(s, c7, w["petrova"], w["algebra"])
        await seed.add_assignment(s, c7, w["smith"], w["english"], group="Англ. яз. гр. 1")
        await seed.add_assignment(s, c7, w["brown"], w["english"], group="Англ. яз. гр. 2")
        await seed.add_assignment(s, c7, w["tutor"], w["algebra"], student=w["petya"])  # Petya's own
        await seed.add_assignment(s, c7, w["sokolov"], w["music"], deleted=True)
        await seed.add_assignment(s, c7, w["sokolov"], w["gone"])
        await seed.add_assignment(s, w["c7b"], w["tutor"], w["russian"], role="class_teacher")
    diary = await _diary(db)
    ivan = await diary.teachers(w["parent"].id, w["ivan"].id)
    assert (ivan.class_name, ivan.class_teachers) == ("7А", ["Петрова Анна Викторовна"])
    assert [(x.subject_name, [(t.name, t.group, t.individual) for t in x.teachers]) for x in ivan.subjects] == [
        ("Алгебра", [("Петрова Анна Викторовна", None, False)]),
        ("Английский язык", [("Браун Мария Ивановна", "Англ. яз. гр. 2", False)]),
        ("Русский язык", [("Соколов Игорь Николаевич", None, False)]),
    ]
    # Petya studies algebra on an individual plan: only his own teacher there; no English group
    petya = await diary.teachers(w["petya_parent"].id, w["petya"].id)
    assert [(x.subject_name, [(t.name, t.individual) for t in x.teachers]) for x in petya.subjects] == [
        ("Алгебра", [("Кузнецова Ольга Павловна", True)]),
        ("Русский язык", [("Соколов Игорь Николаевич", False)]),
    ]


# --------------------------------------------------------------------------- holidays


async def test_holidays_current_and_next(db):
    w = await _world(db)
    async with db.sessions.begin() as s:
        school, c7 = w["school"], w["c7"]
        await seed.add_holiday(s, school, "Осенние каникулы", date(2026, 10, 25), date(2026, 11, 4))
        await seed.add_holiday(s, school, "День здоровья", SAT, SAT, classes=[c7])
        await seed.add_holiday(s, school, "Карантин 7Б", WED, WED, classes=[w["c7b"]])
        await seed.add_holiday(s, school, "Зимние каникулы", date(2026, 12, 29), date(2027, 1, 11))
        await seed.add_holiday(s, school, "Новый год", date(2027, 1, 1), date(2027, 1, 1))
        for i in range(HOLIDAYS_AHEAD + 3):
            await seed.add_holiday(s, school, f"Праздник {i}", date(2027, 2, 1) + timedelta(days=i),
                                   date(2027, 2, 1) + timedelta(days=i))
        await seed.add_holiday(s, w["other"], "Каникулы в Москве", WED, WED)
    diary = await _diary(db)
    parent, ivan = w["parent"].id, w["ivan"].id
    view = await diary.holidays(parent, ivan, now=NOW)
    assert view.today == TUE and view.current == []
    assert [(h.name, h.class_only) for h in view.upcoming[:3]] == [
        ("День здоровья", True), ("Зимние каникулы", False), ("Новый год", False)]
    assert len(view.upcoming) == HOLIDAYS_AHEAD

    in_holidays = await diary.holidays(parent, ivan, now=datetime(2027, 1, 1, 6, tzinfo=timezone.utc))
    assert [h.name for h in in_holidays.current] == ["Зимние каникулы", "Новый год"]
    assert in_holidays.upcoming[0].name == "Праздник 0"
    assert (await diary.holidays(parent, w["olga"].id, now=NOW)).upcoming[0].name == "Каникулы в Москве"


# --------------------------------------------------------------------------- recommendations


async def test_recommendations_newest_first_own_only(db):
    w = await _world(db)
    async with db.sessions.begin() as s:
        ivan = w["ivan"]
        await seed.add_recommendation(s, ivan, w["petrova"], date(2026, 11, 10), "Повторить формулы",
                                      subject=w["algebra"])
        await seed.add_recommendation(s, ivan, w["sokolov"], date(2026, 11, 25), "Больше читать вслух")
        await seed.add_recommendation(s, ivan, w["petrova"], date(2026, 11, 26), "Удалена", deleted=True)
        await seed.add_recommendation(s, ivan, w["petrova"], date(2026, 11, 27), "Черчение", subject=w["gone"])
        await seed.add_recommendation(s, w["petya"], w["petrova"], date(2026, 11, 28), "Чужая")
    diary = await _diary(db)
    view = await diary.recommendations(w["parent"].id, w["ivan"].id)
    assert [(r.date, r.subject_name, r.teacher_name, r.text) for r in view.items] == [
        (date(2026, 11, 25), None, "Соколов Игорь Николаевич", "Больше читать вслух"),
        (date(2026, 11, 10), "Алгебра", "Петрова Анна Викторовна", "Повторить формулы"),
    ]
    limited = await diary.recommendations(w["parent"].id, w["ivan"].id, limit=1)
    assert len(limited.items) == 1 and limited.total == 2  # hidden ones (deleted, deleted subject) not counted


# --------------------------------------------------------------------------- access


async def test_every_view_refuses_forged_pending_and_no_consent(db):
    w = await _world(db)
    diary = await _diary(db)
    algebra = w["algebra"].id
    calls = [
        lambda acc, sid: diary.pupil(acc, sid, now=NOW),
        lambda acc, sid: diary.subject_marks(acc, sid, algebra, now=NOW),
        lambda acc, sid: diary.schedule_for(acc, sid, TUE, "week", now=NOW),
        lambda acc, sid: diary.homework_for(acc, sid, TUE, "day", now=NOW),
        lambda acc, sid: diary.homework_by_subject(acc, sid, now=NOW),
        lambda acc, sid: diary.subject_homework(acc, sid, algebra, now=NOW),
        lambda acc, sid: diary.assessments(acc, sid, now=NOW),
        lambda acc, sid: diary.teachers(acc, sid),
        lambda acc, sid: diary.holidays(acc, sid, now=NOW),
        lambda acc, sid: diary.recommendations(acc, sid),
    ]
    parent = w["parent"].id
    for call in calls:
        await call(parent, w["ivan"].id)  # allowed
        for forged in (999_999, w["petya"].id, -1):  # unknown / pending link / nonsense
            with pytest.raises(NotLinked):
                await call(parent, forged)
        with pytest.raises(NotLinked):
            await call(w["petya_parent"].id, w["ivan"].id)  # someone else's child
    async with db.sessions.begin() as s:
        (await s.get(Account, parent)).consent_state = "withdrawn"
    for call in calls:
        with pytest.raises(ConsentRequired):
            await call(parent, w["ivan"].id)

