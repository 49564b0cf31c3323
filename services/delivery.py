"""The one-day rule, measured: how long final grades and exam results take to reach parents.

Every outbox message of a result kind (``kinds.RESULT_KINDS``: a new, changed, deferred or
finally set final grade, exam or certificate result; its ``event_id`` names the final-grade
event) is one *result delivery*: the result is owed to that recipient from the moment
the journal saved it (``OutboxMessage.occurred_at``) until the message is sent (``sent_at``)
or a paper extract is produced for it (`record_paper_extract`). A cancelled message (consent
withdrawn, link revoked, grade retracted) is no longer owed and is dropped from the count.

`DeliveryMonitor.check` (a scheduled job, every DELIVERY_CHECK_SECONDS) copies new such
messages into ``result_deliveries`` (`harvest`, reading the outbox past a watermark), settles
the open ones (`settle`), and alarms the school's admins ONCE per result still undelivered
after DELIVERY_ALARM_HOURS (`raise_alarms`: one ``delivery_alarm`` message per admin and
school per round). Results undelivered after DELIVERY_WARNING_MINUTES are warnings: shown by
`DeliveryMonitor.report` (the admin's /delivery) and `metrics_text` (``GET /metrics``).
Every function takes ``now``, so tests run on a simulated clock. Logs carry ids only.
"""
from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import and_, case, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.admins import admin_school_ids, audit, region_admin_ids, single_school
from services.config import Settings
from services.errors import NotAdmin, NotFound
from services.notify import outbox
from services.notify.kinds import DELIVERY_ALARM, RESULT_KINDS
from storage.delivery import DELIVERED, DROPPED, OPEN, DeliveryWatermark, ResultDelivery
from storage.models import (
    Account,
    AdminRole,
    Event,
    FinalGrade,
    OutboxMessage,
    Period,
    School,
    SchoolClass,
    Student,
    Subject,
    utcnow,
)

if TYPE_CHECKING:
    from services.container import Services

log = logging.getLogger(__name__)

#: Histogram buckets of the delivery delay, in seconds (10 s … 24 h).
BUCKETS: tuple[float, ...] = (10, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 20 * 3600, 24 * 3600)
#: Outbox ids re-read behind the watermark: rows of a transaction that committed late.
LAG_IDS = 10_000
BATCH = 2_000
#: Shown per school in a report, and per alarm message.
REPORT_ITEMS = 20
ALARM_ITEMS = 10
WATERMARK = "outbox"
WAITING, WARNING, ALARM = "waiting", "warning", "alarm"


# --------------------------------------------------------------------------- pure parts


@dataclass(frozen=True)
class Thresholds:
    warning: timedelta
    alarm: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        return cls(warning=timedelta(minutes=settings.delivery_warning_minutes),
                   alarm=timedelta(hours=settings.delivery_alarm_hours))

    def level(self, age: timedelta) -> str:
        """``waiting`` (under the warning threshold), ``warning`` or ``alarm``."""
        if age >= self.alarm:
            return ALARM
        return WARNING if age >= self.warning else WAITING


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The nearest-rank `q`-quantile (0 < q ≤ 1) of ascending values; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True)
class DelaySummary:
    delivered: int
    p50: float | None
    p90: float | None
    max: float | None
    within_hour: int
    within_day: int


def summarize(delays: Iterable[float]) -> DelaySummary:
    values = sorted(delays)
    return DelaySummary(
        delivered=len(values),
        p50=percentile(values, 0.5),
        p90=percentile(values, 0.9),
        max=values[-1] if values else None,
        within_hour=sum(1 for v in values if v <= 3600),
        within_day=sum(1 for v in values if v <= 86400),
    )


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


# --------------------------------------------------------------------------- read models


@dataclass(frozen=True)
class PendingResult:
    """A result not yet delivered to one recipient (what an admin needs to act on it)."""

    school_id: int | None
    class_name: str
    subject: str
    pupil: str
    kind: str  # period | year | exam | certificate
    period: str | None
    title: str | None
    channel: str
    occurred_at: datetime
    age_seconds: float
    level: str  # waiting | warning | alarm


