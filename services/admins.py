"""Admins: who may approve links, issue invite codes and appoint other admins.

- Region admins: the Telegram ids in ``settings.admin_telegram_ids`` (configured, need no
  row) plus AdminRole rows with scope "region". They act on every school.
- School admins: AdminRole rows with scope "school" and a school_id. They act on that school.

``school_ref`` in appoint/remove is the journal's **external id** of the school
(School.external_id within ``settings.source``), the id the journal and the demo data show;
the special value ``"*"`` means region scope.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.config import Settings
from services.errors import NotAdmin, NotFound
from storage.models import AdminRole, AuditEntry, School, SchoolClass, Student

log = logging.getLogger(__name__)

REGION, SCHOOL = "region", "school"
REGION_REF = "*"


@dataclass(frozen=True)
class AdminRoleView:
    telegram_id: int
    scope: str  # "school" | "region"
    school_id: int | None
    school_name: str | None


@dataclass(frozen=True)
class SchoolView:
    id: int
    external_id: str
    name: str
    timezone: str


@dataclass(frozen=True)
class ClassView:
    id: int
    name: str
    school_name: str
    pupils: int


def audit(
    s: AsyncSession, *, actor: int | None, action: str, target_type: str | None, target_id: object, details: dict
) -> None:
    """Append one audit entry (ids only, never names, phones, marks or codes).

    ``details["school_id"]``, when given, is also stored as the entry's school: /audit shows a
    school admin the entries of their schools (services/audit.py)."""
    school_id = details.get("school_id") if details else None
    if school_id is None and target_type == "school" and isinstance(target_id, int):
        school_id = target_id
    s.add(AuditEntry(actor_telegram_id=actor, action=action, target_type=target_type,
                     target_id=None if target_id is None else str(target_id), details=details,
                     school_id=school_id if isinstance(school_id, int) else None))


def single_school(scope: frozenset[int] | None) -> int | None:
    """The school of an admin of exactly one school (the school of a list view's audit entry)."""
    return next(iter(scope)) if scope is not None and len(scope) == 1 else None


async def region_admin_ids(s: AsyncSession, settings: Settings) -> set[int]:
    rows = await s.scalars(select(AdminRole.telegram_id).where(AdminRole.scope == REGION))
    return set(settings.admin_telegram_ids) | set(rows)


async def admin_school_ids(s: AsyncSession, settings: Settings, telegram_id: int) -> frozenset[int] | None:
    """None for a region admin (all schools); the ids of live schools for a school admin;
    an empty set for anyone else."""
    if telegram_id in settings.admin_telegram_ids:
        return None
    roles = (await s.execute(
        select(AdminRole.scope, AdminRole.school_id).where(AdminRole.telegram_id == telegram_id)
    )).all()
    if any(scope == REGION for scope, _ in roles):
        return None
    ids = [sid for scope, sid in roles if scope == SCHOOL and sid is not None]
    if not ids:
        return frozenset()
    live = await s.scalars(select(School.id).where(School.id.in_(ids), School.deleted_at.is_(None)))
    return frozenset(live)


async def require_school_admin(s: AsyncSession, settings: Settings, telegram_id: int, school_id: int | None) -> None:
    """NotAdmin unless `telegram_id` may act on `school_id` (None: an unknown school, region only)."""
    scope = await admin_school_ids(s, settings, telegram_id)
    if scope is None:
        return
    if school_id is None or school_id not in scope:
        raise NotAdmin(f"telegram id {telegram_id} is not an admin of school {school_id}")


class Admins:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    def is_region_admin(self, telegram_id: int) -> bool:
        """Synchronous check of the *configured* region admins (ADMIN_TELEGRAM_IDS) only.

        Region admins appointed in the database are seen by `is_region_admin_any`,
        `is_admin` and `school_ids` (which returns None for every region admin)."""
        return telegram_id in self._settings.admin_telegram_ids

    async def is_region_admin_any(self, telegram_id: int) -> bool:
        """Configured or appointed (AdminRole scope "region") region admin."""
        async with self._sessions.begin() as s:
            return await admin_school_ids(s, self._settings, telegram_id) is None

    async def is_admin(self, telegram_id: int) -> bool:
        async with self._sessions.begin() as s:
            scope = await admin_school_ids(s, self._settings, telegram_id)
            return scope is None or bool(scope)

    async def school_ids(self, telegram_id: int) -> frozenset[int] | None:
        """None = all schools (region admin); otherwise the admin's school ids (empty: not an admin)."""
        async with self._sessions.begin() as s:
            return await admin_school_ids(s, self._settings, telegram_id)

    async def _require_region(self, s: AsyncSession, actor_tg: int) -> None:
        if await admin_school_ids(s, self._settings, actor_tg) is not None:
            raise NotAdmin(f"telegram id {actor_tg} is not a region admin")

    async def _school_by_ref(self, s: AsyncSession, school_ref: str) -> School:
        school = await s.scalar(select(School).where(
            School.source == self._settings.source,
            School.external_id == str(school_ref).strip(),
            School.deleted_at.is_(None),
        ))
        if school is None:
            raise NotFound(f"school {school_ref}")
        return school

    async def appoint(self, actor_tg: int, telegram_id: int, school_ref: str) -> AdminRoleView:
        """Make `telegram_id` an admin of the school with external id `school_ref` ("*": region).

        Region admins only (NotAdmin); NotFound for an unknown school; idempotent; audited."""
        async with self._sessions.begin() as s:
            await self._require_region(s, actor_tg)
            school = None if school_ref == REGION_REF else await self._school_by_ref(s, school_ref)
            scope = REGION if school is None else SCHOOL
            school_id = None if school is None else school.id
            existing = await s.scalar(select(AdminRole).where(
                AdminRole.telegram_id == telegram_id,
                AdminRole.scope == scope,
                AdminRole.school_id.is_(None) if school_id is None else AdminRole.school_id == school_id,
            ))
            if existing is None:
                s.add(AdminRole(telegram_id=telegram_id, scope=scope, school_id=school_id, appointed_by=actor_tg))
                audit(s, actor=actor_tg, action="admin.appoint", target_type="admin", target_id=telegram_id,
                            details={"scope": scope, "school_id": school_id})
                await s.flush()
                log.info("admin appointed tg=%s scope=%s school=%s by=%s", telegram_id, scope, school_id, actor_tg)
            return AdminRoleView(telegram_id=telegram_id, scope=scope, school_id=school_id,
                                 school_name=None if school is None else school.name)

    async def remove(self, actor_tg: int, telegram_id: int, school_ref: str) -> bool:
        """Remove an appointment (same `school_ref` rules as appoint); True if one was removed.

        Region admins only; configured region admins (ADMIN_TELEGRAM_IDS) cannot be removed here."""
        async with self._sessions.begin() as s:
            await self._require_region(s, actor_tg)
            school = None if school_ref == REGION_REF else await self._school_by_ref(s, school_ref)
            scope = REGION if school is None else SCHOOL
            school_id = None if school is None else school.id
            result = await s.execute(delete(AdminRole).where(
                AdminRole.telegram_id == telegram_id,
                AdminRole.scope == scope,
                AdminRole.school_id.is_(None) if school_id is None else AdminRole.school_id == school_id,
            ))
            removed = (result.rowcount or 0) > 0
            if removed:
                audit(s, actor=actor_tg, action="admin.remove", target_type="admin", target_id=telegram_id,
                            details={"scope": scope, "school_id": school_id})
                log.info("admin removed tg=%s scope=%s school=%s by=%s", telegram_id, scope, school_id, actor_tg)
            return removed

    async def list_schools(self, actor_tg: int) -> list[SchoolView]:
        """Live schools the actor administers (all for region admins), by name; NotAdmin otherwise."""
        async with self._sessions.begin() as s:
            scope = await admin_school_ids(s, self._settings, actor_tg)
            if scope is not None and not scope:
                raise NotAdmin(f"telegram id {actor_tg} is not an admin")
            stmt = select(School).where(School.deleted_at.is_(None))
            if scope is not None:
                stmt = stmt.where(School.id.in_(scope))
            rows = list(await s.scalars(stmt.order_by(School.name, School.id)))
            audit(s, actor=actor_tg, action="schools.view", target_type=None, target_id=None,
                  details={"school_id": single_school(scope), "count": len(rows)})
            return [SchoolView(id=r.id, external_id=r.external_id, name=r.name, timezone=r.timezone) for r in rows]

    async def list_classes(self, actor_tg: int) -> list[ClassView]:
        """Live classes of the actor's schools with their number of live pupils,
        ordered by school, grade, name; NotAdmin for non-admins."""
        async with self._sessions.begin() as s:
            scope = await admin_school_ids(s, self._settings, actor_tg)
            if scope is not None and not scope:
                raise NotAdmin(f"telegram id {actor_tg} is not an admin")
            pupils = (
                select(Student.source, Student.class_ref, func.count(Student.id).label("n"))
                .where(Student.deleted_at.is_(None))
                .group_by(Student.source, Student.class_ref)
                .subquery()
            )
            stmt = (
                select(SchoolClass, School.name, func.coalesce(pupils.c.n, 0))
                .join(School, and_(School.source == SchoolClass.source, School.external_id == SchoolClass.school_ref))
                .outerjoin(pupils, and_(pupils.c.source == SchoolClass.source,
                                        pupils.c.class_ref == SchoolClass.external_id))
                .where(SchoolClass.deleted_at.is_(None), School.deleted_at.is_(None))
            )
            if scope is not None:
                stmt = stmt.where(School.id.in_(scope))
            rows = (await s.execute(stmt.order_by(School.name, SchoolClass.grade, SchoolClass.name,
                                                  SchoolClass.id))).all()
            audit(s, actor=actor_tg, action="classes.view", target_type=None, target_id=None,
                  details={"school_id": single_school(scope), "count": len(rows)})
            return [ClassView(id=c.id, name=c.name, school_name=name, pupils=int(n)) for c, name, n in rows]
