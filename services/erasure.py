"""Destroying a person's data after they refused or withdrew consent, or asked for it (/forget).

Timeline (docs/privacy.md):

- a refusal or withdrawal (in the bot or on paper) schedules the erasure ERASURE_DAYS (30)
  later and the person is told the date; consenting again before it cancels it;
- ERASURE_REMINDER_DAYS before the date the person gets a reminder (`erasure_reminder`);
- at the date the scheduled job (`Erasure.run_due`) destroys the account and everything that
  refers to it, pseudonymises the consent log and writes a DestructionRecord (categories and
  row counts, when, by what rule; no personal data);
- `/forget` (`Erasure.forget`) does the same at once, on the person's own request.

What is destroyed for an account: the account row (Telegram id, chat id, names, username,
phone, language), and every row of every table that refers to it by a foreign key (links,
outbox messages, contact profiles, e-mail confirmations, … — found from the schema, so a new
feature's table is covered without a change here); rows pointing to it with ON DELETE SET
NULL (invite code usage) lose the reference; link requests shown to admins (their payload
names the parent) are deleted. Features whose data is keyed otherwise (by guardian) register
an eraser with `register_eraser`.

Kept: the consent log entries, without account, with a proof key (see services/consent_log.py)
until CONSENT_PROOF_DAYS after the last decision; the destruction record; audit entries
(ids of rows that no longer exist).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services import consent_log
from services.accounts import load_account
from services.config import Settings
from services.consent_text import CURRENT_VERSION, KNOWN_VERSIONS, text_language
from services.errors import AlreadyDecided
from services.notify.kinds import ERASURE_REMINDER, LINK_REQUEST
from services.notify.outbox import cancel_pending, enqueue
from storage.models import Account, Base, ConsentRecord, Link, OutboxMessage, utcnow
from storage.privacy import DestructionRecord, ScheduledErasure

log = logging.getLogger(__name__)

RULE_WITHDRAWAL, RULE_REFUSAL, RULE_REQUEST, RULE_PROOF_EXPIRED = "withdrawal", "refusal", "request", "proof_expired"
RULE_OF_DECISION = {consent_log.WITHDRAWN: RULE_WITHDRAWAL, consent_log.REFUSED: RULE_REFUSAL}

#: The rule each destruction follows, as written into the record.
LEGAL_BASIS = {
    RULE_WITHDRAWAL: "152-ФЗ, ч. 5 ст. 21: согласие отозвано — обработка прекращена, данные "
                     "уничтожены в срок не более 30 дней (ERASURE_DAYS)",
    RULE_REFUSAL: "152-ФЗ, ст. 9 и ч. 5 ст. 21: в согласии отказано — данные, полученные при "
                  "обращении к боту, уничтожены в тот же срок",
    RULE_REQUEST: "152-ФЗ, ч. 1 ст. 14 и ч. 5 ст. 21: требование субъекта об уничтожении "
                  "(/forget), исполнено сразу",
    RULE_PROOF_EXPIRED: "истёк срок хранения обезличенных записей о согласии (CONSENT_PROOF_DAYS "
                        "после последнего решения; срок исковой давности, ст. 196 ГК РФ)",
}

#: Tables handled by name below, not by the generic foreign-key sweep.
_SPECIAL_TABLES = frozenset({"accounts", ConsentRecord.__tablename__, ScheduledErasure.__tablename__})


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class ErasureSubject:
    """Whose data an eraser destroys: an account (with its Telegram id) or a journal guardian."""

    account_id: int | None = None
    telegram_id: int | None = None
    guardian_source: str | None = None
    guardian_ref: str | None = None


@dataclass(frozen=True)
class ErasureView:
    reference: str
    rule: str
    requested_at: datetime
    due_at: datetime
    due_date: date  # in DEFAULT_TIMEZONE


@dataclass(frozen=True)
class DestructionView:
    reference: str
    rule: str
    legal_basis: str
    requested_at: datetime | None
    due_at: datetime | None
    executed_at: datetime
    categories: dict[str, int]


@dataclass(frozen=True)
class ErasureRunReport:
    reminded: int
    erased: int
    expired_proofs: int


Eraser = Callable[[AsyncSession, ErasureSubject], Awaitable[int]]
#: category → eraser, for data not reachable by a foreign key to accounts (e.g. keyed by a
#: guardian). An eraser deletes or anonymises in the caller's transaction and returns a count.
ERASERS: dict[str, Eraser] = {}


def register_eraser(category: str, eraser: Eraser) -> None:
    """Add a feature's eraser; it runs for every erasure (account and guardian subjects)."""
    ERASERS[category] = eraser


