"""Consent to personal-data processing: an append-only log plus the current state on the account.

A decision belongs to a person, who is either
- an **account** (a Telegram user deciding in the bot, channel "telegram"; or a written
  withdrawal of a bot user entered by an admin, channel "paper"), or
- a **guardian of the journal** (source + external id), for a decision on a signed paper form
  entered by a school admin: a parent without Telegram has no account, and their consent or
  refusal must be on record too.
See docs/privacy.md for the reasons and what each decision sets in motion.

A refusal or withdrawal cancels waiting messages at once, revokes pending link requests and
schedules the erasure of the person's data (services/erasure.py); consenting again cancels it.
A new consent text version re-asks everyone who granted an older one (`reask_outdated`); until
they answer their state is "outdated", which counts as no consent.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services import erasure
from services.accounts import AccountView, account_view, load_account
from services.admins import admin_school_ids, audit
from services.config import Settings
from services.consent_log import (
    DECISIONS,
    GRANTED,
    OUTDATED,
    PAPER,
    REFUSED,
    TELEGRAM,
    WITHDRAWN,
    PaperForm,
    append,
)
from services.consent_text import CURRENT_VERSION, KNOWN_VERSIONS, PAPER_LANGUAGE, text_language
from services.errors import AlreadyDecided, NotAdmin, NotFound
from services.notify.kinds import CONSENT_REASK, ERASURE_SCHEDULED, LINK_REQUEST, PARENT_KINDS
from services.notify.outbox import CANCELLED, PENDING, cancel_pending, enqueue
from storage.models import Account, ConsentRecord, Guardian, Link, OutboxMessage, School, Student, utcnow

__all__ = [
    "Consent", "ConsentEntry", "ConsentStatus", "PaperForm", "PaperResult", "PersonKey",
    "DECISIONS", "GRANTED", "OUTDATED", "PAPER", "REFUSED", "TELEGRAM", "WITHDRAWN",
    "cancel_parent_messages", "guardian_states", "resolve_person",
]

log = logging.getLogger(__name__)

DEFAULT_ERASURE_DAYS = 30.0
#: Accounts re-asked per transaction by `reask_outdated`.
_REASK_BATCH = 500


@dataclass(frozen=True)
class ConsentStatus:
    state: str  # none | granted | refused | withdrawn | outdated (granted to an older text)
    version: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class ConsentEntry:
    decision: str
    version: str
    channel: str  # telegram | paper
    decided_at: datetime
    language: str | None = None
    form_number: str | None = None
    form_date: date | None = None  # the day the paper form was signed
    entered_by: int | None = None  # the admin who entered a paper record (Telegram id)


@dataclass(frozen=True)
class PersonKey:
    """Whom an admin means: a bot user by Telegram id, or a guardian by the journal's id."""

    telegram_id: int | None = None
    guardian_ref: str | None = None

    def __post_init__(self) -> None:
        if (self.telegram_id is None) == (self.guardian_ref is None):
            raise ValueError("a person is a Telegram id or a guardian id")


@dataclass(frozen=True)
class PaperResult:
    decision: str
    version: str
    person: str  # account | guardian
    accounts_withdrawn: int  # bot accounts whose consent the paper decision withdrew
    erasure_due: datetime | None


def _reask_topic(account_id: int) -> str:
    return f"consent_reask:{account_id}"


def entry_of(r: ConsentRecord) -> ConsentEntry:
    return ConsentEntry(decision=r.decision, version=r.text_version, channel=r.channel, decided_at=r.decided_at,
                        language=r.language, form_number=r.form_number, form_date=r.form_date,
                        entered_by=r.entered_by)


async def cancel_parent_messages(s: AsyncSession, account_id: int, reason: str) -> int:
    """Cancel the account's not-yet-sent parent messages (consent no longer given)."""
    result = await s.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.account_id == account_id,
            OutboxMessage.status == PENDING,
            OutboxMessage.kind.in_(sorted(PARENT_KINDS)),
        )
        .values(status=CANCELLED, last_error=reason)
    )
    return result.rowcount or 0


