"""Texts, pure renderers and keyboards: no Telegram, no database."""
from __future__ import annotations

import re
import string
from datetime import date, datetime, timedelta, timezone

import pytest

from bot.callbacks import ChildCb, ChildListCb, ChildViewCb, ConsentCb, ConsentMenuCb, LinkDecisionCb, ViewCb
from bot.commands import PUBLIC_COMMANDS, bot_commands
from bot.handlers.linking import looks_like_code
from bot.keyboards import (
    RANGES,
    VIEWS,
    children_keyboard,
    consent_keyboard,
    link_decision_keyboard,
    main_menu,
    view_keyboard,
    withdraw_confirm_keyboard,
    withdraw_keyboard,
)
from bot.render import (
    MESSAGE_LIMIT,
    render_children,
    render_classes,
    render_consent,
    render_decision,
    render_grades,
    render_homework,
    render_invite_codes,
    render_pending,
    render_schedule,
    render_schools,
    split_message,
)
from bot.texts import EN, RU, TEXTS, Html, t, variants
from services.admins import ClassView, SchoolView
from services.consent_text import CURRENT_VERSION, consent_text
from services.diary import (
    DayHomework,
    DaySchedule,
    GradesView,
    HomeworkItem,
    HomeworkView,
    LessonView,
    MarkView,
    ScheduleView,
    SubjectGrades,
)
from services.linking import ChildView, IssuedCode, PendingLinkView

LANGS = ("ru", "en")
EVIL = '<b>Иванов</b> & "Co" <script>'


# --------------------------------------------------------------------------- helpers


def _balanced(chunk: str) -> bool:
    """Every HTML tag opened in the chunk is closed in it (Telegram rejects a chunk otherwise)."""
    stack: list[str] = []
    for closing, name in re.findall(r"<(/?)([a-z]+)[^>]*>", chunk):
        if closing:
            if not stack or stack.pop() != name:
                return False
        else:
            stack.append(name)
    return not stack


def _check_chunks(chunks: list[str]) -> None:
    assert chunks
    for chunk in chunks:
        assert 0 < len(chunk) <= MESSAGE_LIMIT
        assert _balanced(chunk), chunk[:200]


def _markup_data(markup) -> list[str]:
    return [b.callback_data for row in markup.inline_keyboard for b in row]


def _fits(data: str) -> None:
    assert 1 <= len(data.encode("utf-8")) <= 64, data


def _child(i: int, name: str = "Иванов Иван Петрович") -> ChildView:
    return ChildView(student_id=i, full_name=name, first_name=name.split()[1] if " " in name else name,
                     class_name="7А", school_name="МБОУ «СОШ № 1»", is_active=i == 1)


# --------------------------------------------------------------------------- texts


def test_languages_have_the_same_keys():
    assert set(RU) == set(EN)
    assert set(TEXTS) == {"ru", "en"}


@pytest.mark.parametrize("key", sorted(RU))
def test_placeholders_match_between_languages(key):
    fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}  # noqa: E731
    assert fields(RU[key]) == fields(EN[key]), key
    assert RU[key].strip() and EN[key].strip()


def test_texts_escape_values_but_not_markup():
    text = t("ru", "child_selected", name=EVIL)
    assert "<b>Иванов</b>" not in text and "&lt;b&gt;Иванов&lt;/b&gt; &amp;" in text
    assert t("ru", "grades_line_noavg", subject="Алгебра", marks=Html("<b>5</b>")) == "Алгебра: <b>5</b>"
    assert t("xx", "menu") == RU["menu"]  # unknown language → Russian
    assert t("en", "menu") == EN["menu"]


def test_menu_buttons_have_every_language_variant():
    assert variants("btn_grades") == {RU["btn_grades"], EN["btn_grades"]}


def test_command_lists_in_both_languages():
    for lang in LANGS:
        commands = bot_commands(lang)
        assert [c.command for c in commands] == list(PUBLIC_COMMANDS)
        assert all(1 <= len(c.description) <= 256 for c in commands)


# --------------------------------------------------------------------------- split_message


def test_split_short_text_is_one_chunk():
    assert split_message("привет") == ["привет"]
    assert split_message("") == [""]


def test_split_on_line_boundaries():
    lines = [f"строка {i} " + "x" * 50 for i in range(300)]
    text = "\n".join(lines)
    chunks = split_message(text, 1000)
    assert all(len(c) <= 1000 for c in chunks)
    assert "\n".join(chunks) == text  # no line was cut or lost
    for chunk in chunks:
        assert all(line in lines for line in chunk.split("\n"))


