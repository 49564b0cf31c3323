"""Wiring of the services the bot (and other front ends) use."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.accounts import Accounts
from services.admins import Admins
from services.config import Settings
from services.consent import Consent
from services.diary import Diary
from services.linking import Linking


@dataclass
class Services:
    settings: Settings
    accounts: Accounts
    consent: Consent
    admins: Admins
    linking: Linking
    diary: Diary


def build_services(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Services:
    return Services(
        settings=settings,
        accounts=Accounts(sessions, settings),
        consent=Consent(sessions),
        admins=Admins(sessions, settings),
        linking=Linking(sessions, settings),
        diary=Diary(sessions, settings),
    )
