"""Handler routers, combined in one visible order; the catch-all router goes last."""
from __future__ import annotations

from aiogram import Router

from bot.handlers import (
    admin,
    contacts,  # contacts, e-mail, paper (issue 6)
    diary,
    errors,
    fallback,
    linking,
    privacy,  # consent lifecycle, erasure, audit (issue 6)
    reports,  # admin reports and the one-day rule (issue 5)
    results,  # term results (issue 5)
    settings,  # notification settings (issue 4)
    start,
)


def build_router() -> Router:
    """A fresh router tree (factories, so several dispatchers can coexist, e.g. in tests)."""
    root = Router(name="handlers")
    root.include_routers(
        errors.router(),
        start.router(),
        admin.router(),
        linking.router(),
        diary.router(),
        contacts.router(),
        results.router(),  # term results (issue 5)
        settings.router(),  # notification settings (issue 4)
        reports.router(),  # admin reports and the one-day rule (issue 5)
        privacy.router(),  # consent lifecycle, erasure, audit (issue 6)
        fallback.router(),  # last: catches everything the others left
    )
    return root