def test_split_cuts_an_overlong_line_without_breaking_entities():
    line = ("слово &amp; " * 1000).strip()
    chunks = split_message(line, 100)
    assert all(0 < len(c) <= 100 for c in chunks)
    for chunk in chunks:
        assert re.search(r"&(?!amp;)", chunk) is None  # every & still starts a whole entity
    assert "".join(chunks).replace(" ", "") == line.replace(" ", "")


def test_split_drops_blank_edges():
    text = "a\n\n\n" + "b" * 30 + "\n\n" + "c" * 30
    chunks = split_message(text, 32)
    assert all(c == c.strip("\n") and c for c in chunks)


# --------------------------------------------------------------------------- renderers


def _big_grades() -> GradesView:
    subjects = []
    for i in range(40):
        marks = [MarkView(date=date(2026, 11, 1) + timedelta(days=j % 28), value=str(2 + j % 4),
                          weight=2 if j % 5 == 0 else 1, kind="answer", comment=None) for j in range(40)]
        subjects.append(SubjectGrades(subject_id=i, subject_name=f"Предмет {i} {EVIL}", marks=marks,
                                      average=4.666, count=40))
    return GradesView(student_name=EVIL, period_name="2 четверть", period_start=date(2026, 11, 5),
                      period_end=date(2026, 12, 28), subjects=subjects)


@pytest.mark.parametrize("lang", LANGS)
def test_grades_render(lang):
    view = GradesView(
        student_name="Иванов Иван", period_name="2 четверть", period_start=date(2026, 11, 5),
        period_end=date(2026, 12, 28),
        subjects=[
            SubjectGrades(subject_id=1, subject_name="Алгебра", average=4.67, count=3, marks=[
                MarkView(date(2026, 11, 10), "5", 1, "answer", None),
                MarkView(date(2026, 11, 11), "4", 1, "answer", None),
                MarkView(date(2026, 11, 12), "5", 2, "control", None),
            ]),
            SubjectGrades(subject_id=2, subject_name="Физкультура", average=None, count=0,
                          marks=[MarkView(date(2026, 11, 10), "зач", 1, "other", None)]),
            SubjectGrades(subject_id=3, subject_name="Пустой", average=None, count=0, marks=[]),
        ],
    )
    [text] = render_grades(view, lang)
    avg = "4,67" if lang == "ru" else "4.67"
    assert f"Алгебра: 5 4 <b>5</b> — {'ср.' if lang == 'ru' else 'avg'} {avg} (3)" in text
    assert "Физкультура: зач" in text
    assert "Пустой" not in text
    assert "2 четверть (05.11–28.12)" in text


def test_grades_without_marks_or_period():
    view = GradesView(student_name="Иван", period_name=None, period_start=date(2026, 11, 1),
                      period_end=date(2026, 11, 30), subjects=[])
    [text] = render_grades(view, "ru")
    assert RU["grades_none"] in text and "(01.11–30.11)" in text


@pytest.mark.parametrize("lang", LANGS)
def test_big_views_split_into_valid_chunks(lang):
    chunks = render_grades(_big_grades(), lang)
    assert len(chunks) > 1
    _check_chunks(chunks)
    assert "<b>Иванов</b>" not in "".join(chunks)

    long_text = ("Решить задачи " + EVIL + " ") * 400  # one homework text longer than a message
    homework = HomeworkView(student_name=EVIL, days=[
        DayHomework(date=date(2026, 11, 23) + timedelta(days=d), items=[
            HomeworkItem(subject_name=f"Предмет {i}", text=long_text if i == 0 else "№ 1–10 <стр. 5>",
                         attachments=[{"name": "файл <1>.pdf", "url": "https://example.org/a?b=1&c=2"}])
            for i in range(30)
        ]) for d in range(7)
    ])
    chunks = render_homework(homework, lang, "week")
    _check_chunks(chunks)
    assert "<стр. 5>" not in "".join(chunks)

    schedule = ScheduleView(student_name=EVIL, days=[
        DaySchedule(date=date(2026, 11, 23) + timedelta(days=d), holiday_name=None, lessons=[
            LessonView(number=n, starts_at="08:30", ends_at="09:10", subject_name=f"Предмет {n} " + "я" * 300,
                       teacher_name="Петрова А. В.", substitute_teacher_name=None, room="204", status="planned",
                       kind="regular", moved_from=None, group=None) for n in range(1, 12)
        ]) for d in range(7)
    ])
    _check_chunks(render_schedule(schedule, lang, "week"))


