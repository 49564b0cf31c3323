"""The sandbox's web chat API over HTTP: what the page reads (setup, long-polled state) and
what a person does (write, press, share a phone, download), on a LocalBotApi with a real
aiogram Bot playing the bot."""
from __future__ import annotations

import asyncio
from urllib.parse import unquote

import aiohttp
import pytest
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.sandbox.people import REGION_ADMIN_IDS
from bot.sandbox.web import NOBODY_PHONE, digits
from tests.sandbox_helpers import local_sandbox

PARENT, SECOND, SCHOOL_ADMIN, REGION = 1001, 1002, 2001, 9001
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def sb():
    async with local_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def get(http, sb, path: str, **params):
    async with http.get(sb.url + path, params=params) as response:
        return response.status, await response.json()


async def post(http, sb, path: str, body: dict, headers: dict | None = None):
    async with http.post(sb.url + path, json=body, headers=headers) as response:
        return response.status, await response.json()


def chat_of(state: dict, person: int) -> dict:
    return state["chats"][str(person)]


async def test_setup_and_state_show_the_preset_people(sb, http):
    status, setup = await get(http, sb, "/sandbox/api/setup")
    assert status == 200
    assert setup["bot"]["username"] == "ediary_sandbox_bot"
    assert setup["nobody_phone"] == NOBODY_PHONE
    status, state = await get(http, sb, "/sandbox/api/state")
    assert status == 200
    roles = {p["id"]: p["role"] for p in state["people"]}
    assert roles == {PARENT: "parent", SECOND: "parent", SCHOOL_ADMIN: "school_admin", REGION: "region_admin"}
    assert REGION in REGION_ADMIN_IDS
    assert chat_of(state, PARENT) == {"messages": [], "reply_keyboard": None, "answers": []}
    async with http.get(sb.url + "/") as response:
        page = await response.text()
    assert response.status == 200 and "/static/app.js" in page
    async with http.get(sb.url + "/static/app.js") as response:
        assert response.status == 200


async def test_the_command_menu_follows_the_bots_commands(sb, http):
    from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats

    _, state = await get(http, sb, "/sandbox/api/state")
    assert state["commands"] == {"ru": [], "en": []}
    await sb.bot.set_my_commands([BotCommand(command="grades", description="Оценки")],
                                 scope=BotCommandScopeAllPrivateChats())
    await sb.bot.set_my_commands([BotCommand(command="grades", description="Marks")],
                                 scope=BotCommandScopeAllPrivateChats(), language_code="en")
    _, state = await get(http, sb, "/sandbox/api/state")
    assert state["commands"] == {"ru": [{"command": "grades", "description": "Оценки"}],
                                 "en": [{"command": "grades", "description": "Marks"}]}


async def test_long_poll_answers_when_the_bot_writes(sb, http):
    _, state = await get(http, sb, "/sandbox/api/state")
    waiting = asyncio.create_task(get(http, sb, "/sandbox/api/state", since=state["tag"], wait="20"))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await sb.bot.send_message(PARENT, "<b>Оценки</b>: 5 &lt;b&gt;")
    status, fresh = await asyncio.wait_for(waiting, 10)
    assert status == 200 and fresh["tag"] != state["tag"]
    [message] = chat_of(fresh, PARENT)["messages"]
    assert message["out"] is False
    assert message["text"] == "Оценки: 5 <b>"  # plain text: the markup is in entities, never HTML
    assert message["entities"] == [{"offset": 0, "length": 6, "type": "bold"}]

    # Nothing new: the poll waits its time out and answers with the same tag.
    status, same = await get(http, sb, "/sandbox/api/state", since=fresh["tag"], wait="0.3")
    assert same["tag"] == fresh["tag"]


async def test_a_person_writes_presses_and_sees_answers(sb, http):
    status, _ = await post(http, sb, f"/sandbox/api/chats/{PARENT}/send", {"text": "/start"})
    assert status == 200
    [update] = sb.api.pending_updates
    assert update["message"]["text"] == "/start" and update["message"]["from"]["id"] == PARENT

    sent = await sb.bot.send_message(PARENT, "Согласны?", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text="✅ Да", callback_data="cs:grant:1"),
        InlineKeyboardButton(text="Сайт", url="https://example.org"),
    ]]))
    _, state = await get(http, sb, "/sandbox/api/state")
    message = chat_of(state, PARENT)["messages"][-1]
    assert message["keyboard"] == [[
        {"text": "✅ Да", "data": "cs:grant:1", "url": None},
        {"text": "Сайт", "data": None, "url": "https://example.org"},
    ]]

    status, pressed = await post(http, sb, f"/sandbox/api/chats/{PARENT}/press",
                                 {"message_id": sent.message_id, "data": "cs:grant:1"})
    assert status == 200
    query = sb.api.pending_updates[-1]["callback_query"]
    assert query["id"] == pressed["query_id"] and query["data"] == "cs:grant:1"
    await sb.bot.answer_callback_query(query["id"], text="Записано")
    _, state = await get(http, sb, "/sandbox/api/state")
    assert chat_of(state, PARENT)["answers"] == [{"id": query["id"], "text": "Записано", "alert": False}]

    # A button that is not on the message (a stale page) is refused, nothing reaches the bot.
    before = len(sb.api.pending_updates)
    status, body = await post(http, sb, f"/sandbox/api/chats/{PARENT}/press",
                              {"message_id": sent.message_id, "data": "cs:refuse:1"})
    assert status == 400 and "no longer" in body["error"]
    assert len(sb.api.pending_updates) == before


