"""Contacts and the delivery form agreed with each parent (Telegram, e-mail, paper, or a mix).

- A parent in the bot adds an e-mail address: `request_code` validates it strictly and sends a
  6-digit code to it; `confirm` checks the code (single use, 15 minutes, 5 tries, stored salted
  and hashed). A confirmed address joins the parent's forms.
- A school admin enters contacts and the form from a parent's written application
  (`enter_application`: application number and date recorded, audited). A parent without
  Telegram is represented by a profile tied to the journal guardian (docs/delivery-forms.md).
- Fan-out asks `delivery_channels` which channels an outbox row goes to; the e-mail channel
  asks `email_address_for` at send time; paper extracts ask `paper_student_ids`.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.accounts import load_account
from services.admins import admin_school_ids, audit
from services.config import Settings
from services.errors import NotAdmin, NotFound, ServiceError
from services.notify.channel import DeliveryError
from services.erasure import ErasureSubject, register_eraser
from services.notify.email_render import build_message, can_render, render_code_email
from storage.contacts import ContactProfile, EmailConfirmation
from storage.models import Account, Guardian, Link, School, SchoolClass, Student, utcnow

log = logging.getLogger(__name__)

TELEGRAM, EMAIL, PAPER = "telegram", "email", "paper"
FORMS = (TELEGRAM, EMAIL, PAPER)
DEFAULT_FORMS = frozenset({TELEGRAM})
FORM_WORDS = {
    "telegram": TELEGRAM, "tg": TELEGRAM, "телеграм": TELEGRAM, "телеграмм": TELEGRAM, "бот": TELEGRAM,
    "email": EMAIL, "e-mail": EMAIL, "mail": EMAIL, "почта": EMAIL, "эл.почта": EMAIL, "емейл": EMAIL,
    "paper": PAPER, "бумага": PAPER, "бумажная": PAPER, "бумажно": PAPER,
}

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=15)
CODE_MAX_ATTEMPTS = 5
CODES_PER_DAY = 5
#: Longest text accepted where an address is expected (anything longer is refused unread).
MAX_EMAIL_INPUT = 320
MAX_EMAIL = 254
MAX_LOCAL = 64
MAX_CODE_INPUT = 32
MAX_APPLICATION_NO = 32

# ------------------------------------------------------------------------------ errors


class EmailInvalid(ServiceError):
    """The typed address is refused; ``reason``: too_long | forbidden_chars | format."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooManyCodes(ServiceError):
    """The daily number of confirmation codes for this account is used up."""


class EmailUnavailable(ServiceError):
    """E-mail delivery is not configured on this installation (no SMTP server)."""


class EmailSendFailed(ServiceError):
    """The confirmation e-mail could not be sent (the SMTP server refused or is unreachable)."""


