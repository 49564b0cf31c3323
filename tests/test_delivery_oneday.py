"""The one-day rule, measured (services/delivery.py) on a simulated clock, SQLite and PostgreSQL:
delays recorded, warnings shown, the admins' alarm raised once per result, paper extracts
counted, admin scope, the Prometheus metrics over HTTP."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import aiohttp
import pytest
from sqlalchemy import func, select, update

from bot.notifications import render_notification
from bot.render_reports import duration, render_delivery_report
from bot.web import start_web
from services.container import build_services
from services.delivery import Thresholds, percentile, summarize
from services.errors import NotAdmin
from services.notify.kinds import DELIVERY_ALARM, FINAL_GRADE
from storage.delivery import ResultDelivery
from storage.models import Event, OutboxMessage
from tests import seed

T0 = datetime(2026, 12, 28, 5, 0, tzinfo=timezone.utc)  # 10:00 in Surgut
ADMIN, OTHER_ADMIN = 9_300_001, 9_300_002


# --------------------------------------------------------------------------- pure parts


def test_percentiles_are_nearest_rank():
    values = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
    assert percentile(values, 0.5) == 50.0 and percentile(values, 0.9) == 90.0 and percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.5) == 7.0 and percentile([], 0.5) is None
    s = summarize([4000.0, 30.0, 90000.0, 60.0])
    assert (s.delivered, s.p50, s.p90, s.max, s.within_hour, s.within_day) == (4, 60.0, 90000.0, 90000.0, 2, 3)


def test_levels_follow_the_thresholds():
    th = Thresholds(warning=timedelta(hours=1), alarm=timedelta(hours=20))
    assert th.level(timedelta(minutes=59)) == "waiting"
    assert th.level(timedelta(hours=1)) == "warning" and th.level(timedelta(hours=19, minutes=59)) == "warning"
    assert th.level(timedelta(hours=20)) == "alarm"


def test_durations_read_naturally():
    assert duration(42, "ru") == "42 с" and duration(600, "ru") == "10 мин"
    assert duration(3 * 3600 + 20 * 60, "ru") == "3 ч 20 мин" and duration(26 * 3600, "en") == "1 d 2 h"
    assert duration(None, "ru") == "—"


# --------------------------------------------------------------------------- seeding


class School:
    """A school with a class, a pupil, a parent and a school admin; results seeded as the
    final-grade fan-out writes them (an event and one outbox row per parent)."""

    def __init__(self, db, name: str, admin_tg: int, pupil: str) -> None:
        self.db, self.name, self.admin_tg, self.pupil_name = db, name, admin_tg, pupil

    async def create(self, s) -> School:
        self.school = await seed.add_school(s, self.name)
        self.cls = await seed.add_class(s, self.school, "9Б", grade=9)
        self.pupil = await seed.add_student(s, self.cls, self.pupil_name)
        self.algebra = await seed.add_subject(s, self.school, "Алгебра")
        self.period = await seed.add_period(s, self.school, "2 четверть", date(2026, 11, 9), date(2026, 12, 27))
        self.parent = await seed.add_account(s)
        await seed.add_link(s, self.parent, self.pupil)
        await seed.add_school_admin(s, self.school, telegram_id=self.admin_tg)
        return self

    async def result(self, occurred_at: datetime, *, kind: str = "period", value: str = "5") -> int:
        """A final grade saved in the journal at `occurred_at`, waiting for the parent: the outbox id."""
        async with self.db.sessions.begin() as s:
            grade = await seed.add_final_grade(s, self.pupil, self.algebra, self.period if kind == "period" else None,
                                               value=value, kind=kind, title="ОГЭ" if kind == "exam" else None)
            event = Event(source=seed.SOURCE, entity="final_grade", external_id=grade.external_id,
                          seq=grade.last_seq, kind="created", occurred_at=occurred_at)
            s.add(event)
            await s.flush()
            row = OutboxMessage(
                account_id=self.parent.id, kind=FINAL_GRADE, event_id=event.id, occurred_at=occurred_at,
                payload={"student_id": self.pupil.id, "student_name": "Иван", "subject": "Алгебра", "value": value},
                dedupe_key=f"final_grade:{grade.external_id}:{self.parent.id}", status="pending",
                topic=f"final_grade:{seed.SOURCE}:{grade.external_id}", created_at=occurred_at,
                next_attempt_at=occurred_at)
            s.add(row)
            await s.flush()
            self.grade_id = grade.id
            return row.id


async def sent(db, outbox_id: int, at: datetime) -> None:
    async with db.sessions.begin() as s:
        await s.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(status="sent", sent_at=at))


async def alarms(db) -> list[OutboxMessage]:
    async with db.sessions() as s:
        return list(await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == DELIVERY_ALARM)
                                    .order_by(OutboxMessage.id)))


async def tracking(db) -> list[ResultDelivery]:
    async with db.sessions() as s:
        return list(await s.scalars(select(ResultDelivery).order_by(ResultDelivery.id)))


@pytest.fixture
async def world(db):
    async with db.sessions.begin() as s:
        a = await School(db, "МБОУ «СОШ № 7» г. Сургут", ADMIN, "Иванов Иван Петрович").create(s)
        b = await School(db, "МБОУ «Лицей № 3» г. Нижневартовск", OTHER_ADMIN, "Сидорова Анна Ильинична").create(s)
    services = build_services(db.sessions, seed.make_settings())
    return services, a, b


# --------------------------------------------------------------------------- the alarm


async def test_a_result_undelivered_too_long_alarms_the_admins_once(world, db):
    services, school, _ = world
    monitor = services.delivery
    await school.result(T0)

    report = await monitor.check(now=T0 + timedelta(minutes=30))
    assert (report.harvested, report.alarm_messages) == (1, 0)
    view = await monitor.report(ADMIN, now=T0 + timedelta(minutes=30))
    [mine] = view.schools
    assert (mine.waiting, mine.warning, mine.alarm, mine.pending) == (1, 0, 0, [])

    # past the warning threshold: shown to the admin, nobody pushed
    assert (await monitor.check(now=T0 + timedelta(minutes=61))).alarm_messages == 0
    view = await monitor.report(ADMIN, now=T0 + timedelta(minutes=61))
    [mine] = view.schools
    assert (mine.waiting, mine.warning, mine.alarm) == (0, 1, 0)
    [item] = mine.pending
    assert (item.level, item.pupil, item.subject, item.class_name, item.period) == (
        "warning", "Иванов Иван Петрович", "Алгебра", "9Б", "2 четверть")
    text = "\n".join(render_delivery_report(view, 7, "ru"))
    assert "⚠️ 9Б · Алгебра · Иванов Иван Петрович · 2 четверть — 1 ч 1 мин" in text
    assert await alarms(db) == []

    # past the alarm threshold: one alarm to the school's admin
    report = await monitor.check(now=T0 + timedelta(hours=20, minutes=1))
    assert (report.alarmed_results, report.alarm_messages) == (1, 1)
    [alarm] = await alarms(db)
    admin = await services.accounts.by_telegram_id(ADMIN)
    assert alarm.account_id == admin.id and alarm.status == "pending"
    assert alarm.payload["count"] == 1 and alarm.payload["oldest_hours"] == 20
    assert alarm.payload["items"][0]["pupil"] == "Иванов Иван Петрович"
    rendered = render_notification(DELIVERY_ALARM, alarm.payload, "ru").text
    assert "не доставлены родителям дольше 20 ч" in rendered and "СОШ № 7" in rendered
    assert "9Б · Алгебра · Иванов Иван Петрович · 2 четверть" in rendered and "/delivery" in rendered
    assert "undelivered to parents for more than 20 h" in render_notification(DELIVERY_ALARM, alarm.payload, "en").text

    # later rounds: the same result never alarms again
    for hours in (21, 22, 30):
        assert (await monitor.check(now=T0 + timedelta(hours=hours))).alarm_messages == 0
    assert len(await alarms(db)) == 1

    # a new overdue result alarms once more, about itself only
    await school.result(T0 + timedelta(hours=21), kind="exam", value="4")
    assert (await monitor.check(now=T0 + timedelta(hours=40))).alarm_messages == 0
    report = await monitor.check(now=T0 + timedelta(hours=41, minutes=1))
    assert (report.alarmed_results, report.alarm_messages) == (1, 1)
    second = (await alarms(db))[-1]
    assert second.payload["count"] == 1 and second.payload["items"][0]["kind"] == "exam"
    assert "экзамен «ОГЭ»" in render_notification(DELIVERY_ALARM, second.payload, "ru").text
    assert len(await alarms(db)) == 2


async def test_an_alarm_goes_to_region_admins_when_the_school_has_none(db):
    async with db.sessions.begin() as s:
        school = await seed.add_school(s)
        cls = await seed.add_class(s, school)
        pupil = await seed.add_student(s, cls)
        subject = await seed.add_subject(s, school)
        parent = await seed.add_account(s)
        await seed.add_link(s, parent, pupil)
        region = await seed.add_account(s, telegram_id=seed.REGION_ADMIN_TG, consent="none")
        grade = await seed.add_final_grade(s, pupil, subject, None, kind="year")
        event = Event(source=seed.SOURCE, entity="final_grade", external_id=grade.external_id, seq=1,
                      kind="created", occurred_at=T0)
        s.add(event)
        await s.flush()
        s.add(OutboxMessage(account_id=parent.id, kind=FINAL_GRADE, event_id=event.id, occurred_at=T0,
                            payload={"student_id": pupil.id}, dedupe_key="fg-region", status="failed",
                            last_error="chat not found"))
    services = build_services(db.sessions, seed.make_settings())
    report = await services.delivery.check(now=T0 + timedelta(hours=25))
    assert report.alarm_messages == 1  # a failed message is undelivered too
    [alarm] = await alarms(db)
    assert alarm.account_id == region.id and alarm.payload["items"][0]["kind"] == "year"


# --------------------------------------------------------------------------- delays, paper, scope


async def test_delays_are_recorded_from_the_journal_save_to_the_delivery(world, db):
    services, school, other = world
    monitor = services.delivery
    fast = await school.result(T0)
    slow = await school.result(T0)
    cancelled = await school.result(T0)
    foreign = await other.result(T0)
    on_paper = await school.result(T0)
    await sent(db, fast, T0 + timedelta(seconds=40))
    await sent(db, slow, T0 + timedelta(hours=2))
    async with db.sessions.begin() as s:
        await s.execute(update(OutboxMessage).where(OutboxMessage.id == cancelled).values(status="cancelled"))
    await monitor.check(now=T0 + timedelta(hours=3))
    await sent(db, foreign, T0 + timedelta(minutes=5))

    # the paper extract of the last result was produced for that parent 4 hours after the save
    paper_grade = school.grade_id
    assert await monitor.record_paper_extract(final_grade_id=paper_grade, produced_at=T0 + timedelta(hours=4),
                                              account_id=school.parent.id)
    assert not await monitor.record_paper_extract(final_grade_id=paper_grade, produced_at=T0 + timedelta(hours=5),
                                                  account_id=school.parent.id)  # once
    await monitor.check(now=T0 + timedelta(hours=6))

    rows = {r.outbox_id: r for r in await tracking(db)}
    assert rows[fast].state == "delivered" and rows[fast].delay_seconds == 40
    assert rows[slow].delay_seconds == 7200 and rows[cancelled].state == "dropped"
    assert rows[on_paper].channel == "paper" and rows[on_paper].delay_seconds == 4 * 3600
    assert rows[foreign].delay_seconds == 300

    view = await monitor.report(ADMIN, now=T0 + timedelta(hours=6))
    [mine] = view.schools  # the admin sees their own school only
    assert mine.school_name == "МБОУ «СОШ № 7» г. Сургут"
    d = mine.delays
    assert (d.delivered, d.p50, d.p90, d.max, d.within_hour, d.within_day) == (3, 7200, 14400, 14400, 1, 3)
    assert (mine.waiting, mine.warning, mine.alarm) == (0, 0, 0)
    text = "\n".join(render_delivery_report(view, 7, "ru"))
    assert "Доставлено: 3; медиана 2 ч, 90% — не дольше 4 ч, максимум 4 ч" in text and "Лицей" not in text

    region = await monitor.report(seed.REGION_ADMIN_TG, now=T0 + timedelta(hours=6))
    assert {s.school_name for s in region.schools} == {school.name, other.name}
    with pytest.raises(NotAdmin):
        await monitor.report(123, now=T0)


async def test_paper_extract_for_a_pupil_without_messages_counts_as_delivered(world, db):
    services, school, _ = world
    async with db.sessions.begin() as s:
        grade = await seed.add_final_grade(s, school.pupil, school.algebra, school.period, value="4")
    produced = T0 + timedelta(hours=3)
    from services.delivery import expect_paper_extract, record_paper_extract

    async with db.sessions.begin() as s:  # the paper queue knows the extract is owed
        assert await expect_paper_extract(s, final_grade_id=grade.id, occurred_at=T0)
        assert not await expect_paper_extract(s, final_grade_id=grade.id, occurred_at=T0)
    view = await services.delivery.report(ADMIN, now=T0 + timedelta(hours=2))
    assert view.schools[0].warning == 1 and view.schools[0].pending[0].channel == "paper"
    async with db.sessions.begin() as s:  # as the paper feature calls it
        assert await record_paper_extract(s, student_id=school.pupil.id, final_grade_id=grade.id,
                                          seq=grade.last_seq, produced_at=produced)
        assert not await record_paper_extract(s, student_id=school.pupil.id, final_grade_id=grade.id,
                                              seq=grade.last_seq, produced_at=produced)
    [row] = await tracking(db)
    assert (row.channel, row.state, row.delay_seconds, row.student_id) == ("paper", "delivered", 3 * 3600,
                                                                           school.pupil.id)


async def test_a_message_updated_in_place_keeps_one_delivery(world, db):
    services, school, _ = world
    row = await school.result(T0)
    await services.delivery.check(now=T0 + timedelta(minutes=1))
    await services.delivery.check(now=T0 + timedelta(minutes=2))  # harvesting again adds nothing
    await sent(db, row, T0 + timedelta(minutes=3))
    await services.delivery.check(now=T0 + timedelta(minutes=4))
    [tracked] = await tracking(db)
    assert tracked.state == "delivered" and tracked.delay_seconds == 180


# --------------------------------------------------------------------------- metrics


async def test_metrics_endpoint_shows_the_histogram_and_undelivered_results(world, db):
    services, school, other = world
    now = datetime.now(timezone.utc)  # the endpoint reads the real clock
    start = now - timedelta(hours=10)
    await sent(db, await school.result(start), start + timedelta(seconds=20))
    await sent(db, await school.result(start), start + timedelta(hours=5))
    await other.result(now - timedelta(hours=30))  # overdue: alarmed
    await school.result(now - timedelta(hours=2))  # a warning
    await services.delivery.check(now=now)

    settings = seed.make_settings(http_port=0)
    runner, url = await start_web(settings, services)
    try:
        async with aiohttp.ClientSession() as http, http.get(url + "/metrics") as response:
            assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
            body = await response.text()
    finally:
        await runner.cleanup()
    async with db.sessions() as s:
        from storage.models import School as SchoolRow

        a_ref = await s.scalar(select(SchoolRow.external_id).where(SchoolRow.id == school.school.id))
        b_ref = await s.scalar(select(SchoolRow.external_id).where(SchoolRow.id == other.school.id))
    lines = set(body.splitlines())
    assert "# TYPE ediary_result_delivery_seconds histogram" in lines
    assert f'ediary_result_delivery_seconds_bucket{{school="{a_ref}",le="30"}} 1' in lines
    assert f'ediary_result_delivery_seconds_bucket{{school="{a_ref}",le="14400"}} 1' in lines
    assert f'ediary_result_delivery_seconds_bucket{{school="{a_ref}",le="43200"}} 2' in lines
    assert f'ediary_result_delivery_seconds_bucket{{school="{a_ref}",le="+Inf"}} 2' in lines
    assert f'ediary_result_delivery_seconds_sum{{school="{a_ref}"}} 18020' in lines
    assert f'ediary_result_delivery_seconds_count{{school="{a_ref}"}} 2' in lines
    assert f'ediary_results_undelivered{{school="{b_ref}",level="alarm"}} 1' in lines
    assert f'ediary_results_undelivered{{school="{a_ref}",level="warning"}} 1' in lines
    assert f'ediary_result_alarms_total{{school="{b_ref}"}} 1' in lines
    assert 'ediary_result_delivery_threshold_seconds{level="alarm"} 72000' in lines
    async with db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.kind == DELIVERY_ALARM)) == 1
