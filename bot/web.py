"""The service's own HTTP endpoint (aiohttp): health check, and the routes features add
(the journal's push endpoint, metrics). Started by `bot/app.py` when HTTP_ENABLED."""
from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from services.config import Settings
from services.container import Services
from services.delivery import add_metrics_route
from services.sync.push import add_push_route

log = logging.getLogger(__name__)

#: Push bodies are at most 5 MiB (contract section 3); a little more for the envelope.
MAX_BODY = 5 * 1024 * 1024 + 1024

RouteAdder = Callable[[web.Application, Services], None]


async def _healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def route_adders() -> list[RouteAdder]:
    """Every feature's routes; add one line per feature."""
    return [
        add_push_route,  # journal push endpoint POST /journal/v1/push (issue 5)
        add_metrics_route,  # one-day rule metrics GET /metrics (issue 5)
    ]


def build_web_app(services: Services) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_get("/healthz", _healthz)
    for add in route_adders():
        add(app, services)
    return app


async def start_web(settings: Settings, services: Services) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(build_web_app(services), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}"
    log.info("HTTP endpoint at %s", url)
    return runner, url
