"""Accounts: Telegram users of the bot (parents and admins)."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.config import Settings
from services.errors import NotFound
from storage.models import Account

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccountView:
    id: int
    telegram_id: int
    chat_id: int
    first_name: str | None
    username: str | None
    language: str  # "ru" | "en"
    consent_state: str  # none | granted | refused | withdrawn
    consent_version: str | None
    active_student_id: int | None
    is_active: bool


def account_view(a: Account) -> AccountView:
    return AccountView(
        id=a.id,
        telegram_id=a.telegram_id,
        chat_id=a.chat_id,
        first_name=a.first_name,
        username=a.username,
        language=a.language,
        consent_state=a.consent_state,
        consent_version=a.consent_version,
        active_student_id=a.active_student_id,
        is_active=a.is_active,
    )


async def load_account(s: AsyncSession, account_id: int, *, lock: bool = False) -> Account:
    """The account row or NotFound; `lock` takes a row lock (PostgreSQL) for a read-modify-write."""
    account = await s.get(Account, account_id, with_for_update=lock or None)
    if account is None:
        raise NotFound(f"account {account_id}")
    return account


def language_from_code(language_code: str | None) -> str:
    return "en" if (language_code or "").lower().startswith("en") else "ru"


class Accounts:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    async def touch(
        self,
        *,
        telegram_id: int,
        chat_id: int,
        first_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> AccountView:
        """Create or refresh the account of a Telegram user; call it on every update.

        The language is chosen once, at creation; a user marked inactive (blocked the bot)
        who writes again becomes active."""
        async with self._sessions.begin() as s:
            account = await s.scalar(select(Account).where(Account.telegram_id == telegram_id))
            if account is None:
                try:
                    async with s.begin_nested():
                        account = Account(
                            telegram_id=telegram_id,
                            chat_id=chat_id,
                            first_name=first_name,
                            username=username,
                            language=language_from_code(language_code),
                            consent_state="none",
                            is_active=True,
                        )
                        s.add(account)
                        await s.flush()
                    log.info("account created id=%s", account.id)
                    return account_view(account)
                except IntegrityError:  # a concurrent update created it first
                    account = await s.scalar(select(Account).where(Account.telegram_id == telegram_id))
                    assert account is not None
            changed = (
                account.chat_id != chat_id
                or account.first_name != first_name
                or account.username != username
                or not account.is_active
            )
            if changed:
                if not account.is_active:
                    log.info("account reactivated id=%s", account.id)
                account.chat_id = chat_id
                account.first_name = first_name
                account.username = username
                account.is_active = True
                account.inactive_reason = None
                await s.flush()
            return account_view(account)

    async def get(self, account_id: int) -> AccountView:
        """The account; NotFound if there is none."""
        async with self._sessions.begin() as s:
            return account_view(await load_account(s, account_id))

    async def by_telegram_id(self, telegram_id: int) -> AccountView | None:
        """The account of a Telegram user, or None if they never wrote to the bot."""
        async with self._sessions.begin() as s:
            account = await s.scalar(select(Account).where(Account.telegram_id == telegram_id))
            return account_view(account) if account is not None else None
