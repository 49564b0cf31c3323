"""Wiring of the service: settings → engine (+ migrations) → services → journal sync on the
scheduler → outbox dispatcher → long polling. One place, read top to bottom."""
from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.commands import set_commands
from bot.dispatcher import create_dispatcher
from bot.notifications import TelegramChannel
from bot.web import start_web
from services.config import Settings
from services.container import build_services
from services.demo.journal import DemoJournal
from services.jobs import JobSpec, register_jobs, service_jobs
from services.notify.dispatcher import Dispatcher as OutboxDispatcher
from services.notify.email_channel import EmailChannel, Mailer
from services.store import open_database
from services.sync.exchange_v1 import ExchangeV1Client
from services.sync.runner import JournalSync

log = logging.getLogger("ediary")

NO_TOKEN = (
    "ediary: BOT_TOKEN is not set (and SANDBOX=off). Create a bot with @BotFather in Telegram "
    "(/newbot), then put its token in BOT_TOKEN (environment or .env) and start again."
)


def make_bot(settings: Settings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url.rstrip("/")))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True),
    )


@dataclass
class Journal:
    """Where the change feed comes from: the configured journal or the built-in demo one."""

    client: ExchangeV1Client
    demo: DemoJournal | None


async def open_journal(settings: Settings, stack: AsyncExitStack) -> Journal:
    demo = None
    if settings.uses_demo_journal:
        demo = DemoJournal(mark_every_seconds=settings.demo_mark_every_seconds or None)
        url, token = await demo.start(), demo.token
        stack.push_async_callback(demo.stop)
        log.info("no JOURNAL_URL: using the built-in demo journal at %s", url)
    else:
        url = settings.journal_url
        token = settings.journal_token.get_secret_value() if settings.journal_token else None
    client = ExchangeV1Client(url, token, limit=settings.journal_page_limit)
    stack.push_async_callback(client.close)
    return Journal(client=client, demo=demo)


async def run_service(settings: Settings, stop: asyncio.Event) -> None:
    """Run until `stop` is set; everything started here is stopped here, in reverse order."""
    async with AsyncExitStack() as stack:
        sessions = await open_database(settings, stack)
        services = build_services(sessions, settings)
        bot = make_bot(settings)
        stack.push_async_callback(bot.session.close)

        outbox = OutboxDispatcher(
            sessions, TelegramChannel(bot), settings, lease_seconds=settings.dispatch_lease_seconds
        )
        journal = await open_journal(settings, stack)
        sync = JournalSync(sessions, journal.client, source=settings.source, on_outbox=outbox.wake)
        services.push.on_stored(outbox.wake)  # a journal push that wrote messages wakes the dispatcher

        async def sync_job() -> None:
            report = await sync.run_once()
            if report.changes:
                log.info(
                    "journal sync: %d changes in %d pages, %d events, %d quarantined, %d messages",
                    report.changes, report.pages, report.events, report.quarantined, report.outbox,
                )

        scheduler = AsyncIOScheduler(timezone="UTC")
        jobs = [JobSpec("journal-sync", sync_job, "interval", {"seconds": settings.journal_poll_seconds}, True)]
        register_jobs(scheduler, jobs + service_jobs(services, wake_dispatcher=outbox.wake))
        scheduler.start()
        stack.callback(scheduler.shutdown, wait=False)

        if settings.http_enabled:
            runner, _url = await start_web(settings, services)
            stack.push_async_callback(runner.cleanup)

        dp = create_dispatcher(services)
        try:
            await set_commands(bot)
        except Exception:  # noqa: BLE001 - commands are a convenience; never block start-up
            log.warning("could not set the bot's command list")

        dispatch_task = asyncio.create_task(outbox.run(stop), name="outbox-dispatcher")
        email_task = start_email_dispatcher(sessions, services, settings, stop)  # issue 6; None without SMTP
        polling_task = asyncio.create_task(
            dp.start_polling(bot, handle_signals=False, close_bot_session=False), name="polling"
        )
        log.info("ediary is running (database: %s)", _backend(settings.database_url))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({stopper, polling_task, dispatch_task}, return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        log.info("stopping")
        try:
            await dp.stop_polling()
        except RuntimeError:
            pass  # polling had already ended
        for task in (polling_task, dispatch_task, *([email_task] if email_task else [])):
            try:
                await asyncio.wait_for(task, timeout=10)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                task.cancel()
            except Exception:  # noqa: BLE001
                log.exception("%s ended with an error", task.get_name())


def start_email_dispatcher(sessions, services, settings: Settings, stop: asyncio.Event) -> asyncio.Task | None:
    """Contacts (issue 6): a second outbox dispatcher for channel "email" when SMTP is configured."""
    mailer = Mailer.from_settings(settings)
    if mailer is None:
        return None
    channel = EmailChannel(mailer, services.contacts.email_address_for, on_bounce=services.contacts.mark_bounced)
    dispatcher = OutboxDispatcher(sessions, channel, settings, lease_seconds=settings.dispatch_lease_seconds)
    return asyncio.create_task(dispatcher.run(stop), name="outbox-dispatcher-email")


def _backend(url: str) -> str:
    return url.split(":", 1)[0]


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # aiogram logs update contents at DEBUG and "Update id=... is handled" at INFO; keep ids only.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


async def _main(settings: Settings, run: Callable[[Settings, asyncio.Event], Awaitable[None]]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run(settings, stop)


def main() -> int:
    settings = Settings()
    if settings.bot_token is None or not settings.bot_token.get_secret_value().strip():
        if settings.sandbox == "off":
            print(NO_TOKEN, file=sys.stderr)
            return 2
        return _sandbox(settings)
    configure_logging(settings.log_level)
    asyncio.run(_main(settings, run_service))
    return 0


def _sandbox(settings: Settings) -> int:
    """No token: the sandbox (the service with a web chat in place of Telegram)."""
    from bot.sandbox.runner import SandboxUnavailable, run_sandbox  # it imports run_service from here

    configure_logging(settings.log_level)
    try:
        asyncio.run(_main(settings, run_sandbox))
    except SandboxUnavailable as error:
        print(str(error), file=sys.stderr)
        return 1
    return 0
