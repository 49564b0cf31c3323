"""Forecast pushes: the weekly round, the extra round for subjects at risk before a term ends,
and a round an admin triggers for a class (docs/forecast.md).

A scheduled job calls `run_due` every FORECAST_CHECK_MINUTES; for each school it works in the
school's time zone:

- weekly: on FORECAST_PUSH_WEEKDAY from FORECAST_PUSH_TIME until midnight, to every linked,
  consenting parent whose frequency is "weekly", or "biweekly" in even weeks;
- at risk: once per term, on the first check from FORECAST_PUSH_TIME on a day within the last
  FORECAST_RISK_DAYS days of the term when the pupil has subjects at risk, to every parent
  whose frequency is not "off".

Only a term that is running (contains today) is pushed. Idempotent: each message has a dedupe
key ("forecast:{account}:{student}:{period}:{week}", "forecast-risk:{account}:{student}:{period}"),
so repeated checks (or several processes) never send one twice; keys already in the outbox are
skipped before anything is computed.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.admins import audit, require_school_admin
from services.config import Settings
from services.errors import NotFound
from services.notify import outbox
from services.notify.kinds import FORECAST, FORECAST_RISK
from services.results import (
    DEFAULT_FREQUENCY,
    PeriodSpan,
    SubjectForecastView,
    days_left,
    forecasts_for,
    live_periods,
    resolve_periods,
    rule_for_school,
    subject_payload,
)
from services.timezones import as_utc, zone_of
from services.sync.audience import first_name
from storage.models import Account, Link, OutboxMessage, School, SchoolClass, Student
from storage.results import ForecastPref

log = logging.getLogger(__name__)

#: Subjects listed in one message at most (the rest are counted in "more").
MAX_SUBJECTS = 30


@dataclass(frozen=True)
class RoundReport:
    class_id: int
    class_name: str
    period_name: str | None  # None: no term found, nothing sent
    pupils: int
    messages: int


@dataclass(frozen=True)
class _Want:
    key: str
    kind: str
    account_id: int
    student: Student


def week_of(day: date) -> tuple[str, bool]:
    """("2026-W48", even) for the ISO week of `day`; `even` alternates week by week without a
    break at the new year (biweekly pushes go in even weeks)."""
    iso = day.isocalendar()
    monday = day - timedelta(days=day.weekday())
    return f"{iso.year}-W{iso.week:02d}", ((monday.toordinal() - 1) // 7) % 2 == 0


def period_key(span: PeriodSpan) -> str:
    return span.ref or f"{span.kind}-{span.starts_on.isoformat()}"


def forecast_payload(student: Student, span: PeriodSpan, views: Sequence[SubjectForecastView], *,
                     reason: str, today: date, risk_only: bool = False) -> dict[str, Any] | None:
    """The `forecast` / `forecast_risk` payload (services/notify/kinds.py); None if there is
    nothing to say (no subjects, or none at risk)."""
    chosen = [v for v in views if v.forecast.at_risk] if risk_only else list(views)
    if not chosen:
        return None
    payload: dict[str, Any] = {
        "student_id": student.id,
        "student_name": first_name(student.full_name),
        "period_name": span.name,
        "period_ends_on": span.ends_on.isoformat(),
        "reason": reason,
        "subjects": [subject_payload(v) for v in chosen[:MAX_SUBJECTS]],
        "more": max(0, len(chosen) - MAX_SUBJECTS),
    }
    if risk_only:
        payload["days_left"] = days_left(span, today)
    return payload


class ForecastPush:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings
        hh, mm = settings.forecast_push_time.split(":")
        self._push_time = time(int(hh), int(mm))

    # ---- the scheduled rounds

    async def run_due(self, now: datetime | None = None) -> int:
        """Enqueue every forecast push due at `now` (default: the current time); returns how
        many messages were written. A failing school is logged and skipped."""
        now = as_utc(now)
        async with self._sessions() as s:
            school_ids = list(await s.scalars(select(School.id).where(School.deleted_at.is_(None))
                                              .order_by(School.id)))
        total = 0
        for school_id in school_ids:
            try:
                total += await self._school_round(school_id, now)
            except Exception as exc:  # noqa: BLE001 - one school's bad data must not stop the others
                # the type only: a database error's text may quote the payload (names, marks)
                log.error("forecast round of school %s failed: %s", school_id, type(exc).__name__)
        if total:
            log.info("forecast pushes: %d messages", total)
        return total

    async def _school_round(self, school_id: int, now: datetime) -> int:
        settings = self._settings
        async with self._sessions.begin() as s:
            school = await s.get(School, school_id)
            if school is None or school.deleted_at is not None:
                return 0
            local = now.astimezone(zone_of(school.timezone, settings.default_timezone))
            today = local.date()
            if local.time().replace(tzinfo=None) < self._push_time:
                return 0
            weekly_today = local.isoweekday() == settings.forecast_push_weekday
            periods = await live_periods(s, school.source, school.external_id)
            classes = list(await s.scalars(select(SchoolClass).where(
                SchoolClass.source == school.source, SchoolClass.school_ref == school.external_id,
                SchoolClass.deleted_at.is_(None))))
            due: dict[str, tuple[PeriodSpan, bool]] = {}
            for cls in classes:
                span = resolve_periods(periods, cls.grade, today).get("term")
                if span is None or not span.contains(today):
                    continue
                risk_window = span.ends_on - timedelta(days=settings.forecast_risk_days) <= today
                if weekly_today or risk_window:
                    due[cls.external_id] = (span, risk_window)
            if not due:
                return 0
            week, even = week_of(today)
            wants: list[_Want] = []
            for account_id, student, frequency in await self._audience(s, school, list(due)):
                frequency = frequency or DEFAULT_FREQUENCY
                if frequency == "off":
                    continue
                span, risk_window = due[student.class_ref]
                pkey = period_key(span)
                if weekly_today and (frequency == "weekly" or even):
                    wants.append(_Want(f"forecast:{account_id}:{student.id}:{pkey}:{week}", FORECAST,
                                       account_id, student))
                if risk_window:
                    wants.append(_Want(f"forecast-risk:{account_id}:{student.id}:{pkey}", FORECAST_RISK,
                                       account_id, student))
            wants = await self._not_yet_sent(s, wants)
            if not wants:
                return 0
            rule = await rule_for_school(s, school.id)
            by_class: dict[str, dict[int, Student]] = defaultdict(dict)
            for w in wants:
                by_class[w.student.class_ref][w.student.id] = w.student
            views: dict[int, list[SubjectForecastView]] = {}
            for class_ref, students in by_class.items():
                views.update(await forecasts_for(s, school.source, list(students.values()), due[class_ref][0], rule,
                                                 class_ref=class_ref))
            written = 0
            for w in wants:
                span = due[w.student.class_ref][0]
                risk = w.kind == FORECAST_RISK
                payload = forecast_payload(w.student, span, views.get(w.student.id, []),
                                           reason="risk" if risk else "weekly", today=today, risk_only=risk)
                if payload is None:
                    continue
                row = await outbox.enqueue(s, account_id=w.account_id, kind=w.kind, payload=payload,
                                           dedupe_key=w.key, topic=f"forecast:{w.student.id}")
                written += 1 if row is not None else 0
            return written

    @staticmethod
    async def _audience(s: AsyncSession, school: School, class_refs: list[str],
                        student_ids: list[int] | None = None) -> list[tuple[int, Student, str | None]]:
        """(account id, pupil, push frequency or None) for each approved link of a consenting,
        active parent to a live pupil of those classes."""
        query = (
            select(Link.account_id, Student, ForecastPref.frequency)
            .join(Student, Student.id == Link.student_id)
            .join(Account, Account.id == Link.account_id)
            .outerjoin(ForecastPref, ForecastPref.account_id == Link.account_id)
            .where(
                Link.status == "approved",
                Account.is_active.is_(True),
                Account.consent_state == "granted",
                Student.source == school.source,
                Student.school_ref == school.external_id,
                Student.class_ref.in_(class_refs),
                Student.deleted_at.is_(None),
            )
            .order_by(Student.id, Link.account_id)
        )
        if student_ids is not None:
            query = query.where(Student.id.in_(student_ids))
        return [(a, st, f) for a, st, f in (await s.execute(query)).all()]

    @staticmethod
    async def _not_yet_sent(s: AsyncSession, wants: list[_Want]) -> list[_Want]:
        keys = [w.key for w in wants]
        existing: set[str] = set()
        for i in range(0, len(keys), 500):
            existing.update(await s.scalars(select(OutboxMessage.dedupe_key).where(
                OutboxMessage.dedupe_key.in_(keys[i:i + 500]))))
        return [w for w in wants if w.key not in existing]

    # ---- the admin's round

    async def round_for_class(self, actor_tg: int, class_id: int, now: datetime | None = None) -> RoundReport:
        """Push the current term's forecast to the parents of every pupil of a class now (parents
        who turned forecasts off are left out). NotFound / NotAdmin; audited."""
        now = as_utc(now)
        async with self._sessions.begin() as s:
            cls = await s.get(SchoolClass, class_id)
            if cls is None or cls.deleted_at is not None:
                raise NotFound(f"class {class_id}")
            school = await s.scalar(select(School).where(
                School.source == cls.source, School.external_id == cls.school_ref, School.deleted_at.is_(None)))
            await require_school_admin(s, self._settings, actor_tg, school.id if school else None)
            if school is None:  # a region admin, and the class's school is not (or no longer) known
                raise NotFound(f"school of class {class_id}")
            today = now.astimezone(zone_of(school.timezone, self._settings.default_timezone)).date()
            span = resolve_periods(await live_periods(s, school.source, school.external_id), cls.grade,
                                   today).get("term")
            pupils = list(await s.scalars(select(Student).where(
                Student.source == cls.source, Student.class_ref == cls.external_id, Student.deleted_at.is_(None))))
            written = 0
            if span is not None:
                audience = [(a, st) for a, st, f in await self._audience(s, school, [cls.external_id])
                            if (f or DEFAULT_FREQUENCY) != "off"]
                rule = await rule_for_school(s, school.id)
                views = await forecasts_for(s, school.source, list({st.id: st for _, st in audience}.values()),
                                            span, rule, class_ref=cls.external_id)
                stamp = int(now.timestamp())
                for account_id, student in audience:
                    payload = forecast_payload(student, span, views.get(student.id, []), reason="admin", today=today)
                    if payload is None:
                        continue
                    row = await outbox.enqueue(
                        s, account_id=account_id, kind=FORECAST, payload=payload, topic=f"forecast:{student.id}",
                        dedupe_key=f"forecast-admin:{account_id}:{student.id}:{period_key(span)}:{stamp}")
                    written += 1 if row is not None else 0
            audit(s, actor=actor_tg, action="forecast.round", target_type="class", target_id=cls.id,
                  details={"period": span.ref if span else None, "pupils": len(pupils), "messages": written,
                           "school_id": school.id})
            log.info("forecast round for class %s by %s: %d messages", cls.id, actor_tg, written)
            return RoundReport(class_id=cls.id, class_name=cls.name, period_name=span.name if span else None,
                               pupils=len(pupils), messages=written)
