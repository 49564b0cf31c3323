"""The single place that assembles the aiogram Dispatcher: storage, middleware, routers."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Dispatcher
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage

from bot.handlers import build_router
from bot.middlewares import AccountMiddleware

if TYPE_CHECKING:
    from services.container import Services


def create_dispatcher(services: Services, *, storage: BaseStorage | None = None) -> Dispatcher:
    """A dispatcher serving private chats with `services` (``dp["services"]``).

    `storage` holds FSM state: MemoryStorage by default; pass a RedisStorage when several
    webhook replicas run."""
    dp = Dispatcher(storage=storage or MemoryStorage())
    dp["services"] = services
    account = AccountMiddleware()
    dp.message.outer_middleware(account)
    dp.callback_query.outer_middleware(account)
    dp.include_router(build_router())
    return dp
