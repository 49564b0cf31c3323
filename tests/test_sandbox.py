"""`python -m bot` without BOT_TOKEN: the sandbox starts, prints its URL, serves the page and
stops cleanly on SIGTERM; SANDBOX=off keeps the old strictness (one clear line, non-zero exit).
Also how the sandbox configures the service it runs (`service_settings`)."""
from __future__ import annotations

import asyncio
import socket
import sys

import aiohttp
import pytest

from bot.sandbox.people import REGION_ADMIN_IDS
from bot.sandbox.runner import SANDBOX_DEFAULTS, SANDBOX_TOKEN, service_settings
from services.config import Settings
from tests.sandbox_helpers import ROOT, sandbox_env, start_sandbox

pytestmark = pytest.mark.slow


async def test_without_bot_token_the_sandbox_starts_and_prints_its_url(tmp_path):
    sandbox = await start_sandbox(tmp_path)
    try:
        assert any("Open " + sandbox.url + "/" in line for line in sandbox.out), sandbox.out
        async with aiohttp.ClientSession() as http:
            async with http.get(sandbox.url + "/") as response:
                assert response.status == 200
                assert "ediary" in await response.text()
            async with http.get(sandbox.url + "/sandbox/api/setup") as response:
                setup = await response.json()
            assert setup["guardians"] and setup["can_mark"]  # the demo journal is there
            assert setup["marks_every"] == SANDBOX_DEFAULTS["demo_mark_every_seconds"]
            # The bot answers a person of the page: the service runs behind the local Bot API.
            async with http.post(sandbox.url + "/sandbox/api/chats/1001/send", json={"text": "/start"}) as response:
                assert response.status == 200
            tag = ""
            for _ in range(120):  # each poll waits up to 1 s for a change: about two minutes at most
                async with http.get(sandbox.url + "/sandbox/api/state", params={"wait": "1", "since": tag}) as response:
                    state = await response.json()
                tag = state["tag"]
                if any(not m["out"] for m in state["chats"]["1001"]["messages"]):
                    break
            else:
                raise AssertionError("the bot never answered /start:\n" + sandbox.log_tail())
    finally:
        code = await sandbox.stop()
    assert code == 0, sandbox.log_tail()
    # Nothing is left behind in the working directory (the database lives in a temporary one).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sandbox.log"]


async def test_sandbox_off_without_bot_token_one_clear_line_and_non_zero_exit(tmp_path):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=sandbox_env(SANDBOX="off"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode != 0
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert len(lines) == 1 and "BOT_TOKEN" in lines[0] and "@BotFather" in lines[0]
    assert out == b""


async def test_a_busy_sandbox_port_gives_one_clear_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=sandbox_env(SANDBOX_PORT=str(port)),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 1
    assert "SANDBOX_PORT" in err.decode() and str(port) in err.decode()
    assert out == b""


def test_service_settings_point_the_service_at_the_local_server():
    settings = Settings(_env_file=None, admin_telegram_ids="42", http_port=0)
    service = service_settings(settings, api_url="http://127.0.0.1:5555", database_url="sqlite+aiosqlite:///x.db",
                               journal=None)
    assert service.bot_token.get_secret_value() == SANDBOX_TOKEN
    assert service.telegram_api_url == "http://127.0.0.1:5555"
    assert service.database_url == "sqlite+aiosqlite:///x.db"
    assert service.admin_telegram_ids == frozenset({42, *REGION_ADMIN_IDS})  # the page's region admins are admins
    assert service.http_port == 0
    for name, value in SANDBOX_DEFAULTS.items():  # lively defaults where nothing was set
        assert getattr(service, name) == value


def test_production_defaults_copied_from_env_example_still_get_the_sandbox_defaults():
    settings = Settings(_env_file=None, demo_mark_every_seconds=180, journal_poll_seconds=60,
                        notify_quiet_hours="21:00-07:00")
    service = service_settings(settings, api_url="http://127.0.0.1:1", database_url="sqlite+aiosqlite:///x.db",
                               journal=None)
    assert service.demo_mark_every_seconds == SANDBOX_DEFAULTS["demo_mark_every_seconds"]
    assert service.journal_poll_seconds == SANDBOX_DEFAULTS["journal_poll_seconds"]
    assert service.notify_quiet_hours == ""


def test_explicit_settings_win_over_the_sandbox_defaults():
    settings = Settings(_env_file=None, demo_mark_every_seconds=7, journal_poll_seconds=2,
                        notify_quiet_hours="22:00-06:00")
    service = service_settings(settings, api_url="http://127.0.0.1:1", database_url="sqlite+aiosqlite:///x.db",
                               journal=None)
    assert service.demo_mark_every_seconds == 7
    assert service.journal_poll_seconds == 2
    assert service.notify_quiet_hours == "22:00-06:00"


def test_sandbox_setting_values():
    assert Settings(_env_file=None).sandbox == "auto"
    assert Settings(_env_file=None, sandbox=" OFF ").sandbox == "off"
    with pytest.raises(ValueError):
        Settings(_env_file=None, sandbox="maybe")
    assert ROOT.joinpath("bot", "sandbox", "static", "index.html").exists()
