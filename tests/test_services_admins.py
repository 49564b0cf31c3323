"""Admins: region and school scopes, appointments, schools and classes."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from services.admins import Admins
from services.errors import NotAdmin, NotFound
from storage.models import AuditEntry
from tests import seed
from tests.seed import REGION_ADMIN_TG, make_settings


async def test_scopes_appoint_remove_and_listings(db):
    async with db.sessions.begin() as s:
        school = await seed.add_school(s, "МБОУ «СОШ № 1» г. Сургут", external_id="sch-surgut-1")
        other = await seed.add_school(s, "МБОУ «Гимназия № 2» г. Ханты-Мансийск", external_id="sch-hm-2")
        c7 = await seed.add_class(s, school, "7А", 7)
        await seed.add_class(s, school, "10Б", 10)
        await seed.add_class(s, other, "5В", 5)
        await seed.add_student(s, c7, "Иванов Иван Петрович")
        await seed.add_student(s, c7, "Сидорова Анна Игоревна")
        await seed.add_student(s, c7, "Кузнецов Павел Андреевич", deleted=True)
    admins = Admins(db.sessions, make_settings())
    head = 7_000_001

    assert admins.is_region_admin(REGION_ADMIN_TG) and not admins.is_region_admin(head)
    assert await admins.school_ids(REGION_ADMIN_TG) is None
    assert await admins.school_ids(head) == frozenset()
    assert not await admins.is_admin(head)
    with pytest.raises(NotAdmin):
        await admins.list_classes(head)
    with pytest.raises(NotAdmin):
        await admins.appoint(head, head, "sch-surgut-1")

    role = await admins.appoint(REGION_ADMIN_TG, head, "sch-surgut-1")
    assert (role.scope, role.school_id, role.school_name) == ("school", school.id, school.name)
    assert await admins.appoint(REGION_ADMIN_TG, head, "sch-surgut-1") == role  # idempotent
    with pytest.raises(NotFound):
        await admins.appoint(REGION_ADMIN_TG, head, "no-such-school")
    assert await admins.is_admin(head)
    assert await admins.school_ids(head) == frozenset({school.id})
    with pytest.raises(NotAdmin):  # a school admin cannot appoint
        await admins.appoint(head, 7_000_002, "sch-surgut-1")

    assert [x.name for x in await admins.list_schools(head)] == [school.name]
    assert len(await admins.list_schools(REGION_ADMIN_TG)) == 2
    classes = await admins.list_classes(head)
    assert [(c.name, c.pupils, c.school_name) for c in classes] == [("7А", 2, school.name), ("10Б", 0, school.name)]
    assert len(await admins.list_classes(REGION_ADMIN_TG)) == 3

    deputy = await admins.appoint(REGION_ADMIN_TG, 7_000_003, "*")
    assert deputy.scope == "region" and deputy.school_id is None
    assert await admins.is_region_admin_any(7_000_003) and not admins.is_region_admin(7_000_003)
    assert await admins.school_ids(7_000_003) is None

    assert await admins.remove(REGION_ADMIN_TG, head, "sch-surgut-1") is True
    assert await admins.remove(REGION_ADMIN_TG, head, "sch-surgut-1") is False
    assert not await admins.is_admin(head)

    async with db.sessions() as s:
        audit = [(a.action, a.target_id, a.details) for a in await s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert audit == [
        ("admin.appoint", str(head), {"scope": "school", "school_id": school.id}),
        # listings are admin actions too (issue 6): audited with their school and size
        ("schools.view", None, {"school_id": school.id, "count": 1}),
        ("schools.view", None, {"school_id": None, "count": 2}),
        ("classes.view", None, {"school_id": school.id, "count": 2}),
        ("classes.view", None, {"school_id": None, "count": 3}),
        ("admin.appoint", "7000003", {"scope": "region", "school_id": None}),
        ("admin.remove", str(head), {"scope": "school", "school_id": school.id}),
    ]
