"""The sandbox: the whole service, with Telegram replaced by a page in the browser.

`python -m bot` without BOT_TOKEN (and SANDBOX not ``off``) comes here. One process holds:
the local Bot API server (:class:`LocalBotApi`) with the web chat on the same port, the demo
journal with a teacher who keeps saving marks, and the service itself — the very
`run_service` of production, pointed at the local server with a fixed token. Nothing is kept:
a fresh SQLite database in a temporary directory each start, chats in memory.
"""
from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path

from pydantic import SecretStr

from bot.app import run_service
from bot.sandbox.marks import SandboxTeacher
from bot.sandbox.people import REGION_ADMIN_IDS, People
from bot.sandbox.telegram_server import LocalBotApi
from bot.sandbox.web import SandboxWeb
from services.config import Settings
from services.demo.journal import DemoJournal

log = logging.getLogger("ediary.sandbox")

BOT_ID = 7000000001
SANDBOX_TOKEN = f"{BOT_ID}:sandbox-local-token"
#: Livelier than production unless set to other values: a new mark a minute, the journal polled
#: every 5 s, a mark held 10 s for corrections (not 10 min), no quiet hours (a visitor at 22:00
#: should still see the mark arrive).
SANDBOX_DEFAULTS: dict[str, object] = {
    "demo_mark_every_seconds": 60.0,
    "journal_poll_seconds": 5.0,
    "notify_grace_seconds": 10.0,
    "notify_coalesce_seconds": 5.0,
    "notify_quiet_hours": "",
}


class SandboxUnavailable(Exception):
    """The sandbox cannot start (port taken, non-loopback host); the message says what to do."""


def sandbox_value(settings: Settings, name: str) -> object:
    """A setting as the sandbox uses it: the sandbox's default where the setting holds the
    production default (unset, or copied from .env.example), else the value chosen."""
    value = getattr(settings, name)
    if name in SANDBOX_DEFAULTS and value == type(settings).model_fields[name].default:
        return SANDBOX_DEFAULTS[name]
    return value


def service_settings(
    settings: Settings, *, api_url: str, database_url: str, journal: DemoJournal | None
) -> Settings:
    """The settings `run_service` gets in the sandbox: the local Bot API server and its token,
    the sandbox's database, its region admins added, the demo journal it started."""
    values = settings.model_dump()
    values.update(
        bot_token=SecretStr(SANDBOX_TOKEN),
        telegram_api_url=api_url,
        database_url=database_url,
        admin_telegram_ids=frozenset(settings.admin_telegram_ids) | frozenset(REGION_ADMIN_IDS),
    )
    values.update({name: sandbox_value(settings, name) for name in SANDBOX_DEFAULTS if name in values})
    if journal is not None:
        assert journal.url is not None
        values.update(
            journal_url=journal.url,
            journal_token=SecretStr(journal.token),
            journal_source=settings.journal_source or "demo",
        )
    return type(settings)(_env_file=None, **values)


def banner(url: str) -> str:
    return (
        "ediary sandbox: no BOT_TOKEN is set, so the bot talks to a local stand-in for Telegram.\n"
        f"Open {url}/ in a browser to chat with it as a parent or an admin. "
        "Ctrl+C stops; nothing is kept.\n"
        "(With BOT_TOKEN set the real service starts; SANDBOX=off turns this page off.)"
    )


async def run_sandbox(settings: Settings, stop: asyncio.Event) -> None:
    """Run the sandbox until `stop` is set; raises SandboxUnavailable if it cannot start."""
    async with AsyncExitStack() as stack:
        api = LocalBotApi(
            token=SANDBOX_TOKEN, rate_limits=settings.sandbox_rate_limits, bot_id=BOT_ID,
            bot_username="ediary_sandbox_bot", bot_name="ediary",
        )
        journal = teacher = None
        guardians: list[dict] = []
        if settings.uses_demo_journal:
            journal = DemoJournal(mark_every_seconds=None)  # the sandbox's teacher marks instead
            await journal.start()
            stack.push_async_callback(journal.stop)
            every = float(sandbox_value(settings, "demo_mark_every_seconds"))  # type: ignore[arg-type]
            teacher = SandboxTeacher(journal, every)
            stack.push_async_callback(teacher.stop)
            guardians = journal.guardians()

        people = People(api)
        people.add_presets()
        poll = float(sandbox_value(settings, "journal_poll_seconds"))  # type: ignore[arg-type]
        SandboxWeb(api, people, guardians=guardians, teacher=teacher, poll_seconds=poll).add_routes(api.app)
        try:
            url = await api.start(settings.sandbox_host, settings.sandbox_port)
        except ValueError:
            raise SandboxUnavailable(
                f"ediary sandbox: SANDBOX_HOST={settings.sandbox_host} is not a loopback address; "
                "the sandbox has no login, so it listens on 127.0.0.1, localhost or ::1 only."
            ) from None
        except OSError as error:
            raise SandboxUnavailable(
                f"ediary sandbox: cannot listen on {settings.sandbox_host}:{settings.sandbox_port} "
                f"({error.strerror or error}); set SANDBOX_PORT to a free port (0: any)."
            ) from None
        stack.push_async_callback(api.stop)

        workdir = Path(tempfile.mkdtemp(prefix="ediary-sandbox-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        database_url = f"sqlite+aiosqlite:///{workdir / 'sandbox.sqlite3'}"
        service = service_settings(settings, api_url=url, database_url=database_url, journal=journal)
        if teacher is not None:
            teacher.start()
        print(banner(url), flush=True)
        log.info("sandbox at %s (bot API and web chat), database in %s", url, workdir)
        await run_service(service, stop)
