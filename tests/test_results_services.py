"""Term results read models (services/results.py): forecasts, final grades, the school's rule
and the push frequency, on SQLite and PostgreSQL."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from services.errors import ConsentRequired, NotAdmin, NotFound, NotLinked
from services.forecast import DEFAULT_RULE, FAILING, NO_MARKS, TOO_FEW_MARKS, ForecastRule, Hint, RuleError
from services.results import Results, SchoolRequired, resolve_periods
from storage.models import AuditEntry
from tests import seed

# Thursday 2026-11-26, 12:00 in Yekaterinburg
NOW = datetime(2026, 11, 26, 7, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 26)


# --------------------------------------------------------------------------- periods (pure)


def _p(id_: int, kind: str, name: str, start: str, end: str, ref: str | None = None):
    return SimpleNamespace(id=id_, kind=kind, name=name, starts_on=date.fromisoformat(start),
                           ends_on=date.fromisoformat(end), external_id=ref or f"p{id_}", deleted_at=None)


QUARTERS = [
    _p(1, "quarter", "1 четверть", "2026-09-01", "2026-10-25"),
    _p(2, "quarter", "2 четверть", "2026-11-05", "2026-12-28"),
    _p(3, "quarter", "3 четверть", "2027-01-09", "2027-03-22"),
    _p(4, "quarter", "4 четверть", "2027-04-01", "2027-05-26"),
]
YEAR = _p(9, "year", "2026/2027 учебный год", "2026-09-01", "2027-05-26")
HALVES = [_p(5, "half", "1 полугодие", "2026-09-01", "2026-12-28"),
          _p(6, "half", "2 полугодие", "2027-01-09", "2027-05-26")]


def test_resolve_periods_for_grades_1_to_9_and_10_to_11():
    spans = resolve_periods(QUARTERS + HALVES + [YEAR], 7, TODAY)
    assert (spans["term"].name, spans["term"].kind) == ("2 четверть", "quarter")
    assert spans["half"].name == "1 полугодие" and spans["half"].ref == "p5"
    assert spans["year"].ref == "p9"
    senior = resolve_periods(QUARTERS + HALVES + [YEAR], 10, TODAY)
    assert (senior["term"].name, senior["term"].kind) == ("1 полугодие", "half")
    assert "half" not in senior  # the term is the half-year already


def test_resolve_periods_makes_a_half_of_two_quarters_and_falls_back():
    spans = resolve_periods(QUARTERS + [YEAR], 7, date(2027, 2, 1))
    half = spans["half"]
    assert (half.name, half.ref, half.starts_on, half.ends_on) == ("2", None, date(2027, 1, 9), date(2027, 5, 26))
    # in the holidays: the quarter that ended last
    assert resolve_periods(QUARTERS, 7, date(2026, 10, 30))["term"].name == "1 четверть"
    # before the first one: none
    assert resolve_periods(QUARTERS, 7, date(2026, 8, 1)) == {}
    # a school with halves only serves grade 7 with them too
    assert resolve_periods(HALVES, 7, TODAY)["term"].kind == "half"
    deleted = _p(7, "quarter", "удалённая", "2026-11-01", "2026-12-31")
    deleted.deleted_at = NOW
    assert resolve_periods(QUARTERS + [deleted], 7, TODAY)["term"].name == "2 четверть"


# --------------------------------------------------------------------------- a seeded school


@dataclass
class School:
    results: Results
    sessions: object
    school: object
    parent_id: int
    other_parent_id: int
    child_id: int
    foreign_id: int
    q2_id: int
    q1_id: int
    year_id: int


@pytest.fixture
async def school(db):
    async with db.sessions.begin() as s:
        sch = await seed.add_school(s, external_id="sch-res")
        cls = await seed.add_class(s, sch, "7А", 7)
        child = await seed.add_student(s, cls, "Иванов Иван Петрович")
        foreign = await seed.add_student(s, cls, "Сидоров Пётр Ильич")
        algebra = await seed.add_subject(s, sch, "Алгебра")
        physics = await seed.add_subject(s, sch, "Физика")
        history = await seed.add_subject(s, sch, "История")
        music = await seed.add_subject(s, sch, "Музыка")
        pe = await seed.add_subject(s, sch, "Физкультура")
        russian = await seed.add_subject(s, sch, "Русский язык")
        q1 = await seed.add_period(s, sch, "1 четверть", date(2026, 9, 1), date(2026, 10, 25))
        q2 = await seed.add_period(s, sch, "2 четверть", date(2026, 11, 5), date(2026, 12, 28))
        year = await seed.add_period(s, sch, "2026/2027 учебный год", date(2026, 9, 1), date(2027, 5, 26),
                                     kind="year")
        d = date(2026, 11, 20)
        for value, weight, kind in (("4", 1, "answer"), ("4", 1, "answer"), ("5", 1, "answer"), ("4", 1, "homework")):
            await seed.add_mark(s, child, algebra, d, value=value, weight=weight, kind=kind)
        for value, kind in (("3", "answer"), ("2", "control"), ("3", "answer"), ("2", "answer")):
            await seed.add_mark(s, child, physics, d, value=value, kind=kind)
        await seed.add_mark(s, child, music, d, value="зач")
        await seed.add_mark(s, child, pe, d, value="осв")
        await seed.add_mark(s, child, algebra, date(2026, 10, 1), value="2")  # 1st quarter: not in the 2nd
        await seed.add_mark(s, child, algebra, d, value="2", deleted=True)
        await seed.add_mark(s, foreign, algebra, d, value="2")
        await seed.add_curriculum(s, cls, history, q2)  # planned, no marks yet
        await seed.add_final_grade(s, child, algebra, q1, "4")
        await seed.add_final_grade(s, child, russian, q1, None, status="deferred", deferred_until=date(2026, 11, 30))
        await seed.add_final_grade(s, child, pe, q1, "осв")
        await seed.add_final_grade(s, child, algebra, None, "18", kind="exam", title="ОГЭ")
        await seed.add_final_grade(s, child, physics, q1, "3", deleted=True)
        await seed.add_final_grade(s, foreign, algebra, q1, "2")
        parent = await seed.add_account(s)
        other = await seed.add_account(s, first_name="Ольга")
        await seed.add_link(s, parent, child)
        await seed.add_link(s, other, foreign)
        ids = (parent.id, other.id, child.id, foreign.id, q2.id, q1.id, year.id)
    yield School(Results(db.sessions, seed.make_settings()), db.sessions, sch, *ids)


def _by_name(view):
    return {v.subject_name: v.forecast for v in view.subjects}


async def test_forecast_of_the_current_quarter(school: School):
    view = await school.results.forecast(school.parent_id, school.child_id, "term", now=NOW)
    assert (view.period.name, view.term_kind, view.available) == ("2 четверть", "quarter", ("term", "half", "year"))
    assert view.today == TODAY and view.rule == DEFAULT_RULE
    subjects = _by_name(view)
    assert list(subjects) == ["Алгебра", "История", "Музыка", "Физика", "Физкультура"]
    algebra = subjects["Алгебра"]  # 4 4 5 4 = 4.25 → 4; the deleted 2 and the 1st quarter's 2 left out
    assert (algebra.average, algebra.mark, algebra.count) == (4.25, "4", 4)
    assert algebra.up == Hint(mark=5, weight=1.0, count=2, result=5)
    physics = subjects["Физика"]  # 3 2 3 2 = 2.5 → 3, and one 2 more makes it 2
    assert (physics.mark, physics.risks) == ("3", ("near_fail",))
    assert subjects["История"].status == NO_MARKS and subjects["История"].risks == (TOO_FEW_MARKS,)
    assert subjects["Музыка"].mark == "зач" and TOO_FEW_MARKS in subjects["Музыка"].risks
    assert subjects["Физкультура"].status == "exempt"
    # the whole year: the 1st quarter's 2 counts now
    year = await school.results.forecast(school.parent_id, school.child_id, "year", now=NOW)
    assert _by_name(year)["Алгебра"].average == 3.8
    assert "История" not in _by_name(year)  # the curriculum row is the 2nd quarter's


async def test_forecast_follows_the_school_rule(school: School):
    admin_tg = seed.REGION_ADMIN_TG
    with pytest.raises(SchoolRequired):  # a region admin must name the school
        await school.results.set_rule(admin_tg, None, ["control=3"])
    view = await school.results.set_rule(admin_tg, "sch-res", ["control=3", "thresholds=4.2/3.6/2.6"])
    assert view.rule == ForecastRule(thresholds=(4.2, 3.6, 2.6), kind_weights=(("control", 3.0),))
    assert not view.is_default and view.updated_by == admin_tg
    forecast = await school.results.forecast(school.parent_id, school.child_id, now=NOW)
    subjects = _by_name(forecast)
    assert subjects["Алгебра"].mark == "5"  # 4.25 ≥ 4.2
    # physics: (3 + 2·3 + 3 + 2)/6 = 2.33 → below 2.6: 2
    assert (subjects["Физика"].average, subjects["Физика"].mark) == (2.33, "2")
    assert FAILING in subjects["Физика"].risks
    async with school.sessions() as s:
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "forecast.rule_set"))
    assert entry.actor_telegram_id == admin_tg and entry.target_id == str(school.school.id)
    assert entry.details["before"] == DEFAULT_RULE.to_dict()
    assert entry.details["after"]["kind_weights"] == {"control": 3.0}


async def test_rule_admin_scope_and_errors(school: School, db):
    async with db.sessions.begin() as s:
        own = await seed.add_school_admin(s, school.school)
        elsewhere = await seed.add_school(s, "Другая школа", external_id="sch-other")
        stranger = await seed.add_school_admin(s, elsewhere)
    # a school admin with one school may leave the code out
    view = await school.results.rule(own.telegram_id)
    assert (view.school_ref, view.is_default, view.rule) == ("sch-res", True, DEFAULT_RULE)
    with pytest.raises(NotAdmin):
        await school.results.rule(stranger.telegram_id, "sch-res")
    with pytest.raises(NotAdmin):
        await school.results.set_rule(424242, "sch-res", ["min_marks=1"])
    with pytest.raises(NotFound):
        await school.results.rule(seed.REGION_ADMIN_TG, "sch-nowhere")
    with pytest.raises(RuleError) as info:
        await school.results.set_rule(own.telegram_id, None, ["min_marks=2", "thresholds=5/4"])
    assert info.value.code == "bad_thresholds"
    assert (await school.results.rule(own.telegram_id)).is_default  # nothing was saved
    await school.results.set_rule(own.telegram_id, None, ["min_marks=2"])
    await school.results.set_rule(own.telegram_id, None, ["rounding=none"])
    rule = (await school.results.rule(own.telegram_id)).rule
    assert (rule.min_marks, rule.rounding) == (2, None)
    await school.results.set_rule(own.telegram_id, None, ["reset"])
    assert (await school.results.rule(own.telegram_id)).rule == DEFAULT_RULE


async def test_forecast_authorization(school: School):
    with pytest.raises(NotLinked):
        await school.results.forecast(school.parent_id, school.foreign_id, now=NOW)
    with pytest.raises(NotLinked):
        await school.results.finals(school.parent_id, 10**9)
    with pytest.raises(NotLinked):
        await school.results.forecast(school.other_parent_id, school.child_id, now=NOW)
    with pytest.raises(ValueError):
        await school.results.forecast(school.parent_id, school.child_id, "decade", now=NOW)


async def test_finals_grouped_by_period(school: School):
    view = await school.results.finals(school.parent_id, school.child_id)
    assert [g.key for g in view.groups] == [f"p{school.q1_id}", "exam"]
    assert view.selected == f"p{school.q1_id}"
    q1 = view.group
    assert q1.name == "1 четверть" and q1.deferred == 1
    items = {i.subject_name: i for i in q1.items}
    assert list(items) == ["Алгебра", "Русский язык", "Физкультура"]  # the deleted grade is gone
    assert items["Алгебра"].value == "4"
    assert (items["Русский язык"].status, items["Русский язык"].deferred_until) == ("deferred", date(2026, 11, 30))
    exams = await school.results.finals(school.parent_id, school.child_id, "exam")
    assert exams.selected == "exam"
    assert [(i.subject_name, i.title, i.value) for i in exams.group.items] == [("Алгебра", "ОГЭ", "18")]
    # an unknown group falls back to the default one
    assert (await school.results.finals(school.parent_id, school.child_id, "p999")).selected == f"p{school.q1_id}"
    other = await school.results.finals(school.other_parent_id, school.foreign_id)
    assert [i.value for i in other.group.items] == ["2"]


async def test_push_frequency(school: School, db):
    assert await school.results.push_frequency(school.parent_id) == "weekly"
    assert await school.results.set_push_frequency(school.parent_id, "biweekly") == "biweekly"
    assert await school.results.push_frequency(school.parent_id) == "biweekly"
    await school.results.set_push_frequency(school.parent_id, "off")
    assert await school.results.push_frequency(school.parent_id) == "off"
    with pytest.raises(ValueError):
        await school.results.set_push_frequency(school.parent_id, "hourly")
    async with db.sessions.begin() as s:
        refused = await seed.add_account(s, consent="refused")
    with pytest.raises(ConsentRequired):
        await school.results.set_push_frequency(refused.id, "off")


async def test_forecast_without_periods_shows_nothing(db):
    async with db.sessions.begin() as s:
        sch = await seed.add_school(s)
        cls = await seed.add_class(s, sch, "10А", 10)
        pupil = await seed.add_student(s, cls)
        parent = await seed.add_account(s)
        await seed.add_link(s, parent, pupil)
        ids = parent.id, pupil.id
    view = await Results(db.sessions, seed.make_settings()).forecast(*ids, now=NOW)
    assert view.period is None and view.subjects == [] and view.available == ()
    assert NOW - timedelta(days=1) < NOW  # (the view never raises for a school without periods)
