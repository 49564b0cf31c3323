"""Calm delivery: when a parent's news may go out, and which news go out together.

Pure decisions, no database (the dispatcher loads the rows and applies the plan):

- **News** are outbox rows caused by a journal event (``event_id`` set) and not meant for an
  admin. Other rows (link requests and decisions) are direct answers and go out at once.
- A row is **ready** at its event's time (``occurred_at``, else when it was enqueued), plus
  NOTIFY_GRACE_SECONDS for marks: a mark the teacher corrects or deletes within the grace
  period is updated or cancelled in the outbox before anyone sees it (services/sync/fanout.py).
- A ready row may be sent at its **earliest** moment: at once, or, with a daily digest time,
  at the next digest time; never inside the parent's quiet hours (then: when they end). Rows
  are held, never dropped.
- A row is **due** — it forces a message — NOTIFY_COALESCE_SECONDS after it is ready, or at
  its earliest moment when it had to wait for the digest time or the end of quiet hours. When one row of a parent is due, every row of that
  parent past its earliest moment goes with it in one message (a *digest*); a teacher entering
  thirty marks within a minute gives one message, not thirty.
- A type the parent turned off is cancelled, not held.
- Final grades and exam results (RESULT_KINDS) must reach parents within a day (the one-day
  rule): they never wait for a daily digest time, only for quiet hours.

Clock times (quiet hours, digest time) are in the time zone of the school of the parent's
child; all instants are aware UTC datetimes.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from services.notify.kinds import ADMIN_KINDS, GRACE_KINDS, PREF_TYPES, PRIVACY_KINDS, RESULT_KINDS

MINUTES_PER_DAY = 24 * 60
#: Never news, whatever caused them: an admin's work, notices about the person's own data.
NOT_NEWS_KINDS = ADMIN_KINDS | PRIVACY_KINDS


def is_news(kind: str, event_id: int | None) -> bool:
    """Rows that obey a parent's preferences: caused by a journal event, not an admin's work."""
    return event_id is not None and kind not in NOT_NEWS_KINDS


def parse_clock(text: str) -> int:
    """"07:30" → 450 (minutes after midnight); ValueError otherwise."""
    hours, _, minutes = text.strip().partition(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"not a clock time: {text!r}")
    return h * 60 + m


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class QuietHours:
    """[start, end) in minutes after midnight, local time; may wrap past midnight (21:00–07:00).

    start == end means no quiet hours at all."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str | None) -> QuietHours | None:
        """"21:00-07:00" → QuietHours; "" / "off" / None → None."""
        if not text or text.strip().lower() in ("off", "none"):
            return None
        start, _, end = text.partition("-")
        quiet = cls(parse_clock(start), parse_clock(end))
        return None if quiet.off else quiet

    @property
    def off(self) -> bool:
        return self.start == self.end

    def label(self) -> str:
        return f"{format_clock(self.start)}–{format_clock(self.end)}"

    def contains(self, local: datetime) -> bool:
        if self.off:
            return False
        minute = local.hour * 60 + local.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def end_after(self, local: datetime) -> datetime:
        """The end of the quiet period that contains `local` (a local, aware datetime)."""
        end = _at_minutes(local, self.end)
        if end <= local:
            end = _at_minutes(local + timedelta(days=1), self.end)
        return end


