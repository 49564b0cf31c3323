"""The Telegram channel: rendering of every kind, and aiogram errors mapped to channel outcomes.

The mapping is driven through a real aiogram `Bot` over HTTP against a tiny Telegram-shaped
server on 127.0.0.1 (no Bot method is patched)."""
from __future__ import annotations

import asyncio
import json
import socket

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.callbacks import LinkDecisionCb
from bot.notifications import MESSAGE_LIMIT, TelegramChannel, classify_error, render_notification
from services.notify.channel import (
    Channel,
    PermanentError,
    Recipient,
    RecipientGone,
    RetryAfter,
    TransientError,
)
from services.notify.kinds import LINK_DECISION, LINK_REQUEST, MARK_CHANGED, MARK_DELETED, MARK_NEW

MARK = {"student_id": 7, "student_name": "Иван", "subject": "Алгебра", "value": "5", "kind": "answer",
        "weight": 1, "date": "2026-11-30", "comment": None}
PAYLOADS = {
    MARK_NEW: MARK,
    MARK_CHANGED: {**MARK, "value": "4", "old_value": "3", "kind": "control", "weight": 2.0},
    MARK_DELETED: {k: MARK[k] for k in ("student_id", "student_name", "subject", "value", "date")},
    LINK_REQUEST: {"link_id": 2_147_483_647, "student_name": "Иванов Иван Иванович", "class_name": "5А",
                   "school_name": "МБОУ «СОШ №1»", "parent_name": "Анна", "parent_username": "anna",
                   "method": "phone"},
    LINK_DECISION: {"link_id": 5, "student_id": 7, "student_name": "Иван", "approved": True},
}
EVIL = "<b>Иван & «Ко»</b><script>"


# --------------------------------------------------------------------------- rendering


def test_mark_new_ru_matches_the_product_text():
    r = render_notification(MARK_NEW, MARK, "ru")
    assert r.text == "🆕 Новая оценка\nИван — Алгебра: <b>5</b> (ответ на уроке, вес 1)\n30.11.2026"
    assert r.reply_markup is None


def test_mark_new_en():
    r = render_notification(MARK_NEW, {**MARK, "weight": 1.5, "comment": "at the board"}, "en")
    assert r.text == "🆕 New mark\nИван — Алгебра: <b>5</b> (answer in class, weight 1.5)\n30 Nov 2026\n💬 at the board"


def test_mark_changed_and_deleted():
    ru = render_notification(MARK_CHANGED, PAYLOADS[MARK_CHANGED], "ru").text
    assert "Оценка изменена" in ru and "было 3, стало <b>4</b>" in ru and "(контрольная, вес 2)" in ru
    en = render_notification(MARK_CHANGED, PAYLOADS[MARK_CHANGED], "en").text
    assert "Mark changed" in en and "was 3, now <b>4</b>" in en
    assert "Оценка удалена" in render_notification(MARK_DELETED, PAYLOADS[MARK_DELETED], "ru").text
    assert "Mark deleted" in render_notification(MARK_DELETED, PAYLOADS[MARK_DELETED], "en").text


def test_ru_kind_names_and_ru_decimal_weight():
    names = {"answer": "ответ на уроке", "test": "проверочная", "control": "контрольная",
             "homework": "домашняя работа", "other": "другое"}
    for kind, name in names.items():
        assert f"({name}, вес 1,5)" in render_notification(MARK_NEW, {**MARK, "kind": kind, "weight": 1.5}, "ru").text


def test_link_request_keyboard_and_details():
    for lang in ("ru", "en"):
        r = render_notification(LINK_REQUEST, PAYLOADS[LINK_REQUEST], lang)
        assert "Анна (@anna)" in r.text and "Иванов Иван Иванович, 5А" in r.text and "СОШ №1" in r.text
        buttons = r.reply_markup.inline_keyboard[0]
        actions = [LinkDecisionCb.unpack(b.callback_data) for b in buttons]
        assert [(a.action, a.link_id) for a in actions] == [("approve", 2_147_483_647), ("reject", 2_147_483_647)]
    assert "по номеру телефона" in render_notification(LINK_REQUEST, PAYLOADS[LINK_REQUEST], "ru").text
    code = render_notification(LINK_REQUEST, {**PAYLOADS[LINK_REQUEST], "method": "code", "parent_username": None})
    assert "по коду приглашения" in code.text and "@" not in code.text


def test_link_decision_both_ways():
    ok_ru = render_notification(LINK_DECISION, PAYLOADS[LINK_DECISION], "ru").text
    assert "/grades" in ok_ru and "Иван" in ok_ru
    assert "/grades" in render_notification(LINK_DECISION, PAYLOADS[LINK_DECISION], "en").text
    no = {**PAYLOADS[LINK_DECISION], "approved": False}
    assert "школ" in render_notification(LINK_DECISION, no, "ru").text
    assert "school" in render_notification(LINK_DECISION, no, "en").text


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("kind", [MARK_NEW, MARK_CHANGED, MARK_DELETED, LINK_REQUEST, LINK_DECISION])
def test_every_kind_is_escaped_and_fits(kind, lang):
    evil = {k: (EVIL * 400 if isinstance(v, str) else v) for k, v in PAYLOADS[kind].items()}
    evil.setdefault("comment", EVIL * 400)
    if kind in (MARK_NEW, MARK_CHANGED):
        evil["comment"] = EVIL * 400
    r = render_notification(kind, evil, lang)
    assert "<script>" not in r.text and "<b>Иван" not in r.text
    assert "&lt;b&gt;Иван &amp; «Ко»&lt;/b&gt;" in r.text
    assert 0 < len(r.text) <= MESSAGE_LIMIT
    if r.reply_markup:
        for row in r.reply_markup.inline_keyboard:
            for button in row:
                assert 1 <= len(button.callback_data.encode()) <= 64