class ApplicationInvalid(ServiceError):
    """An admin's contact entry is malformed; ``reason`` names the field."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ------------------------------------------------------------------------------ validation

# Strict on purpose: the address goes into an SMTP envelope and a To: header.
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\u0080-\u009f\u2028\u2029<>()\[\]\\,;:\"'`]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029]")
_LOCAL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._%+\-]*[A-Za-z0-9_%+\-])?$")
_LABEL = re.compile(r"^(?!-)[a-z0-9\-]{1,63}(?<!-)$")


def validate_email(raw: str | None) -> str:
    """The normalized address (domain lower-cased, IDN as punycode) or EmailInvalid.

    Refused: anything longer than 320 characters before trimming (too_long); CR, LF, NUL,
    other control characters, spaces, angle brackets, commas, semicolons, quotes (header or
    recipient-list injection: forbidden_chars); more than 254 characters, a local part over
    64, dots at the ends or doubled, a domain without a dot or with bad labels (format)."""
    if raw is None:
        raise EmailInvalid("format")
    if len(raw) > MAX_EMAIL_INPUT:
        raise EmailInvalid("too_long")
    text = raw.strip()
    if _CONTROL.search(text):
        raise EmailInvalid("forbidden_chars")
    if "@" not in text:
        raise EmailInvalid("format")  # «моя почта»: not an address at all
    if _FORBIDDEN.search(text):
        raise EmailInvalid("forbidden_chars")
    if len(text) > MAX_EMAIL:
        raise EmailInvalid("too_long")
    if text.count("@") != 1:
        raise EmailInvalid("format")
    local, domain = text.split("@")
    if not local or len(local) > MAX_LOCAL or ".." in local or not _LOCAL.match(local):
        raise EmailInvalid("format")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise EmailInvalid("format") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise EmailInvalid("format")
    address = f"{local}@{ascii_domain}"
    if len(address) > MAX_EMAIL:
        raise EmailInvalid("too_long")
    return address


def mask_email(address: str) -> str:
    """«i***@mail.ru»: enough to recognise one's own address in a reply, little to leak."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def parse_forms(text: str) -> frozenset[str]:
    """«paper,email» / «бумага+почта» → {"paper", "email"}; ApplicationInvalid("forms") otherwise."""
    words = [w for w in re.split(r"[\s,+/;]+", (text or "").strip().lower()) if w]
    if not words or len(text) > 64:
        raise ApplicationInvalid("forms")
    forms = set()
    for word in words:
        if word not in FORM_WORDS:
            raise ApplicationInvalid("forms")
        forms.add(FORM_WORDS[word])
    return frozenset(forms)


def forms_text(forms: Iterable[str]) -> str:
    chosen = set(forms)
    return ",".join(f for f in FORMS if f in chosen)


def _forms_of(profile: ContactProfile | None) -> frozenset[str]:
    if profile is None:
        return DEFAULT_FORMS
    return frozenset(f for f in (profile.forms or "").split(",") if f in FORMS)


def _hash_code(salt: str, account_id: int, code: str) -> str:
    return hashlib.sha256(f"{salt}:{account_id}:{code}".encode()).hexdigest()


def parse_application_date(text: str, today: date) -> date:
    """«20.11.2026» or «2026-11-20», not in the future; ApplicationInvalid("date") otherwise."""
    text = (text or "").strip()
    value: date | None = None
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            value = datetime.strptime(text, pattern).date()
            break
        except ValueError:
            continue
    if value is None or value > today + timedelta(days=1) or value.year < 2000:
        raise ApplicationInvalid("date")
    return value


# ------------------------------------------------------------------------------ views


@dataclass(frozen=True)
class ContactView:
    forms: frozenset[str]
    email: str | None
    email_confirmed: bool
    email_bounced: bool
    application_no: str | None
    application_date: date | None
    has_account: bool = True  # False: a parent without Telegram (a journal guardian's profile)


@dataclass(frozen=True)
class CodeSent:
    email: str
    expires_at: datetime
    minutes: int


@dataclass(frozen=True)
class ConfirmResult:
    status: str  # confirmed | wrong | expired | used | locked | none | format
    attempts_left: int = 0
    email: str | None = None


@dataclass(frozen=True)
class ParentContact:
    key: str  # "g<guardian id>" or "a<account id>": what /contact_set takes
    name: str
    has_telegram: bool
    forms: frozenset[str]
    email: str | None
    email_confirmed: bool
    application_no: str | None
    application_date: date | None


@dataclass(frozen=True)
class PupilContacts:
    student_id: int
    name: str
    parents: list[ParentContact]
    on_paper: bool


@dataclass(frozen=True)
class ClassContacts:
    class_id: int
    class_name: str
    school_name: str
    pupils: list[PupilContacts]


def _view(profile: ContactProfile | None) -> ContactView:
    if profile is None:
        return ContactView(DEFAULT_FORMS, None, False, False, None, None)
    return ContactView(
        forms=_forms_of(profile), email=profile.email,
        email_confirmed=profile.email is not None and profile.email_confirmed_at is not None,
        email_bounced=profile.email_bounced_at is not None,
        application_no=profile.application_no, application_date=profile.application_date,
        has_account=profile.account_id is not None,
    )


# ------------------------------------------------------------------------------ queries (shared)