def _at_minutes(local: datetime, minutes: int) -> datetime:
    """The same local day as `local` at the clock time `minutes` (resolved in its zone)."""
    naive = datetime.combine(local.date(), time(minutes // 60, minutes % 60))
    return naive.replace(tzinfo=local.tzinfo)


@dataclass(frozen=True)
class ParentPolicy:
    """One parent's preferences as the dispatcher applies them."""

    zone: ZoneInfo
    muted: frozenset[str] = frozenset()
    quiet: QuietHours | None = None
    digest_at: int | None = None  # minutes after midnight, local; None: instant delivery

    def is_muted(self, kind: str) -> bool:
        pref_type = PREF_TYPES.get(kind)
        return pref_type is not None and pref_type in self.muted

    def _local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone)

    def outside_quiet(self, instant: datetime) -> datetime:
        """`instant`, or the end of the quiet hours it falls in."""
        if self.quiet is None:
            return instant
        local = self._local(instant)
        if not self.quiet.contains(local):
            return instant
        return self.quiet.end_after(local).astimezone(timezone.utc)

    def next_digest(self, instant: datetime) -> datetime:
        """The first digest time at or after `instant` (requires `digest_at`)."""
        assert self.digest_at is not None
        local = self._local(instant)
        at = _at_minutes(local, self.digest_at)
        if at < local:
            at = _at_minutes(local + timedelta(days=1), self.digest_at)
        return at.astimezone(timezone.utc)

    def earliest(self, ready: datetime, *, digest: bool = True) -> datetime:
        """The first moment a row ready at `ready` may be part of a message (`digest` False:
        a kind that does not wait for the digest time)."""
        moment = self.next_digest(ready) if digest and self.digest_at is not None else ready
        return self.outside_quiet(moment)

    def due(self, ready: datetime, window: float, *, digest: bool = True) -> datetime:
        """The moment a row ready at `ready` forces a message: the window after it is ready;
        the digest time, or the end of quiet hours, when it had to wait for those (what waited
        is gathered already: no need to wait any longer)."""
        earliest = self.earliest(ready, digest=digest)
        if earliest != ready:
            return earliest
        return self.outside_quiet(ready + timedelta(seconds=window))


def ready_at(kind: str, occurred_at: datetime | None, created_at: datetime, grace: float) -> datetime:
    """When a row's news is final enough to be told: its event's time (the journal's clock, but
    never later than when we learnt of it), plus the grace period for marks."""
    base = created_at if occurred_at is None else min(occurred_at, created_at)
    return base + timedelta(seconds=grace) if kind in GRACE_KINDS else base


@dataclass(frozen=True)
class PendingRow:
    """What the plan needs to know about one outbox row of the parent."""

    id: int
    kind: str
    occurred_at: datetime | None
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    last_error: str | None = None
    claimed: bool = False  # the row this round claimed (the others are still pending)

    def free_at(self, now: datetime) -> bool:
        """Not waiting out a retry: a row never tried, or one whose retry time has come."""
        return self.claimed or (self.attempts == 0 and self.last_error is None) or self.next_attempt_at <= now


@dataclass
class Plan:
    """What to do with a parent's news rows now."""

    send: list[int] = field(default_factory=list)  # oldest first; more than one: a digest
    cancel: list[int] = field(default_factory=list)  # muted types
    schedule: dict[int, datetime] = field(default_factory=dict)  # row → next_attempt_at


def plan(
    rows: Sequence[PendingRow],
    *,
    now: datetime,
    policy: ParentPolicy,
    grace: float,
    window: float,
    coalesce: bool,
) -> Plan:
    """Decide for all news rows of one parent (the claimed one among them).

    `coalesce` false (the caller's choice: a window of 0 without a digest time, or a channel
    that cannot send digests) sends one row per message; the rest stay due for the next rounds.
    Rows waiting out a retry are left alone until their retry time."""
    result = Plan()
    live: list[tuple[PendingRow, datetime, datetime]] = []
    for row in sorted(rows, key=lambda r: r.id):
        if policy.is_muted(row.kind):
            result.cancel.append(row.id)
            continue
        ready = ready_at(row.kind, row.occurred_at, row.created_at, grace)
        digest = row.kind not in RESULT_KINDS
        live.append((row, policy.earliest(ready, digest=digest), policy.due(ready, window, digest=digest)))
    eligible = [(row, due) for row, earliest, due in live if row.free_at(now) and earliest <= now]
    if any(due <= now for _row, due in eligible):
        sending = [row.id for row, _due in eligible]
        result.send = sending if coalesce else sending[:1]
    for row, _earliest, due in live:
        if row.id not in result.send and row.free_at(now):
            result.schedule[row.id] = max(due, now)
    return result
