"""Linking: phone requests, invite codes, admin decisions, children."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.errors import AlreadyDecided, ConsentRequired, InvalidCode, NotAdmin, NotFound, NotLinked
from services.linking import CODE_ALPHABET, Linking, PhoneLinkResult, normalize_code
from services.notify.kinds import LINK_DECISION, LINK_REQUEST
from services.notify.outbox import CANCELLED, PENDING
from services.phones import normalize_phone
from storage.models import Account, AuditEntry, InviteCode, Link, OutboxMessage, utcnow
from tests import seed
from tests.seed import REGION_ADMIN_TG, make_settings


@pytest.mark.parametrize("raw", ["+79001234567", "89001234567", "79001234567", "9001234567",
                                 "+7 (900) 123-45-67", " 8-900-123-45-67 "])
def test_normalize_phone_russian_formats(raw):
    assert normalize_phone(raw) == "79001234567"


@pytest.mark.parametrize("raw", [None, "", "abc", "12345", "+7 900 ABC 45 67", "8900123456789012", "0012345678901"])
def test_normalize_phone_garbage(raw):
    assert normalize_phone(raw) is None


def test_normalize_phone_keeps_foreign_numbers():
    assert normalize_phone("375291234567") == "375291234567"


def test_normalize_code():
    assert normalize_code(" abcd-efgh ") == "ABCDEFGH"
    assert normalize_code("ABCD EFG0") is None  # 0 is not in the alphabet
    assert normalize_code("ABC") is None
    assert not set("0O1I") & set(CODE_ALPHABET)


async def _world(db, *, school_admin: bool = True):
    """One school with a class, a guardian with two children, a parent with consent."""
    async with db.sessions.begin() as s:
        school = await seed.add_school(s)
        other_school = await seed.add_school(s, name="МБОУ «Гимназия № 2» г. Ханты-Мансийск")
        cls = await seed.add_class(s, school, "7А", 7)
        cls2 = await seed.add_class(s, school, "3Б", 3)
        other_cls = await seed.add_class(s, other_school, "5В", 5)
        ivan = await seed.add_student(s, cls, "Иванов Иван Петрович")
        olga = await seed.add_student(s, cls2, "Иванова Ольга Петровна")
        stranger = await seed.add_student(s, other_cls, "Смирнов Алексей Дмитриевич")
        await seed.add_student(s, cls, "Кузнецов Павел Андреевич", deleted=True)
        await seed.add_guardian(s, school, [ivan, olga], "Иванова Мария Сергеевна", "+79001234567")
        parent = await seed.add_account(s, first_name="Мария", username="maria_iv")
        admin = await seed.add_school_admin(s, school) if school_admin else None
        other_admin = await seed.add_school_admin(s, other_school)
        region = await seed.add_account(s, telegram_id=REGION_ADMIN_TG, first_name="Регион", consent="none")
    return {"school": school, "other_school": other_school, "cls": cls, "cls2": cls2, "other_cls": other_cls,
            "ivan": ivan, "olga": olga, "stranger": stranger, "parent": parent, "admin": admin,
            "other_admin": other_admin, "region": region}


async def _outbox(db, kind=None):
    async with db.sessions() as s:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        return list(await s.scalars(stmt))


async def _admin_account_id(db, tg):
    async with db.sessions() as s:
        return await s.scalar(select(Account.id).where(Account.telegram_id == tg))


@pytest.mark.parametrize("phone", ["+79001234567", "89001234567", "79001234567"])
async def test_phone_request_creates_pending_links_and_notifies_school_admin(db, phone):
    w = await _world(db)
    linking = Linking(db.sessions, make_settings())
    result = await linking.request_by_phone(w["parent"].id, phone)
    assert (result.created, result.existing, result.matched) == (2, 0, True)
    async with db.sessions() as s:
        links = list(await s.scalars(select(Link).order_by(Link.student_id)))
        digits = (await s.get(Account, w["parent"].id)).phone_digits
    assert digits == "79001234567"
    assert {(l.student_id, l.status, l.method) for l in links} == {
        (w["ivan"].id, "pending", "phone"), (w["olga"].id, "pending", "phone")}
    assert all(l.guardian_ref for l in links)
    requests = await _outbox(db, LINK_REQUEST)
    admin_acc = await _admin_account_id(db, w["admin"].telegram_id)
    assert [r.account_id for r in requests] == [admin_acc, admin_acc]
    p = requests[0].payload
    assert set(p) == {"link_id", "student_name", "class_name", "school_name", "parent_name", "parent_username",
                      "method"}
    assert p["parent_name"] == "Мария" and p["method"] == "phone" and p["school_name"] == w["school"].name
    assert {r.payload["class_name"] for r in requests} == {"7А", "3Б"}

    again = await linking.request_by_phone(w["parent"].id, phone)
    assert (again.created, again.existing, again.matched) == (0, 2, True)
    assert len(await _outbox(db, LINK_REQUEST)) == 2


async def test_phone_request_without_match(db):
    w = await _world(db)
    linking = Linking(db.sessions, make_settings())
    assert await linking.request_by_phone(w["parent"].id, "+79990000000") == PhoneLinkResult(0, 0, False)
    assert (await linking.request_by_phone(w["parent"].id, "not a phone")).matched is False
    assert await _outbox(db) == []


async def test_phone_request_ignores_deleted_guardians(db):
    w = await _world(db)
    async with db.sessions.begin() as s:
        await seed.add_guardian(s, w["other_school"], [w["stranger"]], "Смирнова Ирина", "+79005550000",
                                deleted=True)
    linking = Linking(db.sessions, make_settings())
    assert (await linking.request_by_phone(w["parent"].id, "+79005550000")).matched is False


async def test_phone_request_falls_back_to_region_admins(db):
    w = await _world(db, school_admin=False)
    linking = Linking(db.sessions, make_settings())
    await linking.request_by_phone(w["parent"].id, "+79001234567")
    requests = await _outbox(db, LINK_REQUEST)
    assert [r.account_id for r in requests] == [w["region"].id, w["region"].id]


async def test_phone_request_needs_consent(db):
    w = await _world(db)
    async with db.sessions.begin() as s:
        (await s.get(Account, w["parent"].id)).consent_state = "refused"
    linking = Linking(db.sessions, make_settings())
    with pytest.raises(ConsentRequired):
        await linking.request_by_phone(w["parent"].id, "+79001234567")
    with pytest.raises(ConsentRequired):
        await linking.request_by_code(w["parent"].id, "ABCDEFGH")


async def test_decide_approve_reject_audit_and_notify(db):
    w = await _world(db)
    linking = Linking(db.sessions, make_settings())
    await linking.request_by_phone(w["parent"].id, "+79001234567")
    pending = await linking.pending_for(w["admin"].telegram_id)
    assert [p.student_name for p in pending] == ["Иванов Иван Петрович", "Иванова Ольга Петровна"]
    assert [p.class_name for p in pending] == ["7А", "3Б"] and pending[0].method == "phone"
    assert [p.link_id for p in await linking.pending_for(REGION_ADMIN_TG)] == [p.link_id for p in pending]
    assert pending[0].parent_name == "Мария" and pending[0].parent_username == "maria_iv"
    assert await linking.pending_for(w["other_admin"].telegram_id) == []
    with pytest.raises(NotAdmin):
        await linking.pending_for(424242)

    by_student = {p.student_name: p.link_id for p in pending}
    ivan_link, olga_link = by_student["Иванов Иван Петрович"], by_student["Иванова Ольга Петровна"]
    with pytest.raises(NotAdmin):
        await linking.decide(w["other_admin"].telegram_id, ivan_link, True)
    with pytest.raises(NotAdmin):
        await linking.decide(424242, ivan_link, True)
    with pytest.raises(NotFound):
        await linking.decide(w["admin"].telegram_id, 999_999, True)

    view = await linking.decide(w["admin"].telegram_id, ivan_link, True)
    assert view.status == "approved" and view.decided_at is not None and view.student_id == w["ivan"].id
    with pytest.raises(AlreadyDecided):
        await linking.decide(w["admin"].telegram_id, ivan_link, False)
    rejected = await linking.decide(REGION_ADMIN_TG, olga_link, False)  # region admin: any school
    assert rejected.status == "rejected"

    async with db.sessions() as s:
        audit = list(await s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        acc = await s.get(Account, w["parent"].id)
        link = await s.get(Link, ivan_link)
    assert link.decided_by == w["admin"].telegram_id
    assert [(a.action, a.target_id, a.actor_telegram_id) for a in audit] == [
        # /pending shows parents' names: every view is audited (issue 6)
        ("links.view", None, w["admin"].telegram_id), ("links.view", None, REGION_ADMIN_TG),
        ("links.view", None, w["other_admin"].telegram_id),
        ("link.approve", str(ivan_link), w["admin"].telegram_id), ("link.reject", str(olga_link), REGION_ADMIN_TG)]
    assert audit[0].details == {"school_id": audit[0].school_id, "count": 2} and audit[1].details["count"] == 2
    assert audit[3].details == {"student_id": w["ivan"].id, "account_id": w["parent"].id,
                                "school_id": audit[3].school_id}
    assert audit[3].school_id is not None and audit[4].school_id is not None
    assert acc.active_student_id == w["ivan"].id

    decisions = await _outbox(db, LINK_DECISION)
    assert [(d.account_id, d.payload["approved"], d.payload["student_id"]) for d in decisions] == [
        (w["parent"].id, True, w["ivan"].id), (w["parent"].id, False, w["olga"].id)]
    assert set(decisions[0].payload) == {"link_id", "student_id", "student_name", "approved"}
    # the admins' request messages about decided links are withdrawn
    assert {r.status for r in await _outbox(db, LINK_REQUEST)} == {CANCELLED}
    assert await linking.pending_for(w["admin"].telegram_id) == []

    # a rejected link can be requested again: a new round, a new admin message
    again = await linking.request_by_phone(w["parent"].id, "+79001234567")
    assert (again.created, again.existing) == (1, 1)
    fresh = [r for r in await _outbox(db, LINK_REQUEST) if r.status == PENDING]
    assert len(fresh) == 1 and fresh[0].payload["link_id"] == olga_link
    assert [p.link_id for p in await linking.pending_for(w["admin"].telegram_id)] == [olga_link]


async def test_invite_codes_issue_redeem_once_and_expire(db):
    w = await _world(db)
    linking = Linking(db.sessions, make_settings())
    with pytest.raises(NotAdmin):
        await linking.issue_codes(w["other_admin"].telegram_id, w["cls"].id)
    with pytest.raises(NotAdmin):
        await linking.issue_codes(424242, w["cls"].id)
    with pytest.raises(NotFound):
        await linking.issue_codes(w["admin"].telegram_id, 999_999)

    first = await linking.issue_codes(w["admin"].telegram_id, w["cls"].id)
    assert [c.student_id for c in first] == [w["ivan"].id]  # the deleted pupil gets none
    codes = await linking.issue_codes(w["admin"].telegram_id, w["cls"].id)  # re-issue invalidates the first
    code = codes[0].code
    assert len(code) == 8 and set(code) <= set(CODE_ALPHABET) and codes[0].student_name == "Иванов Иван Петрович"
    async with db.sessions() as s:
        stored = list(await s.scalars(select(InviteCode)))
        audit = list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "codes.issue")))
    assert all(code not in (r.code_hash or "") for r in stored) and len(stored) == 2
    assert len(audit) == 2 and audit[0].details["count"] == 1 and code not in str(audit[0].details)

    with pytest.raises(InvalidCode):
        await linking.request_by_code(w["parent"].id, first[0].code)
    with pytest.raises(InvalidCode):
        await linking.request_by_code(w["parent"].id, "ZZZZZZZZ")

    view = await linking.request_by_code(w["parent"].id, f" {code[:4].lower()}-{code[4:]} ")
    assert view.status == "pending" and view.method == "code" and view.student_id == w["ivan"].id
    requests = await _outbox(db, LINK_REQUEST)
    assert len(requests) == 1 and requests[0].payload["method"] == "code"
    async with db.sessions.begin() as s:
        other_parent = await seed.add_account(s, first_name="Пётр", username=None)
    with pytest.raises(InvalidCode):
        await linking.request_by_code(other_parent.id, code)

    # expiry
    fresh = await linking.issue_codes(REGION_ADMIN_TG, w["other_cls"].id, ttl_days=1)
    async with db.sessions.begin() as s:
        await s.execute(update(InviteCode).where(InviteCode.used_at.is_(None))
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(InvalidCode):
        await linking.request_by_code(w["parent"].id, fresh[0].code)


async def test_children_active_child_and_forged_ids(db):
    w = await _world(db)
    linking = Linking(db.sessions, make_settings())
    assert await linking.children(w["parent"].id) == []
    assert await linking.active_child(w["parent"].id) is None
    await linking.request_by_phone(w["parent"].id, "+79001234567")
    for p in await linking.pending_for(w["admin"].telegram_id):
        await linking.decide(w["admin"].telegram_id, p.link_id, True)
    kids = await linking.children(w["parent"].id)
    assert [k.full_name for k in kids] == ["Иванов Иван Петрович", "Иванова Ольга Петровна"]
    assert [k.first_name for k in kids] == ["Иван", "Ольга"]
    assert kids[0].class_name == "7А" and kids[0].school_name == w["school"].name
    active = await linking.active_child(w["parent"].id)
    assert active.student_id == kids[0].student_id and active.is_active  # approved first

    chosen = await linking.set_active_child(w["parent"].id, w["olga"].id)
    assert chosen.student_id == w["olga"].id and chosen.is_active
    assert [k.is_active for k in await linking.children(w["parent"].id)] == [False, True]
    for forged in (w["stranger"].id, 999_999):
        with pytest.raises(NotLinked):
            await linking.set_active_child(w["parent"].id, forged)

    # the active child's link revoked: falls back to the first child
    async with db.sessions.begin() as s:
        await s.execute(update(Link).where(Link.student_id == w["olga"].id).values(status="revoked"))
    assert (await linking.active_child(w["parent"].id)).student_id == w["ivan"].id

    async with db.sessions.begin() as s:
        (await s.get(Account, w["parent"].id)).consent_state = "withdrawn"
    with pytest.raises(ConsentRequired):
        await linking.children(w["parent"].id)