async def profile_for_account(s: AsyncSession, account_id: int) -> ContactProfile | None:
    """The account's own profile or, failing that, the profile an admin entered for the journal
    guardian the account is linked as (read-only: adopted when the parent changes something).
    One query: fan-out calls this for every recipient of every event."""
    linked_as_guardian = (
        select(Link.id)
        .join(Student, Student.id == Link.student_id)
        .where(Link.account_id == account_id, Link.status == "approved",
               Link.guardian_ref == ContactProfile.guardian_ref, Student.source == ContactProfile.guardian_source)
        .exists()
    )
    return await s.scalar(
        select(ContactProfile)
        .where(or_(ContactProfile.account_id == account_id,
                   and_(ContactProfile.account_id.is_(None), linked_as_guardian)))
        .order_by(ContactProfile.account_id.is_(None), ContactProfile.id)
        .limit(1)
    )


def _email_usable(profile: ContactProfile | None) -> bool:
    return (profile is not None and EMAIL in _forms_of(profile) and bool(profile.email)
            and profile.email_confirmed_at is not None and profile.email_bounced_at is None)


async def delivery_channels(s: AsyncSession, account_id: int, kind: str) -> tuple[str, ...]:
    """Outbox channels for a parent message of `kind`: "telegram" unless the agreed form
    leaves it out; "email" when agreed, confirmed, not bounced and the kind has an e-mail form."""
    profile = await profile_for_account(s, account_id)
    forms = _forms_of(profile)
    channels: list[str] = []
    if TELEGRAM in forms:
        channels.append(TELEGRAM)
    if _email_usable(profile) and can_render(kind):
        channels.append(EMAIL)
    return tuple(channels)


async def email_address_for(s: AsyncSession, account_id: int) -> str | None:
    """The address an e-mail row is sent to now, or None when e-mail is no longer agreed."""
    profile = await profile_for_account(s, account_id)
    return profile.email if _email_usable(profile) else None


async def mark_bounced(s: AsyncSession, account_id: int) -> None:
    profile = await profile_for_account(s, account_id)
    if profile is not None and profile.email_bounced_at is None:
        profile.email_bounced_at = utcnow()


async def paper_student_ids(s: AsyncSession, students: list[Student]) -> set[int]:
    """Pupils whose extracts go on paper: a parent chose paper (in the bot or by written
    application), or no parent receives electronic delivery — nobody linked, or every linked
    account refused or withdrew consent (or is unreachable)."""
    if not students:
        return set()
    ids = [st.id for st in students]
    links = (await s.execute(
        select(Link.student_id, Account)
        .join(Account, Account.id == Link.account_id)
        .where(Link.student_id.in_(ids), Link.status == "approved")
    )).all()
    electronic: set[int] = set()
    paper: set[int] = set()
    for student_id, account in links:
        profile = await profile_for_account(s, account.id)
        forms = _forms_of(profile)
        if PAPER in forms:
            paper.add(student_id)
        if account.consent_state == "granted" and account.is_active and (TELEGRAM in forms or _email_usable(profile)):
            electronic.add(student_id)
    by_ref = {(st.source, st.external_id): st.id for st in students}
    sources = {st.source for st in students}
    guardian_profiles = (await s.execute(
        select(ContactProfile.guardian_source, ContactProfile.guardian_ref, ContactProfile.forms)
        .where(ContactProfile.account_id.is_(None), ContactProfile.guardian_source.in_(sorted(sources)))
    )).all()
    if guardian_profiles:
        on_paper = {(src, ref) for src, ref, forms in guardian_profiles if PAPER in forms.split(",")}
        guardians = await s.scalars(select(Guardian).where(
            Guardian.source.in_(sorted(sources)), Guardian.deleted_at.is_(None)))
        for g in guardians:
            if (g.source, g.external_id) not in on_paper:
                continue
            for ref in g.student_refs or []:
                sid = by_ref.get((g.source, str(ref)))
                if sid is not None:
                    paper.add(sid)
    return paper | (set(ids) - electronic)


# ------------------------------------------------------------------------------ service