def local_date(at: datetime, tz: str) -> date:
    try:
        return at.astimezone(ZoneInfo(tz)).date()
    except Exception:  # noqa: BLE001 - an unknown zone name must not stop an erasure
        return at.date()


def _view(item: ScheduledErasure, tz: str) -> ErasureView:
    return ErasureView(reference=item.reference, rule=item.rule, requested_at=item.requested_at,
                       due_at=item.due_at, due_date=local_date(item.due_at, tz))


def _destruction_view(r: DestructionRecord) -> DestructionView:
    return DestructionView(reference=r.reference, rule=r.rule, legal_basis=r.legal_basis,
                           requested_at=r.requested_at, due_at=r.due_at, executed_at=r.executed_at,
                           categories=dict(r.categories or {}))


def new_reference() -> str:
    """A random act number (no personal data), e.g. "7F3A-92C1-0B5D"."""
    raw = secrets.token_hex(6).upper()
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def _forget_token(account: Account) -> str:
    raw = f"{account.id}:{account.created_at.isoformat()}:{account.telegram_id}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]


def notice_topic(account_id: int) -> str:
    """Outbox topic of the privacy notices of an account (cancelled on re-consent)."""
    return f"erasure:{account_id}"


# --------------------------------------------------------------------------- scheduling
# In the caller's transaction (services/consent.py calls these with each decision).


def _subject_filter(account_id: int | None, guardian: tuple[str, str] | None) -> Any:
    if account_id is not None:
        return ScheduledErasure.account_id == account_id
    assert guardian is not None
    return (ScheduledErasure.guardian_source == guardian[0]) & (ScheduledErasure.guardian_ref == guardian[1])


async def scheduled_for(s: AsyncSession, *, account_id: int | None = None,
                        guardian: tuple[str, str] | None = None) -> ScheduledErasure | None:
    return await s.scalar(select(ScheduledErasure).where(_subject_filter(account_id, guardian)))


async def schedule(
    s: AsyncSession, *, days: float, rule: str, now: datetime,
    account_id: int | None = None, guardian: tuple[str, str] | None = None,
) -> ScheduledErasure:
    """Schedule the erasure of an account or a guardian `days` after `now`.

    An erasure already scheduled keeps its (earlier) date: the term runs from the first
    refusal or withdrawal, not from the last."""
    if (account_id is None) == (guardian is None):
        raise ValueError("an erasure names either an account or a guardian")
    existing = await scheduled_for(s, account_id=account_id, guardian=guardian)
    if existing is not None:
        return existing
    item = ScheduledErasure(
        account_id=account_id,
        guardian_source=guardian[0] if guardian else None,
        guardian_ref=guardian[1] if guardian else None,
        reference=new_reference(), rule=rule, requested_at=now, due_at=now + timedelta(days=days),
    )
    s.add(item)
    await s.flush()
    log.info("erasure scheduled id=%s account=%s rule=%s", item.id, account_id, rule)
    return item


async def cancel(s: AsyncSession, *, account_id: int | None = None,
                 guardian: tuple[str, str] | None = None) -> bool:
    """Cancel a scheduled erasure (the person consented again) and its waiting notices."""
    result = await s.execute(delete(ScheduledErasure).where(_subject_filter(account_id, guardian)))
    if account_id is not None:
        await cancel_pending(s, topic=notice_topic(account_id), account_id=account_id, reason="consent granted")
    cancelled = (result.rowcount or 0) > 0
    if cancelled:
        log.info("erasure cancelled account=%s", account_id)
    return cancelled


# --------------------------------------------------------------------------- destruction


def _account_references() -> list[tuple[Table, Any, str | None]]:
    """(table, column, ondelete) of every foreign key to accounts.id, dependants first."""
    found = []
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in _SPECIAL_TABLES:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == "accounts" and fk.column.name == "id":
                found.append((table, fk.parent, (fk.ondelete or "").upper() or None))
    return found


