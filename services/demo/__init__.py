"""A demo exchange-v1 journal: an in-memory provider, its HTTP server and a generated school.

Only stdlib, aiohttp and zoneinfo: no bot, no storage. Names are imported lazily so that
``python -m services.demo.journal`` runs cleanly.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "BadCursor": "feed", "ChangeFeed": "feed",
    "JournalServer": "server",
    "generate_school": "school", "demo_guardians": "school", "guardian_phones": "school",
    "make_new_mark": "ticker",
    "DemoJournal": "journal", "populate_feed": "journal",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
