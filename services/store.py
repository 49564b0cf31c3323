"""Opening the database for the service: engine, pending migrations, session factory."""
from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.config import Settings
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade

log = logging.getLogger(__name__)


async def open_database(settings: Settings, stack: AsyncExitStack) -> async_sessionmaker[AsyncSession]:
    engine = create_engine(settings.database_url)
    stack.push_async_callback(engine.dispose)
    if settings.auto_migrate:
        await upgrade(engine)
        log.info("database schema is up to date")
    return create_session_factory(engine)