@pytest.mark.parametrize("lang", LANGS)
def test_homework_render(lang):
    view = HomeworkView(student_name="Иван", days=[
        DayHomework(date=date(2026, 11, 30), items=[
            HomeworkItem("Алгебра", "№ 123 & 124", [{"name": "лист.pdf", "url": "https://ex.org/x?a=1&b=2"},
                                                    {"name": "bad", "url": "javascript:alert(1)"}]),
        ]),
        DayHomework(date=date(2026, 12, 1), items=[]),
    ])
    [text] = render_homework(view, lang, "week")
    assert "<b>Алгебра</b>: № 123 &amp; 124" in text
    assert '<a href="https://ex.org/x?a=1&amp;b=2">лист.pdf</a>' in text
    assert "javascript:" not in text
    assert ("Пн, 30.11" if lang == "ru" else "Mon, 30.11") in text
    assert "01.12" not in text  # a week lists only days with homework

    empty = HomeworkView(student_name="Иван", days=[DayHomework(date=date(2026, 11, 30), items=[])])
    assert t(lang, "homework_none") in render_homework(empty, lang, "today")[0]


def test_schedule_render_changes():
    lessons = [
        LessonView(1, "08:30", "09:10", "Алгебра", "Петрова Анна Викторовна", None, "204", "held", "regular",
                   None, None),
        LessonView(2, "09:20", "10:00", "Физика", "Сидоров С. С.", "И. И. Иванов", "301", "planned", "test",
                   None, "1 группа"),
        LessonView(3, "10:10", "10:50", "Химия", "Котова К. К.", None, None, "cancelled", "regular", None, None),
        LessonView(4, "11:00", "11:40", "История", "Орлов О. О.", None, "5", "planned", "regular",
                   {"date": "2026-11-27", "number": 3}, None),
    ]
    view = ScheduleView(student_name="Иван", days=[DaySchedule(date(2026, 11, 30), None, lessons)])
    [text] = render_schedule(view, "ru", "today")
    assert "1. 08:30–09:10 <b>Алгебра</b> — Петрова Анна Викторовна, каб. 204" in text
    # issue 4: who replaces whom (the planned teacher is named as such, not as the teacher)
    assert "замена: И. И. Иванов (по расписанию — Сидоров С. С.)" in text
    assert "<b>Физика</b> — Сидоров" not in text
    assert "группа: 1 группа" in text and "📝 контрольная" in text
    assert "<s>Химия</s> — ❌ отменён" in text
    assert "перенесён с 27.11, 3 урок" in text
    [en] = render_schedule(view, "en", "today")
    assert "substitute: И. И. Иванов" in en and "❌ cancelled" in en and "moved from 27.11, lesson 3" in en

    holiday = ScheduleView(student_name="Иван", days=[DaySchedule(date(2026, 12, 30), "Зимние каникулы", [])])
    assert "🌴 Зимние каникулы" in render_schedule(holiday, "ru", "today")[0]
    nothing = ScheduleView(student_name="Иван", days=[DaySchedule(date(2026, 12, 6), None, [])])
    assert RU["schedule_none"] in render_schedule(nothing, "ru", "today")[0]


def test_consent_render_fits_and_escapes():
    for lang in LANGS:
        chunks = render_consent(t(lang, "start_intro"), t(lang, "consent_text_header", version=CURRENT_VERSION),
                                consent_text(CURRENT_VERSION, lang))
        _check_chunks(chunks)
        assert "152-" in "".join(chunks)
    assert render_consent(None, "<b>h</b>", "a < b") == ["<b>h</b>\n\na &lt; b"]