@dataclass(frozen=True)
class SchoolDelivery:
    school_id: int | None
    school_ref: str | None
    school_name: str | None
    delays: DelaySummary
    waiting: int
    warning: int
    alarm: int
    pending: list[PendingResult] = field(default_factory=list)  # warnings and alarms, oldest first


@dataclass(frozen=True)
class DeliveryReport:
    now: datetime
    since: datetime
    thresholds: Thresholds
    schools: list[SchoolDelivery]


@dataclass(frozen=True)
class CheckReport:
    harvested: int
    delivered: int
    dropped: int
    alarmed_results: int
    alarm_messages: int


# --------------------------------------------------------------------------- harvesting


def _insert_ignoring_duplicates(session: AsyncSession, values: list[dict[str, Any]]):
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(ResultDelivery).values(values).on_conflict_do_nothing(index_elements=["key"])


async def _watermark(session: AsyncSession) -> DeliveryWatermark:
    mark = await session.get(DeliveryWatermark, WATERMARK)
    if mark is None:
        mark = DeliveryWatermark(name=WATERMARK, seen_id=0, updated_at=utcnow())
        session.add(mark)
        await session.flush()
    return mark


def _harvest_query(after: int, upper: int):
    o = OutboxMessage
    return (
        select(o.id, o.account_id, o.channel, o.status, o.sent_at, o.occurred_at, o.created_at,
               Event.source, Event.external_id, Event.seq, Student.id.label("student_id"),
               School.id.label("school_id"))
        .join(Event, Event.id == o.event_id)
        .outerjoin(FinalGrade, and_(FinalGrade.source == Event.source, FinalGrade.external_id == Event.external_id))
        .outerjoin(Student, and_(Student.source == FinalGrade.source, Student.external_id == FinalGrade.student_ref))
        .outerjoin(School, and_(School.source == Student.source, School.external_id == Student.school_ref))
        .where(
            o.id > after,
            o.id <= upper,
            o.kind.in_(sorted(RESULT_KINDS)),
            Event.entity == "final_grade",
            ~exists(select(ResultDelivery.id).where(ResultDelivery.outbox_id == o.id)),
        )
        .order_by(o.id)
        .limit(BATCH)
    )


def _delay(occurred_at: datetime, delivered_at: datetime) -> float:
    return max(0.0, (delivered_at - occurred_at).total_seconds())


def _tracking_values(row: Any, now: datetime) -> dict[str, Any]:
    occurred = row.occurred_at or row.created_at
    values: dict[str, Any] = {
        "key": f"outbox:{row.id}", "outbox_id": row.id, "source": row.source, "final_grade_ref": row.external_id,
        "seq": row.seq, "school_id": row.school_id, "student_id": row.student_id, "account_id": row.account_id,
        "guardian_ref": None, "channel": row.channel, "occurred_at": occurred, "delivered_at": None,
        "delay_seconds": None, "state": OPEN, "alarmed_at": None, "created_at": now,
    }
    if row.status == outbox.SENT:
        delivered = row.sent_at or now
        values.update(state=DELIVERED, delivered_at=delivered, delay_seconds=_delay(occurred, delivered))
    elif row.status == outbox.CANCELLED:
        values["state"] = DROPPED
    return values


async def harvest(session: AsyncSession, now: datetime) -> int:
    """Copy new outbox messages about final grades into ``result_deliveries``; returns how many."""
    mark = await _watermark(session)
    upper = await session.scalar(select(func.max(OutboxMessage.id))) or 0
    after = max(0, mark.seen_id - LAG_IDS)
    total = 0
    while True:
        rows = (await session.execute(_harvest_query(after, upper))).all()
        if not rows:
            break
        await session.execute(_insert_ignoring_duplicates(session, [_tracking_values(r, now) for r in rows]))
        total += len(rows)
        after = rows[-1].id
        if len(rows) < BATCH:
            break
    if upper > mark.seen_id:
        mark.seen_id = upper
        mark.updated_at = now
    return total


