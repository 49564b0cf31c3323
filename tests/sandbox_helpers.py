"""The sandbox for tests: `python -m bot` without a token as a subprocess (`start_sandbox`), or
its web chat in this process on a LocalBotApi, with a real aiogram Bot playing the bot
(`local_sandbox`)."""
from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.sandbox.marks import SandboxTeacher
from bot.sandbox.people import People
from bot.sandbox.runner import SANDBOX_TOKEN
from bot.sandbox.telegram_server import LocalBotApi
from bot.sandbox.web import SandboxWeb
from services.demo.journal import DemoJournal

ROOT = Path(__file__).resolve().parent.parent
URL_RE = re.compile(r"(http://127\.0\.0\.1:\d+)/")


def sandbox_env(**overrides: str) -> dict[str, str]:
    """The environment minus every setting of ours, plus free ports and ``overrides``."""
    ours = ("BOT_", "JOURNAL_", "DATABASE_", "ADMIN_", "SANDBOX", "DEMO_", "HTTP_", "TELEGRAM_", "NOTIFY_",
            "SEND_", "DISPATCH_", "SMTP_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", SANDBOX_PORT="0", HTTP_PORT="0", LOG_LEVEL="WARNING")
    env.update(overrides)
    return env


class Sandbox:
    def __init__(self, proc: asyncio.subprocess.Process, url: str, out: list[str], log: Path) -> None:
        self.proc, self.url, self.out, self.log = proc, url, out, log
        # Keep reading stdout so the process never blocks on a full pipe.
        self._drain = asyncio.create_task(_drain(proc, out))

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    async def stop(self, timeout: float = 20) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._drain, 5)
        return self.proc.returncode


async def start_sandbox(workdir: Path, **overrides: str) -> Sandbox:
    """Run the sandbox in ``workdir`` (no .env there); return once it printed its URL."""
    log = workdir / "sandbox.log"
    with log.open("ab") as stream:  # a file, not a pipe: a full pipe would stall the service
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=workdir, env=sandbox_env(**overrides),
            stdout=asyncio.subprocess.PIPE, stderr=stream,
        )
    out: list[str] = []
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(60):
            while True:
                line = await proc.stdout.readline()
                if not line:
                    raise AssertionError("the sandbox ended before printing its URL:\n" + log.read_text(errors="replace"))
                out.append(line.decode())
                if found := URL_RE.search(out[-1]):
                    break
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    return Sandbox(proc, found.group(1), out, log)


async def _drain(proc: asyncio.subprocess.Process, out: list[str]) -> None:
    assert proc.stdout is not None
    while line := await proc.stdout.readline():
        out.append(line.decode())


# ---------------------------------------------------------------------------- in one process

class FastCloseSession(AiohttpSession):
    """aiogram's session minus the TLS grace sleep in close()."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


@dataclass
class LocalSandbox:
    """The web chat on a LocalBotApi without the service: tests play the bot with `bot`."""

    api: LocalBotApi
    web: SandboxWeb
    people: People
    bot: Bot
    url: str
    journal: DemoJournal | None
    teacher: SandboxTeacher | None


@contextlib.asynccontextmanager
async def local_sandbox(*, with_journal: bool = False):
    api = LocalBotApi(token=SANDBOX_TOKEN, bot_username="ediary_sandbox_bot")
    people = People(api)
    people.add_presets()
    journal = teacher = None
    guardians: list[dict] = []
    if with_journal:
        journal = DemoJournal(mark_every_seconds=None)
        await journal.start()
        teacher = SandboxTeacher(journal, None)
        guardians = journal.guardians()
    web = SandboxWeb(api, people, guardians=guardians, teacher=teacher, poll_seconds=1.0)
    web.add_routes(api.app)
    url = await api.start()
    bot = Bot(SANDBOX_TOKEN, session=FastCloseSession(api=TelegramAPIServer.from_base(url)),
              default=DefaultBotProperties(parse_mode="HTML"))
    try:
        yield LocalSandbox(api, web, people, bot, url, journal, teacher)
    finally:
        await bot.session.close()
        await api.stop()
        if journal is not None:
            await journal.stop()
