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
    assert "замена: И. И. Иванов" in text and "Сидоров" not in text
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
