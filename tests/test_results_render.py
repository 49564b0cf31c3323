"""Rendering of the term-results messages and views (bot/render_results.py, the results block of
bot/notifications.py): texts in Russian and English, escaping, the 4096-character limit."""
from __future__ import annotations

from datetime import date

import pytest

from bot.callbacks import ForecastCb
from bot.notifications import render_notification
from bot.render_results import hint_text, render_forecast_notice
from bot.texts import EN, RU
from services.notify.channel import PermanentError

GRADE = {"student_id": 7, "student_name": "Иван", "subject": "Алгебра", "period_name": "2 четверть",
         "kind": "period", "title": None, "value": "5", "status": "final", "deferred_until": None,
         "set_at": "2026-12-27T10:00:00+00:00", "change": "new", "old_value": None}


def test_hints_in_both_languages():
    assert hint_text("up", 2, 5, "ru") == "ещё две пятёрки — и будет 5"
    assert hint_text("up", 1, 4, "ru") == "ещё одна пятёрка — и будет 4"
    assert hint_text("up", 7, 5, "ru") == "ещё 7 пятёрок — и будет 5"
    assert hint_text("down", 1, 3, "ru") == "одна двойка — и будет 3"
    assert hint_text("down", 4, 3, "ru") == "четыре двойки — и будет 3"
    assert hint_text("down", 12, 2, "ru") == "12 двоек — и будет 2"
    assert hint_text("up", 2, 5, "en") == "two more 5s — and it will be 5"
    assert hint_text("down", 1, 3, "en") == "one 2 — and it will be 3"


@pytest.mark.parametrize("payload, ru, en", [
    (GRADE, "🎓 Итоговая оценка\nИван — Алгебра, 2 четверть: <b>5</b>",
     "🎓 Final grade\nИван — Алгебра, 2 четверть: <b>5</b>"),
    (dict(GRADE, kind="year", period_name="Год"), "🎓 Годовая оценка\nИван — Алгебра, Год: <b>5</b>",
     "🎓 Year grade\nИван — Алгебра, Год: <b>5</b>"),
    (dict(GRADE, kind="exam", title="ОГЭ", period_name=None, value="18"),
     "📝 Результат экзамена\nИван — Алгебра, ОГЭ: <b>18</b>", "📝 Exam result\nИван — Алгебра, ОГЭ: <b>18</b>"),
    (dict(GRADE, change="changed", old_value="4"),
     "✏️ Итоговая оценка изменена\nИван — Алгебра, 2 четверть: было 4, стало <b>5</b>",
     "✏️ Final grade changed\nИван — Алгебра, 2 четверть: was 4, now <b>5</b>"),
    (dict(GRADE, change="deferred", status="deferred", value=None, deferred_until="2027-01-20"),
     "⏳ Итоговая оценка отложена\nИван — Алгебра, 2 четверть: ⏳ отложена до 20.01.2027",
     "⏳ Final grade deferred\nИван — Алгебра, 2 четверть: ⏳ deferred until 20.01.2027"),
    (dict(GRADE, change="set", value="4"),
     "🎓 Выставлена отложенная итоговая оценка\nИван — Алгебра, 2 четверть: <b>4</b>",
     "🎓 Deferred final grade set\nИван — Алгебра, 2 четверть: <b>4</b>"),
    (dict(GRADE, kind="certificate", period_name=None), "📜 Оценка в аттестат\nИван — Алгебра: <b>5</b>",
     "📜 Certificate grade\nИван — Алгебра: <b>5</b>"),
])
def test_final_grade_messages(payload, ru, en):
    assert render_notification("final_grade", payload, "ru").text == ru
    assert render_notification("final_grade", payload, "en").text == en


def test_final_grade_deleted_and_escaping():
    text = render_notification("final_grade_deleted", GRADE, "ru").text
    assert text == "🗑 Итоговая оценка отменена\nИван — Алгебра, 2 четверть: <s>5</s>"
    hostile = dict(GRADE, student_name="<b>x</b>", subject="Физика & <i>", value="<5>", period_name="Я" * 5000)
    text = render_notification("final_grade", hostile, "ru").text
    assert "&lt;b&gt;x&lt;/b&gt;" in text and "Физика &amp; &lt;i&gt;" in text and "<b>&lt;5&gt;</b>" in text
    assert len(text) < 400  # clipped
    with pytest.raises(PermanentError):
        render_notification("final_grade", "not a dict", "ru")  # type: ignore[arg-type]


