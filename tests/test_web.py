"""The service's HTTP endpoint answers its health check."""
from __future__ import annotations

import aiohttp

from bot.web import start_web
from services.config import Settings
from services.container import build_services


async def test_healthz(sqlite_db):
    settings = Settings(_env_file=None, http_port=0)
    runner, url = await start_web(settings, build_services(sqlite_db.sessions, settings))
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as resp:
            assert resp.status == 200 and (await resp.json()) == {"ok": True}
    finally:
        await runner.cleanup()