class Contacts:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings, mailer: Any = None) -> None:
        """`mailer`: a ``services.notify.email_channel.Mailer`` (None: e-mail not configured)."""
        self._sessions = sessions
        self._settings = settings
        self._mailer = mailer

    @property
    def email_enabled(self) -> bool:
        return self._mailer is not None

    # ---------------------------------------------------------------- parent, in the bot

    async def get(self, account_id: int) -> ContactView:
        async with self._sessions.begin() as s:
            await load_account(s, account_id)
            return _view(await profile_for_account(s, account_id))

    async def _own_profile(self, s: AsyncSession, account_id: int) -> ContactProfile:
        """The account's profile for writing: its own, an adopted guardian profile, or a new one."""
        found = await profile_for_account(s, account_id)
        if found is not None and found.account_id is None:
            found.account_id = account_id  # adopt what the admin entered from the written application
        if found is None:
            found = ContactProfile(account_id=account_id, forms=forms_text(DEFAULT_FORMS))
            s.add(found)
        await s.flush()
        return found

    async def request_code(self, account_id: int, raw_email: str, *, now: datetime | None = None) -> CodeSent:
        """Validate the address, store a new code (hashed) and e-mail it.

        EmailInvalid, EmailUnavailable (no SMTP), TooManyCodes (5 a day), EmailSendFailed."""
        address = validate_email(raw_email)
        if self._mailer is None:
            raise EmailUnavailable("SMTP is not configured")
        now = now or utcnow()
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        async with self._sessions.begin() as s:
            account = await load_account(s, account_id, lock=True)
            sent_today = await s.scalar(select(func.count(EmailConfirmation.id)).where(
                EmailConfirmation.account_id == account_id,
                EmailConfirmation.created_at > now - timedelta(days=1)))
            if (sent_today or 0) >= CODES_PER_DAY:
                raise TooManyCodes(f"account {account_id}")
            await s.execute(update(EmailConfirmation).where(
                EmailConfirmation.account_id == account_id, EmailConfirmation.status == "pending",
            ).values(status="superseded"))
            salt = secrets.token_hex(16)
            row = EmailConfirmation(account_id=account_id, email=address, salt=salt,
                                    code_hash=_hash_code(salt, account_id, code), status="pending",
                                    attempts=0, created_at=now, expires_at=now + CODE_TTL)
            s.add(row)
            await s.flush()
            row_id, language = row.id, account.language
        minutes = int(CODE_TTL.total_seconds() // 60)
        message = build_message(render_code_email(code, minutes, language),
                                sender=self._mailer.sender, to=address)
        try:
            await self._mailer.send(message)
        except DeliveryError as exc:
            async with self._sessions.begin() as s:
                await s.execute(update(EmailConfirmation).where(EmailConfirmation.id == row_id)
                                .values(status="failed"))
            log.warning("confirmation e-mail for account %s not sent: %s", account_id, exc.reason)
            raise EmailSendFailed(exc.reason) from None
        log.info("confirmation code sent account=%s row=%s", account_id, row_id)
        return CodeSent(email=address, expires_at=now + CODE_TTL, minutes=minutes)

    async def confirm(self, account_id: int, raw_code: str, *, now: datetime | None = None) -> ConfirmResult:
        """Check a typed code against the account's pending one.

        A code is good once, for 15 minutes, and for 5 tries of that code; a code that was
        already used (a replay) is refused as «used» and counts as a wrong try."""
        now = now or utcnow()
        if raw_code is None or len(raw_code) > MAX_CODE_INPUT:
            return ConfirmResult("format")
        code = re.sub(r"[\s\-]", "", raw_code)
        if not re.fullmatch(rf"\d{{{CODE_DIGITS}}}", code):
            return ConfirmResult("format")
        async with self._sessions.begin() as s:
            await load_account(s, account_id, lock=True)
            rows = list(await s.scalars(
                select(EmailConfirmation).where(EmailConfirmation.account_id == account_id)
                .order_by(EmailConfirmation.id.desc()).limit(20)))
            pending = next((r for r in rows if r.status == "pending"), None)
            replay = any(r.status in ("used", "superseded") and _matches(r, account_id, code) for r in rows)
            if pending is None:
                return ConfirmResult("used" if replay else "none")
            if pending.expires_at <= now:
                pending.status = "expired"
                return ConfirmResult("expired")
            if _matches(pending, account_id, code):
                pending.status, pending.used_at = "used", now
                profile = await self._own_profile(s, account_id)
                profile.email = pending.email
                profile.email_confirmed_at = now
                profile.email_confirmed_by = "code"
                profile.email_bounced_at = None
                profile.forms = forms_text(_forms_of(profile) | {EMAIL})
                log.info("e-mail confirmed account=%s", account_id)
                return ConfirmResult("confirmed", email=pending.email)
            pending.attempts += 1
            left = CODE_MAX_ATTEMPTS - pending.attempts
            if left <= 0:
                pending.status = "locked"
                return ConfirmResult("locked")
            return ConfirmResult("used" if replay else "wrong", attempts_left=left)

    async def set_forms(self, account_id: int, forms: Iterable[str]) -> ContactView:
        """The parent's own choice in the bot. E-mail needs a confirmed address; at least one form.
        ApplicationInvalid("forms") / ("email") otherwise."""
        chosen = frozenset(forms) & set(FORMS)
        if not chosen:
            raise ApplicationInvalid("forms")
        async with self._sessions.begin() as s:
            await load_account(s, account_id, lock=True)
            profile = await self._own_profile(s, account_id)
            if EMAIL in chosen and not (profile.email and profile.email_confirmed_at):
                raise ApplicationInvalid("email")
            profile.forms = forms_text(chosen)
            await s.flush()
            return _view(profile)

    async def stop_email(self, account_id: int) -> ContactView:
        """Forget the address; e-mail leaves the forms (Telegram stays or comes back)."""
        async with self._sessions.begin() as s:
            await load_account(s, account_id, lock=True)
            profile = await self._own_profile(s, account_id)
            forms = _forms_of(profile) - {EMAIL}
            profile.forms = forms_text(forms or DEFAULT_FORMS)
            profile.email = None
            profile.email_confirmed_at = profile.email_confirmed_by = profile.email_bounced_at = None
            await s.execute(update(EmailConfirmation).where(
                EmailConfirmation.account_id == account_id, EmailConfirmation.status == "pending",
            ).values(status="superseded"))
            await s.flush()
            return _view(profile)

    async def mark_bounced(self, account_id: int) -> None:
        async with self._sessions.begin() as s:
            await mark_bounced(s, account_id)

    async def email_address_for(self, account_id: int) -> str | None:
        async with self._sessions.begin() as s:
            return await email_address_for(s, account_id)

    # ---------------------------------------------------------------- admins

    async def _class_in_scope(self, s: AsyncSession, actor_tg: int, class_id: int) -> tuple[SchoolClass, School]:
        scope = await admin_school_ids(s, self._settings, actor_tg)
        if scope is not None and not scope:
            raise NotAdmin(f"telegram id {actor_tg} is not an admin")
        row = (await s.execute(
            select(SchoolClass, School)
            .join(School, (School.source == SchoolClass.source) & (School.external_id == SchoolClass.school_ref))
            .where(SchoolClass.id == class_id, SchoolClass.deleted_at.is_(None), School.deleted_at.is_(None))
        )).first()
        if row is None or (scope is not None and row[1].id not in scope):
            raise NotFound(f"class {class_id}")
        return row[0], row[1]

    async def class_contacts(self, actor_tg: int, class_id: int) -> ClassContacts:
        """The pupils of a class with their parents (journal guardians and bot accounts), the
        agreed forms and whether the pupil's extracts go on paper. NotAdmin / NotFound."""
        async with self._sessions.begin() as s:
            cls, school = await self._class_in_scope(s, actor_tg, class_id)
            students = list(await s.scalars(select(Student).where(
                Student.source == cls.source, Student.class_ref == cls.external_id, Student.deleted_at.is_(None),
            ).order_by(Student.full_name, Student.id)))
            on_paper = await paper_student_ids(s, students)
            guardians = list(await s.scalars(select(Guardian).where(
                Guardian.source == cls.source, Guardian.school_ref == school.external_id,
                Guardian.deleted_at.is_(None)).order_by(Guardian.full_name, Guardian.id)))
            pupils: list[PupilContacts] = []
            for st in students:
                links = (await s.execute(
                    select(Link, Account).join(Account, Account.id == Link.account_id)
                    .where(Link.student_id == st.id, Link.status == "approved").order_by(Account.id)
                )).all()
                linked_by_guardian = {link.guardian_ref: account for link, account in links if link.guardian_ref}
                parents: list[ParentContact] = []
                shown_accounts: set[int] = set()
                for g in guardians:
                    if st.external_id not in [str(r) for r in (g.student_refs or [])]:
                        continue
                    account = linked_by_guardian.get(g.external_id)
                    if account is not None:
                        shown_accounts.add(account.id)
                        profile = await profile_for_account(s, account.id)
                    else:
                        profile = await s.scalar(select(ContactProfile).where(
                            ContactProfile.guardian_source == g.source, ContactProfile.guardian_ref == g.external_id))
                    view = _view(profile)
                    forms = view.forms if (account is not None or profile is not None) else frozenset()
                    parents.append(ParentContact(
                        key=f"g{g.id}", name=g.full_name, has_telegram=account is not None, forms=forms,
                        email=view.email, email_confirmed=view.email_confirmed,
                        application_no=view.application_no, application_date=view.application_date))
                for _link, account in links:
                    if account.id in shown_accounts:
                        continue
                    view = _view(await profile_for_account(s, account.id))
                    name = account.first_name or (f"@{account.username}" if account.username else f"#{account.id}")
                    parents.append(ParentContact(
                        key=f"a{account.id}", name=name, has_telegram=True, forms=view.forms,
                        email=view.email, email_confirmed=view.email_confirmed,
                        application_no=view.application_no, application_date=view.application_date))
                pupils.append(PupilContacts(student_id=st.id, name=st.full_name, parents=parents,
                                            on_paper=st.id in on_paper))
            return ClassContacts(class_id=cls.id, class_name=cls.name, school_name=school.name, pupils=pupils)

    async def enter_application(
        self,
        actor_tg: int,
        parent_key: str,
        forms_raw: str,
        application_no: str,
        application_date_raw: str,
        email_raw: str | None = None,
        *,
        today: date | None = None,
    ) -> ContactView:
        """Record a parent's written application: the agreed forms, optionally an e-mail address
        (taken as confirmed: the parent gave it in writing), the application's number and date.

        `parent_key`: "g<guardian id>" (a journal guardian) or "a<account id>" (a bot account
        linked to a pupil of the admin's school). NotFound for keys outside the admin's scope;
        ApplicationInvalid(forms | number | date | email | telegram); EmailInvalid. Audited
        (ids and the application's number and date only)."""
        forms = parse_forms(forms_raw)
        number = (application_no or "").strip()
        if not number or len(number) > MAX_APPLICATION_NO or not re.fullmatch(r"[\w№#/.\-]+", number):
            raise ApplicationInvalid("number")
        app_date = parse_application_date(application_date_raw, today or utcnow().date())
        email = validate_email(email_raw) if email_raw else None
        async with self._sessions.begin() as s:
            scope = await admin_school_ids(s, self._settings, actor_tg)
            if scope is not None and not scope:
                raise NotAdmin(f"telegram id {actor_tg} is not an admin")
            profile, school_id, target = await self._profile_for_key(s, parent_key, scope)
            has_account = profile.account_id is not None
            if TELEGRAM in forms and not has_account:
                raise ApplicationInvalid("telegram")
            if EMAIL in forms and not (email or (profile.email and profile.email_confirmed_at)):
                raise ApplicationInvalid("email")
            now = utcnow()
            if email is not None and email != profile.email:
                profile.email = email
                profile.email_confirmed_at, profile.email_confirmed_by = now, "application"
                profile.email_bounced_at = None
            profile.forms = forms_text(forms)
            profile.application_no, profile.application_date = number, app_date
            profile.entered_by = actor_tg
            profile.school_id = profile.school_id or school_id
            await s.flush()
            audit(s, actor=actor_tg, action="contacts.application", target_type=target[0], target_id=target[1],
                  details={"forms": profile.forms, "application_no": number,
                           "application_date": app_date.isoformat(), "email_given": email is not None,
                           "school_id": school_id})
            log.info("contact application recorded %s=%s by=%s", target[0], target[1], actor_tg)
            return _view(profile)

    async def _profile_for_key(
        self, s: AsyncSession, key: str, scope: frozenset[int] | None
    ) -> tuple[ContactProfile, int | None, tuple[str, int]]:
        key = (key or "").strip().lower()
        if not re.fullmatch(r"[ga]\d{1,12}", key):
            raise NotFound(f"parent {key[:16]!r}")
        kind, ident = key[0], int(key[1:])
        if kind == "g":
            guardian = await s.get(Guardian, ident)
            if guardian is None or guardian.deleted_at is not None:
                raise NotFound(f"guardian {ident}")
            school = await s.scalar(select(School).where(
                School.source == guardian.source, School.external_id == guardian.school_ref))
            if school is None or (scope is not None and school.id not in scope):
                raise NotFound(f"guardian {ident}")
            account_id = await s.scalar(select(Link.account_id).join(Student, Student.id == Link.student_id).where(
                Link.guardian_ref == guardian.external_id, Student.source == guardian.source,
                Link.status == "approved").order_by(Link.id).limit(1))
            loose = await s.scalar(select(ContactProfile).where(
                ContactProfile.guardian_source == guardian.source, ContactProfile.guardian_ref == guardian.external_id))
            if account_id is not None:
                own = await s.scalar(select(ContactProfile).where(ContactProfile.account_id == account_id))
                if own is None and loose is not None:
                    loose.account_id = account_id
                    own = loose
                elif own is None:
                    own = ContactProfile(account_id=account_id, forms=forms_text(DEFAULT_FORMS))
                    s.add(own)
                if own.guardian_ref is None and (loose is None or loose is own):
                    own.guardian_source, own.guardian_ref = guardian.source, guardian.external_id
                await s.flush()
                return own, school.id, ("account", account_id)
            if loose is None:
                loose = ContactProfile(guardian_source=guardian.source, guardian_ref=guardian.external_id,
                                       forms=forms_text({PAPER}))
                s.add(loose)
                await s.flush()
            return loose, school.id, ("guardian", guardian.id)
        # an account: only one linked (approved) to a pupil of the admin's schools
        rows = (await s.execute(
            select(School.id).select_from(Link)
            .join(Student, Student.id == Link.student_id)
            .join(School, (School.source == Student.source) & (School.external_id == Student.school_ref))
            .where(Link.account_id == ident, Link.status == "approved")
        )).scalars().all()
        allowed = [sid for sid in rows if scope is None or sid in scope]
        if not allowed:
            raise NotFound(f"account {ident}")
        own = await s.scalar(select(ContactProfile).where(ContactProfile.account_id == ident))
        if own is None:
            own = ContactProfile(account_id=ident, forms=forms_text(DEFAULT_FORMS))
            s.add(own)
            await s.flush()
        return own, allowed[0], ("account", ident)


def _matches(row: EmailConfirmation, account_id: int, code: str) -> bool:
    return hmac.compare_digest(row.code_hash, _hash_code(row.salt, account_id, code))


async def erase_guardian_contacts(session: AsyncSession, subject: ErasureSubject) -> int:
    """Eraser for a guardian's contact profile entered from a written application (a parent
    without a bot account); account-keyed profiles go with the account itself."""
    if subject.guardian_ref is None:
        return 0
    result = await session.execute(
        delete(ContactProfile).where(
            ContactProfile.guardian_source == subject.guardian_source,
            ContactProfile.guardian_ref == subject.guardian_ref,
        )
    )
    return result.rowcount or 0


register_eraser("contact_profiles", erase_guardian_contacts)