async def _revoke_pending_links(s: AsyncSession, account_id: int) -> int:
    """Processing stops: pending link requests are withdrawn from the admins' lists."""
    ids = list(await s.scalars(select(Link.id).where(Link.account_id == account_id, Link.status == "pending")))
    if not ids:
        return 0
    await s.execute(update(Link).where(Link.id.in_(ids)).values(status="revoked", decided_at=utcnow()))
    await s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.kind == LINK_REQUEST, OutboxMessage.status == PENDING,
               OutboxMessage.topic.in_([f"link_request:{i}" for i in ids]))
        .values(status=CANCELLED, last_error="consent no longer given")
    )
    return len(ids)


def effective_state(decision: str | None, version: str | None) -> str:
    """The state a last decision gives: granted to an older text counts as outdated."""
    if decision is None:
        return "none"
    if decision == GRANTED and version != CURRENT_VERSION:
        return OUTDATED
    return decision


async def guardian_states(s: AsyncSession, source: str, refs: list[str]) -> dict[str, ConsentStatus]:
    """The paper consent state of each guardian (external ids of `source`) that has a record."""
    if not refs:
        return {}
    rows = await s.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.guardian_source == source, ConsentRecord.guardian_ref.in_(sorted(set(refs))))
        .order_by(ConsentRecord.decided_at, ConsentRecord.id)
    )
    last: dict[str, ConsentRecord] = {}
    for r in rows:
        last[r.guardian_ref] = r  # type: ignore[index]
    return {ref: ConsentStatus(state=effective_state(r.decision, r.text_version), version=r.text_version,
                               decided_at=r.decided_at) for ref, r in last.items()}


# --------------------------------------------------------------------------- whom an admin means


@dataclass
class ResolvedPerson:
    account: Account | None
    guardian: Guardian | None
    school_ids: frozenset[int]
    #: The school the admin's action concerns (for the audit log), if one.
    audit_school_id: int | None


async def _account_schools(s: AsyncSession, account_id: int) -> frozenset[int]:
    rows = await s.scalars(
        select(School.id)
        .join(Student, and_(Student.source == School.source, Student.school_ref == School.external_id))
        .join(Link, Link.student_id == Student.id)
        .where(Link.account_id == account_id)
    )
    return frozenset(rows)


async def resolve_person(s: AsyncSession, settings: Settings, actor_tg: int, key: PersonKey) -> ResolvedPerson:
    """The account or guardian `key` names, if the actor administers one of its schools.

    NotAdmin for non-admins; NotFound for an unknown person and for another school's person
    (a forged id reveals nothing). An account linked to no pupil is for region admins only."""
    scope = await admin_school_ids(s, settings, actor_tg)
    if scope is not None and not scope:
        raise NotAdmin(f"telegram id {actor_tg} is not an admin")
    account = guardian = None
    if key.telegram_id is not None:
        account = await s.scalar(select(Account).where(Account.telegram_id == key.telegram_id))
        if account is None:
            raise NotFound("person")
        schools = await _account_schools(s, account.id)
    else:
        guardian = await s.scalar(select(Guardian).where(
            Guardian.source == settings.source, Guardian.external_id == key.guardian_ref,
            Guardian.deleted_at.is_(None)))
        if guardian is None:
            raise NotFound("person")
        school_id = await s.scalar(select(School.id).where(
            School.source == guardian.source, School.external_id == guardian.school_ref))
        schools = frozenset({school_id}) if school_id is not None else frozenset()
    if scope is not None:
        mine = schools & scope
        if not mine:
            raise NotFound("person")
        audit_school = min(mine)
    else:
        audit_school = min(schools) if schools else None
    return ResolvedPerson(account=account, guardian=guardian, school_ids=schools, audit_school_id=audit_school)


# --------------------------------------------------------------------------- service