async def _erase_account_rows(s: AsyncSession, account: Account, secret: bytes) -> dict[str, int]:
    counts: dict[str, int] = {}
    link_ids = list(await s.scalars(select(Link.id).where(Link.account_id == account.id)))
    # Link requests sent to admins name the parent in their payload.
    topics = [f"link_request:{link_id}" for link_id in link_ids]
    counts["outbox:link_requests_to_admins"] = 0
    if topics:
        result = await s.execute(delete(OutboxMessage).where(
            OutboxMessage.kind == LINK_REQUEST, OutboxMessage.topic.in_(topics)))
        counts["outbox:link_requests_to_admins"] = result.rowcount or 0
    for table, column, ondelete in _account_references():
        if ondelete == "SET NULL":
            result = await s.execute(update(table).where(column == account.id).values({column.name: None}))
            counts[f"{table.name}.{column.name}:unlinked"] = result.rowcount or 0
        else:
            result = await s.execute(delete(table).where(column == account.id))
            counts[table.name] = counts.get(table.name, 0) + (result.rowcount or 0)
    key = consent_log.proof_key(secret, consent_log.telegram_identity(account.telegram_id))
    result = await s.execute(
        update(ConsentRecord).where(ConsentRecord.account_id == account.id)
        .values(account_id=None, proof_key=key)
    )
    counts["consent_log:pseudonymised"] = result.rowcount or 0
    subject = ErasureSubject(account_id=account.id, telegram_id=account.telegram_id)
    for category, eraser in ERASERS.items():
        counts[category] = await eraser(s, subject)
    await s.execute(delete(ScheduledErasure).where(ScheduledErasure.account_id == account.id))
    await s.execute(delete(Account).where(Account.id == account.id))
    counts["accounts"] = 1
    return counts


