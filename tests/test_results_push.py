"""Forecast pushes (services/forecast_push.py): weekly at Friday 18:00 school time, biweekly,
off, the extra push for subjects at risk before the term ends, the admin's round; idempotent."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.errors import NotAdmin, NotFound
from services.forecast_push import ForecastPush, week_of
from services.notify.kinds import FORECAST, FORECAST_RISK
from services.results import Results
from storage.models import AuditEntry, OutboxMessage
from tests import seed

UTC = timezone.utc
# Friday 2026-11-27; Yekaterinburg is UTC+5, Moscow UTC+3
FRIDAY_18 = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)


@dataclass
class World:
    push: ForecastPush
    results: Results
    sessions: object
    class_id: int
    child_id: int
    calm_child_id: int
    weekly: int
    biweekly: int
    off: int
    moscow_parent: int
    admin_tg: int
    other_admin_tg: int


@pytest.fixture
async def world(db):
    async with db.sessions.begin() as s:
        school = await seed.add_school(s, external_id="sch-push")
        cls = await seed.add_class(s, school, "7А", 7)
        child = await seed.add_student(s, cls, "Иванов Иван Петрович")
        calm = await seed.add_student(s, cls, "Петров Пётр Петрович")
        algebra = await seed.add_subject(s, school, "Алгебра")
        physics = await seed.add_subject(s, school, "Физика")
        await seed.add_period(s, school, "2 четверть", date(2026, 11, 5), date(2026, 12, 28))
        d = date(2026, 11, 20)
        for value in ("5", "4", "5", "5"):
            await seed.add_mark(s, child, algebra, d, value=value)
            await seed.add_mark(s, calm, algebra, d, value=value)
            await seed.add_mark(s, calm, physics, d, value=value)
        for value in ("3", "2", "3", "2"):
            await seed.add_mark(s, child, physics, d, value=value)
        weekly = await seed.add_account(s, first_name="Мария")
        biweekly = await seed.add_account(s, first_name="Анна")
        off = await seed.add_account(s, first_name="Олег")
        refused = await seed.add_account(s, consent="refused")
        pending = await seed.add_account(s)
        for account in (weekly, biweekly, off, refused):
            await seed.add_link(s, account, child)
        await seed.add_link(s, weekly, calm)
        await seed.add_link(s, pending, child, status="pending")
        # a school two hours behind: not due at 18:00 Yekaterinburg time
        moscow = await seed.add_school(s, "Школа в Москве", tz="Europe/Moscow", external_id="sch-msk")
        mcls = await seed.add_class(s, moscow, "5Б", 5)
        mpupil = await seed.add_student(s, mcls, "Смирнов Сергей Ильич")
        msub = await seed.add_subject(s, moscow, "Математика")
        await seed.add_period(s, moscow, "2 четверть", date(2026, 11, 5), date(2026, 12, 28))
        await seed.add_mark(s, mpupil, msub, d, value="4")
        mparent = await seed.add_account(s)
        await seed.add_link(s, mparent, mpupil)
        admin = await seed.add_school_admin(s, school)
        other_admin = await seed.add_school_admin(s, moscow)
        ids = (cls.id, child.id, calm.id, weekly.id, biweekly.id, off.id, mparent.id, admin.telegram_id,
               other_admin.telegram_id)
    settings = seed.make_settings()
    results = Results(db.sessions, settings)
    w = World(ForecastPush(db.sessions, settings), results, db.sessions, *ids)
    await results.set_push_frequency(w.biweekly, "biweekly")
    await results.set_push_frequency(w.off, "off")
    yield w


async def _rows(w: World, kind: str | None = None) -> list[OutboxMessage]:
    async with w.sessions() as s:
        q = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            q = q.where(OutboxMessage.kind == kind)
        return list(await s.scalars(q))


async def test_weekly_push_on_friday_at_18_school_time(world: World):
    w = world
    assert await w.push.run_due(FRIDAY_18 - timedelta(minutes=1)) == 0  # 17:59
    assert await w.push.run_due(FRIDAY_18 - timedelta(days=1)) == 0  # Thursday 18:00
    written = await w.push.run_due(FRIDAY_18)
    rows = await _rows(w)
    _, even = week_of(date(2026, 11, 27))
    expected = {(w.weekly, w.child_id), (w.weekly, w.calm_child_id)} | ({(w.biweekly, w.child_id)} if even else set())
    assert {(r.account_id, r.payload["student_id"]) for r in rows} == expected
    assert written == len(expected) and all(r.kind == FORECAST for r in rows)
    assert w.moscow_parent not in {r.account_id for r in rows}  # 16:00 in Moscow
    # the same evening: nothing twice
    assert await w.push.run_due(FRIDAY_18 + timedelta(minutes=15)) == 0
    # Moscow's 18:00 comes two hours later
    assert await w.push.run_due(FRIDAY_18 + timedelta(hours=2)) == 1
    assert await w.push.run_due(FRIDAY_18 + timedelta(hours=5, minutes=45)) == 0  # 23:45 / 21:45
    # the next Friday: the biweekly parent's turn flips
    next_week = FRIDAY_18 + timedelta(days=7)
    await w.push.run_due(next_week)
    later = [r for r in await _rows(w) if r.id > rows[-1].id and r.account_id != w.moscow_parent]
    got_biweekly = any(r.account_id == w.biweekly for r in later)
    assert got_biweekly is (not even)
    assert {r.account_id for r in later} - {w.biweekly} == {w.weekly}


async def test_forecast_payload(world: World):
    await world.push.run_due(FRIDAY_18)
    row = next(r for r in await _rows(world) if r.payload["student_id"] == world.child_id
               and r.account_id == world.weekly)
    p = row.payload
    assert p["student_name"] == "Иван" and p["period_name"] == "2 четверть" and p["reason"] == "weekly"
    assert p["period_ends_on"] == "2026-12-28" and p["more"] == 0
    algebra, physics = p["subjects"]
    assert algebra == {"subject": "Алгебра", "status": "graded", "mark": "5", "average": 4.75, "count": 4,
                       "min_marks": 3, "risks": [], "up": None, "down": [1, 4]}
    assert (physics["mark"], physics["risks"], physics["down"], physics["up"]) == ("3", ["near_fail"], [1, 2], [3, 4])
    assert row.occurred_at is None and row.dedupe_key.startswith(f"forecast:{world.weekly}:{world.child_id}:")


async def test_risk_push_in_the_last_two_weeks(world: World):
    w = world
    monday = datetime(2026, 12, 14, 13, 0, tzinfo=UTC)  # 18:00 school time, 14 days before 28 December
    assert await w.push.run_due(monday - timedelta(days=1)) == 0  # Sunday: outside the window
    await w.push.run_due(monday)
    risk = await _rows(w, FORECAST_RISK)
    # only the pupil with a subject at risk; every parent but the one who turned forecasts off
    assert {(r.account_id, r.payload["student_id"]) for r in risk} == {(w.weekly, w.child_id),
                                                                        (w.biweekly, w.child_id)}
    p = risk[0].payload
    assert [s["subject"] for s in p["subjects"]] == ["Физика"] and p["days_left"] == 14 and p["reason"] == "risk"
    # once per term
    assert await w.push.run_due(monday + timedelta(days=1)) == 0
    assert len(await _rows(w, FORECAST_RISK)) == 2
    # after the term: nothing at all, not even on a Friday
    assert await w.push.run_due(datetime(2026, 12, 30, 13, 0, tzinfo=UTC) + timedelta(days=2)) == 0


async def test_the_risk_push_finds_a_risk_that_appears_later(world: World, db):
    w = world
    monday = datetime(2026, 12, 14, 13, 0, tzinfo=UTC)
    await w.push.run_due(monday)
    assert {r.payload["student_id"] for r in await _rows(w, FORECAST_RISK)} == {w.child_id}
    async with db.sessions.begin() as s:  # the calm pupil gets ten 1s in physics: (19 + 10)/14 → 2
        from storage.models import Student, Subject

        calm = await s.get(Student, w.calm_child_id)
        physics = await s.scalar(select(Subject).where(Subject.name == "Физика"))
        for _ in range(10):
            await seed.add_mark(s, calm, physics, date(2026, 12, 15), value="1")
    await w.push.run_due(monday + timedelta(days=1))
    assert {r.payload["student_id"] for r in await _rows(w, FORECAST_RISK)} == {w.child_id, w.calm_child_id}


async def test_admin_round_for_a_class(world: World):
    w = world
    report = await w.push.round_for_class(w.admin_tg, w.class_id, now=FRIDAY_18 - timedelta(days=2))
    assert (report.class_name, report.period_name, report.pupils) == ("7А", "2 четверть", 2)
    rows = await _rows(w)
    # everyone linked and consenting but the parent who turned forecasts off, whatever the day
    assert {(r.account_id, r.payload["student_id"]) for r in rows} == {
        (w.weekly, w.child_id), (w.weekly, w.calm_child_id), (w.biweekly, w.child_id)}
    assert report.messages == 3 and all(r.payload["reason"] == "admin" for r in rows)
    again = await w.push.round_for_class(w.admin_tg, w.class_id, now=FRIDAY_18 - timedelta(days=1))
    assert again.messages == 3  # a new round is a new round
    async with w.sessions() as s:
        audits = list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "forecast.round")))
    assert len(audits) == 2 and audits[0].target_id == str(w.class_id) and audits[0].details["messages"] == 3
    with pytest.raises(NotAdmin):
        await w.push.round_for_class(w.other_admin_tg, w.class_id, now=FRIDAY_18)
    with pytest.raises(NotFound):
        await w.push.round_for_class(w.admin_tg, 10**6, now=FRIDAY_18)


def test_week_parity_alternates_across_the_new_year():
    days = [date(2026, 12, 21) + timedelta(weeks=i) for i in range(4)]  # W52, W53, W1, W2
    parities = [week_of(d)[1] for d in days]
    assert parities == [parities[0], not parities[0], parities[0], not parities[0]]
    assert week_of(date(2026, 11, 27))[0] == "2026-W48"