def test_unknown_kind_and_broken_payload_are_permanent():
    with pytest.raises(PermanentError):
        render_notification("digest", {}, "ru")
    with pytest.raises(PermanentError):
        render_notification(LINK_REQUEST, {"student_name": "x"}, "ru")  # no link_id


def test_channel_satisfies_the_protocol():
    assert isinstance(TelegramChannel(Bot("123456:TEST")), Channel)
    assert TelegramChannel.name == "telegram"


# --------------------------------------------------------------------------- a tiny Bot API


def _error(code: int, description: str, **parameters) -> web.Response:
    body = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


SCENARIOS = {
    429: lambda: _error(429, "Too Many Requests: retry after 5", retry_after=5),
    403: lambda: _error(403, "Forbidden: bot was blocked by the user"),
    4031: lambda: _error(403, "Forbidden: user is deactivated"),
    4032: lambda: _error(403, "Forbidden: bot can't initiate conversation with a user"),
    400: lambda: _error(400, "Bad Request: chat not found"),
    4001: lambda: _error(400, "Bad Request: can't parse entities: unsupported start tag"),
    500: lambda: _error(500, "Internal Server Error"),
    502: lambda: web.Response(status=502, text="<html>502 Bad Gateway</html>", content_type="text/html"),
}
SLOW = 999


@pytest.fixture
async def telegram_api():
    requests: list[dict] = []

    async def send_message(request: web.Request) -> web.Response:
        data = dict(await request.post())
        requests.append(data)
        chat_id = int(data["chat_id"])
        if chat_id == SLOW:
            await asyncio.sleep(3)
        if chat_id in SCENARIOS:
            return SCENARIOS[chat_id]()
        message = {"message_id": len(requests), "date": 1_700_000_000,
                   "chat": {"id": chat_id, "type": "private"}, "text": data.get("text", "")}
        return web.json_response({"ok": True, "result": message})

    app = web.Application()
    app.router.add_post("/bot{token}/sendMessage", send_message)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")), requests
    finally:
        await server.close()


@pytest.fixture
async def bot(telegram_api):
    url, _ = telegram_api
    b = Bot("123456:TEST-token", session=AiohttpSession(api=TelegramAPIServer.from_base(url)))
    try:
        yield b
    finally:
        await b.session.close()


def rcpt(chat_id: int, language: str = "ru") -> Recipient:
    return Recipient(account_id=1, chat_id=chat_id, language=language)


async def test_send_success_posts_html(bot, telegram_api):
    _, requests = telegram_api
    channel = TelegramChannel(bot)
    await channel.send(rcpt(42), MARK_NEW, MARK)
    await channel.send(rcpt(43, "en"), LINK_REQUEST, PAYLOADS[LINK_REQUEST])
    first, second = requests
    assert first["chat_id"] == "42" and first["parse_mode"] == "HTML"
    assert first["text"].startswith("🆕 Новая оценка")
    markup = json.loads(second["reply_markup"])
    assert markup["inline_keyboard"][0][0]["callback_data"] == "ld:approve:2147483647"
    assert second["text"].startswith("🔔 Request")


@pytest.mark.parametrize(
    ("chat_id", "outcome", "reason"),
    [
        (429, RetryAfter, "retry after"),
        (403, RecipientGone, "blocked"),
        (4031, RecipientGone, "deactivated"),
        (4032, RecipientGone, "initiate"),
        (400, RecipientGone, "chat not found"),
        (4001, PermanentError, "parse"),
        (500, TransientError, "Internal"),
        (502, TransientError, ""),
    ],
)
async def test_errors_map_to_outcomes(bot, chat_id, outcome, reason):
    with pytest.raises(outcome) as caught:
        await TelegramChannel(bot).send(rcpt(chat_id), MARK_NEW, MARK)
    assert reason in caught.value.reason
    if outcome is RetryAfter:
        assert caught.value.seconds == 5


async def test_timeout_is_transient(bot):
    with pytest.raises(TransientError):
        await TelegramChannel(bot, request_timeout=0.2).send(rcpt(SLOW), MARK_NEW, MARK)


async def test_network_error_is_transient():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    b = Bot("123456:TEST-token", session=AiohttpSession(api=TelegramAPIServer.from_base(f"http://127.0.0.1:{port}")))
    try:
        with pytest.raises(TransientError):
            await TelegramChannel(b).send(rcpt(1), MARK_NEW, MARK)
    finally:
        await b.session.close()


async def test_unknown_kind_is_permanent_and_sends_nothing(bot, telegram_api):
    _, requests = telegram_api
    with pytest.raises(PermanentError):
        await TelegramChannel(bot).send(rcpt(42), "digest", {})
    assert requests == []


def test_classify_plain_timeout():
    assert isinstance(classify_error(asyncio.TimeoutError()), TransientError)
    assert isinstance(classify_error(TimeoutError()), TransientError)