async def settle(session: AsyncSession, now: datetime) -> tuple[int, int]:
    """Close open deliveries whose message was sent (delivered), or cancelled, erased or turned
    into another kind (dropped); follow a waiting message updated in place to its
    ``occurred_at``. Returns (delivered, dropped)."""
    rd, o = ResultDelivery, OutboxMessage
    rows = (await session.execute(
        select(rd.id, rd.occurred_at, o.id.label("outbox_id"), o.kind, o.status, o.sent_at,
               o.occurred_at.label("message_occurred_at"))
        .outerjoin(o, o.id == rd.outbox_id)
        .where(rd.state == OPEN, rd.key.like("outbox:%"))
    )).all()
    delivered = 0
    dropped_ids: list[int] = []
    for row in rows:
        if row.outbox_id is None or row.status == outbox.CANCELLED or row.kind not in RESULT_KINDS:
            # cancelled, erased with its account, or turned into a withdrawal notice in place
            dropped_ids.append(row.id)
        elif row.status == outbox.SENT:
            occurred = row.message_occurred_at or row.occurred_at
            at = row.sent_at or now
            await session.execute(update(rd).where(rd.id == row.id, rd.state == OPEN).values(
                state=DELIVERED, occurred_at=occurred, delivered_at=at, delay_seconds=_delay(occurred, at)))
            delivered += 1
        elif row.message_occurred_at is not None and row.message_occurred_at != row.occurred_at:
            await session.execute(update(rd).where(rd.id == row.id).values(occurred_at=row.message_occurred_at))
    for i in range(0, len(dropped_ids), 500):
        await session.execute(update(rd).where(rd.id.in_(dropped_ids[i : i + 500]), rd.state == OPEN)
                              .values(state=DROPPED))
    return delivered, len(dropped_ids)


# --------------------------------------------------------------------------- paper extracts


async def _final_grade_context(session: AsyncSession, final_grade_id: int) -> tuple[FinalGrade, int | None, int | None]:
    grade = await session.get(FinalGrade, final_grade_id)
    if grade is None:
        raise NotFound(f"final grade {final_grade_id}")
    row = (await session.execute(
        select(Student.id, School.id)
        .select_from(Student)
        .outerjoin(School, and_(School.source == Student.source, School.external_id == Student.school_ref))
        .where(Student.source == grade.source, Student.external_id == grade.student_ref)
    )).first()
    return grade, (row[0] if row else None), (row[1] if row else None)


def _paper_key(grade: FinalGrade, seq: int, account_id: int | None, guardian_ref: str | None) -> str:
    recipient = f"a{account_id}" if account_id is not None else (f"g{guardian_ref}" if guardian_ref else "pupil")
    return f"paper:{grade.source}:{grade.external_id}:{seq}:{recipient}"[:255]


async def expect_paper_extract(
    session: AsyncSession, *, final_grade_id: int, occurred_at: datetime | None = None, seq: int | None = None,
    account_id: int | None = None, guardian_ref: str | None = None,
) -> bool:
    """Record that a paper extract of a final grade is owed (a parent on paper delivery), so
    it counts as undelivered, warns and alarms like a message until `record_paper_extract`.
    `seq` (default: the grade's last change) and the recipient identify it; idempotent."""
    grade, student_id, school_id = await _final_grade_context(session, final_grade_id)
    seq = grade.last_seq if seq is None else seq
    occurred = occurred_at or grade.occurred_at or utcnow()
    result = await session.execute(_insert_ignoring_duplicates(session, [{
        "key": _paper_key(grade, seq, account_id, guardian_ref), "outbox_id": None, "source": grade.source,
        "final_grade_ref": grade.external_id, "seq": seq, "school_id": school_id, "student_id": student_id,
        "account_id": account_id, "guardian_ref": guardian_ref, "channel": "paper", "occurred_at": occurred,
        "delivered_at": None, "delay_seconds": None, "state": OPEN, "alarmed_at": None, "created_at": utcnow(),
    }]))
    return (result.rowcount or 0) > 0


