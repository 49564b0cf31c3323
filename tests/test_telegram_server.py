"""LocalBotApi driven by a real aiogram Bot over HTTP (no patched Bot methods)."""
from __future__ import annotations

import asyncio
import io
import time

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)

from bot.sandbox.telegram_server import LocalBotApi, parse_html

BOT_ID = 7000000001
TOKEN = f"{BOT_ID}:TEST-token_abc"
ALICE = 1001
BOB = 1002


class FastCloseSession(AiohttpSession):
    """The stock session minus the 250 ms grace sleep in close(), meant for TLS sockets.

    Requests still go through aiogram's real form building and response checking.
    """

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(api: LocalBotApi, token: str = TOKEN, session_class=FastCloseSession) -> Bot:
    assert api.base_url
    return Bot(token, session=session_class(api=TelegramAPIServer.from_base(api.base_url)))


def dump(obj):
    return obj.model_dump(exclude_none=True)


@pytest.fixture
async def api():
    async with LocalBotApi(token=TOKEN, bot_id=BOT_ID) as server:
        server.add_user(ALICE, "Alice", username="alice")
        server.add_user(BOB, "Bob", last_name="Smith")
        yield server


@pytest.fixture
async def bot(api):
    bot = make_bot(api)
    yield bot
    await bot.session.close()


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=d.upper(), callback_data=d)] for d in data]
    )


async def test_get_me(api):
    bot = make_bot(api, session_class=AiohttpSession)  # exactly the production session
    try:
        me = await bot.get_me()
    finally:
        await bot.session.close()
    assert me.id == BOT_ID
    assert me.is_bot
    assert me.username == "ediary_test_bot"


async def test_inline_keyboard_round_trip_and_press(api, bot):
    sent = await bot.send_message(ALICE, "Pick one", reply_markup=keyboard("yes", "no"))
    assert sent.text == "Pick one"
    assert dump(sent.reply_markup) == dump(keyboard("yes", "no"))
    record = api.last_bot_message(ALICE)
    assert record["message_id"] == sent.message_id
    assert record["reply_markup"]["inline_keyboard"][1][0] == {"text": "NO", "callback_data": "no"}

    with pytest.raises(ValueError):
        api.press(ALICE, sent.message_id, "maybe")
    api.press(ALICE, sent.message_id, "yes")
    api.press(ALICE, sent.message_id, "forged:42", check=False)

    updates = await bot.get_updates()
    assert [u.callback_query.data for u in updates] == ["yes", "forged:42"]
    query = updates[0].callback_query
    assert query.from_user.id == ALICE
    assert query.message.message_id == sent.message_id
    assert dump(query.message.reply_markup) == dump(keyboard("yes", "no"))

    assert await bot.answer_callback_query(query.id, text="Done")
    assert api.callback_answers[0]["text"] == "Done"
    assert api.callback_answers[0]["data"] == "yes"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)


async def test_long_polling_returns_promptly(api, bot):
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    assert not poll.done()
    api.send_text(ALICE, "/start hello")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 2
    message = updates[0].message
    assert message.text == "/start hello"
    assert message.entities[0].type == "bot_command"
    assert message.entities[0].extract_from(message.text) == "/start"

    # Nothing pending: a short long poll times out with an empty list.
    confirmed = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert confirmed == []


async def test_offset_confirms_updates(api, bot):
    api.send_text(ALICE, "one")
    api.share_contact(BOB, "+79001234567")
    first, second = await bot.get_updates()
    assert first.message.text == "one"
    contact = second.message.contact
    assert (contact.phone_number, contact.user_id) == ("+79001234567", BOB)
    assert contact.first_name == "Bob"

    again = await bot.get_updates()  # nothing confirmed yet
    assert [u.update_id for u in again] == [first.update_id, second.update_id]
    rest = await bot.get_updates(offset=first.update_id + 1)
    assert [u.update_id for u in rest] == [second.update_id]
    assert await bot.get_updates(offset=second.update_id + 1) == []
    assert api.pending_updates == []

    api.share_contact(ALICE, "79000000000", contact_user_id=None, first_name="Mom")
    (update,) = await bot.get_updates(offset=second.update_id + 1)
    assert update.update_id == second.update_id + 1
    assert update.message.contact.user_id is None


