"""Models and migrations must not drift, on either backend."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.models import Base
from storage.migrate import upgrade


def _diff(connection):
    ctx = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(ctx, Base.metadata)


async def test_models_match_migrations(db):
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == [], f"models and migrations drift on {db.backend}: {diff}"


async def test_upgrade_is_idempotent(db):
    await upgrade(db.engine)
    await upgrade(db.engine)
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


def test_migrations_form_one_line():
    """One head, no branches: operators upgrade along a single, ordered history."""
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert all(len(rev._all_down_revisions) <= 1 for rev in script.walk_revisions())