async def record_paper_extract(
    session: AsyncSession, *, final_grade_id: int, produced_at: datetime, occurred_at: datetime | None = None,
    seq: int | None = None, account_id: int | None = None, guardian_ref: str | None = None,
    student_id: int | None = None,
) -> bool:
    """A paper extract with final grade `final_grade_id` (FinalGrade.id; change `seq`, default
    its last one) was produced at `produced_at` for a parent: the account `account_id`, the
    journal guardian `guardian_ref`, or (neither) the pupil's parents on paper. Counts as the
    delivery of that result, its delay measured from `occurred_at` (default: when the journal
    saved the grade). An undelivered message of the same result to the same account is closed
    as delivered on paper. Runs in the caller's transaction; False if already recorded.
    (`student_id` is accepted for the caller's convenience; the grade names its pupil.)"""
    grade, pupil_id, school_id = await _final_grade_context(session, final_grade_id)
    student_id = pupil_id if pupil_id is not None else student_id
    seq = grade.last_seq if seq is None else seq
    occurred = occurred_at or grade.occurred_at or produced_at
    rd = ResultDelivery
    closed = 0
    if account_id is not None:
        o = OutboxMessage
        messages = (await session.execute(
            select(o.id, o.status, o.occurred_at, o.created_at)
            .join(Event, Event.id == o.event_id)
            .where(o.account_id == account_id, o.kind.in_(sorted(RESULT_KINDS)), o.status != outbox.SENT,
                   Event.entity == "final_grade", Event.source == grade.source,
                   Event.external_id == grade.external_id)
        )).all()
        for message in messages:
            started = message.occurred_at or message.created_at
            values = {"state": DELIVERED, "channel": "paper", "delivered_at": produced_at,
                      "delay_seconds": _delay(started, produced_at)}
            existing = await session.scalar(select(rd).where(rd.outbox_id == message.id))
            if existing is not None:
                if existing.state == OPEN or (existing.state == DROPPED and message.status == outbox.CANCELLED):
                    for name, value in values.items():
                        setattr(existing, name, value)
                    closed += 1
                continue
            await session.execute(_insert_ignoring_duplicates(session, [{
                "key": f"outbox:{message.id}", "outbox_id": message.id, "source": grade.source,
                "final_grade_ref": grade.external_id, "seq": seq, "school_id": school_id, "student_id": student_id,
                "account_id": account_id, "guardian_ref": guardian_ref, "occurred_at": started,
                "alarmed_at": None, "created_at": utcnow(), **values,
            }]))
            closed += 1
        if messages:  # the result was owed to this account as a message: that delivery is the one
            return closed > 0
    key = _paper_key(grade, seq, account_id, guardian_ref)
    existing = await session.scalar(select(rd).where(rd.key == key))
    if existing is not None:
        if existing.state != OPEN:
            return False
        existing.state, existing.delivered_at = DELIVERED, produced_at
        existing.delay_seconds = _delay(existing.occurred_at, produced_at)
        return True
    result = await session.execute(_insert_ignoring_duplicates(session, [{
        "key": key, "outbox_id": None, "source": grade.source, "final_grade_ref": grade.external_id, "seq": seq,
        "school_id": school_id, "student_id": student_id, "account_id": account_id, "guardian_ref": guardian_ref,
        "channel": "paper", "occurred_at": occurred, "delivered_at": produced_at,
        "delay_seconds": _delay(occurred, produced_at), "state": DELIVERED, "alarmed_at": None,
        "created_at": utcnow(),
    }]))
    log.info("paper extract recorded final_grade=%s account=%s", final_grade_id, account_id)
    return (result.rowcount or 0) > 0


# --------------------------------------------------------------------------- describing results


