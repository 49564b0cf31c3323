"""Delivery of outbox rows through a channel, within Telegram's limits.

One round (`run_once`):

1. rows left ``sending`` longer than the lease go back to ``pending`` (their sender died);
2. claim a batch of due rows (about one second of sending) — oldest first, at most one per
   account (so each account gets its messages in order), none for a chat that stays inside its
   per-chat interval longer than the batch takes — mark them ``sending`` and COMMIT before
   anything is sent (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: several dispatchers may run);
3. in the same transaction re-check every recipient: the account is active; parent kinds need
   a granted consent; kinds about a child need an approved link to ``payload["student_id"]``.
   A row that fails the check is ``cancelled`` with the reason and never sent;
4. send the batch (a few sends in flight at once, paced by the rate limiter; a row whose chat
   is about to be free waits for it without holding up the other chats) and record each
   outcome in its own short transaction right after its send, so a crash loses at most the
   messages in flight (they are re-sent after the lease: delivery is at least once).

News rows (caused by a journal event: marks, lesson changes, homework...) also pass the
parent's preferences in step 3 (services/notify/calm.py): a type turned off is ``cancelled``;
inside quiet hours, before the digest time, within a mark's grace period or the coalescing
window the row goes back to ``pending`` with the time it is due (held, never dropped); when
one is due, every news row of that parent past its earliest moment is claimed with it and the
lot goes out as ONE message (kind ``digest``, as many rows as the channel fits in a message;
the rest follow in the next rounds). The rows of a digest share one fate below.

Outcomes: success → ``sent``; `RetryAfter` → the row is due again after exactly that many
seconds (attempts unchanged), all sending pauses until then and the rest of the batch is given
back; `RecipientGone` → the account is deactivated, the row ``failed``, its other pending rows
``cancelled``; `TransientError`, a timeout or any unexpected exception → attempts + 1 and an
exponential backoff (2, 4, 8 … ≤ 300 s), ``failed`` after ``send_max_attempts``;
`PermanentError` → ``failed``.

Logs name rows by id, kind and account id only: never payload contents (names, marks, phones).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notify import calm, outbox
from services.notify.channel import (
    Channel,
    DigestChannel,
    PermanentError,
    Recipient,
    RecipientGone,
    RetryAfter,
    TransientError,
)
from services.notify.kinds import DIGEST, LINKED_KINDS, PARENT_KINDS
from services.notify.prefs import load_policy
from services.notify.ratelimit import RateLimiter
from storage.models import Account, Link, OutboxMessage, utcnow

log = logging.getLogger(__name__)

CONSENT_GRANTED = "granted"
#: Seconds kept free at the end of a lease for recording the outcome of a send.
_LEASE_MARGIN = 5.0
LINK_APPROVED = "approved"


@dataclass(slots=True)
class _Item:
    """One message to send: one outbox row, or several rows as a digest (`ids`)."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    recipient: Recipient
    claimed_at: datetime
    ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.ids:
            self.ids = (self.id,)


