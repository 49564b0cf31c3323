"""Shared fixtures: fresh migrated databases on SQLite and on a real PostgreSQL.

Each backend is migrated once per test session into a template (a file for SQLite, a
template database for PostgreSQL); every test gets its own copy, so tests never share rows.
PostgreSQL is at TEST_PG_DSN (default the local server). Without it the PostgreSQL cases
are skipped locally and fail under CI=true.
"""
from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade

PG_DSN = os.environ.get("TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
_counter = itertools.count()


@dataclass
class Db:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    backend: str


def _pg_url(dbname: str) -> str:
    base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{dbname}"


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite3"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_template():
    name = f"ediary_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no PostgreSQL here"
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI but unreachable at {PG_DSN}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_DSN}: {exc}")
    asyncio.run(_migrate(_pg_url(name)))
    yield name
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def new_sqlite_url(template: Path, tmp_path: Path) -> str:
    path = tmp_path / f"db{next(_counter)}.sqlite3"
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


def new_pg_database(template: str) -> str:
    name = f"ediary_t_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return name


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    return new_sqlite_url(sqlite_template, tmp_path)


@pytest.fixture
def pg_url(pg_template):
    name = new_pg_database(pg_template)
    yield _pg_url(name)
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request) -> str:
    """A fresh migrated database URL on each backend."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


async def _make_db(url: str) -> Db:
    engine = create_engine(url)
    backend = "sqlite" if url.startswith("sqlite") else "postgres"
    return Db(url=url, engine=engine, sessions=create_session_factory(engine), backend=backend)


@pytest.fixture
async def db(db_url):
    """A fresh migrated database on each backend (the test runs twice)."""
    d = await _make_db(db_url)
    yield d
    await d.engine.dispose()


@pytest.fixture
async def sqlite_db(sqlite_url):
    d = await _make_db(sqlite_url)
    yield d
    await d.engine.dispose()


@pytest.fixture
async def pg_db(pg_url):
    d = await _make_db(pg_url)
    yield d
    await d.engine.dispose()