async def describe(session: AsyncSession, rows: Sequence[ResultDelivery], now: datetime,
                   thresholds: Thresholds) -> list[PendingResult]:
    """Class, subject, pupil and result of each row (same order)."""
    refs: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        refs[r.source].add(r.final_grade_ref)
    info: dict[tuple[str, str], Any] = {}
    for source, ids in refs.items():
        id_list = sorted(ids)
        for i in range(0, len(id_list), 500):
            result = await session.execute(
                select(FinalGrade.external_id, FinalGrade.kind, FinalGrade.title, Student.full_name,
                       SchoolClass.name.label("class_name"), Subject.name.label("subject"),
                       Period.name.label("period"))
                .select_from(FinalGrade)
                .outerjoin(Student, and_(Student.source == FinalGrade.source,
                                         Student.external_id == FinalGrade.student_ref))
                .outerjoin(SchoolClass, and_(SchoolClass.source == Student.source,
                                             SchoolClass.external_id == Student.class_ref))
                .outerjoin(Subject, and_(Subject.source == FinalGrade.source,
                                         Subject.external_id == FinalGrade.subject_ref))
                .outerjoin(Period, and_(Period.source == FinalGrade.source,
                                        Period.external_id == FinalGrade.period_ref))
                .where(FinalGrade.source == source, FinalGrade.external_id.in_(id_list[i : i + 500]))
            )
            for row in result:
                info[(source, row.external_id)] = row
    out = []
    for r in rows:
        row = info.get((r.source, r.final_grade_ref))
        age = now - r.occurred_at
        out.append(PendingResult(
            school_id=r.school_id,
            class_name=(row.class_name if row else None) or "",
            subject=(row.subject if row else None) or "",
            pupil=(row.full_name if row else None) or "",
            kind=row.kind if row else "",
            period=row.period if row else None,
            title=row.title if row else None,
            channel=r.channel,
            occurred_at=r.occurred_at,
            age_seconds=max(0.0, age.total_seconds()),
            level=thresholds.level(age),
        ))
    return out


# --------------------------------------------------------------------------- alarms


async def _admin_accounts(session: AsyncSession, settings: Settings, school_id: int | None) -> list[Account]:
    """The school's admins who opened the bot; the region admins when it has none."""
    recipients: list[Account] = []
    if school_id is not None:
        school_tgs = select(AdminRole.telegram_id).where(AdminRole.scope == "school", AdminRole.school_id == school_id)
        recipients = list(await session.scalars(select(Account).where(
            Account.telegram_id.in_(school_tgs), Account.is_active.is_(True)).order_by(Account.id)))
    if not recipients:
        region = await region_admin_ids(session, settings)
        if region:
            recipients = list(await session.scalars(select(Account).where(
                Account.telegram_id.in_(sorted(region)), Account.is_active.is_(True)).order_by(Account.id)))
    return recipients