def test_admin_renders():
    item = PendingLinkView(link_id=7, student_name=EVIL, class_name="7А", school_name="СОШ № 1",
                           parent_name="Мария", parent_username="maria", method="phone",
                           created_at=datetime(2026, 11, 30, 5, 0, tzinfo=timezone.utc))
    text = render_pending(item, "ru")
    assert "&lt;b&gt;Иванов" in text and "@maria" in text and "по телефону" in text
    assert "30.11.2026 10:00" in text  # shown in Yekaterinburg time
    decided = render_decision(text, True, "Ольга <admin>", datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc), "ru")
    assert decided.startswith(text) and "✅ Подтверждено (Ольга &lt;admin&gt;, 30.11.2026 11:00)" in decided
    assert len(render_decision("x" * 5000, False, "a", None, "en")) <= MESSAGE_LIMIT

    classes = [ClassView(id=i, name=f"{i}А", school_name="СОШ", pupils=25) for i in range(500)]
    _check_chunks(render_classes(classes, "ru"))
    assert render_classes([], "en") == [EN["classes_none"]]
    _check_chunks(render_schools([SchoolView(1, "sch-1", EVIL, "Asia/Yekaterinburg")], "ru"))

    codes = [IssuedCode(student_id=i, student_name=f"Ученик {i} Длиннофамильный Отчествович", code="ABCD2345")
             for i in range(300)]
    chunks = render_invite_codes("7А, СОШ № 1", codes, 30, "ru")
    assert len(chunks) > 1
    _check_chunks(chunks)
    assert "одноразовый" in chunks[0]
    assert sum(c.count("<code>ABCD2345</code>") for c in chunks) == 300
    assert render_invite_codes("7А", [], 30, "en") == [EN["invite_none"]]

    children = [_child(1), _child(2, EVIL)]
    text = render_children(children, 1, "ru")
    assert "👉 Иванов Иван Петрович" in text and "&lt;b&gt;" in text


# --------------------------------------------------------------------------- keyboards


@pytest.mark.parametrize("lang", LANGS)
def test_every_keyboard_fits_callback_limits(lang):
    big = 2**63 - 1
    markups = [
        consent_keyboard(lang, CURRENT_VERSION),
        consent_keyboard(lang, "x" * 32),
        withdraw_keyboard(lang),
        withdraw_confirm_keyboard(lang, "x" * 32),
        link_decision_keyboard(lang, big),
        children_keyboard([_child(big), _child(2)], big),
    ]
    markups += [children_keyboard([_child(big)], big, view=v, arg=a) for v in VIEWS for a in RANGES]
    markups += [view_keyboard(lang, v, big, a, several_children=True) for v in VIEWS for a in RANGES]
    markups += _every_new_keyboard(lang)  # issue 4: every keyboard of the diary views, worst-case ids and dates
    for markup in markups:
        for data in _markup_data(markup):
            _fits(data)
    for cb in (ConsentCb(action="withdraw", version="x" * 32), ConsentMenuCb(action="ask_withdraw"),
               LinkDecisionCb(action="approve", link_id=big), ChildCb(student_id=big),
               ChildListCb(view="schedule", arg="tomorrow"),
               ChildViewCb(student_id=big, view="schedule", arg="tomorrow"),
               ViewCb(view="schedule", student_id=big, arg="tomorrow")):
        _fits(cb.pack())


def test_view_keyboard_shape():
    kb = view_keyboard("ru", "homework", 5, "week", several_children=False)
    data = _markup_data(kb)
    assert data == [ViewCb(view="homework", student_id=5, arg=a).pack() for a in RANGES]
    assert kb.inline_keyboard[0][2].text.startswith("✓ ")
    kb = view_keyboard("ru", "grades", 5, "", several_children=True)
    assert _markup_data(kb) == [ViewCb(view="grades", student_id=5).pack(), ChildListCb(view="grades").pack()]


def test_main_menu_has_contact_button():
    for lang in LANGS:
        menu = main_menu(lang)
        buttons = [b for row in menu.keyboard for b in row]
        assert [b.text for b in buttons if b.request_contact] == [t(lang, "btn_share_phone")]
        assert {t(lang, k) for k in ("btn_grades", "btn_homework", "btn_schedule", "btn_children",
                                     "btn_consent", "btn_help")} <= {b.text for b in buttons}


def test_child_button_labels_are_plain_and_short():
    kb = children_keyboard([_child(1, "Очень-Очень-Длинная-Фамилия " + "Имя" * 40)], 1)
    assert len(kb.inline_keyboard[0][0].text) <= 60


@pytest.mark.parametrize("text,ok", [
    ("ABCD-EFGH", True), ("abcd efgh", True), ("ABCDEFGH", True), (" ABCD2345 ", True),
    ("ABCD-EFG", False), ("ABCD-EFGO", False), ("ABCD1234", False), ("привет", False),
    ("ABCD--EFGH", False), ("Hello world", False),
])
def test_invite_code_detection(text, ok):
    assert looks_like_code(text) is ok


# --------------------------------------------------------------------------- diary views (issue 4, item 1)

