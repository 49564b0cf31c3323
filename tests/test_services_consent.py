"""Accounts, consent decisions and the consent text."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from services.accounts import Accounts
from services.consent import Consent
from services.consent_text import CURRENT_VERSION, consent_text
from services.errors import AlreadyDecided, NotFound
from services.notify.kinds import LINK_REQUEST, MARK_NEW
from services.notify.outbox import CANCELLED, PENDING, enqueue
from storage.models import Account, ConsentRecord, OutboxMessage
from tests.seed import make_settings


def test_consent_text_fits_one_message_and_names_the_essentials():
    ru = consent_text(CURRENT_VERSION, "ru")
    en = consent_text(CURRENT_VERSION, "en")
    assert len(ru) <= 3500 and len(en) <= 3500
    for needle in ("152-ФЗ", "законный представитель", "/consent", "до его отзыва", "бумаг", CURRENT_VERSION):
        assert needle in ru
    for needle in ("152-FZ", "legal representative", "/consent", "until withdrawn", "paper", CURRENT_VERSION):
        assert needle in en
    assert consent_text(CURRENT_VERSION, "en-GB") == en
    assert consent_text(CURRENT_VERSION, "de") == ru
    with pytest.raises(KeyError):
        consent_text("1999-01-01", "ru")


async def test_touch_creates_updates_and_reactivates(db):
    accounts = Accounts(db.sessions, make_settings())
    a = await accounts.touch(telegram_id=111, chat_id=111, first_name="Мария", username="m", language_code="en-US")
    assert a.language == "en" and a.consent_state == "none" and a.is_active
    b = await accounts.touch(telegram_id=222, chat_id=222, first_name="Олег", username=None, language_code=None)
    assert b.language == "ru"
    async with db.sessions.begin() as s:
        row = await s.get(Account, a.id)
        row.is_active = False
        row.inactive_reason = "blocked"
    again = await accounts.touch(telegram_id=111, chat_id=111, first_name="Маша", username="m2", language_code="ru")
    assert again.id == a.id and again.is_active and again.first_name == "Маша" and again.language == "en"
    assert (await accounts.get(a.id)).username == "m2"
    assert (await accounts.by_telegram_id(222)).id == b.id
    assert await accounts.by_telegram_id(333) is None
    with pytest.raises(NotFound):
        await accounts.get(999_999)


async def test_grant_refuse_withdraw_are_logged_with_version_and_time(db):
    accounts = Accounts(db.sessions, make_settings())
    consent = Consent(db.sessions)
    a = await accounts.touch(telegram_id=1, chat_id=1, first_name="Мария", username=None, language_code="ru")

    refused = await consent.decide(a.id, "refused", CURRENT_VERSION)
    assert refused.consent_state == "refused"
    granted = await consent.decide(a.id, "granted", CURRENT_VERSION)
    assert granted.consent_state == "granted" and granted.consent_version == CURRENT_VERSION
    st = await consent.status(a.id)
    assert st.state == "granted" and st.version == CURRENT_VERSION and st.decided_at is not None
    await consent.decide(a.id, "withdrawn", CURRENT_VERSION)
    with pytest.raises(AlreadyDecided):
        await consent.decide(a.id, "withdrawn", CURRENT_VERSION)
    with pytest.raises(ValueError):
        await consent.decide(a.id, "maybe", CURRENT_VERSION)
    with pytest.raises(ValueError):
        await consent.decide(a.id, "granted", "1999-01-01")

    history = await consent.history(a.id)
    assert [h.decision for h in history] == ["refused", "granted", "withdrawn"]
    assert all(h.version == CURRENT_VERSION and h.decided_at.tzinfo is not None for h in history)
    async with db.sessions() as s:
        assert len((await s.scalars(select(ConsentRecord).where(ConsentRecord.account_id == a.id))).all()) == 3
    assert (await consent.status(a.id)).state == "withdrawn"


@pytest.mark.parametrize("decision", ["withdrawn", "refused"])
async def test_withdraw_or_refuse_cancels_pending_parent_messages(db, decision):
    accounts = Accounts(db.sessions, make_settings())
    consent = Consent(db.sessions)
    a = await accounts.touch(telegram_id=1, chat_id=1, first_name="Мария", username=None, language_code="ru")
    other = await accounts.touch(telegram_id=2, chat_id=2, first_name="Олег", username=None, language_code="ru")
    await consent.decide(a.id, "granted", CURRENT_VERSION)
    async with db.sessions.begin() as s:
        for acc, key, kind in ((a.id, "m1", MARK_NEW), (a.id, "lr", LINK_REQUEST), (other.id, "m2", MARK_NEW)):
            await enqueue(s, account_id=acc, kind=kind, payload={}, dedupe_key=key)
    await consent.decide(a.id, decision, CURRENT_VERSION)
    async with db.sessions() as s:
        status = {r.dedupe_key: r.status for r in await s.scalars(select(OutboxMessage))}
    assert status == {"m1": CANCELLED, "lr": PENDING, "m2": PENDING}
