"""Contacts and the agreed delivery form: strict e-mail validation, confirmation codes (single
use, expiring, hashed, limited tries), admins' entries from written applications (audited)."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from services.contacts import (
    ApplicationInvalid,
    Contacts,
    EmailInvalid,
    EmailUnavailable,
    TooManyCodes,
    delivery_channels,
    parse_forms,
    validate_email,
)
from services.errors import NotAdmin, NotFound
from storage.contacts import ContactProfile, EmailConfirmation
from storage.models import AuditEntry, Link, utcnow
from tests import seed


class FakeMailer:
    sender = "noreply@school.example"

    def __init__(self) -> None:
        self.sent = []

    async def send(self, message) -> None:
        self.sent.append(message)

    def last_code(self) -> str:
        return re.search(r"\b(\d{6})\b", str(self.sent[-1]["Subject"])).group(1)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("raw, expected", [
    ("ivanova@mail.ru", "ivanova@mail.ru"),
    ("  Maria.Ivanova+school@Example.ORG ", "Maria.Ivanova+school@example.org"),
    ("parent@школа.рф", "parent@xn--80atdl2c.xn--p1ai"),
])
def test_good_addresses_are_normalized(raw, expected):
    assert validate_email(raw) == expected


@pytest.mark.parametrize("raw, reason", [
    ("ivanova@mail.ru\r\nBcc: evil@example.org", "forbidden_chars"),
    ("ivanova@mail.ru\nBcc: evil@example.org", "forbidden_chars"),
    ("ivanova@mail.ru\rX", "forbidden_chars"),
    ("ivanova@mail.ru\x00", "forbidden_chars"),
    ("a@mail.ru, b@mail.ru", "forbidden_chars"),
    ("a@mail.ru;b@mail.ru", "forbidden_chars"),
    ("Maria <a@mail.ru>", "forbidden_chars"),
    ("\"a b\"@mail.ru", "forbidden_chars"),
    ("a" * 321 + "@mail.ru", "too_long"),
    ("a@" + "b" * 250 + ".ru", "too_long"),
    ("a" * 65 + "@mail.ru", "format"),
    ("ivanova", "format"),
    ("ivanova@localhost", "format"),
    ("a..b@mail.ru", "format"),
    (".a@mail.ru", "format"),
    ("a@@mail.ru", "format"),
    ("a@-mail.ru", "format"),
    ("иванова@mail.ru", "format"),
    ("", "format"),
])
def test_bad_addresses_are_refused_with_a_reason(raw, reason):
    with pytest.raises(EmailInvalid) as refused:
        validate_email(raw)
    assert refused.value.reason == reason


def test_forms_words():
    assert parse_forms("paper,email") == {"paper", "email"}
    assert parse_forms("Бумага + почта") == {"paper", "email"}
    for bad in ("", "fax", "paper,fax", "x" * 70):
        with pytest.raises(ApplicationInvalid):
            parse_forms(bad)


# --------------------------------------------------------------------------- confirmation codes


async def parent(db, **kw):
    async with db.sessions.begin() as s:
        account = await seed.add_account(s, **kw)
        return account.id


async def test_code_confirms_the_address_once_and_is_stored_hashed(db):
    mailer = FakeMailer()
    contacts = Contacts(db.sessions, seed.make_settings(), mailer=mailer)
    account_id = await parent(db)
    sent = await contacts.request_code(account_id, "Ivanova@Mail.ru")
    assert sent.email == "Ivanova@mail.ru" and sent.minutes == 15
    [message] = mailer.sent
    assert message["To"] == "Ivanova@mail.ru"
    code = mailer.last_code()
    async with db.sessions() as s:
        row = await s.scalar(select(EmailConfirmation))
    assert code not in (row.code_hash, row.salt) and len(row.code_hash) == 64

    forged = "000000" if code != "000000" else "111111"
    wrong = await contacts.confirm(account_id, forged)
    assert (wrong.status, wrong.attempts_left) == ("wrong", 4)
    assert (await contacts.confirm(account_id, "12 34")).status == "format"
    assert (await contacts.confirm(account_id, "1" * 40)).status == "format"
    ok = await contacts.confirm(account_id, code)
    assert (ok.status, ok.email) == ("confirmed", "Ivanova@mail.ru")
    view = await contacts.get(account_id)
    assert view.email_confirmed and view.forms == {"telegram", "email"}
    assert (await contacts.confirm(account_id, code)).status == "used"  # replay

    # a newer code supersedes the old one; the old one is then refused as used
    await contacts.request_code(account_id, "ivanova@mail.ru")
    newer = mailer.last_code()
    if newer != code:
        assert (await contacts.confirm(account_id, code)).status == "used"
    assert (await contacts.confirm(account_id, newer)).status == "confirmed"


async def test_codes_expire_lock_and_are_rationed(db):
    mailer = FakeMailer()
    contacts = Contacts(db.sessions, seed.make_settings(), mailer=mailer)
    account_id = await parent(db)
    t0 = utcnow()
    await contacts.request_code(account_id, "a@mail.ru", now=t0)
    late = await contacts.confirm(account_id, mailer.last_code(), now=t0 + timedelta(minutes=16))
    assert late.status == "expired"
    assert (await contacts.confirm(account_id, mailer.last_code(), now=t0 + timedelta(minutes=17))).status == "none"

    await contacts.request_code(account_id, "a@mail.ru", now=t0)
    code = mailer.last_code()
    forged = "000000" if code != "000000" else "111111"
    statuses = [(await contacts.confirm(account_id, forged, now=t0)).status for _ in range(5)]
    assert statuses == ["wrong"] * 4 + ["locked"]
    assert (await contacts.confirm(account_id, code, now=t0)).status == "none"  # even the right code is dead now

    for _ in range(3):
        await contacts.request_code(account_id, "a@mail.ru", now=t0)
    with pytest.raises(TooManyCodes):
        await contacts.request_code(account_id, "a@mail.ru", now=t0)
    await contacts.request_code(account_id, "a@mail.ru", now=t0 + timedelta(days=1, minutes=1))

    another = await parent(db)
    with pytest.raises(EmailInvalid):
        await contacts.request_code(another, "a@mail.ru\r\nBcc: evil@example.org")
    with pytest.raises(EmailUnavailable):
        await Contacts(db.sessions, seed.make_settings(), mailer=None).request_code(another, "a@mail.ru")


async def test_a_code_is_bound_to_its_account(db):
    mailer = FakeMailer()
    contacts = Contacts(db.sessions, seed.make_settings(), mailer=mailer)
    first, second = await parent(db), await parent(db)
    await contacts.request_code(first, "first@mail.ru")
    code = mailer.last_code()
    await contacts.request_code(second, "second@mail.ru")
    other = mailer.last_code()
    if other != code:
        assert (await contacts.confirm(second, code)).status == "wrong"
    assert (await contacts.get(second)).email is None


async def test_parent_forms_and_stopping_email(db):
    mailer = FakeMailer()
    contacts = Contacts(db.sessions, seed.make_settings(), mailer=mailer)
    account_id = await parent(db)
    with pytest.raises(ApplicationInvalid):
        await contacts.set_forms(account_id, {"email"})  # no confirmed address yet
    assert (await contacts.set_forms(account_id, {"telegram", "paper"})).forms == {"telegram", "paper"}
    await contacts.request_code(account_id, "a@mail.ru")
    await contacts.confirm(account_id, mailer.last_code())
    assert (await contacts.set_forms(account_id, {"email"})).forms == {"email"}
    async with db.sessions() as s:
        assert await delivery_channels(s, account_id, "mark_new") == ("email",)
        assert await delivery_channels(s, account_id, "link_request") == ()  # no e-mail form for that kind
    stopped = await contacts.stop_email(account_id)
    assert stopped.email is None and stopped.forms == {"telegram"}


# --------------------------------------------------------------------------- written applications


async def school_world(db):
    async with db.sessions.begin() as s:
        school = await seed.add_school(s, external_id="sch-a")
        other_school = await seed.add_school(s, name="МБОУ СОШ № 2", external_id="sch-b")
        cls = await seed.add_class(s, school)
        child = await seed.add_student(s, cls, "Петров Пётр")
        guardian = await seed.add_guardian(s, school, [child], full_name="Петрова Анна", phone=None)
        linked = await seed.add_student(s, cls, "Сидоров Семён")
        g2 = await seed.add_guardian(s, school, [linked], full_name="Сидорова Ольга", phone="+79005550000")
        account = await seed.add_account(s)
        s.add(Link(account_id=account.id, student_id=linked.id, status="approved", method="phone",
                   guardian_ref=g2.external_id))
        admin = await seed.add_school_admin(s, school)
        other_admin = await seed.add_school_admin(s, other_school)
        return dict(cls=cls.id, child=child.id, guardian=guardian.id, g2=g2.id, account=account.id,
                    admin=admin.telegram_id, other_admin=other_admin.telegram_id)


async def test_admin_enters_a_written_application_for_a_parent_without_telegram(db):
    w = await school_world(db)
    contacts = Contacts(db.sessions, seed.make_settings())
    view = await contacts.enter_application(w["admin"], f"g{w['guardian']}", "paper,email", "45/2026",
                                            "20.11.2026", "Anna@Mail.ru", today=date(2026, 11, 29))
    assert view.forms == {"paper", "email"} and view.email == "Anna@mail.ru" and not view.has_account
    assert (view.application_no, view.application_date) == ("45/2026", date(2026, 11, 20))
    async with db.sessions() as s:
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "contacts.application"))
    assert entry.actor_telegram_id == w["admin"] and entry.target_type == "guardian"
    assert entry.details["application_no"] == "45/2026" and "Anna" not in str(entry.details)

    listing = await contacts.class_contacts(w["admin"], w["cls"])
    pupil = next(p for p in listing.pupils if p.student_id == w["child"])
    assert pupil.on_paper and pupil.parents[0].key == f"g{w['guardian']}" and not pupil.parents[0].has_telegram

    # the guardian linked to a bot account: the entry lands on the account's profile
    linked = await contacts.enter_application(w["admin"], f"g{w['g2']}", "telegram,paper", "46", "2026-11-21",
                                              today=date(2026, 11, 29))
    assert linked.has_account and linked.forms == {"telegram", "paper"}
    async with db.sessions() as s:
        assert await delivery_channels(s, w["account"], "mark_new") == ("telegram",)


async def test_application_entries_are_checked(db):
    w = await school_world(db)
    contacts = Contacts(db.sessions, seed.make_settings())
    key, today = f"g{w['guardian']}", date(2026, 11, 29)
    cases = [
        (("paper", "45", "32.11.2026"), "date"),
        (("paper", "45", "01.12.2027"), "date"),
        (("paper", "x" * 33, "20.11.2026"), "number"),
        (("paper", "45\nBcc", "20.11.2026"), "number"),
        (("fax", "45", "20.11.2026"), "forms"),
        (("email", "45", "20.11.2026"), "email"),
        (("telegram", "45", "20.11.2026"), "telegram"),  # this parent has no bot account
    ]
    for args, reason in cases:
        with pytest.raises(ApplicationInvalid) as refused:
            await contacts.enter_application(w["admin"], key, *args, today=today)
        assert refused.value.reason == reason
    with pytest.raises(EmailInvalid):
        await contacts.enter_application(w["admin"], key, "email", "45", "20.11.2026", "a@b.ru\r\nBcc: c@d.ru",
                                         today=today)
    for forged in ("g999999", f"a{w['account'] + 1000}", "x1", "g", f"g{w['guardian']}; drop"):
        with pytest.raises(NotFound):
            await contacts.enter_application(w["admin"], forged, "paper", "45", "20.11.2026", today=today)
    with pytest.raises(NotFound):  # another school's admin: the parent is "not found"
        await contacts.enter_application(w["other_admin"], key, "paper", "45", "20.11.2026", today=today)
    with pytest.raises(NotAdmin):
        await contacts.enter_application(123456, key, "paper", "45", "20.11.2026", today=today)
    async with db.sessions() as s:
        assert await s.scalar(select(ContactProfile)) is None
        assert await s.scalar(select(AuditEntry)) is None


async def test_guardian_contact_profiles_are_erased_with_the_guardian(db):
    from sqlalchemy import select

    from services.contacts import erase_guardian_contacts
    from services.erasure import ERASERS, ErasureSubject
    from storage.contacts import ContactProfile

    assert ERASERS["contact_profiles"] is erase_guardian_contacts
    async with db.sessions.begin() as s:
        for ref in ("g-1", "g-2"):
            s.add(ContactProfile(guardian_source=seed.SOURCE, guardian_ref=ref, forms="paper,email",
                                 email=f"{ref}@example.org"))
    async with db.sessions.begin() as s:
        erased = await erase_guardian_contacts(s, ErasureSubject(guardian_source=seed.SOURCE, guardian_ref="g-1"))
        assert erased == 1
        assert await erase_guardian_contacts(s, ErasureSubject(account_id=1)) == 0
    async with db.sessions() as s:
        assert [p.guardian_ref for p in await s.scalars(select(ContactProfile))] == ["g-2"]