async def test_injected_429_maps_to_retry_after(api, bot):
    api.fail_next("sendMessage", error_code=429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ALICE, "hi")
    assert caught.value.retry_after == 3
    assert "retry after 3" in caught.value.message
    assert api.bot_messages(ALICE) == []
    await bot.send_message(ALICE, "hi")  # only the next call failed
    assert len(api.bot_messages(ALICE)) == 1

    api.fail_next("sendmessage", error_code=502, chat_id=BOB)
    await bot.send_message(ALICE, "not Bob")
    with pytest.raises(TelegramServerError):
        await bot.send_message(BOB, "hi")


async def test_delay_next(api, bot):
    api.delay_next("getMe", 0.2)
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.2


async def test_block_maps_to_forbidden(api, bot):
    api.block(ALICE)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ALICE, "hi")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_chat_action(ALICE, "typing")
    await bot.send_message(BOB, "others still work")
    api.unblock(ALICE)
    await bot.send_message(ALICE, "back")

    updates = await bot.get_updates()
    statuses = [u.my_chat_member.new_chat_member.status for u in updates]
    assert statuses == ["kicked", "member"]


async def test_unknown_chat_and_other_bad_requests(api, bot):
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "hi")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(ALICE, "   ")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ALICE, "x" * 4097)
    await bot.send_message(ALICE, "x" * 4096)


async def test_callback_data_limit(api, bot):
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "too long", reply_markup=keyboard("d" * 65))
    # 64 bytes is fine, counted in bytes, not characters.
    await bot.send_message(ALICE, "ok", reply_markup=keyboard("d" * 64))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "cyrillic", reply_markup=keyboard("я" * 33))
    assert len(api.bot_messages(ALICE)) == 1


async def test_edit_in_place_and_delete(api, bot):
    sent = await bot.send_message(ALICE, "Draft", reply_markup=keyboard("a"))
    record = api.last_bot_message(ALICE)

    edited = await bot.edit_message_text(
        "<b>Final</b>", chat_id=ALICE, message_id=sent.message_id, parse_mode="HTML",
        reply_markup=keyboard("b"),
    )
    assert edited.text == "Final"
    assert edited.html_text == "<b>Final</b>"
    assert record is api.last_bot_message(ALICE)
    assert (record["plain_text"], record["edit_count"]) == ("Final", 1)
    assert len(api.bot_messages(ALICE)) == 1

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<b>Final</b>", chat_id=ALICE, message_id=sent.message_id, parse_mode="HTML",
            reply_markup=keyboard("b"),
        )
    # Same text but no markup: the keyboard goes away, which is a modification.
    await bot.edit_message_text(
        "<b>Final</b>", chat_id=ALICE, message_id=sent.message_id, parse_mode="HTML"
    )
    assert record["reply_markup"] is None and record["edit_count"] == 2
    await bot.edit_message_reply_markup(
        chat_id=ALICE, message_id=sent.message_id, reply_markup=keyboard("c")
    )
    assert record["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "c"

    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ALICE, message_id=999)
    assert await bot.delete_message(ALICE, sent.message_id)
    assert record["deleted"]
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ALICE, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ALICE, message_id=sent.message_id)


async def test_send_document_and_download(api, bot):
    payload = "date;grade\n2024-09-02;5\n".encode()
    sent = await bot.send_document(
        ALICE,
        BufferedInputFile(payload, filename="grades.csv"),
        caption="Your <i>grades</i>",
        parse_mode="HTML",
    )
    assert sent.document.file_name == "grades.csv"
    assert sent.document.file_size == len(payload)
    assert sent.caption == "Your grades"
    record = api.last_bot_message(ALICE)
    assert record["document"]["mime_type"] == "text/csv"
    assert api.file_content(sent.document.file_id) == payload

    downloaded = await bot.download(sent.document.file_id)
    assert isinstance(downloaded, io.BytesIO)
    assert downloaded.read() == payload

    # Re-sending by file_id does not upload again.
    again = await bot.send_document(BOB, sent.document.file_id)
    assert again.document.file_id == sent.document.file_id
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")