from bot.callbacks import DayCb, DiaryViewCb, MenuCb, SubjectCb  # noqa: E402
from bot.handlers.diary import SWITCHABLE, parse_day, parse_state  # noqa: E402
from bot.keyboards import (  # noqa: E402
    MENU_ROWS,
    SCREENS,
    day_keyboard,
    day_state,
    grades_keyboard,
    homework_subjects_keyboard,
    menu_keyboard,
    relative_range,
    screen_keyboard,
    subject_keyboard,
)
from bot.render import (  # noqa: E402
    day_title,
    render_assessments,
    render_holidays,
    render_homework_subjects,
    render_menu,
    render_recommendations,
    render_subject_homework,
    render_subject_marks,
    render_teachers,
    subject_label,
)
from services.diary import (  # noqa: E402
    AssessmentItem,
    AssessmentsView,
    HolidayItem,
    HolidaysView,
    HomeworkEntry,
    HomeworkSubjectsView,
    MarkDetail,
    MovedLesson,
    PupilView,
    RecommendationItem,
    RecommendationsView,
    SubjectHomework,
    SubjectHomeworkView,
    SubjectMarksView,
    SubjectTeachers,
    TeacherLine,
    TeachersView,
    week_of,
)

BIG = 2**63 - 1
EDGE_DAYS = (date(2000, 1, 1), date(2026, 11, 30), date(2099, 12, 31))
TODAY = date(2026, 11, 30)  # a Monday


def _subjects(n: int, subject_id: int = BIG) -> list[SubjectGrades]:
    marks = [MarkView(date(2026, 11, 10), "5", 1, "answer", None)]
    return [SubjectGrades(subject_id=subject_id - i, subject_name=f"Предмет {i} {EVIL}" * 3, marks=marks,
                          average=4.5, count=1) for i in range(n)]


def _every_new_keyboard(lang: str) -> list:
    markups = []
    for several in (True, False):
        markups.append(grades_keyboard(lang, BIG, _subjects(25), several_children=several))
        markups.append(homework_subjects_keyboard(
            lang, BIG, [SubjectHomework(BIG - i, f"Предмет {i}", []) for i in range(25)], several_children=several))
        markups.append(menu_keyboard(lang, BIG, several_children=several))
        for view in ("grades", "hwsubj"):
            markups.append(subject_keyboard(lang, view, BIG, several_children=several))
        for view in ("works", "teachers", "holidays", "recs"):
            markups.append(screen_keyboard(lang, view, BIG, several_children=several))
        for view in ("schedule", "homework"):
            for day in EDGE_DAYS:
                for days in ([day], week_of(day)):
                    state = day_state(days[0], "week" if len(days) > 1 else "day")
                    markups.append(day_keyboard(lang, view, BIG, days, TODAY, several_children=several,
                                                state=state))
    return markups


@pytest.mark.parametrize("lang", LANGS)
def test_every_diary_view_keyboard_fits_callback_limits(lang):
    for markup in _every_new_keyboard(lang):
        for data in _markup_data(markup):
            _fits(data)
        for row in markup.inline_keyboard:
            assert 1 <= len(row) <= 3  # readable on a phone
            for button in row:
                assert 1 <= len(button.text) <= 64
    # the children list under every view, carrying the longest state
    for view in SWITCHABLE:
        for arg in ("", "tomorrow", "w20991231"):
            markup = children_keyboard([_child(BIG), _child(BIG - 1)], BIG, view=view, arg=arg)
            for data in _markup_data(markup):
                _fits(data)
    for cb in (DiaryViewCb(view="hwsubj", student_id=BIG), DayCb(view="h", student_id=-BIG, day="20991231", span="w"),
               SubjectCb(view="g", student_id=-BIG, subject_id=-BIG), MenuCb(student_id=-BIG),
               ChildViewCb(student_id=-BIG, view="holidays", arg="w20991231")):
        _fits(cb.pack())


def test_day_keyboard_navigates_by_day_and_by_week():
    kb = day_keyboard("ru", "schedule", 7, [TODAY], TODAY, several_children=True, state="today")
    rows = kb.inline_keyboard
    assert [b.callback_data for b in rows[0]] == [DayCb(view="s", student_id=7, day="20261129", span="d").pack(),
                                                 DayCb(view="s", student_id=7, day="20261201", span="d").pack()]
    assert rows[0][0].text == "◀ Вс, 29.11" and rows[0][1].text == "Вт, 01.12 ▶"
    assert [b.callback_data for b in rows[1]] == [ViewCb(view="schedule", student_id=7, arg=a).pack() for a in RANGES]
    assert rows[1][0].text.startswith("✓ ")  # today is shown
    assert [b.callback_data for b in rows[-1]] == [MenuCb(student_id=7).pack(),
                                                  ChildListCb(view="schedule", arg="today").pack()]

    week = week_of(date(2026, 12, 9))
    kb = day_keyboard("en", "homework", 7, week, TODAY, several_children=False, state=day_state(week[0], "week"))
    rows = kb.inline_keyboard
    assert [b.callback_data for b in rows[0]] == [DayCb(view="h", student_id=7, day="20261130", span="w").pack(),
                                                 DayCb(view="h", student_id=7, day="20261214", span="w").pack()]
    assert rows[0][0].text == "◀ 30.11–06.12"
    assert not any(b.text.startswith("✓") for b in rows[1])  # not this week
    assert rows[2][0].callback_data == DiaryViewCb(view="hwsubj", student_id=7).pack()
    assert [b.callback_data for b in rows[-1]] == [MenuCb(student_id=7).pack()]  # one child: no switch
    assert relative_range([TODAY + timedelta(days=1)], TODAY) == "tomorrow"
    assert relative_range(week_of(TODAY), TODAY) == "week" and relative_range([TODAY], None) == ""


