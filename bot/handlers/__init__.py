"""Handler routers, combined in one visible order; the catch-all router goes last."""
from __future__ import annotations

from aiogram import Router

from bot.handlers import admin, diary, errors, fallback, linking, start


def build_router() -> Router:
    """A fresh router tree (factories, so several dispatchers can coexist, e.g. in tests)."""
    root = Router(name="handlers")
    root.include_routers(
        errors.router(),
        start.router(),
        admin.router(),
        linking.router(),
        diary.router(),
        fallback.router(),  # last: catches everything the others left
    )
    return root