async def _erase_guardian_rows(s: AsyncSession, source: str, ref: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    subject = ErasureSubject(guardian_source=source, guardian_ref=ref)
    for category, eraser in ERASERS.items():
        counts[category] = await eraser(s, subject)
    await s.execute(delete(ScheduledErasure).where(_subject_filter(None, (source, ref))))
    return counts


def _record(reference: str, rule: str, requested_at: datetime | None, due_at: datetime | None,
            now: datetime, counts: dict[str, int]) -> DestructionRecord:
    return DestructionRecord(reference=reference, rule=rule, legal_basis=LEGAL_BASIS[rule],
                             requested_at=requested_at, due_at=due_at, executed_at=now, categories=counts)


# --------------------------------------------------------------------------- service


class Erasure:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock

    @property
    def _tz(self) -> str:
        return self._settings.default_timezone

    async def _secret(self, s: AsyncSession) -> bytes:
        key = self._settings.privacy_proof_key
        return await consent_log.proof_secret(s, key.get_secret_value() if key else None)

    async def scheduled(self, account_id: int) -> ErasureView | None:
        """The account's scheduled erasure, if any."""
        async with self._sessions.begin() as s:
            item = await scheduled_for(s, account_id=account_id)
            return None if item is None else _view(item, self._tz)

    async def destruction(self, reference: str) -> DestructionView | None:
        """The destruction record with this act number, if any."""
        async with self._sessions.begin() as s:
            row = await s.scalar(select(DestructionRecord).where(DestructionRecord.reference == reference))
            return None if row is None else _destruction_view(row)

    async def forget_token(self, account_id: int) -> str:
        """A short token naming this account (its id and creation time) for the /forget button."""
        async with self._sessions.begin() as s:
            return _forget_token(await load_account(s, account_id))

    async def forget(self, account_id: int, token: str | None = None) -> DestructionView:
        """Erase the account now, on the person's own request (/forget, confirmed).

        A consent still in force is withdrawn first (logged like any withdrawal, so the proof
        shows why processing ended). NotFound for an unknown account; AlreadyDecided when
        `token` is not this account's (the question was asked of an account already erased:
        ids may be reused)."""
        async with self._sessions.begin() as s:
            account = await load_account(s, account_id, lock=True)
            if token is not None and not hmac.compare_digest(token, _forget_token(account)):
                raise AlreadyDecided("stale /forget confirmation")
            now = self._clock()
            if account.consent_state in (consent_log.GRANTED, consent_log.OUTDATED):
                version = account.consent_version if account.consent_version in KNOWN_VERSIONS else CURRENT_VERSION
                await consent_log.append(s, decision=consent_log.WITHDRAWN, version=version,
                                         channel=consent_log.TELEGRAM, language=text_language(account.language),
                                         at=now, account_id=account.id)
            item = await scheduled_for(s, account_id=account.id)
            reference = item.reference if item is not None else new_reference()
            counts = await _erase_account_rows(s, account, await self._secret(s))
            record = _record(reference, RULE_REQUEST, now, now, now, counts)
            s.add(record)
            await s.flush()
            log.info("erased on request: destruction record %s", record.id)
            return _destruction_view(record)

    async def run_due(self) -> ErasureRunReport:
        """The scheduled job: reminders, due erasures, expired proofs."""
        now = self._clock()
        reminded = await self._remind(now)
        async with self._sessions.begin() as s:
            due = (await s.execute(
                select(ScheduledErasure.id, ScheduledErasure.account_id)
                .where(ScheduledErasure.due_at <= now)
                .order_by(ScheduledErasure.due_at, ScheduledErasure.id)
                .limit(500)
            )).all()
        erased = 0
        for item_id, account_id in due:
            if await self._erase_due(item_id, account_id, now):
                erased += 1
        expired = await self._expire_proofs(now)
        if reminded or erased or expired:
            log.info("erasure job: %d reminded, %d erased, %d proof records expired", reminded, erased, expired)
        return ErasureRunReport(reminded=reminded, erased=erased, expired_proofs=expired)

    async def _remind(self, now: datetime) -> int:
        horizon = now + timedelta(days=self._settings.erasure_reminder_days)
        reminded = 0
        async with self._sessions.begin() as s:
            rows = (await s.execute(
                select(ScheduledErasure, Account)
                .join(Account, Account.id == ScheduledErasure.account_id)
                .where(ScheduledErasure.reminded_at.is_(None), ScheduledErasure.due_at > now,
                       ScheduledErasure.due_at <= horizon)
                .order_by(ScheduledErasure.id)
                .limit(1000)
            )).all()
            for item, account in rows:
                item.reminded_at = now
                if not account.is_active:
                    continue
                row = await enqueue(
                    s, account_id=account.id, kind=ERASURE_REMINDER,
                    payload={"reference": item.reference,
                             "due_date": local_date(item.due_at, self._tz).isoformat()},
                    dedupe_key=f"erasure_reminder:{item.reference}", topic=notice_topic(account.id),
                )
                reminded += row is not None
        return reminded

    async def _erase_due(self, item_id: int, account_id: int | None, now: datetime) -> bool:
        async with self._sessions.begin() as s:
            # Lock order: the account, then the work item (a re-consent takes them the same way).
            account = None
            if account_id is not None:
                account = await s.get(Account, account_id, with_for_update=True, populate_existing=True)
            item = await s.get(ScheduledErasure, item_id, with_for_update=True, populate_existing=True)
            if item is None or item.due_at > now:
                return False  # cancelled or moved meanwhile
            if account is not None and account.consent_state == consent_log.GRANTED:
                await s.delete(item)  # consented again: nothing to destroy
                return False
            if account is not None:
                counts = await _erase_account_rows(s, account, await self._secret(s))
            elif item.guardian_ref is not None and item.guardian_source is not None:
                counts = await _erase_guardian_rows(s, item.guardian_source, item.guardian_ref)
            else:
                await s.delete(item)
                return False
            s.add(_record(item.reference, item.rule, item.requested_at, item.due_at, now, counts))
            await s.flush()
            log.info("erasure %s executed (rule %s)", item_id, item.rule)
            return True

    async def _expire_proofs(self, now: datetime) -> int:
        cutoff = now - timedelta(days=self._settings.consent_proof_days)
        async with self._sessions.begin() as s:
            keys = list(await s.scalars(
                select(ConsentRecord.proof_key)
                .where(ConsentRecord.account_id.is_(None), ConsentRecord.guardian_ref.is_(None),
                       ConsentRecord.proof_key.is_not(None))
                .group_by(ConsentRecord.proof_key)
                .having(func.max(ConsentRecord.decided_at) < cutoff)
                .limit(1000)
            ))
            if not keys:
                return 0
            result = await s.execute(delete(ConsentRecord).where(
                ConsentRecord.proof_key.in_(keys), ConsentRecord.account_id.is_(None)))
            removed = result.rowcount or 0
            s.add(_record(new_reference(), RULE_PROOF_EXPIRED, None, None, now,
                          {"consent_log:proofs": removed, "persons": len(keys)}))
            return removed