def test_menu_keyboard_holds_every_view_within_two_taps():
    kb = menu_keyboard("ru", 5, several_children=True)
    data = _markup_data(kb)
    assert data[:-1] == [DiaryViewCb(view=v, student_id=5).pack() for row in MENU_ROWS for v in row]
    assert {v for row in MENU_ROWS for v in row} == set(SCREENS)
    assert data[-1] == ChildListCb(view="menu").pack()
    for lang in LANGS:  # «Ещё…» is on the reply keyboard next to the three daily views
        menu = main_menu(lang)
        texts = [b.text for row in menu.keyboard for b in row]
        assert {t(lang, k) for k in ("btn_grades", "btn_schedule", "btn_homework", "btn_more")} <= set(texts)
        assert all(len(row) <= 3 for row in menu.keyboard)


def test_grades_keyboard_has_a_button_per_subject_with_marks():
    subjects = _subjects(3, subject_id=100) + [
        SubjectGrades(subject_id=None, subject_name="sub-x", marks=[MarkView(TODAY, "5", 1, "answer", None)],
                      average=5, count=1),
        SubjectGrades(subject_id=9, subject_name="Пусто", marks=[], average=None, count=0)]
    kb = grades_keyboard("ru", 5, subjects, several_children=False)
    subject_data = [d for d in _markup_data(kb) if d.startswith("ds:")]
    assert subject_data == [SubjectCb(view="g", student_id=5, subject_id=i).pack() for i in (100, 99, 98)]
    assert ViewCb(view="grades", student_id=5).pack() in _markup_data(kb)  # refresh
    assert subject_label("Алгебра", 4.5, "ru") == "Алгебра · 4,50"
    assert len(subject_label("Очень длинное название предмета " * 3, 4.5, "en")) <= 40


@pytest.mark.parametrize("value,ok", [("20261130", True), ("20000101", True), ("19991231", False),
                                      ("20261131", False), ("2026113", False), ("2026-11-3", False), ("", False)])
def test_parse_day(value, ok):
    assert (parse_day(value) is not None) is ok


def test_parse_state():
    assert parse_state("schedule", "week") == ("week", None, "")
    assert parse_state("schedule", "w20261202") == ("", date(2026, 12, 2), "week")
    assert parse_state("homework", "d20261202") == ("", date(2026, 12, 2), "day")
    for junk in ("", "x20261202", "d20261332", "yesterday"):
        assert parse_state("homework", junk) == ("tomorrow", None, "")
        assert parse_state("schedule", junk) == ("today", None, "")


@pytest.mark.parametrize("lang", LANGS)
def test_day_titles(lang):
    today = "сегодня" if lang == "ru" else "today"
    assert day_title([TODAY], TODAY, lang) == ("Пн" if lang == "ru" else "Mon") + f", 30.11 ({today})"
    assert "(" in day_title([TODAY - timedelta(days=1)], TODAY, lang)
    assert "(" not in day_title([TODAY + timedelta(days=5)], TODAY, lang)
    assert day_title(week_of(TODAY), TODAY, lang).endswith(")")
    assert "07.12–13.12" in day_title(week_of(date(2026, 12, 9)), TODAY, lang)
    assert not day_title(week_of(date(2026, 12, 9)), TODAY, lang).endswith(")")


@pytest.mark.parametrize("lang", LANGS)
def test_schedule_marks_lessons_moved_away(lang):
    view = ScheduleView(student_name="Иван", today=TODAY, days=[DaySchedule(
        TODAY, None, [], moved_away=[MovedLesson(6, "Алгебра <b>", date(2026, 12, 1), 4, group=None)])])
    [text] = render_schedule(view, lang, "", title=day_title([TODAY], TODAY, lang))
    assert "6. <s>Алгебра &lt;b&gt;</s>" in text
    assert ("перенесён на Вт, 01.12, 4 урок" if lang == "ru" else "moved to Tue, 01.12, lesson 4") in text
    assert t(lang, "schedule_none") not in text