FORECAST = {
    "student_id": 7, "student_name": "Иван", "period_name": "2 четверть", "period_ends_on": "2026-12-27",
    "reason": "weekly", "more": 0,
    "subjects": [
        {"subject": "Алгебра", "status": "graded", "mark": "4", "average": 4.25, "count": 4, "min_marks": 3,
         "risks": [], "up": [2, 5], "down": [3, 3]},
        {"subject": "Физика", "status": "graded", "mark": "3", "average": 2.5, "count": 4, "min_marks": 3,
         "risks": ["near_fail"], "up": [3, 4], "down": [1, 2]},
        {"subject": "Химия", "status": "graded", "mark": "2", "average": 2.0, "count": 2, "min_marks": 3,
         "risks": ["too_few_marks", "failing"], "up": [1, 3], "down": None},
        {"subject": "Музыка", "status": "pass_fail", "mark": "зач", "average": None, "count": 3, "min_marks": 3,
         "risks": [], "up": None, "down": None},
        {"subject": "Физкультура", "status": "exempt", "mark": "осв", "average": None, "count": 0,
         "min_marks": 3, "risks": [], "up": None, "down": None},
        {"subject": "История", "status": "no_marks", "mark": None, "average": None, "count": 0, "min_marks": 3,
         "risks": ["too_few_marks"], "up": None, "down": None},
    ],
}


def test_forecast_message():
    rendered = render_notification("forecast", FORECAST, "ru")
    assert rendered.text.splitlines()[:13] == [
        "🔮 <b>Прогноз на «2 четверть»: Иван</b>",
        "",
        "<b>Алгебра</b>: ср. 4,25 (4) → <b>4</b>",
        "   ↑ ещё две пятёрки — и будет 5",
        "   ↓ три двойки — и будет 3",
        "<b>Физика</b>: ср. 2,50 (4) → <b>3</b>",
        "   ↑ ещё три пятёрки — и будет 4",
        "   ⚠️ одна двойка — и будет 2",
        "<b>Химия</b>: ср. 2,00 (2) → <b>2</b> ❗",
        "   ⚠️ мало оценок: 2 из 3 — риск «не аттестован»",
        "   ↑ ещё одна пятёрка — и будет 3",
        "<b>Музыка</b>: <b>зачтено</b>",
        "<b>Физкультура</b>: освобождение",
    ]
    assert "<b>История</b>: оценок нет" in rendered.text
    (button,) = rendered.reply_markup.inline_keyboard[0]
    assert button.text == RU["btn_fcn_open"]
    assert button.callback_data == ForecastCb(student_id=7, which="term").pack()
    english = render_notification("forecast", FORECAST, "en")
    assert "<b>Алгебра</b>: avg 4.25 (4) → <b>4</b>" in english.text and english.text.startswith("🔮 <b>Forecast")
    assert english.reply_markup.inline_keyboard[0][0].text == EN["btn_fcn_open"]


def test_forecast_risk_message_and_the_limit():
    risk = dict(FORECAST, reason="risk", days_left=14, subjects=FORECAST["subjects"][1:3])
    text = render_notification("forecast_risk", risk, "ru").text
    assert text.startswith("⚠️ <b>До конца «2 четверть» осталось дней: 14. Предметы с риском: Иван</b>")
    assert "Алгебра" not in text and "Физика" in text
    huge = dict(FORECAST, more=70, subjects=[dict(FORECAST["subjects"][2], subject="П" * 200)] * 30)
    text = render_forecast_notice("forecast", huge, "ru")
    assert len(text) <= 4096 and text.count("<b>") == text.count("</b>")
    assert render_notification("forecast", huge, "ru").text == text


def test_every_results_text_exists_in_both_languages():
    ours = [k for k in RU if k.startswith(("fc_", "fn_", "fp_", "fr_", "fgn_", "fcn_", "btn_fc", "btn_fp",
                                           "rule_err_", "help_results", "cmd_forecast", "cmd_finals"))]
    assert len(ours) > 100
    assert all(k in EN and EN[k] for k in ours)
    assert date(2026, 1, 1)  # (texts carry no dates of their own)
