"""Consent as a legal record: every decision (consent, refusal, withdrawal, re-consent) leaves
its log entry with the exact text shown; published texts never change; a new text version
re-asks; paper forms entered by admins (for guardians without Telegram too), the parents list
and the history PDF — over HTTP with LocalBotApi and a real aiogram Bot, on SQLite and PostgreSQL.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from pypdf import PdfReader
from sqlalchemy import select

from bot.dispatcher import create_dispatcher
from bot.notifications import TelegramChannel, render_notification
from bot.sandbox.telegram_server import LocalBotApi
from bot.texts import EN, RU
from services import consent_text as texts
from services.consent import Consent, PaperForm, PersonKey
from services.consent_log import PublishedTextChanged
from services.consent_text import CURRENT_VERSION, KNOWN_VERSIONS, LANGUAGES, PUBLISHED_SHA256, consent_text, text_digest
from services.container import Services, build_services
from services.erasure import Erasure
from services.errors import AlreadyDecided, NotAdmin, NotFound
from services.notify.dispatcher import Dispatcher
from services.notify.kinds import CONSENT_REASK, ERASURE_REMINDER, ERASURE_SCHEDULED, MARK_NEW
from services.notify.outbox import enqueue
from storage.models import Account, AuditEntry, ConsentRecord, OutboxMessage
from storage.privacy import ConsentText
from tests import seed
from tests.e2e import button_data, contains, has_button, text_of
from tests.bot_harness import TIMEOUT, FastCloseSession, answer_of, press, say

TOKEN = "7000000001:TEST-token_consent"
PARENT, OUTDATED_PARENT, STRANGER = 5301, 5302, 5303
ADMIN, OTHER_ADMIN = 9301, 9302
PHONE = "+79004443322"
OLD_VERSION = "2025-09-01"  # a text published before the current one (rows as an older release wrote them)
YEKATERINBURG = ZoneInfo("Asia/Yekaterinburg")


# --------------------------------------------------------------------------- the texts


def test_published_texts_never_change():
    assert set(PUBLISHED_SHA256) == {(v, lang) for v in KNOWN_VERSIONS for lang in LANGUAGES}
    for (version, lang), digest in PUBLISHED_SHA256.items():
        assert text_digest(consent_text(version, lang)) == digest, f"consent text {version}/{lang} was edited"
    assert CURRENT_VERSION in KNOWN_VERSIONS


# --------------------------------------------------------------------------- the log (services)


async def test_each_decision_is_logged_with_the_text_shown_and_moves_the_erasure(db):
    settings = seed.make_settings()
    consent, erasure = Consent(db.sessions, settings), Erasure(db.sessions, settings)
    async with db.sessions.begin() as s:
        a = await seed.add_account(s, consent="none", language="en")
    steps = [("refused", "refusal"), ("granted", None), ("withdrawn", "withdrawal"), ("granted", None)]
    for decision, erasure_rule in steps:  # consent, refusal, withdrawal and re-consent
        view = await consent.decide(a.id, decision, CURRENT_VERSION)
        assert view.consent_state == decision
        scheduled = await erasure.scheduled(a.id)
        assert (scheduled.rule if scheduled else None) == erasure_rule
    history = await consent.history(a.id)
    assert [(h.decision, h.version, h.channel, h.language) for h in history] == [
        (d, CURRENT_VERSION, "telegram", "en") for d, _ in steps]
    assert [h.decided_at for h in history] == sorted(h.decided_at for h in history)
    async with db.sessions() as s:
        stored = await s.get(ConsentText, (CURRENT_VERSION, "en"))
        rows = list(await s.scalars(select(ConsentRecord).where(ConsentRecord.account_id == a.id)))
    # the exact text shown is reproducible for every record
    assert stored.body == consent_text(CURRENT_VERSION, "en") and stored.sha256 == PUBLISHED_SHA256[(CURRENT_VERSION, "en")]
    assert all((r.text_version, r.language) == (stored.version, stored.language) for r in rows)
    await consent.decide(a.id, "withdrawn", CURRENT_VERSION)
    with pytest.raises(AlreadyDecided):  # nothing left to withdraw
        await consent.decide(a.id, "withdrawn", CURRENT_VERSION)


async def test_a_published_text_edited_in_place_is_refused(db, monkeypatch):
    consent = Consent(db.sessions, seed.make_settings())
    async with db.sessions.begin() as s:
        a = await seed.add_account(s, consent="none")
    await consent.decide(a.id, "granted", CURRENT_VERSION)  # stores the Russian text as shown
    monkeypatch.setitem(texts._TEXTS[CURRENT_VERSION], "ru", "Другой текст, редакция {version}")
    with pytest.raises(PublishedTextChanged):
        await consent.decide(a.id, "withdrawn", CURRENT_VERSION)
    assert [h.decision for h in await consent.history(a.id)] == ["granted"]  # nothing recorded


async def test_a_new_text_version_reasks_and_pauses_delivery(db):
    consent = Consent(db.sessions, seed.make_settings())
    async with db.sessions.begin() as s:
        old = await _outdated_account(s, OUTDATED_PARENT)
        current = await seed.add_account(s, consent="granted")
        refused = await seed.add_account(s, consent="refused")
        refused.consent_version = OLD_VERSION
        unversioned = await seed.add_account(s, consent="granted")  # seeded state, no text version on record
        unversioned.consent_version = None
        await enqueue(s, account_id=old.id, kind=MARK_NEW, payload={"student_id": 1}, dedupe_key="m-old")
    assert await consent.reask_outdated() == 1
    assert await consent.reask_outdated() == 0  # once per version
    async with db.sessions() as s:
        states = {a.id: a.consent_state for a in await s.scalars(select(Account))}
        rows = {(r.account_id, r.kind): r for r in await s.scalars(select(OutboxMessage))}
    assert states == {old.id: "outdated", current.id: "granted", refused.id: "refused", unversioned.id: "granted"}
    assert rows[(old.id, MARK_NEW)].status == "cancelled"  # consent does not cover the new purpose
    assert rows[(old.id, CONSENT_REASK)].payload == {"version": CURRENT_VERSION}
    assert (current.id, CONSENT_REASK) not in rows and (refused.id, CONSENT_REASK) not in rows
    # answering the new text: granted again, both decisions on record with their versions
    await consent.decide(old.id, "granted", CURRENT_VERSION)
    assert [(h.decision, h.version) for h in await consent.history(old.id)] == [
        ("granted", OLD_VERSION), ("granted", CURRENT_VERSION)]


async def _outdated_account(s, telegram_id: int) -> Account:
    """An account that consented to an older text (as the release before the new text wrote it)."""
    account = await seed.add_account(s, telegram_id=telegram_id, first_name="Ольга", username=None, consent="granted")
    account.consent_version = OLD_VERSION
    s.add(ConsentRecord(account_id=account.id, decision="granted", text_version=OLD_VERSION, channel="telegram",
                        decided_at=account.consent_at))
    await s.flush()
    return account


def test_privacy_notices_render_in_both_languages():
    for lang, table in (("ru", RU), ("en", EN)):
        reask = render_notification(CONSENT_REASK, {"version": "2027-01-01"}, lang).text
        assert "2027-01-01" in reask and "/consent" in reask
        reminder = render_notification(ERASURE_REMINDER, {"reference": "AB12-CD34-EF56", "due_date": "2026-12-29"},
                                       lang).text
        assert "29.12.2026" in reminder and "AB12-CD34-EF56" in reminder and len(reminder) < 4096
        scheduled = render_notification(ERASURE_SCHEDULED, {"reference": "<b>", "due_date": "2026-12-29",
                                                            "rule": "refusal"}, lang).text
        assert "&lt;b&gt;" in scheduled  # payload values are escaped
        assert table["notice_erasure_scheduled_refusal"].split("{")[0][:20] in scheduled


# --------------------------------------------------------------------------- over HTTP


@dataclass
class Bots:
    api: LocalBotApi
    services: Services
    sessions: object
    outbox: Dispatcher
    class_id: int
    other_class_id: int
    guardian_ref: str
    foreign_guardian_ref: str
    child_id: int


@pytest.fixture
async def bots(db):
    async with db.sessions.begin() as s:
        school = await seed.add_school(s, "МБОУ «СОШ № 7» г. Нижневартовск", external_id="sch-nv-7")
        other = await seed.add_school(s, "МБОУ «Гимназия № 3» г. Ханты-Мансийск", external_id="sch-hm-3")
        cls, other_cls = await seed.add_class(s, school, "5Б", 5), await seed.add_class(s, other, "6А", 6)
        child = await seed.add_student(s, cls, "Петров Пётр Сергеевич")
        sister = await seed.add_student(s, cls, "Петрова Дарья Сергеевна")
        await seed.add_student(s, cls, "Смирнов Олег Ильич")
        foreign = await seed.add_student(s, other_cls, "Козлов Кирилл Ильич")
        guardian = await seed.add_guardian(s, school, [child, sister], full_name="Петрова Светлана Игоревна",
                                           phone=PHONE)
        foreign_guardian = await seed.add_guardian(s, other, [foreign], full_name="Козлова Ирина Павловна",
                                                   phone="+79005550000")
        await seed.add_school_admin(s, school, telegram_id=ADMIN)
        await seed.add_school_admin(s, other, telegram_id=OTHER_ADMIN)
        await _outdated_account(s, OUTDATED_PARENT)
        ids = cls.id, other_cls.id, guardian.external_id, foreign_guardian.external_id, child.id
    settings = seed.make_settings(send_rate_per_chat_seconds=0)
    services = build_services(db.sessions, settings)
    async with LocalBotApi() as api:
        for uid, name in ((PARENT, "Светлана"), (OUTDATED_PARENT, "Ольга"), (STRANGER, "Пётр"),
                          (ADMIN, "Завуч"), (OTHER_ADMIN, "Директор"), (seed.REGION_ADMIN_TG, "Регион")):
            api.add_user(uid, name)
        bot = Bot(TOKEN, session=FastCloseSession(api=TelegramAPIServer.from_base(api.base_url)))
        dp = create_dispatcher(services)
        polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
        outbox = Dispatcher(db.sessions, TelegramChannel(bot), settings)
        try:
            yield Bots(api, services, db.sessions, outbox, *ids)
        finally:
            with contextlib.suppress(RuntimeError):
                await dp.stop_polling()
            await asyncio.wait_for(polling, timeout=10)
            await bot.session.close()


async def test_outdated_consent_is_asked_again_in_the_chat(bots: Bots):
    api = bots.api
    api.send_text(OUTDATED_PARENT, "/help")  # the parent has opened the bot before
    await api.wait_for_bot_message(OUTDATED_PARENT, timeout=TIMEOUT)
    assert await bots.services.consent.reask_outdated() == 1
    since = len(api.bot_messages(OUTDATED_PARENT))
    await bots.outbox.run_once()  # the push
    notice = await api.wait_for_bot_message(OUTDATED_PARENT, contains("Текст согласия"), timeout=TIMEOUT, since=since)
    assert CURRENT_VERSION in text_of(notice) and "/consent" in text_of(notice)

    # the next interaction shows the new text instead of the diary
    prompt = await say(api, OUTDATED_PARENT, "/grades", has_button("cs:grant"))
    assert f"cs:grant:{CURRENT_VERSION}" == button_data(prompt, "cs:grant")
    start = await say(api, OUTDATED_PARENT, "/start", has_button("cs:grant"))
    assert RU["consent_outdated"] in " ".join(text_of(m) for m in api.bot_messages(OUTDATED_PARENT)[-3:])
    status = await say(api, OUTDATED_PARENT, "/consent", has_button("cs:grant"))
    assert has_button("cs:refuse")(status)
    assert any(OLD_VERSION in text_of(m) and "обновился" in text_of(m)
               for m in api.bot_messages(OUTDATED_PARENT)[-3:])
    await press(api, OUTDATED_PARENT, start, button_data(start, "cs:grant"), contains("согласие записано"))
    account = await bots.services.accounts.by_telegram_id(OUTDATED_PARENT)
    assert (account.consent_state, account.consent_version) == ("granted", CURRENT_VERSION)
    assert [(h.decision, h.version) for h in await bots.services.consent.history(account.id)] == [
        ("granted", OLD_VERSION), ("granted", CURRENT_VERSION)]


async def test_paper_consent_for_a_parent_without_telegram(bots: Bots):
    api = bots.api
    today = datetime.now(YEKATERINBURG).date()
    signed = f"{today - timedelta(days=2):%d.%m.%Y}"
    g = bots.guardian_ref

    listing = await say(api, ADMIN, f"/parents {bots.class_id}", contains("Петров Пётр"))
    assert f"g:{g}" in text_of(listing) and "Петрова Светлана Игоревна — нет решения" in text_of(listing)
    assert "Козлова" not in text_of(listing)

    reply = await say(api, ADMIN, f"/paper_consent g:{g} grant 15/2026 {signed}")
    assert f"согласие по бланку № 15/2026 от {signed}, редакция {CURRENT_VERSION}" in text_of(reply)
    status = await bots.services.consent.guardian_status(g)
    assert (status.state, status.version) == ("granted", CURRENT_VERSION)
    listing = await say(api, ADMIN, f"/parents {bots.class_id}", contains("Петров Пётр"))
    assert f"Петрова Светлана Игоревна — согласие ({CURRENT_VERSION})" in text_of(listing)

    reply = await say(api, ADMIN, f"/paper_consent g:{g} отказ 16/2026 {signed}")
    assert "отказ по бланку № 16/2026" in text_of(reply) and "будут уничтожены" in text_of(reply)
    assert (await bots.services.consent.guardian_status(g)).state == "refused"
    assert text_of(await say(api, ADMIN, f"/paper_consent g:{g} withdraw 17/2026 {signed}")) == RU[
        "paper_consent_nothing"].replace("<code>", "").replace("</code>", "")

    # the history as a PDF: every decision with its form, and the exact text (Cyrillic)
    since = len(api.bot_messages(ADMIN))
    api.send_text(ADMIN, f"/consent_history g:{g}")
    doc = await api.wait_for_bot_message(ADMIN, lambda m: m.get("document"), timeout=TIMEOUT, since=since)
    assert doc["document"]["file_name"].endswith(".pdf")
    assert "записей 2" in (doc.get("plain_caption") or doc.get("caption") or "")
    pdf = PdfReader(io.BytesIO(api.file_content(doc["document"]["file_id"])))
    body = "".join(page.extract_text() for page in pdf.pages)
    for needle in ("История решений о согласии", "Петрова Светлана Игоревна", "согласие дано", "отказ",
                   "№ 15/2026", "№ 16/2026", "бумажный бланк", "СОГЛАСИЕ НА ОБРАБОТКУ ПЕРСОНАЛЬНЫХ ДАННЫХ",
                   "152-ФЗ", PUBLISHED_SHA256[(CURRENT_VERSION, "ru")][:16]):
        assert needle in body, needle

    async with bots.sessions() as s:
        audit = [(a.action, a.target_type, a.target_id, a.actor_telegram_id)
                 for a in await s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert ("consent.paper", "guardian", g, ADMIN) in audit and ("consent.export", "guardian", g, ADMIN) in audit
    assert sum(1 for a in audit if a[0] == "parents.view") == 2


async def test_paper_consent_refuses_bad_forged_and_oversized_input(bots: Bots):
    api = bots.api
    today = datetime.now(YEKATERINBURG).date()
    signed = f"{today:%d.%m.%Y}"
    g, foreign = bots.guardian_ref, bots.foreign_guardian_ref
    usage = RU["paper_consent_usage"].split("<")[0]
    cases = {
        "/paper_consent": usage,
        f"/paper_consent g:{g} maybe 1 {signed}": usage,
        f"/paper_consent x:{g} grant 1 {signed}": usage,
        f"/paper_consent tg:12ab grant 1 {signed}": usage,
        f"/paper_consent g:{g} grant 1": usage,
        f"/paper_consent g:{g} grant {'9' * 40} {signed}": "Номер бланка",
        f"/paper_consent g:{g} grant 1;DROP {signed}": "Номер бланка",
        f"/paper_consent g:{g} grant 1 31.02.2026": "Дата подписи",
        f"/paper_consent g:{g} grant 1 {today + timedelta(days=1):%d.%m.%Y}": "Дата подписи",
        f"/paper_consent g:{g} grant 1 {signed} " + "x" * 400: usage,
        f"/paper_consent g:{foreign} grant 1 {signed}": RU["consent_person_not_found"],  # another school's parent
        f"/paper_consent g:nobody grant 1 {signed}": RU["consent_person_not_found"],
        f"/paper_consent tg:{STRANGER} grant 1 {signed}": RU["consent_person_not_found"],
        f"/consent_history g:{foreign}": RU["consent_person_not_found"],
        "/consent_history": RU["consent_history_usage"].split("<")[0],
        "/parents abc": RU["consent_parents_usage"].split("<")[0],
        f"/parents {bots.other_class_id}": RU["class_not_found"],
    }
    for command, expected in cases.items():
        assert expected in text_of(await say(api, ADMIN, command)), command
    for command in ("/paper_consent", f"/paper_consent g:{g} grant 1 {signed}", "/consent_history g:x",
                    "/parents 1", "/audit"):
        assert text_of(await say(api, STRANGER, command)) == RU["admin_only"], command
    async with bots.sessions() as s:
        assert list(await s.scalars(select(ConsentRecord).where(ConsentRecord.channel == "paper"))) == []
    # the other school's admin can act on their own parent
    reply = await say(api, OTHER_ADMIN, f"/paper_consent g:{foreign} grant 3 {signed}")
    assert "согласие по бланку № 3" in text_of(reply)


async def test_paper_entry_for_a_bot_user_and_scope(db):
    settings = seed.make_settings()
    consent = Consent(db.sessions, settings)
    async with db.sessions.begin() as s:
        school = await seed.add_school(s, external_id="sch-a")
        other = await seed.add_school(s, "Школа Б", external_id="sch-b")
        cls = await seed.add_class(s, school)
        child = await seed.add_student(s, cls)
        account = await seed.add_account(s, telegram_id=5_400_001, consent="granted")
        await seed.add_link(s, account, child)
        loner = await seed.add_account(s, telegram_id=5_400_002, consent="granted")
        head = (await seed.add_school_admin(s, school)).telegram_id
        stranger_head = (await seed.add_school_admin(s, other)).telegram_id
    form = PaperForm(number="А-12", signed_on=datetime.now(YEKATERINBURG).date())
    with pytest.raises(NotFound):  # another school's admin: the person is "not found"
        await consent.record_paper(stranger_head, PersonKey(telegram_id=5_400_001), "withdrawn", form)
    with pytest.raises(NotFound):  # an account with no link: region admins only
        await consent.record_paper(head, PersonKey(telegram_id=5_400_002), "withdrawn", form)
    with pytest.raises(NotAdmin):
        await consent.record_paper(5_400_002, PersonKey(telegram_id=5_400_001), "withdrawn", form)
    result = await consent.record_paper(head, PersonKey(telegram_id=5_400_001), "withdrawn", form)
    assert result.person == "account" and result.erasure_due is not None
    region = await consent.record_paper(seed.REGION_ADMIN_TG, PersonKey(telegram_id=5_400_002), "refused", form)
    assert region.decision == "refused"
    async with db.sessions() as s:
        rows = list(await s.scalars(select(ConsentRecord).where(ConsentRecord.channel == "paper")
                                    .order_by(ConsentRecord.id)))
        notices = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == ERASURE_SCHEDULED)
                                       .order_by(OutboxMessage.id)))
        audit = list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "consent.paper")
                                     .order_by(AuditEntry.id)))
    assert [(r.account_id, r.decision, r.form_number, r.entered_by) for r in rows] == [
        (account.id, "withdrawn", "А-12", head), (loner.id, "refused", "А-12", seed.REGION_ADMIN_TG)]
    assert [(n.account_id, n.payload["rule"]) for n in notices] == [(account.id, "withdrawal"), (loner.id, "refusal")]
    assert [(a.target_type, a.target_id, a.school_id) for a in audit] == [
        ("account", str(account.id), school.id), ("account", str(loner.id), None)]
    assert all(str(5_400_001) not in str(a.details) for a in audit)  # ids of rows only, no Telegram ids


async def test_consent_buttons_of_an_old_version_record_nothing(bots: Bots):
    api = bots.api
    consent = await say(api, PARENT, "/start", has_button("cs:grant"))
    query = api.press(PARENT, consent["message_id"], f"cs:grant:{OLD_VERSION}", check=False)
    assert (await answer_of(api, query))["text"] == RU["consent_outdated"]
    account = await bots.services.accounts.by_telegram_id(PARENT)
    assert await bots.services.consent.history(account.id) == []