@pytest.mark.parametrize("lang", LANGS)
def test_subject_marks_render(lang):
    view = SubjectMarksView(
        student_name="Иван", subject_id=1, subject_name="Алгебра", period_name="2 четверть",
        period_start=date(2026, 11, 5), period_end=date(2026, 12, 28), average=3.67, count=2, marks=[
            MarkDetail(date(2026, 11, 10), "5", 1, "answer", None, None),
            MarkDetail(date(2026, 11, 20), "3", 2.0, "control", "Ошибки <в задаче>", "Петрова А. В."),
            MarkDetail(date(2026, 11, 21), "4", 1.5, "weird", None, None),
        ])
    [text] = render_subject_marks(view, lang)
    if lang == "ru":
        assert "10.11 — <b>5</b>, ответ на уроке, вес 1" in text
        assert "20.11 — <b>3</b>, контрольная, вес 2, Петрова А. В." in text
        assert "💬 Ошибки &lt;в задаче&gt;" in text and "Средний балл: <b>3,67</b>" in text
        assert "weird, вес 1.5" in text
    else:
        assert "20.11 — <b>3</b>, control work, weight 2, Петрова А. В." in text
    empty = SubjectMarksView("Иван", 1, "Музыка", None, date(2026, 11, 1), date(2026, 11, 30), [], None, 0)
    assert t(lang, "subject_marks_none") in render_subject_marks(empty, lang)[0]


@pytest.mark.parametrize("lang", LANGS)
def test_homework_by_subject_renders(lang):
    entry = HomeworkEntry(date(2026, 11, 29), date(2026, 12, 1), "№ 1 & 2",
                          [{"name": "лист <1>.pdf", "url": "https://ex.org/a?b=1&c=2"}])
    view = HomeworkSubjectsView(student_name="Иван", today=TODAY, until=TODAY + timedelta(days=13), subjects=[
        SubjectHomework(1, "Алгебра", [entry]), SubjectHomework(2, "Музыка", [])])
    [text] = render_homework_subjects(view, lang)
    assert "<b>Алгебра</b>" in text and "Музыка" not in text and "№ 1 &amp; 2" in text
    assert '<a href="https://ex.org/a?b=1&amp;c=2">лист &lt;1&gt;.pdf</a>' in text
    assert t(lang, "homework_subjects_hint") in text
    nothing = HomeworkSubjectsView("Иван", TODAY, TODAY + timedelta(days=13), [])
    assert t(lang, "homework_subjects_none", days=14) in render_homework_subjects(nothing, lang)[0]

    detail = SubjectHomeworkView("Иван", 1, "Алгебра", "2 четверть", date(2026, 11, 5), date(2026, 12, 28), TODAY,
                                 [entry, entry])
    [text] = render_subject_homework(detail, lang)
    assert text.count("https://ex.org/a?b=1&amp;c=2") == 2 and "29.11" in text
    empty = SubjectHomeworkView("Иван", 1, "Алгебра", None, TODAY, TODAY, TODAY, [])
    assert t(lang, "subject_homework_none") in render_subject_homework(empty, lang)[0]


