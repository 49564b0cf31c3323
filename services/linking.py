"""Linking accounts to students: requests (by phone or invite code), admin decisions, children.

A link is `pending` until an admin of the student's school (or a region admin) approves it.
Requests notify the school's admins through the outbox (`link_request`); decisions notify
the parent (`link_decision`). Every admin decision is audited with ids only.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.access import require_linked_student
from services.accounts import load_account
from services.admins import admin_school_ids, audit, region_admin_ids, require_school_admin, single_school
from services.config import Settings
from services.errors import AlreadyDecided, ConsentRequired, InvalidCode, NotAdmin, NotFound
from services.notify.kinds import LINK_DECISION, LINK_REQUEST
from services.notify.outbox import cancel_pending, enqueue
from services.phones import normalize_phone
from storage.models import (
    Account,
    AdminRole,
    Guardian,
    InviteCode,
    Link,
    School,
    SchoolClass,
    Student,
    utcnow,
)

__all__ = [
    "ChildView", "IssuedCode", "LinkView", "Linking", "PendingLinkView", "PhoneLinkResult",
    "CODE_ALPHABET", "CODE_LENGTH", "normalize_code", "normalize_phone",
]

log = logging.getLogger(__name__)

PENDING, APPROVED, REJECTED, REVOKED = "pending", "approved", "rejected", "revoked"
METHOD_PHONE, METHOD_CODE = "phone", "code"

#: Invite code alphabet: no 0/O, 1/I (nor L) to survive being read aloud or printed.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


# --------------------------------------------------------------------------- DTOs


@dataclass(frozen=True)
class PhoneLinkResult:
    created: int  # new pending requests (including re-requests after a rejection)
    existing: int  # links that were already pending or approved, left as they are
    matched: bool  # the phone belongs to a guardian with at least one live pupil


@dataclass(frozen=True)
class LinkView:
    id: int
    account_id: int
    student_id: int
    student_name: str
    status: str  # pending | approved | rejected | revoked
    method: str  # phone | code
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class IssuedCode:
    student_id: int
    student_name: str
    code: str  # 8 characters, shown once; only its sha256 is stored


@dataclass(frozen=True)
class PendingLinkView:
    link_id: int
    student_name: str
    class_name: str
    school_name: str
    parent_name: str | None
    parent_username: str | None
    method: str
    created_at: datetime


@dataclass(frozen=True)
class ChildView:
    student_id: int
    full_name: str
    first_name: str
    class_name: str
    school_name: str
    is_active: bool


# --------------------------------------------------------------------------- helpers


def normalize_code(raw: str | None) -> str | None:
    """Upper case without spaces, dashes and underscores; None unless it can be a code."""
    if raw is None:
        return None
    code = "".join(ch for ch in str(raw).upper() if ch not in " \t\r\n-_–—")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def first_name_of(full_name: str) -> str:
    """The given name from a journal full name in Russian order "Фамилия Имя Отчество"."""
    parts = full_name.split()
    if len(parts) >= 2:
        return parts[1]
    return parts[0] if parts else full_name


def _round(link: Link) -> str:
    """Identifies one request round of a link (a re-request after a rejection is a new round)."""
    return str(int(link.created_at.timestamp() * 1_000_000))


def _link_view(link: Link, student: Student) -> LinkView:
    return LinkView(id=link.id, account_id=link.account_id, student_id=link.student_id,
                    student_name=student.full_name, status=link.status, method=link.method,
                    created_at=link.created_at, decided_at=link.decided_at)


async def _class_and_school(s: AsyncSession, student: Student) -> tuple[SchoolClass | None, School | None]:
    cls = await s.scalar(select(SchoolClass).where(
        SchoolClass.source == student.source, SchoolClass.external_id == student.class_ref,
        SchoolClass.deleted_at.is_(None)))
    school = await s.scalar(select(School).where(
        School.source == student.source, School.external_id == student.school_ref, School.deleted_at.is_(None)))
    return cls, school


def _require_granted(account: Account) -> None:
    if account.consent_state != "granted":
        raise ConsentRequired(f"account {account.id}")


# --------------------------------------------------------------------------- service


class Linking:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    # ---- requests

    async def request_by_phone(self, account_id: int, phone: str) -> PhoneLinkResult:
        """Request links to every live pupil of the guardians with this phone.

        Call it only with a number proven to be the sender's own (a shared contact whose
        user_id is the sender). Needs consent (ConsentRequired); NotFound for an unknown
        account. A number that cannot be normalised gives matched=False."""
        async with self._sessions.begin() as s:
            account = await load_account(s, account_id, lock=True)
            _require_granted(account)
            digits = normalize_phone(phone)
            if digits is None:
                log.info("phone link: unparsable phone account=%s", account.id)
                return PhoneLinkResult(created=0, existing=0, matched=False)
            account.phone_digits = digits
            guardians = (await s.scalars(select(Guardian).where(
                Guardian.phone_digits == digits, Guardian.deleted_at.is_(None)
            ).order_by(Guardian.id))).all()
            students: dict[int, tuple[Student, str]] = {}
            for g in guardians:
                refs = [str(r) for r in (g.student_refs or [])]
                if not refs:
                    continue
                rows = await s.scalars(select(Student).where(
                    Student.source == g.source, Student.external_id.in_(refs), Student.deleted_at.is_(None)
                ).order_by(Student.full_name, Student.id))
                for st in rows:
                    students.setdefault(st.id, (st, g.external_id))
            created = existing = 0
            for student, guardian_ref in students.values():
                _, is_new = await self._request_link(s, account, student, METHOD_PHONE, guardian_ref)
                if is_new:
                    created += 1
                else:
                    existing += 1
            log.info("phone link account=%s guardians=%s created=%s existing=%s",
                     account.id, len(guardians), created, existing)
            return PhoneLinkResult(created=created, existing=existing, matched=bool(students))

    async def request_by_code(self, account_id: int, code: str) -> LinkView:
        """Redeem an invite code: a pending link (method "code") to its pupil; admins are notified.

        Needs consent (ConsentRequired). Unknown, used, invalidated or expired codes, and codes
        of deleted pupils, give InvalidCode. A code whose pupil is already linked to this
        account (approved) is not consumed; the approved link is returned."""
        async with self._sessions.begin() as s:
            account = await load_account(s, account_id, lock=True)
            _require_granted(account)
            normalized = normalize_code(code)
            if normalized is None:
                log.info("code link: malformed code account=%s", account.id)
                raise InvalidCode("malformed")
            row = await s.scalar(select(InviteCode).where(InviteCode.code_hash == hash_code(normalized)))
            now = utcnow()
            if row is None or row.used_at is not None or row.expires_at <= now:
                log.info("code link: invalid code account=%s", account.id)
                raise InvalidCode("unknown, used or expired")
            student = await s.scalar(select(Student).where(Student.id == row.student_id, Student.deleted_at.is_(None)))
            if student is None:
                raise InvalidCode("pupil no longer exists")
            link = await s.scalar(select(Link).where(Link.account_id == account.id, Link.student_id == student.id))
            if link is not None and link.status == APPROVED:
                return _link_view(link, student)
            used = await s.execute(
                update(InviteCode)
                .where(InviteCode.id == row.id, InviteCode.used_at.is_(None))
                .values(used_at=now, used_by_account_id=account.id)
                .execution_options(synchronize_session=False)
            )
            if (used.rowcount or 0) == 0:
                raise InvalidCode("used concurrently")
            link, _ = await self._request_link(s, account, student, METHOD_CODE, None, renew_pending=True)
            log.info("code link account=%s link=%s", account.id, link.id)
            return _link_view(link, student)

    async def _request_link(
        self, s: AsyncSession, account: Account, student: Student, method: str, guardian_ref: str | None,
        *, renew_pending: bool = False,
    ) -> tuple[Link, bool]:
        """Create or renew a pending link and notify admins; (link, new request round?)."""
        now = utcnow()
        link = await s.scalar(select(Link).where(Link.account_id == account.id, Link.student_id == student.id))
        if link is None:
            try:
                async with s.begin_nested():
                    link = Link(account_id=account.id, student_id=student.id, status=PENDING, method=method,
                                guardian_ref=guardian_ref, created_at=now)
                    s.add(link)
                    await s.flush()
            except IntegrityError:  # a concurrent request created it
                link = await s.scalar(select(Link).where(Link.account_id == account.id,
                                                         Link.student_id == student.id))
                assert link is not None
                return link, False
        elif link.status in (REJECTED, REVOKED) or (renew_pending and link.status == PENDING):
            link.status = PENDING
            link.method = method
            if guardian_ref is not None:
                link.guardian_ref = guardian_ref
            link.created_at = now
            link.decided_at = None
            link.decided_by = None
            await s.flush()
        else:
            return link, False
        await self._notify_admins(s, link, student, account)
        return link, True

    async def _notify_admins(self, s: AsyncSession, link: Link, student: Student, account: Account) -> int:
        cls, school = await _class_and_school(s, student)
        recipients: list[Account] = []
        if school is not None:
            school_tgs = select(AdminRole.telegram_id).where(AdminRole.scope == "school",
                                                             AdminRole.school_id == school.id)
            recipients = list(await s.scalars(select(Account).where(
                Account.telegram_id.in_(school_tgs), Account.is_active.is_(True)).order_by(Account.id)))
        if not recipients:
            region = await region_admin_ids(s, self._settings)
            if region:
                recipients = list(await s.scalars(select(Account).where(
                    Account.telegram_id.in_(sorted(region)), Account.is_active.is_(True)).order_by(Account.id)))
        payload = {
            "link_id": link.id,
            "student_name": student.full_name,
            "class_name": cls.name if cls else "",
            "school_name": school.name if school else "",
            "parent_name": account.first_name,
            "parent_username": account.username,
            "method": link.method,
        }
        round_key = _round(link)
        for admin in recipients:
            await enqueue(s, account_id=admin.id, kind=LINK_REQUEST, payload=dict(payload),
                          dedupe_key=f"link_request:{link.id}:{admin.id}:{round_key}",
                          topic=f"link_request:{link.id}")
        log.info("link request link=%s student=%s admins=%s", link.id, student.id, len(recipients))
        if not recipients:
            log.warning("link request link=%s: no admin with a chat to notify", link.id)
        return len(recipients)

    # ---- invite codes

    async def issue_codes(self, actor_tg: int, class_id: int, ttl_days: int = 30) -> list[IssuedCode]:
        """One fresh code per live pupil of the class (by name); earlier unused codes of these
        pupils stop working. Only admins of the class's school (NotAdmin); NotFound for an
        unknown or deleted class. Codes are returned once and stored as sha256 only."""
        if ttl_days <= 0:
            raise ValueError("ttl_days must be positive")
        async with self._sessions.begin() as s:
            scope = await admin_school_ids(s, self._settings, actor_tg)
            if scope is not None and not scope:
                raise NotAdmin(f"telegram id {actor_tg} is not an admin")
            cls = await s.scalar(select(SchoolClass).where(SchoolClass.id == class_id,
                                                           SchoolClass.deleted_at.is_(None)))
            if cls is None:
                raise NotFound(f"class {class_id}")
            school_id = await s.scalar(select(School.id).where(
                School.source == cls.source, School.external_id == cls.school_ref, School.deleted_at.is_(None)))
            await require_school_admin(s, self._settings, actor_tg, school_id)
            pupils = list(await s.scalars(select(Student).where(
                Student.source == cls.source, Student.class_ref == cls.external_id, Student.deleted_at.is_(None)
            ).order_by(Student.full_name, Student.id)))
            now = utcnow()
            if pupils:
                await s.execute(
                    update(InviteCode)
                    .where(InviteCode.student_id.in_([p.id for p in pupils]), InviteCode.used_at.is_(None),
                           InviteCode.expires_at > now)
                    .values(expires_at=now)
                    .execution_options(synchronize_session=False)
                )
            expires = now + timedelta(days=ttl_days)
            issued: list[IssuedCode] = []
            for p in pupils:
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                s.add(InviteCode(code_hash=hash_code(code), student_id=p.id, created_by=actor_tg,
                                 created_at=now, expires_at=expires))
                issued.append(IssuedCode(student_id=p.id, student_name=p.full_name, code=code))
            audit(s, actor=actor_tg, action="codes.issue", target_type="class", target_id=cls.id,
                  details={"school_id": school_id, "count": len(issued), "ttl_days": ttl_days})
            await s.flush()
            log.info("codes issued class=%s count=%s by=%s", cls.id, len(issued), actor_tg)
            return issued

    # ---- decisions

    async def decide(self, actor_tg: int, link_id: int, approve: bool) -> LinkView:
        """Approve or reject a pending link; audited; the parent gets `link_decision`.

        NotAdmin if the actor is not an admin of the student's school (region admins: any);
        NotFound for an unknown link or a deleted pupil; AlreadyDecided if not pending."""
        async with self._sessions.begin() as s:
            scope = await admin_school_ids(s, self._settings, actor_tg)
            if scope is not None and not scope:
                raise NotAdmin(f"telegram id {actor_tg} is not an admin")
            link = await s.get(Link, link_id)
            if link is None:
                raise NotFound(f"link {link_id}")
            student = await s.get(Student, link.student_id)
            if student is None or student.deleted_at is not None:
                raise NotFound(f"link {link_id}: pupil deleted")
            _, school = await _class_and_school(s, student)
            await require_school_admin(s, self._settings, actor_tg, school.id if school else None)
            if link.status != PENDING:
                raise AlreadyDecided(f"link {link_id} is {link.status}")
            now = utcnow()
            status = APPROVED if approve else REJECTED
            result = await s.execute(
                update(Link).where(Link.id == link.id, Link.status == PENDING)
                .values(status=status, decided_at=now, decided_by=actor_tg)
                .execution_options(synchronize_session=False)
            )
            if (result.rowcount or 0) == 0:
                raise AlreadyDecided(f"link {link_id} decided concurrently")
            await s.refresh(link)
            audit(s, actor=actor_tg, action="link.approve" if approve else "link.reject", target_type="link",
                  target_id=link.id, details={"student_id": link.student_id, "account_id": link.account_id,
                                              "school_id": school.id if school else None})
            await cancel_pending(s, topic=f"link_request:{link.id}", reason="decided")
            await enqueue(
                s, account_id=link.account_id, kind=LINK_DECISION,
                payload={"link_id": link.id, "student_id": student.id, "student_name": student.full_name,
                         "approved": bool(approve)},
                dedupe_key=f"link_decision:{link.id}:{_round(link)}",
                topic=f"link_decision:{link.id}",
            )
            if approve:
                account = await load_account(s, link.account_id, lock=True)
                if not await self._has_valid_active(s, account):
                    account.active_student_id = student.id
            await s.flush()
            log.info("link %s link=%s student=%s account=%s by=%s", status, link.id, link.student_id,
                     link.account_id, actor_tg)
            return _link_view(link, student)

    async def _has_valid_active(self, s: AsyncSession, account: Account) -> bool:
        if account.active_student_id is None:
            return False
        found = await s.scalar(select(Link.id).join(Student, Student.id == Link.student_id).where(
            Link.account_id == account.id, Link.student_id == account.active_student_id,
            Link.status == APPROVED, Student.deleted_at.is_(None)))
        return found is not None

    async def pending_for(self, actor_tg: int) -> list[PendingLinkView]:
        """Pending links of live pupils in the actor's schools, oldest first; NotAdmin otherwise."""
        async with self._sessions.begin() as s:
            scope = await admin_school_ids(s, self._settings, actor_tg)
            if scope is not None and not scope:
                raise NotAdmin(f"telegram id {actor_tg} is not an admin")
            stmt = (
                select(Link, Student, Account, SchoolClass.name, School.name)
                .join(Student, Student.id == Link.student_id)
                .join(Account, Account.id == Link.account_id)
                .outerjoin(SchoolClass, and_(SchoolClass.source == Student.source,
                                             SchoolClass.external_id == Student.class_ref,
                                             SchoolClass.deleted_at.is_(None)))
                .outerjoin(School, and_(School.source == Student.source,
                                        School.external_id == Student.school_ref,
                                        School.deleted_at.is_(None)))
                .where(Link.status == PENDING, Student.deleted_at.is_(None))
                .order_by(Link.created_at, Link.id)
            )
            if scope is not None:
                stmt = stmt.where(School.id.in_(scope))
            rows = (await s.execute(stmt)).all()
            audit(s, actor=actor_tg, action="links.view", target_type=None, target_id=None,
                  details={"school_id": single_school(scope), "count": len(rows)})
            return [
                PendingLinkView(link_id=link.id, student_name=st.full_name, class_name=cname or "",
                                school_name=sname or "", parent_name=acc.first_name,
                                parent_username=acc.username, method=link.method, created_at=link.created_at)
                for link, st, acc, cname, sname in rows
            ]

    # ---- children of a parent

    async def _children(self, s: AsyncSession, account: Account) -> list[ChildView]:
        rows = (await s.execute(
            select(Student, SchoolClass.name, School.name)
            .join(Link, Link.student_id == Student.id)
            .outerjoin(SchoolClass, and_(SchoolClass.source == Student.source,
                                         SchoolClass.external_id == Student.class_ref,
                                         SchoolClass.deleted_at.is_(None)))
            .outerjoin(School, and_(School.source == Student.source,
                                    School.external_id == Student.school_ref,
                                    School.deleted_at.is_(None)))
            .where(Link.account_id == account.id, Link.status == APPROVED, Student.deleted_at.is_(None))
            .order_by(Student.full_name, Student.id)
        )).all()
        ids = [st.id for st, _, _ in rows]
        active = account.active_student_id if account.active_student_id in ids else (ids[0] if ids else None)
        return [
            ChildView(student_id=st.id, full_name=st.full_name, first_name=first_name_of(st.full_name),
                      class_name=cname or "", school_name=sname or "", is_active=st.id == active)
            for st, cname, sname in rows
        ]

    async def children(self, account_id: int) -> list[ChildView]:
        """The account's approved, live children by name; is_active marks the active one
        (the first child when none is set or the set one is no longer linked).

        ConsentRequired without a granted consent; NotFound for an unknown account."""
        async with self._sessions.begin() as s:
            account = await load_account(s, account_id)
            _require_granted(account)
            return await self._children(s, account)

    async def set_active_child(self, account_id: int, student_id: int) -> ChildView:
        """Make a linked child the active one; NotLinked for any other id."""
        async with self._sessions.begin() as s:
            student = await require_linked_student(s, account_id, student_id)
            account = await load_account(s, account_id, lock=True)
            account.active_student_id = student.id
            await s.flush()
            for child in await self._children(s, account):
                if child.student_id == student.id:
                    return child
            raise AssertionError("linked child missing from children()")  # pragma: no cover

    async def active_child(self, account_id: int) -> ChildView | None:
        """The active child (see children()), or None when the account has no approved link."""
        async with self._sessions.begin() as s:
            account = await load_account(s, account_id)
            _require_granted(account)
            for child in await self._children(s, account):
                if child.is_active:
                    return child
            return None