class Dispatcher:
    """Claims due outbox rows of ``channel.name`` and delivers them through ``channel``.

    ``settings`` supplies ``send_rate_per_second``, ``send_rate_per_chat_seconds``,
    ``dispatch_poll_seconds`` and ``send_max_attempts`` (``services.config.Settings``).
    ``clock`` gives the (aware, UTC) time compared with ``next_attempt_at``; ``sleep`` is what
    the dispatcher awaits while the rate limiter asks it to wait (both injectable for tests).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channel: Channel,
        settings: Any,
        *,
        limiter: RateLimiter | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        batch_size: int | None = None,
        concurrency: int = 8,
        lease_seconds: float | None = None,
        send_timeout: float | None = None,
        max_backoff_seconds: float = 300.0,
    ) -> None:
        self.sessions = sessions
        self.channel = channel
        self.settings = settings
        self.limiter = limiter or RateLimiter.from_settings(settings)
        self._clock = clock
        self._sleep = sleep
        # About one second of sending at the configured rate: a short hold on claimed rows, one
        # claim query a second when saturated, and (one row per account per batch) a busy chat
        # still gets its one message a second.
        self.batch_size = batch_size or max(1, min(500, int(self.limiter.rate)))
        self.concurrency = max(1, concurrency)
        #: A claimed row may wait this long for its chat's interval: about the time its batch
        #: takes at the global rate. Chats busy for longer are not claimed at all.
        self.max_chat_wait = self.batch_size / self.limiter.rate
        # A row `sending` longer than this is taken to be lost with its process and sent again.
        self.lease_seconds = float(
            lease_seconds if lease_seconds is not None else getattr(settings, "dispatch_lease_seconds", 120.0)
        )
        # A send must start early enough to end (send_timeout) before the lease runs out, with a
        # margin for recording the outcome; a row that waited longer in its batch is given back.
        margin = min(_LEASE_MARGIN, self.lease_seconds * 0.1)
        self.send_timeout = float(send_timeout) if send_timeout is not None else min(30.0, self.lease_seconds / 2)
        self._latest_start = self.lease_seconds - self.send_timeout - margin
        if self._latest_start <= 0:
            raise ValueError("lease_seconds must well exceed send_timeout, or rows in flight could be sent twice")
        self.max_backoff_seconds = max_backoff_seconds
        self.max_attempts: int = settings.send_max_attempts
        self.poll_seconds: float = settings.dispatch_poll_seconds
        # Calm delivery of news (services/notify/calm.py).
        self.grace_seconds = float(getattr(settings, "notify_grace_seconds", 600.0))
        self.coalesce_seconds = float(getattr(settings, "notify_coalesce_seconds", 120.0))
        self.digests = isinstance(channel, DigestChannel)
        #: Rows claimed by the last round (0: nothing was due, the loop may sleep).
        self.last_claimed = 0
        self._wake = asyncio.Event()
        self._sem = asyncio.Semaphore(self.concurrency)

    # ------------------------------------------------------------------ loop

    def wake(self) -> None:
        """Nudge the loop: new rows were committed (call after the enqueuing transaction)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; sleep when idle, wake early on `wake()`."""
        log.info("dispatcher for channel %s started", self.channel.name)
        while not stop.is_set():
            failed = False
            try:
                await self.run_once()
            except Exception as exc:  # noqa: BLE001 - the loop must survive a bad round (e.g. DB restart)
                log.error("dispatch round failed: %s", type(exc).__name__)
                failed = True
            if self.last_claimed and not failed:
                await asyncio.sleep(0)
                continue
            await self._idle(stop, self.poll_seconds if failed else self.idle_delay())
        log.info("dispatcher for channel %s stopped", self.channel.name)

    def idle_delay(self) -> float:
        """How long the loop may sleep when nothing could be claimed."""
        paused = self.limiter.paused_for()
        if paused > 0:
            return paused
        delay = self.poll_seconds
        chat_ready = self.limiter.next_chat_ready_in()
        if chat_ready is not None:
            delay = min(delay, max(chat_ready, 0.01))
        return delay

    async def _idle(self, stop: asyncio.Event, seconds: float) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._wake.clear()

    # ------------------------------------------------------------------ one round

    async def run_once(self) -> int:
        """Claim a batch of due rows, send them, record the outcomes.

        Returns how many rows were finished (sent, failed or cancelled); rows given back for a
        later try are not counted."""
        self.last_claimed = 0
        if self.limiter.paused_for() > 0:
            return 0
        now = self._clock()
        async with self.sessions.begin() as session:
            reclaimed = await outbox.reclaim_stale(
                session, now=now, lease_seconds=self.lease_seconds, max_attempts=self.max_attempts
            )
        if reclaimed:
            log.warning("reclaimed %d outbox rows left sending past the lease", reclaimed)
        items, finished = await self._claim(now)
        if not items:
            return finished
        results = await asyncio.gather(*(self._deliver(item) for item in items), return_exceptions=True)
        for item, result in zip(items, results):
            if isinstance(result, BaseException):
                # Recording the outcome failed (database gone?): the row stays `sending` and is
                # reclaimed after the lease.
                log.error("outbox row %s (%s, account %s): recording failed: %s",
                          item.id, item.kind, item.recipient.account_id, type(result).__name__)
            else:
                finished += result
        return finished

    async def _claim(self, now: datetime) -> tuple[list[_Item], int]:
        """Claim due rows and re-check their recipients; one transaction, committed on return."""
        items: list[_Item] = []
        finished = 0
        async with self.sessions.begin() as session:
            ids = await outbox.claim_due(
                session,
                channel=self.channel.name,
                now=now,
                limit=self.batch_size,
                skip_chat_ids=self.limiter.busy_chats(longer_than=self.max_chat_wait),
            )
            self.last_claimed = len(ids)
            if not ids:
                return [], 0
            rows = (
                await session.execute(
                    select(OutboxMessage, Account)
                    .join(Account, Account.id == OutboxMessage.account_id)
                    .where(OutboxMessage.id.in_(ids))
                    .order_by(OutboxMessage.id)
                )
            ).all()
            linked_accounts = {row.account_id for row, _ in rows if row.kind in LINKED_KINDS}
            approved: set[tuple[int, int]] = set()
            if linked_accounts:
                result = await session.execute(
                    select(Link.account_id, Link.student_id).where(
                        Link.account_id.in_(linked_accounts), Link.status == LINK_APPROVED
                    )
                )
                approved = {(account_id, student_id) for account_id, student_id in result}
            for row, account in rows:
                verdict = self._check(row, account, approved)
                if verdict is not None:
                    status, reason = verdict
                    await outbox.finish(session, row.id, status=status, error=reason)
                    log.info("outbox row %s (%s, account %s) %s: %s",
                             row.id, row.kind, row.account_id, status, reason)
                    finished += 1
                    continue
                recipient = Recipient(
                    account_id=account.id, chat_id=account.chat_id, language=account.language or "ru"
                )
                if calm.is_news(row.kind, row.event_id):
                    item, done = await self._plan_news(session, row, account, recipient, approved, now)
                    finished += done
                    if item is not None:
                        items.append(item)
                    continue
                items.append(
                    _Item(
                        id=row.id,
                        kind=row.kind,
                        payload=dict(row.payload or {}),
                        attempts=row.attempts,
                        recipient=recipient,
                        claimed_at=now,
                    )
                )
        return items, finished

    async def _plan_news(
        self,
        session: AsyncSession,
        claimed: OutboxMessage,
        account: Account,
        recipient: Recipient,
        approved: set[tuple[int, int]],
        now: datetime,
    ) -> tuple[_Item | None, int]:
        """Apply the parent's preferences to a claimed news row and its pending companions.

        Returns the message to send now (the row alone, or a digest of several rows), or None
        when the row was held or cancelled; and how many rows were finished (cancelled)."""
        policy = await load_policy(session, account.id, self.settings)
        coalesce = self.digests and (self.coalesce_seconds > 0 or policy.digest_at is not None)
        # Without coalescing each row is planned on its own, when it is claimed.
        others = await outbox.pending_news(session, account_id=account.id, channel=self.channel.name) \
            if coalesce else []
        by_id = {r.id: r for r in others if r.id != claimed.id}
        by_id[claimed.id] = claimed
        pending = [_pending_row(r, claimed=r.id == claimed.id) for r in by_id.values()]
        decision = calm.plan(pending, now=now, policy=policy, grace=self.grace_seconds,
                             window=self.coalesce_seconds if coalesce else 0.0, coalesce=coalesce)
        finished = 0
        if decision.cancel:
            await outbox.finish(session, decision.cancel, status=outbox.CANCELLED, error="type turned off by the parent")
            log.info("account %s: %d news rows cancelled (type turned off)", account.id, len(decision.cancel))
            finished += len(decision.cancel)
        send: list[OutboxMessage] = []
        for message_id in decision.send:
            row = by_id[message_id]
            verdict = self._check(row, account, approved) if row is not claimed else None
            if verdict is not None:
                status, reason = verdict
                await outbox.finish(session, row.id, status=status, error=reason)
                finished += 1
                continue
            send.append(row)
        schedule = dict(decision.schedule)
        if len(send) > 1:
            fit = self._digest_fit(recipient, send)
            for row in send[fit:]:
                schedule[row.id] = now  # the next message takes them
            send = send[:fit]
        if claimed not in send:
            # Held (or another row goes first): back to pending, due when the plan says.
            await outbox.release(session, [claimed.id], not_before=schedule.pop(claimed.id, now), claimed_at=now)
        await outbox.reschedule(session, {i: at for i, at in schedule.items() if i != claimed.id})
        companions = [row.id for row in send if row is not claimed]
        if companions:
            taken = set(await outbox.claim_rows(session, companions, now=now))
            send = [row for row in send if row is claimed or row.id in taken]
        if not send:
            return None, finished
        if len(send) == 1:
            row = send[0]
            return _Item(id=row.id, kind=row.kind, payload=dict(row.payload or {}), attempts=row.attempts,
                         recipient=recipient, claimed_at=now), finished
        log.info("account %s: %d news rows as one digest", account.id, len(send))
        return _Item(
            id=send[0].id,
            kind=DIGEST,
            payload={"items": [{"kind": row.kind, "payload": dict(row.payload or {})} for row in send]},
            attempts=max(row.attempts for row in send),
            recipient=recipient,
            claimed_at=now,
            ids=tuple(row.id for row in send),
        ), finished

    def _digest_fit(self, recipient: Recipient, rows: list[OutboxMessage]) -> int:
        items = [{"kind": row.kind, "payload": dict(row.payload or {})} for row in rows]
        try:
            fit = int(self.channel.digest_fit(recipient, items))  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - a rendering problem must not stop delivery
            log.warning("digest_fit failed (%s): one row per message", type(exc).__name__)
            fit = 1
        return max(1, min(fit, len(items)))

    @staticmethod
    def _check(row: OutboxMessage, account: Account, approved: set[tuple[int, int]]) -> tuple[str, str] | None:
        """Why this row must not be sent now, as (status, reason); None if it may be sent."""
        if not account.is_active:
            return outbox.CANCELLED, "account inactive"
        if row.kind in PARENT_KINDS and account.consent_state != CONSENT_GRANTED:
            return outbox.CANCELLED, f"no consent ({account.consent_state})"
        if row.kind in LINKED_KINDS:
            try:
                student_id = int((row.payload or {})["student_id"])
            except (KeyError, TypeError, ValueError):
                return outbox.FAILED, "payload without student_id"
            if (account.id, student_id) not in approved:
                return outbox.CANCELLED, "no approved link"
        return None

    # ------------------------------------------------------------------ one message

    async def _deliver(self, item: _Item) -> int:
        """Send one claimed message and record the outcome; how many rows it finished."""
        chat_id = item.recipient.chat_id
        chat_wait = self.limiter.chat_delay(chat_id)
        if chat_wait > self.max_chat_wait:
            await self._give_back(item, None)
            return 0
        if chat_wait > 0:
            # The chat becomes free while the batch is being sent anyway: wait for it here,
            # outside the semaphore, so the other chats' sends go on meanwhile.
            await self._sleep(chat_wait)
        async with self._sem:
            while True:
                if (self._clock() - item.claimed_at).total_seconds() > self._latest_start:
                    # Waited so long that the send might outlive the lease, when another
                    # dispatcher could take the row too: give it back instead.
                    await self._give_back(item, None)
                    return 0
                if self.limiter.paused_for() > 0:
                    await self._give_back(item, "flood control pause")
                    return 0
                if self.limiter.chat_delay(chat_id) > 0:
                    # Another row for the same chat went first (accounts sharing a chat):
                    # do not hold the batch for it, take it again in a later round.
                    await self._give_back(item, None)
                    return 0
                delay = self.limiter.try_acquire(chat_id)
                if delay <= 0:
                    break
                await self._sleep(delay)
            try:
                await asyncio.wait_for(
                    self.channel.send(item.recipient, item.kind, item.payload), timeout=self.send_timeout
                )
            except RetryAfter as exc:
                return await self._on_retry_after(item, exc)
            except RecipientGone as exc:
                return await self._on_gone(item, exc)
            except PermanentError as exc:
                return await self._on_failed(item, exc.reason or "permanent error")
            except TransientError as exc:
                return await self._on_transient(item, exc.reason or "transient error")
            except (TimeoutError, asyncio.TimeoutError):
                return await self._on_transient(item, "timeout")
            except Exception as exc:  # noqa: BLE001 - unknown failures are retried, boundedly
                # The type only: an exception text may quote the payload (names, marks).
                log.warning("outbox row %s (%s, account %s): unexpected %s",
                            item.id, item.kind, item.recipient.account_id, type(exc).__name__)
                return await self._on_transient(item, f"unexpected {type(exc).__name__}")
            async with self.sessions.begin() as session:
                await outbox.mark_sent(session, item.ids, now=self._clock())
            return len(item.ids)

    async def _give_back(self, item: _Item, note: str | None) -> None:
        not_before = None
        paused = self.limiter.paused_for()
        if paused > 0:
            # Other dispatcher processes do not share our limiter: make the row wait too.
            not_before = self._clock() + timedelta(seconds=paused)
        elif len(item.ids) > 1:
            # A digest's rows were due together; keep them due, to be planned together again.
            not_before = self._clock()
        async with self.sessions.begin() as session:
            await outbox.release(session, item.ids, not_before=not_before, note=note, claimed_at=item.claimed_at)

    async def _on_retry_after(self, item: _Item, exc: RetryAfter) -> int:
        seconds = max(0.0, exc.seconds)
        self.limiter.pause(seconds)
        log.warning("flood control: pausing all sending for %.1f s (row %s)", seconds, item.id)
        async with self.sessions.begin() as session:
            await outbox.retry_later(
                session,
                item.ids,
                at=self._clock() + timedelta(seconds=seconds),
                attempts=item.attempts,
                error=f"retry after {seconds:g}s",
            )
        return 0

    async def _on_gone(self, item: _Item, exc: RecipientGone) -> int:
        reason = exc.reason or "recipient gone"
        account_id = item.recipient.account_id
        async with self.sessions.begin() as session:
            await session.execute(
                update(Account)
                .where(Account.id == account_id)
                .values(is_active=False, inactive_reason=reason, updated_at=self._clock())
                .execution_options(synchronize_session=False)
            )
            await outbox.finish(session, item.ids, status=outbox.FAILED, error=reason, attempts=item.attempts + 1)
            cancelled = await outbox.cancel_account_pending(session, account_id, reason="recipient gone")
        log.info("account %s unreachable (row %s, %s): deactivated, %d pending rows cancelled",
                 account_id, item.id, item.kind, cancelled)
        return len(item.ids)

    async def _on_failed(self, item: _Item, reason: str) -> int:
        async with self.sessions.begin() as session:
            await outbox.finish(session, item.ids, status=outbox.FAILED, error=reason, attempts=item.attempts + 1)
        log.warning("outbox row %s (%s, account %s) failed: %s", item.id, item.kind, item.recipient.account_id, reason)
        return len(item.ids)

    async def _on_transient(self, item: _Item, reason: str) -> int:
        attempts = item.attempts + 1
        if attempts >= self.max_attempts:
            return await self._on_failed(item, f"{reason} (after {attempts} attempts)")
        backoff = min(self.max_backoff_seconds, 2.0**attempts)
        async with self.sessions.begin() as session:
            await outbox.retry_later(
                session, item.ids, at=self._clock() + timedelta(seconds=backoff), attempts=attempts, error=reason
            )
        log.info("outbox row %s (%s, account %s): %s, retry %d in %.0f s",
                 item.id, item.kind, item.recipient.account_id, reason, attempts, backoff)
        return 0


def _pending_row(row: OutboxMessage, *, claimed: bool) -> calm.PendingRow:
    return calm.PendingRow(
        id=row.id,
        kind=row.kind,
        occurred_at=row.occurred_at,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        attempts=row.attempts,
        last_error=row.last_error,
        claimed=claimed,
    )