@pytest.mark.parametrize("lang", LANGS)
def test_assessments_teachers_holidays_recommendations_render(lang):
    works = AssessmentsView("Иван", "2 четверть", date(2026, 11, 5), date(2026, 12, 28), TODAY, [
        AssessmentItem(date(2026, 11, 20), None, "Русский язык", "Диктант", "test"),
        AssessmentItem(TODAY, 2, "Алгебра", "Контрольная <№ 3>", "control"),
        AssessmentItem(date(2026, 12, 10), 1, "Русский язык", "ВПР", "vpr"),
    ])
    [text] = render_assessments(works, lang)
    lines = text.splitlines()
    assert next(l for l in lines if "Диктант" in l).startswith("▫️")
    today_line = next(l for l in lines if "Контрольная &lt;№ 3&gt;" in l)
    assert today_line.startswith("📌") and t(lang, "work_today") in today_line and t(lang, "work_lesson", number=2) in today_line
    assert t(lang, "work_kind_vpr") in text
    assert t(lang, "works_none") in render_assessments(
        AssessmentsView("Иван", None, TODAY, TODAY, TODAY, []), lang)[0]

    teachers = TeachersView("Иван", "7А", ["Петрова Анна Викторовна"], [
        SubjectTeachers("Алгебра", [TeacherLine("Кузнецова О. П.", None, True)]),
        SubjectTeachers("Английский язык", [TeacherLine("Браун М. И.", "Англ. яз. гр. 2", False)]),
        SubjectTeachers(None, [TeacherLine("Орлов <О>", None, False)]),
    ])
    [text] = render_teachers(teachers, lang)
    first = text.splitlines()[2]
    assert first == t(lang, "teachers_class_teacher", teacher="Петрова Анна Викторовна")
    assert f"Кузнецова О. П. ({t(lang, 'teacher_individual')})" in text
    assert "Англ. яз. гр. 2" in text and "Орлов &lt;О&gt;" in text and t(lang, "teachers_no_subject") in text
    assert text.index("Алгебра") < text.index("Английский")
    assert t(lang, "teachers_none") in render_teachers(TeachersView("Иван", "7А", [], []), lang)[0]

    holidays = HolidaysView("Иван", TODAY, [HolidayItem("Осенние", date(2026, 11, 28), date(2026, 12, 3), False)],
                            [HolidayItem("День здоровья", date(2026, 12, 5), date(2026, 12, 5), True)])
    [text] = render_holidays(holidays, lang)
    assert t(lang, "holiday_left", days=3) in text and t(lang, "holiday_in", days=5) in text
    assert "05.12" in text and t(lang, "holiday_class_only") in text
    [empty] = render_holidays(HolidaysView("Иван", TODAY, [], []), lang)
    assert t(lang, "holidays_none_now") in empty and t(lang, "holidays_none_next") in empty

    recs = RecommendationsView("Иван", [RecommendationItem(date(2026, 11, 25), "Алгебра", "Петрова", "Читать <вслух>"),
                                        RecommendationItem(date(2026, 11, 20), None, None, "Режим дня")], total=30)
    [text] = render_recommendations(recs, lang)
    assert "<b>25.11.2026</b> · <b>Алгебра</b> · Петрова" in text and "Читать &lt;вслух&gt;" in text
    assert t(lang, "recs_more", shown=2, total=30) in text
    assert t(lang, "recs_none") in render_recommendations(RecommendationsView("Иван", [], 0), lang)[0]

    pupil = PupilView(1, EVIL, "7А", "СОШ № 1", "Asia/Yekaterinburg", TODAY)
    assert "&lt;b&gt;Иванов" in render_menu(pupil, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_big_diary_views_split_into_valid_chunks(lang):
    long = ("Очень длинный текст " + EVIL + " ") * 300
    entry = HomeworkEntry(TODAY, TODAY, long, [{"name": EVIL, "url": "https://ex.org/" + "x" * 200}] * 5)
    views = [
        render_subject_marks(SubjectMarksView(EVIL, 1, EVIL, EVIL, TODAY, TODAY, [
            MarkDetail(TODAY, "5", 2, "control", long[:500], EVIL) for _ in range(100)], 5.0, 100), lang),
        render_homework_subjects(HomeworkSubjectsView(EVIL, TODAY, TODAY, [
            SubjectHomework(i, f"{EVIL} {i}", [entry] * 3) for i in range(10)]), lang),
        render_subject_homework(SubjectHomeworkView(EVIL, 1, EVIL, EVIL, TODAY, TODAY, TODAY, [entry] * 20), lang),
        render_assessments(AssessmentsView(EVIL, EVIL, TODAY, TODAY, TODAY, [
            AssessmentItem(TODAY, 1, EVIL * 3, long[:300], "control") for _ in range(200)]), lang),
        render_teachers(TeachersView(EVIL, EVIL, [EVIL] * 3, [
            SubjectTeachers(f"{EVIL} {i}", [TeacherLine(EVIL * 2, EVIL, True)] * 10) for i in range(60)]), lang),
        render_holidays(HolidaysView(EVIL, TODAY, [HolidayItem(long[:400], TODAY, TODAY, True)] * 50,
                                     [HolidayItem(long[:400], TODAY, TODAY, False)] * 50), lang),
        render_recommendations(RecommendationsView(EVIL, [
            RecommendationItem(TODAY, EVIL, EVIL, long) for _ in range(20)], 99), lang),
    ]
    for chunks in views:
        assert len(chunks) > 1
        _check_chunks(chunks)
        assert "<b>Иванов</b>" not in "".join(chunks) and "<script>" not in "".join(chunks)