async def raise_alarms(session: AsyncSession, settings: Settings, now: datetime,
                       thresholds: Thresholds) -> tuple[int, int]:
    """One ``delivery_alarm`` per admin and school for results undelivered past the alarm
    threshold and not alarmed before; each result is alarmed once. (results, messages)"""
    rd = ResultDelivery
    query = (select(rd).where(rd.state == OPEN, rd.alarmed_at.is_(None), rd.occurred_at <= now - thresholds.alarm)
             .order_by(rd.occurred_at, rd.id))
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(await session.scalars(query))
    by_school: dict[int | None, list[ResultDelivery]] = defaultdict(list)
    for r in rows:
        by_school[r.school_id].append(r)
    results = messages = 0
    for school_id, items in by_school.items():
        admins = await _admin_accounts(session, settings, school_id)
        if not admins:
            log.warning("delivery alarm school=%s: %d results overdue, no admin with a chat", school_id, len(items))
            continue
        school = await session.get(School, school_id) if school_id is not None else None
        described = await describe(session, items[:ALARM_ITEMS], now, thresholds)
        payload = {
            "school_id": school_id,
            "school_name": school.name if school else "",
            "count": len(items),
            "oldest_hours": int((now - items[0].occurred_at).total_seconds() // 3600),
            "threshold_hours": settings.delivery_alarm_hours,
            "items": [{"class_name": d.class_name, "subject": d.subject, "pupil": d.pupil, "kind": d.kind,
                       "period": d.period, "title": d.title} for d in described],
        }
        batch = f"delivery_alarm:{school_id}:{min(r.id for r in items)}:{max(r.id for r in items)}"
        for admin in admins:
            written = await outbox.enqueue(session, account_id=admin.id, kind=DELIVERY_ALARM, payload=dict(payload),
                                           dedupe_key=f"{batch}:{admin.id}", topic=f"delivery_alarm:{school_id}")
            messages += 1 if written is not None else 0
        for r in items:
            r.alarmed_at = now
        results += len(items)
        log.warning("delivery alarm school=%s: %d results undelivered past %s h, %d admins told",
                    school_id, len(items), settings.delivery_alarm_hours, len(admins))
    return results, messages


# --------------------------------------------------------------------------- the service


class DeliveryMonitor:
    """The one-day rule for admins and operators: check (job), report (/delivery), metrics."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds.from_settings(self._settings)

    async def refresh(self, now: datetime | None = None) -> tuple[int, int, int]:
        """Harvest new result messages and settle open ones: (harvested, delivered, dropped)."""
        now = now or utcnow()
        async with self._sessions.begin() as session:
            harvested = await harvest(session, now)
        async with self._sessions.begin() as session:
            delivered, dropped = await settle(session, now)
        return harvested, delivered, dropped

    async def check(self, now: datetime | None = None) -> CheckReport:
        """One round of the scheduled job: refresh, then alarm about overdue results (once each)."""
        now = now or utcnow()
        harvested, delivered, dropped = await self.refresh(now)
        async with self._sessions.begin() as session:
            alarmed, messages = await raise_alarms(session, self._settings, now, self.thresholds)
        return CheckReport(harvested, delivered, dropped, alarmed, messages)

    async def record_paper_extract(self, *, final_grade_id: int, produced_at: datetime, **kw: Any) -> bool:
        """`record_paper_extract` in its own transaction."""
        async with self._sessions.begin() as session:
            return await record_paper_extract(session, final_grade_id=final_grade_id, produced_at=produced_at, **kw)

    async def report(self, actor_tg: int, *, days: int = 7, now: datetime | None = None) -> DeliveryReport:
        """Delays of the last `days` days and undelivered results, for the actor's schools
        (all for a region admin: only schools with results). NotAdmin for others; audited."""
        now = now or utcnow()
        async with self._sessions.begin() as session:
            scope = await admin_school_ids(session, self._settings, actor_tg)
            if scope is not None and not scope:
                raise NotAdmin(f"telegram id {actor_tg} is not an admin")
        await self.refresh(now)
        since = now - timedelta(days=days)
        thresholds = self.thresholds
        rd = ResultDelivery
        async with self._sessions.begin() as session:
            delay_q = select(rd.school_id, rd.delay_seconds).where(rd.state == DELIVERED, rd.delivered_at >= since)
            open_q = select(rd).where(rd.state == OPEN).order_by(rd.occurred_at, rd.id)
            if scope is not None:
                delay_q = delay_q.where(rd.school_id.in_(scope))
                open_q = open_q.where(rd.school_id.in_(scope))
            delays: dict[int | None, list[float]] = defaultdict(list)
            for school_id, delay in await session.execute(delay_q):
                delays[school_id].append(float(delay or 0.0))
            open_rows: dict[int | None, list[ResultDelivery]] = defaultdict(list)
            for r in await session.scalars(open_q):
                open_rows[r.school_id].append(r)
            school_ids = set(scope) if scope is not None else set(delays) | set(open_rows)
            known = {s.id: s for s in await session.scalars(
                select(School).where(School.id.in_([i for i in school_ids if i is not None])))}
            schools = []
            for school_id in sorted(school_ids, key=lambda i: (known[i].name if i in known else "", i or 0)):
                rows = open_rows.get(school_id, [])
                levels = [thresholds.level(now - r.occurred_at) for r in rows]
                late = [r for r, level in zip(rows, levels) if level != WAITING]
                school = known.get(school_id)
                schools.append(SchoolDelivery(
                    school_id=school_id,
                    school_ref=school.external_id if school else None,
                    school_name=school.name if school else None,
                    delays=summarize(delays.get(school_id, [])),
                    waiting=levels.count(WAITING),
                    warning=levels.count(WARNING),
                    alarm=levels.count(ALARM),
                    pending=await describe(session, late[:REPORT_ITEMS], now, thresholds),
                ))
            audit(session, actor=actor_tg, action="delivery.report", target_type="school",
                  target_id=None if scope is None else ",".join(str(i) for i in sorted(scope))[:128],
                  details={"days": days, "schools": len(schools),
                           "school_id": single_school(scope)})
        return DeliveryReport(now=now, since=since, thresholds=thresholds, schools=schools)

    async def metrics_text(self, now: datetime | None = None) -> str:
        """Prometheus text exposition: the delay histogram and undelivered results per school."""
        now = now or utcnow()
        thresholds = self.thresholds
        rd = ResultDelivery
        bucket_cols = [func.sum(case((rd.delay_seconds <= b, 1), else_=0)) for b in BUCKETS]
        async with self._sessions() as session:
            labels = {sid: ref for sid, ref in await session.execute(select(School.id, School.external_id))}
            hist = (await session.execute(
                select(rd.school_id, func.count(rd.id), func.coalesce(func.sum(rd.delay_seconds), 0.0), *bucket_cols)
                .where(rd.state == DELIVERED).group_by(rd.school_id)
            )).all()
            warn_at, alarm_at = now - thresholds.warning, now - thresholds.alarm
            undelivered = (await session.execute(
                select(rd.school_id,
                       func.sum(case((rd.occurred_at > warn_at, 1), else_=0)),
                       func.sum(case((and_(rd.occurred_at <= warn_at, rd.occurred_at > alarm_at), 1), else_=0)),
                       func.sum(case((rd.occurred_at <= alarm_at, 1), else_=0)))
                .where(rd.state == OPEN).group_by(rd.school_id)
            )).all()
            alarms = (await session.execute(
                select(rd.school_id, func.count(rd.id)).where(rd.alarmed_at.is_not(None)).group_by(rd.school_id)
            )).all()

        def school(sid: int | None) -> str:
            return _escape_label(labels.get(sid, "unknown") if sid is not None else "unknown")

        name = "ediary_result_delivery_seconds"
        lines = [
            f"# HELP {name} Delay from the journal saving a final grade or exam result to its delivery to a parent.",
            f"# TYPE {name} histogram",
        ]
        for sid, count, total, *buckets in sorted(hist, key=lambda r: school(r[0])):
            for bound, n in zip(BUCKETS, buckets):
                lines.append(f'{name}_bucket{{school="{school(sid)}",le="{_number(bound)}"}} {int(n or 0)}')
            lines.append(f'{name}_bucket{{school="{school(sid)}",le="+Inf"}} {int(count)}')
            lines.append(f'{name}_sum{{school="{school(sid)}"}} {_number(float(total or 0.0))}')
            lines.append(f'{name}_count{{school="{school(sid)}"}} {int(count)}')
        lines += [
            "# HELP ediary_results_undelivered Results not yet delivered to a parent, by age "
            "(waiting: under the warning threshold).",
            "# TYPE ediary_results_undelivered gauge",
        ]
        for sid, waiting, warning, alarm in sorted(undelivered, key=lambda r: school(r[0])):
            for level, n in ((WAITING, waiting), (WARNING, warning), (ALARM, alarm)):
                lines.append(f'ediary_results_undelivered{{school="{school(sid)}",level="{level}"}} {int(n or 0)}')
        lines += [
            "# HELP ediary_result_alarms_total Results the school's admins were alarmed about.",
            "# TYPE ediary_result_alarms_total counter",
        ]
        for sid, n in sorted(alarms, key=lambda r: school(r[0])):
            lines.append(f'ediary_result_alarms_total{{school="{school(sid)}"}} {int(n)}')
        lines += [
            "# HELP ediary_result_delivery_threshold_seconds The warning and alarm thresholds.",
            "# TYPE ediary_result_delivery_threshold_seconds gauge",
            f'ediary_result_delivery_threshold_seconds{{level="warning"}} '
            f"{_number(thresholds.warning.total_seconds())}",
            f'ediary_result_delivery_threshold_seconds{{level="alarm"}} {_number(thresholds.alarm.total_seconds())}',
        ]
        return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- HTTP


def add_metrics_route(app: web.Application, services: Services) -> None:
    """Route adder for bot/web.py: ``GET /metrics`` (Prometheus text format, ids only)."""
    monitor = services.delivery

    async def handle(_request: web.Request) -> web.Response:
        text = await monitor.metrics_text()
        return web.Response(body=text.encode(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    app.router.add_get("/metrics", handle)
