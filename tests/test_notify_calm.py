"""Calm delivery decisions (services/notify/calm.py): quiet hours, digest times, grace, window."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.config import Settings
from services.notify.calm import ParentPolicy, PendingRow, QuietHours, is_news, plan, ready_at
from services.notify.kinds import CONSENT_REASK, HOMEWORK_NEW, LINK_REQUEST, MARK_NEW

YEKT = ZoneInfo("Asia/Yekaterinburg")
GRACE, WINDOW = 600.0, 120.0


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of November 2026 in Yekaterinburg, as UTC."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=YEKT).astimezone(timezone.utc)


def row(id_: int, kind: str = MARK_NEW, occurred: datetime | None = None, **kw) -> PendingRow:
    occurred = occurred or at(20, 10)
    kw.setdefault("next_attempt_at", occurred)
    return PendingRow(id=id_, kind=kind, occurred_at=occurred, created_at=occurred + timedelta(seconds=5), **kw)


def policy(**kw) -> ParentPolicy:
    kw.setdefault("quiet", QuietHours.parse("21:00-07:00"))
    return ParentPolicy(zone=YEKT, **kw)


def decide(rows, now, **kw):
    return plan(rows, now=now, policy=kw.pop("policy", policy()), grace=kw.pop("grace", GRACE),
                window=kw.pop("window", WINDOW), coalesce=kw.pop("coalesce", True))


# --------------------------------------------------------------------------- quiet hours


@pytest.mark.parametrize("clock, quiet", [
    ("20:59", False), ("21:00", True), ("23:30", True), ("00:00", True), ("06:59", True), ("07:00", False),
    ("12:00", False),
])
def test_quiet_hours_wrap_past_midnight(clock, quiet):
    hours = QuietHours.parse("21:00-07:00")
    h, m = map(int, clock.split(":"))
    assert hours.contains(datetime(2026, 11, 20, h, m, tzinfo=YEKT)) is quiet


def test_quiet_hours_within_one_day_and_off():
    day = QuietHours.parse("13:00-15:00")
    assert day.contains(datetime(2026, 11, 20, 14, 0, tzinfo=YEKT))
    assert not day.contains(datetime(2026, 11, 20, 15, 0, tzinfo=YEKT))
    assert QuietHours.parse("off") is None and QuietHours.parse("") is None
    assert QuietHours.parse("07:00-07:00") is None


def test_quiet_end_is_the_next_morning_in_the_school_zone():
    p = policy()
    assert p.outside_quiet(at(20, 23, 30)) == at(21, 7, 0)
    assert p.outside_quiet(at(21, 2, 0)) == at(21, 7, 0)
    assert p.outside_quiet(at(21, 12, 0)) == at(21, 12, 0)
    # the same UTC instant is not quiet for a school in another zone
    moscow = ParentPolicy(zone=ZoneInfo("Europe/Moscow"), quiet=QuietHours.parse("21:00-07:00"))
    assert moscow.outside_quiet(at(20, 22, 30)) == at(20, 22, 30)  # 20:30 in Moscow


def test_settings_validate_quiet_hours():
    assert Settings(_env_file=None).notify_quiet_hours == "21:00-07:00"
    assert Settings(_env_file=None, notify_quiet_hours="OFF").notify_quiet_hours == ""
    with pytest.raises(ValueError):
        Settings(_env_file=None, notify_quiet_hours="9pm-7am")
    defaults = Settings(_env_file=None)
    assert (defaults.notify_grace_seconds, defaults.notify_coalesce_seconds) == (600, 120)


# --------------------------------------------------------------------------- which rows are news


def test_only_event_rows_not_for_admins_are_news():
    assert is_news(MARK_NEW, 7)
    assert not is_news(MARK_NEW, None)
    assert not is_news(LINK_REQUEST, 7)
    assert not is_news(CONSENT_REASK, 7)  # about the person's own data: never held


def test_ready_uses_the_journal_time_but_never_later_than_arrival():
    t0 = at(20, 10)
    assert ready_at(MARK_NEW, t0, t0 + timedelta(seconds=30), GRACE) == t0 + timedelta(seconds=GRACE)
    assert ready_at(HOMEWORK_NEW, t0, t0 + timedelta(seconds=30), GRACE) == t0
    # a journal clock an hour fast does not hold the message for an hour
    assert ready_at(HOMEWORK_NEW, t0 + timedelta(hours=1), t0, GRACE) == t0
    assert ready_at(HOMEWORK_NEW, None, t0, GRACE) == t0


# --------------------------------------------------------------------------- plans


def test_a_new_mark_waits_for_the_grace_period_then_the_window():
    t0 = at(20, 10)
    first = decide([row(1, claimed=True)], t0 + timedelta(seconds=1))
    assert first.send == [] and first.schedule == {1: t0 + timedelta(seconds=GRACE + WINDOW)}
    assert decide([row(1, claimed=True)], t0 + timedelta(seconds=GRACE + WINDOW)).send == [1]


def test_thirty_marks_within_a_minute_are_one_message():
    t0 = at(20, 10)
    rows = [row(i, occurred=t0 + timedelta(seconds=2 * i)) for i in range(1, 31)]
    flush = t0 + timedelta(seconds=2 + GRACE + WINDOW)
    early = decide([r if r.id != 1 else row(1, occurred=r.occurred_at, claimed=True) for r in rows],
                   flush - timedelta(seconds=1))
    assert early.send == [] and min(early.schedule.values()) == flush
    now_rows = [row(1, occurred=rows[0].occurred_at, claimed=True), *rows[1:]]
    assert decide(now_rows, flush).send == list(range(1, 31))


def test_news_at_night_wait_for_the_morning_and_go_together():
    night = [row(1, HOMEWORK_NEW, at(20, 23, 30), claimed=True), row(2, MARK_NEW, at(20, 23, 31)),
             row(3, HOMEWORK_NEW, at(21, 3, 0))]
    held = decide(night, at(20, 23, 33))
    assert held.send == []
    assert set(held.schedule.values()) == {at(21, 7, 0)}
    morning = decide([row(r.id, r.kind, r.occurred_at, claimed=r.id == 1) for r in night], at(21, 7, 0))
    assert morning.send == [1, 2, 3]


def test_with_a_digest_time_everything_waits_for_it():
    p = policy(digest_at=19 * 60)
    rows = [row(1, HOMEWORK_NEW, at(20, 9, 0), claimed=True), row(2, MARK_NEW, at(20, 18, 40)),
            row(3, MARK_NEW, at(20, 18, 55))]  # ready 19:05: tomorrow's digest
    held = decide(rows, at(20, 9, 1), policy=p)
    assert held.send == [] and held.schedule[1] == at(20, 19, 0) and held.schedule[3] == at(21, 19, 0)
    assert decide(rows, at(20, 19, 0), policy=p).send == [1, 2]


def test_digest_time_inside_quiet_hours_goes_out_when_they_end():
    p = policy(digest_at=22 * 60)
    held = decide([row(1, HOMEWORK_NEW, at(20, 9, 0), claimed=True)], at(20, 9, 1), policy=p)
    assert held.schedule == {1: at(21, 7, 0)}


def test_muted_types_are_cancelled_not_held():
    p = policy(muted=frozenset({"homework"}))
    result = decide([row(1, HOMEWORK_NEW, claimed=True), row(2, MARK_NEW)], at(20, 12), policy=p)
    assert result.cancel == [1] and result.send == [2]


def test_without_coalescing_one_row_per_message_and_the_rest_due():
    rows = [row(1, HOMEWORK_NEW, claimed=True), row(2, HOMEWORK_NEW), row(3, HOMEWORK_NEW)]
    result = decide(rows, at(20, 12), window=0, grace=0, coalesce=False)
    assert result.send == [1] and result.schedule == {2: at(20, 12), 3: at(20, 12)}


def test_rows_waiting_out_a_retry_are_left_alone():
    retrying = row(2, HOMEWORK_NEW, attempts=1, last_error="Bad Gateway", next_attempt_at=at(20, 12, 5))
    result = decide([row(1, HOMEWORK_NEW, claimed=True), retrying], at(20, 12))
    assert result.send == [1] and 2 not in result.schedule
    retry_due = row(2, HOMEWORK_NEW, attempts=1, last_error="Bad Gateway", next_attempt_at=at(20, 11, 59))
    assert decide([row(1, HOMEWORK_NEW, claimed=True), retry_due], at(20, 12)).send == [1, 2]


def test_results_under_the_one_day_rule_do_not_wait_for_the_digest_time():
    from services.notify.kinds import FINAL_GRADE

    p = policy(digest_at=19 * 60)
    result = decide([row(1, FINAL_GRADE, at(20, 19, 5), claimed=True), row(2, HOMEWORK_NEW, at(20, 19, 5))],
                    at(20, 19, 6), policy=p)
    assert result.send == [] and result.schedule == {1: at(20, 19, 7), 2: at(21, 19, 0)}