async def test_html_parsing(api, bot):
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Can't find end tag"):
        await bot.send_message(ALICE, "<b>bold", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "div"'):
        await bot.send_message(ALICE, "<div>x</div>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Unmatched end tag"):
        await bot.send_message(ALICE, "<b><i>x</b></i>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(ALICE, "1 < 2", parse_mode="HTML")
    assert api.bot_messages(ALICE) == []

    sent = await bot.send_message(
        ALICE, '👋 <b>Hi</b> &amp; <a href="https://x.org/?a=1&amp;b=2">link</a> &lt;3',
        parse_mode="HTML",
    )
    assert sent.text == "👋 Hi & link <3"
    bold, link = sent.entities
    assert (bold.type, bold.offset, bold.length) == ("bold", 3, 2)  # the emoji is 2 UTF-16 units
    assert (link.type, link.url) == ("text_link", "https://x.org/?a=1&b=2")
    assert api.last_bot_message(ALICE)["plain_text"] == sent.text
    assert api.last_bot_message(ALICE)["parse_mode"] == "HTML"

    plain, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert plain == "x = 1"
    assert entities == [{"offset": 0, "length": 5, "type": "pre", "language": "python"}]


async def test_rate_limits(api, bot):
    api.rate_limits = True
    started = time.monotonic()
    await bot.send_message(ALICE, "first")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ALICE, "second")
    assert caught.value.retry_after >= 1
    assert [(r["chat_id"], r["scope"]) for r in api.rate_limited] == [(ALICE, "chat")]
    await bot.send_message(BOB, "another chat is fine")
    assert len(api.rate_limited) == 1

    for user_id in range(2000, 2040):
        api.add_user(user_id, f"U{user_id}")
    results = await asyncio.gather(
        *(bot.send_message(uid, "broadcast") for uid in range(2000, 2040)), return_exceptions=True
    )
    rejected = [r for r in results if isinstance(r, TelegramRetryAfter)]
    if time.monotonic() - started < 0.9:  # all sends fell into one 1-second window
        assert len(rejected) == 40 - 28  # 30 per second overall, Alice's and Bob's included
    assert len(rejected) >= 10
    assert {r["scope"] for r in api.rate_limited[1:]} == {"global"}


async def test_commands_and_misc(api, bot):
    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="help", description="Help"),
    ]
    assert await bot.set_my_commands(commands)
    assert [dump(c) for c in await bot.get_my_commands()] == [dump(c) for c in commands]
    assert api.commands()[0]["command"] == "start"
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.send_chat_action(ALICE, "typing")

    await bot.send_message(
        ALICE,
        "Share your phone",
        reply_markup=ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="Share", request_contact=True)]], resize_keyboard=True
        ),
    )
    assert api.reply_keyboard(ALICE)["keyboard"][0][0]["request_contact"] is True
    assert [r["method"] for r in api.requests][-1] == "sendMessage"


async def test_auth_and_raw_error_shapes(api):
    stranger = make_bot(api, token="123:wrong")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()
    finally:
        await stranger.session.close()

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{api.base_url}/bot{TOKEN}/noSuchMethod") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        form = {"chat_id": str(ALICE), "text": "hi"}
        async with http.post(f"{api.base_url}/bot{TOKEN}/SENDMESSAGE", data=form) as resp:
            body = await resp.json()
            assert resp.status == 200 and body["ok"] and body["result"]["text"] == "hi"
        api.fail_next("getMe", error_code=429, retry_after=7)
        async with http.get(f"{api.base_url}/bot{TOKEN}/getMe") as resp:
            assert resp.status == 429
            assert await resp.json() == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7},
            }
        async with http.get(f"{api.base_url}/file/bot{TOKEN}/documents/missing.txt") as resp:
            assert resp.status == 404


async def test_unknown_method_maps_to_not_found(api, bot):
    # Not implemented here, so aiogram must see Telegram's 404, not a crash.
    from aiogram.methods import SendDice

    with pytest.raises(TelegramNotFound):
        await bot(SendDice(chat_id=ALICE))


async def test_dispatcher_polling_round_trip(api, bot):
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(
            f"Hello, {message.from_user.first_name}!", reply_markup=keyboard("go")
        )

    @router.callback_query(F.data == "go")
    async def go(query: CallbackQuery) -> None:
        await query.answer("Going")
        await query.message.edit_text("Gone")

    dp = Dispatcher()
    dp.include_router(router)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    try:
        api.send_text(ALICE, "/start")
        reply = await api.wait_for_bot_message(ALICE, timeout=5)
        assert reply["plain_text"] == "Hello, Alice!"

        api.press(ALICE, reply["message_id"], "go")
        await api.wait_until(lambda: reply["plain_text"] == "Gone", timeout=5)
        assert api.callback_answers[-1]["text"] == "Going"
        assert api.rate_limited == []
    finally:
        await dp.stop_polling()
        await polling


async def test_wait_for_bot_message_times_out(api):
    with pytest.raises(TimeoutError, match="no matching bot message"):
        await api.wait_for_bot_message(ALICE, timeout=0.05)


async def test_loopback_only():
    with pytest.raises(ValueError):
        await LocalBotApi().start(host="0.0.0.0")