async def test_reply_keyboard_with_a_contact_button(sb, http):
    await sb.bot.send_message(SECOND, "Меню", reply_markup=ReplyKeyboardMarkup(keyboard=[
        [KeyboardButton(text="📊 Оценки")],
        [KeyboardButton(text="📱 Привязать ребёнка", request_contact=True)],
    ], resize_keyboard=True, one_time_keyboard=True))
    _, state = await get(http, sb, "/sandbox/api/state")
    assert chat_of(state, SECOND)["reply_keyboard"] == {
        "rows": [[{"text": "📊 Оценки", "contact": False}], [{"text": "📱 Привязать ребёнка", "contact": True}]],
        "one_time": True,
        "placeholder": None,
    }
    status, _ = await post(http, sb, f"/sandbox/api/chats/{SECOND}/contact", {"phone": "+7 (900) 123-45-67"})
    assert status == 200
    contact = sb.api.pending_updates[-1]["message"]["contact"]
    assert contact["user_id"] == SECOND  # the person's own number, as Telegram's button sends it
    assert digits(contact["phone_number"]) == "79001234567"
    status, body = await post(http, sb, f"/sandbox/api/chats/{SECOND}/contact", {"phone": "12"})
    assert status == 400


async def test_create_people(sb, http):
    status, created = await post(http, sb, "/sandbox/api/people", {"name": "  Пётр   Сидоров ", "role": "parent"})
    assert status == 201 and created == {"id": 1003, "name": "Пётр Сидоров", "role": "parent", "lang": "ru"}
    user = next(u for u in sb.api.users if u["id"] == 1003)
    assert (user["first_name"], user["last_name"], user["language_code"]) == ("Пётр", "Сидоров", "ru")
    status, admin = await post(http, sb, "/sandbox/api/people", {"name": "Region Two", "role": "region_admin", "lang": "en"})
    assert status == 201 and admin["id"] in REGION_ADMIN_IDS and admin["id"] != REGION
    for bad in ({"name": "", "role": "parent"}, {"name": "X", "role": "king"}, {"name": "X" * 41, "role": "parent"},
                {"name": "X", "role": "parent", "lang": "de"}):
        status, body = await post(http, sb, "/sandbox/api/people", bad)
        assert status == 400, bad
        assert body["error"]
    status, _ = await post(http, sb, "/sandbox/api/chats/4242/send", {"text": "hi"})
    assert status == 404


async def test_documents_download_only_from_their_own_chat(sb, http):
    payload = "Предмет;Оценка\nАлгебра;5\n".encode()
    await sb.bot.send_document(PARENT, BufferedInputFile(payload, filename="Выписка оценок.csv"), caption="<i>Выписка</i>")
    _, state = await get(http, sb, "/sandbox/api/state")
    message = chat_of(state, PARENT)["messages"][-1]
    assert message["caption"] == "Выписка" and message["caption_entities"][0]["type"] == "italic"
    document = message["document"]
    assert document["name"] == "Выписка оценок.csv" and document["size"] == len(payload)

    async with http.get(sb.url + document["url"]) as response:
        assert response.status == 200
        assert await response.read() == payload
        disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == "Выписка оценок.csv"

    other = document["url"].replace(f"/chats/{PARENT}/", f"/chats/{SECOND}/")
    async with http.get(sb.url + other) as response:
        assert response.status == 404


async def test_requests_from_elsewhere_are_refused(sb, http):
    # A foreign page may not act here, and a rebound DNS name gets nothing.
    status, body = await post(http, sb, f"/sandbox/api/chats/{PARENT}/send", {"text": "hi"},
                              headers={"Origin": "https://evil.example"})
    assert status == 403
    async with http.post(sb.url + f"/sandbox/api/chats/{PARENT}/send", data="text=hi",
                         headers={"Content-Type": "text/plain"}) as response:
        assert response.status == 415
    async with http.get(sb.url + "/sandbox/api/state", headers={"Host": "evil.example:80"}) as response:
        assert response.status == 403
    assert sb.api.pending_updates == []
    # The Bot API itself is untouched by these rules.
    me = await sb.bot.get_me()
    assert me.username == "ediary_sandbox_bot"


async def test_shared_guardian_phone_focuses_the_teacher_on_their_children(http):
    async with local_sandbox(with_journal=True) as sb:
        status, setup = await get(http, sb, "/sandbox/api/setup")
        assert setup["can_mark"] and setup["guardians"]
        assert all(digits(g["phone"]) != digits(NOBODY_PHONE) for g in setup["guardians"])
        guardian = next(g for g in sb.journal.guardians() if g.get("phone"))
        children = {c["student_id"] for c in guardian["children"]}

        await post(http, sb, f"/sandbox/api/chats/{PARENT}/contact", {"phone": NOBODY_PHONE})
        assert sb.teacher.focus == frozenset()
        await post(http, sb, f"/sandbox/api/chats/{PARENT}/contact", {"phone": guardian["phone"].lstrip("+")})
        assert sb.teacher.focus == children

        for _ in range(5):
            status, body = await post(http, sb, "/sandbox/api/journal/mark", {})
            assert status == 200
            mark = sb.journal.feed.get("mark", body["mark_id"])
            assert mark["student_id"] in children