class Consent:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings | None = None, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock

    @property
    def _erasure_days(self) -> float:
        return self._settings.erasure_days if self._settings is not None else DEFAULT_ERASURE_DAYS

    @property
    def _tz(self) -> str:
        return self._settings.default_timezone if self._settings is not None else "Asia/Yekaterinburg"

    # ---- decisions of an account

    async def _decide_account(
        self, s: AsyncSession, account: Account, decision: str, version: str, *, channel: str, now: datetime,
        form: PaperForm | None = None, entered_by: int | None = None, notify: bool = False,
    ) -> None:
        if decision == WITHDRAWN and account.consent_state not in (GRANTED, OUTDATED):
            raise AlreadyDecided(f"consent of account {account.id} is not granted")
        language = PAPER_LANGUAGE if channel == PAPER else text_language(account.language)
        await append(s, decision=decision, version=version, channel=channel, language=language, at=now,
                     account_id=account.id, form=form, entered_by=entered_by)
        account.consent_state = decision
        account.consent_version = version
        account.consent_at = now
        if decision == GRANTED:
            await erasure.cancel(s, account_id=account.id)
            await cancel_pending(s, topic=_reask_topic(account.id), account_id=account.id, reason="answered")
            log.info("consent granted account=%s version=%s channel=%s", account.id, version, channel)
            return
        cancelled = await cancel_parent_messages(s, account.id, f"consent {decision}")
        revoked = await _revoke_pending_links(s, account.id)
        item = await erasure.schedule(s, days=self._erasure_days, rule=erasure.RULE_OF_DECISION[decision],
                                      now=now, account_id=account.id)
        if notify and account.is_active:
            # Told by the bot when they decided in the chat; a paper decision is pushed.
            await enqueue(
                s, account_id=account.id, kind=ERASURE_SCHEDULED,
                payload={"reference": item.reference, "rule": item.rule,
                         "due_date": erasure.local_date(item.due_at, self._tz).isoformat()},
                dedupe_key=f"erasure_scheduled:{item.reference}:{decision}:{int(now.timestamp())}",
                topic=erasure.notice_topic(account.id),
            )
        log.info("consent %s account=%s version=%s channel=%s cancelled=%s revoked=%s erasure=%s",
                 decision, account.id, version, channel, cancelled, revoked, item.id)

    async def decide(self, account_id: int, decision: str, version: str, *, channel: str = TELEGRAM) -> AccountView:
        """Record a decision on the consent text `version` and make it the account's state.

        - decision: "granted" | "refused" | "withdrawn" (ValueError otherwise; ValueError
          for a version that was never published).
        - "withdrawn" is valid only while consent is granted (or outdated), else AlreadyDecided.
        - "refused"/"withdrawn" cancel the account's pending parent messages at once, revoke
          its pending link requests and schedule its erasure (ERASURE_DAYS); "granted"
          cancels a scheduled erasure.
        NotFound for an unknown account."""
        if decision not in DECISIONS:
            raise ValueError(f"unknown consent decision {decision!r}")
        if version not in KNOWN_VERSIONS:
            raise ValueError(f"unknown consent text version {version!r}")
        async with self._sessions.begin() as s:
            account = await load_account(s, account_id, lock=True)
            await self._decide_account(s, account, decision, version, channel=channel, now=self._clock())
            await s.flush()
            return account_view(account)

    async def status(self, account_id: int) -> ConsentStatus:
        async with self._sessions.begin() as s:
            account = await load_account(s, account_id)
            return ConsentStatus(state=account.consent_state, version=account.consent_version,
                                 decided_at=account.consent_at)

    async def history(self, account_id: int) -> list[ConsentEntry]:
        """Every decision of the account, oldest first."""
        async with self._sessions.begin() as s:
            await load_account(s, account_id)
            rows = await s.scalars(
                select(ConsentRecord)
                .where(ConsentRecord.account_id == account_id)
                .order_by(ConsentRecord.decided_at, ConsentRecord.id)
            )
            return [entry_of(r) for r in rows]

    async def guardian_status(self, guardian_ref: str, source: str | None = None) -> ConsentStatus:
        """The paper consent state of a journal guardian ("none" without a record)."""
        src = source or (self._settings.source if self._settings is not None else "journal")
        async with self._sessions.begin() as s:
            states = await guardian_states(s, src, [guardian_ref])
        return states.get(guardian_ref, ConsentStatus(state="none", version=None, decided_at=None))

    # ---- paper forms entered by an admin

    async def record_paper(self, actor_tg: int, person: PersonKey, decision: str, form: PaperForm,
                           version: str = CURRENT_VERSION) -> PaperResult:
        """Record a decision from a signed paper form; audited.

        For a bot user (`person.telegram_id`) it is their decision like one made in the chat
        (they are told in the bot when it is a refusal or withdrawal). For a guardian it is
        recorded on the guardian; a refusal or withdrawal also withdraws the consent of the
        bot accounts linked through that guardian's phone number (Telegram proved the number
        was theirs: the same person). A paper consent does not grant a bot account: the
        account gives its own in the chat.

        NotAdmin / NotFound as `resolve_person`; ValueError for an unknown decision or version;
        AlreadyDecided for a withdrawal with nothing granted."""
        if decision not in DECISIONS:
            raise ValueError(f"unknown consent decision {decision!r}")
        if version not in KNOWN_VERSIONS:
            raise ValueError(f"unknown consent text version {version!r}")
        if self._settings is None:
            raise RuntimeError("record_paper needs settings")
        async with self._sessions.begin() as s:
            target = await resolve_person(s, self._settings, actor_tg, person)
            now = self._clock()
            withdrawn = 0
            if target.account is not None:
                account = await load_account(s, target.account.id, lock=True)
                await self._decide_account(s, account, decision, version, channel=PAPER, now=now, form=form,
                                           entered_by=actor_tg, notify=True)
                item = await erasure.scheduled_for(s, account_id=account.id)
                kind, target_id = "account", account.id
            else:
                guardian = target.guardian
                assert guardian is not None
                ref = (guardian.source, guardian.external_id)
                state = (await guardian_states(s, ref[0], [ref[1]])).get(ref[1])
                account_ids = sorted(set(await s.scalars(
                    select(Link.account_id).join(Student, Student.id == Link.student_id)
                    .where(Link.guardian_ref == ref[1], Student.source == ref[0])
                )))
                accounts = [a for a in [await load_account(s, i, lock=True) for i in account_ids]
                            if a.consent_state in (GRANTED, OUTDATED)]
                if decision == WITHDRAWN and not accounts and (state is None or state.state not in (GRANTED, OUTDATED)):
                    raise AlreadyDecided(f"guardian {ref[1]} has no consent to withdraw")
                await append(s, decision=decision, version=version, channel=PAPER, language=PAPER_LANGUAGE,
                             at=now, guardian=ref, form=form, entered_by=actor_tg)
                item = None
                if decision == GRANTED:
                    await erasure.cancel(s, guardian=ref)
                else:
                    item = await erasure.schedule(s, days=self._erasure_days, rule=erasure.RULE_OF_DECISION[decision],
                                                  now=now, guardian=ref)
                    for account in accounts:
                        recorded = account.consent_version if account.consent_version in KNOWN_VERSIONS else version
                        await self._decide_account(s, account, WITHDRAWN, recorded, channel=PAPER, now=now,
                                                   form=form, entered_by=actor_tg, notify=True)
                        withdrawn += 1
                kind, target_id = "guardian", guardian.external_id
            audit(s, actor=actor_tg, action="consent.paper", target_type=kind, target_id=target_id,
                  details={"school_id": target.audit_school_id, "decision": decision, "version": version,
                           "form_number": form.number, "form_date": form.signed_on.isoformat(),
                           "accounts_withdrawn": withdrawn})
            await s.flush()
            log.info("paper consent %s %s=%s by=%s", decision, kind, target_id if kind == "account" else "-", actor_tg)
            return PaperResult(decision=decision, version=version, person=kind, accounts_withdrawn=withdrawn,
                               erasure_due=None if item is None else item.due_at)

    # ---- a new consent text

    async def reask_outdated(self) -> int:
        """Re-ask everyone whose consent was granted to an older text version (the scheduled job).

        Their state becomes "outdated" — no consent for the current purpose: nothing is sent
        and nothing shown until they answer — their waiting messages are cancelled, and they
        get a `consent_reask` message; their next interaction shows the new text too.
        Returns how many accounts were re-asked."""
        total = 0
        while True:
            async with self._sessions.begin() as s:
                accounts = list(await s.scalars(
                    select(Account)
                    .where(Account.consent_state == GRANTED, Account.consent_version.is_not(None),
                           Account.consent_version != CURRENT_VERSION)
                    .order_by(Account.id).limit(_REASK_BATCH).with_for_update(skip_locked=True)
                ))
                for account in accounts:
                    account.consent_state = OUTDATED
                    await cancel_parent_messages(s, account.id, "consent text changed")
                    if account.is_active:
                        await enqueue(s, account_id=account.id, kind=CONSENT_REASK, payload={"version": CURRENT_VERSION},
                                      dedupe_key=f"consent_reask:{account.id}:{CURRENT_VERSION}",
                                      topic=_reask_topic(account.id))
            total += len(accounts)
            if len(accounts) < _REASK_BATCH:
                break
        if total:
            log.info("consent text %s: %d accounts re-asked", CURRENT_VERSION, total)
        return total
