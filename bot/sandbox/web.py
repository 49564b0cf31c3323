"""The web chat of the sandbox: a page and a small JSON API on the local Bot API server.

The page (``static/``) shows the chats of the simulated people; it long-polls
``GET /sandbox/api/state?since=<tag>`` which answers when the chats look different from
``tag`` (the server's state version, :meth:`LocalBotApi.wait_for_change`, wakes it). What a
person does goes through :class:`LocalBotApi`'s user actions, so the bot sees exactly the
updates a Telegram client would send:

    POST /sandbox/api/people                 {"name", "role", "lang"}   a new person
    POST /sandbox/api/chats/{id}/send        {"text"}                   a message or a reply-keyboard button
    POST /sandbox/api/chats/{id}/press       {"message_id", "data"}     an inline button
    POST /sandbox/api/chats/{id}/contact     {"phone"}                  the request_contact button (own contact)
    GET  /sandbox/api/chats/{id}/files/{file_id}                        a document the bot sent, as a download
    POST /sandbox/api/journal/mark                                      the demo teacher saves a mark now

There is no login: the server listens on loopback only, answers only requests addressed to a
loopback host name (no DNS rebinding) and takes actions only as JSON from its own origin (a
foreign page cannot post JSON here without a CORS preflight, which is never granted).
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.sandbox.marks import SandboxTeacher
from bot.sandbox.people import ROLES, People
from bot.sandbox.telegram_server import MAX_TEXT_LENGTH, LocalBotApi

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
API = "/sandbox/api"
#: A phone number that belongs to no guardian of the demo journal: the "no match" answer.
NOBODY_PHONE = "+79990000000"
MAX_WAIT = 30.0
_ANSWERS_KEPT = 20
_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


def digits(phone: str | None) -> str:
    """The phone's digits with a leading 8 read as 7 (Russian numbers), for matching."""
    found = re.sub(r"\D", "", phone or "")
    return "7" + found[1:] if len(found) == 11 and found.startswith("8") else found


def _host_name(host: str) -> str:
    """``127.0.0.1:8081`` → ``127.0.0.1``; ``[::1]:8081`` → ``[::1]``."""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0]


class _BadRequest(Exception):
    pass


class SandboxWeb:
    """Routes of the web chat; add them to the Bot API server's app before it starts."""

    def __init__(
        self,
        api: LocalBotApi,
        people: People,
        *,
        guardians: list[dict] | None = None,
        teacher: SandboxTeacher | None = None,
        poll_seconds: float | None = None,
    ) -> None:
        self.api = api
        self.people = people
        self.teacher = teacher
        self.poll_seconds = poll_seconds
        self.guardians = [g for g in (guardians or []) if g.get("phone")]
        self._children_by_phone: dict[str, set[str]] = {}
        for guardian in self.guardians:
            kids = {c["student_id"] for c in guardian.get("children", []) if c.get("student_id")}
            self._children_by_phone.setdefault(digits(guardian["phone"]), set()).update(kids)

    def add_routes(self, app: web.Application) -> None:
        app.middlewares.append(self._guard)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC, follow_symlinks=False)
        app.router.add_get(f"{API}/setup", self._setup)
        app.router.add_get(f"{API}/state", self._state)
        app.router.add_post(f"{API}/people", self._create_person)
        app.router.add_post(f"{API}/chats/{{person:\\d+}}/send", self._send)
        app.router.add_post(f"{API}/chats/{{person:\\d+}}/press", self._press)
        app.router.add_post(f"{API}/chats/{{person:\\d+}}/contact", self._contact)
        app.router.add_get(f"{API}/chats/{{person:\\d+}}/files/{{file_id}}", self._download)
        app.router.add_post(f"{API}/journal/mark", self._new_mark)

    # ------------------------------------------------------------------ what the page reads

    def setup(self) -> dict[str, Any]:
        return {
            "bot": {"name": self.api.bot_name, "username": self.api.bot_username},
            "roles": list(ROLES),
            "guardians": [
                {
                    "name": g["full_name"],
                    "phone": g["phone"],
                    "children": [
                        {"name": c.get("full_name"), "class": c.get("class_name")}
                        for c in g.get("children", [])
                    ],
                }
                for g in self.guardians
            ],
            "nobody_phone": NOBODY_PHONE,
            "marks_every": self.teacher.every_seconds if self.teacher else None,
            "can_mark": self.teacher is not None,
            "poll_seconds": self.poll_seconds,
        }

    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows, with ``tag``: a digest that changes when anything does."""
        chats = {}
        for person in self.people.all():
            chats[str(person.id)] = {
                "messages": [
                    self._message(person.id, record)
                    for record in self.api.history(person.id)
                    if not record["deleted"]
                ],
                "reply_keyboard": self._reply_keyboard(person.id),
                "answers": [
                    {"id": a["callback_query_id"], "text": a["text"], "alert": a["show_alert"]}
                    for a in self.api.callback_answers
                    if a["chat_id"] == person.id and a["text"]
                ][-_ANSWERS_KEPT:],
            }
        body = {
            "people": [p.as_json() for p in self.people.all()],
            "chats": chats,
            "commands": {lang: self._commands(lang) for lang in ("ru", "en")},  # the bot sets them at start
        }
        raw = json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
        body["tag"] = hashlib.sha1(raw).hexdigest()[:16]
        return body

    async def wait_snapshot(self, since: str | None, wait: float) -> dict[str, Any]:
        """The snapshot as soon as its tag differs from ``since``, or after ``wait`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, min(wait, MAX_WAIT))
        while True:
            body = self.snapshot()
            remaining = deadline - loop.time()
            if body["tag"] != since or remaining <= 0:
                return body
            await self.api.wait_for_change(self.api.version, remaining)

    def _message(self, person_id: int, record: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": record["message_id"],
            "out": not record["from_bot"],
            "date": record["date"],
            "edited": bool(record["edit_date"]),
            "text": record["plain_text"],
            "entities": record["entities"] or [],
            "caption": record["plain_caption"],
            "caption_entities": record["caption_entities"] or [],
            "reply_to": record["reply_to_message_id"],
        }
        if record["document"]:
            document = record["document"]
            message["document"] = {
                "name": document.get("file_name") or "document",
                "mime": document.get("mime_type"),
                "size": document.get("file_size"),
                "url": f"{API}/chats/{person_id}/files/{quote(document['file_id'], safe='')}",
            }
        if record["contact"]:
            contact = record["contact"]
            message["contact"] = {
                "phone": contact.get("phone_number"),
                "name": " ".join(filter(None, (contact.get("first_name"), contact.get("last_name")))),
            }
        markup = record["reply_markup"] or {}
        if "inline_keyboard" in markup:
            message["keyboard"] = [
                [
                    {"text": b.get("text", ""), "data": b.get("callback_data"), "url": b.get("url")}
                    for b in row
                ]
                for row in markup["inline_keyboard"]
            ]
        return message

    def _reply_keyboard(self, person_id: int) -> dict[str, Any] | None:
        markup = self.api.reply_keyboard(person_id)
        if not markup:
            return None
        rows = []
        for row in markup.get("keyboard", []):
            buttons = []
            for button in row:
                if isinstance(button, str):
                    button = {"text": button}
                buttons.append({"text": button.get("text", ""), "contact": bool(button.get("request_contact"))})
            rows.append(buttons)
        return {
            "rows": rows,
            "one_time": bool(markup.get("one_time_keyboard")),
            "placeholder": markup.get("input_field_placeholder"),
        }

    def _commands(self, lang: str) -> list[dict[str, str]]:
        private = {"type": "all_private_chats"}
        for scope, code in ((private, lang), (private, ""), (None, lang), (None, "")):
            found = self.api.commands(scope, code)
            if found:
                return found
        return []

    # ------------------------------------------------------------------ HTTP

    @web.middleware
    async def _guard(self, request: web.Request, handler):
        if request.path == "/" or request.path.startswith(("/static/", API)):
            if _host_name(request.host or "") not in _LOOPBACK_NAMES:
                return web.json_response({"error": "the sandbox answers on loopback only"}, status=403)
            if request.method == "POST":
                origin = request.headers.get("Origin")
                if origin is not None and origin != f"{request.scheme}://{request.host}":
                    return web.json_response({"error": "foreign origin"}, status=403)
                if request.content_type != "application/json":
                    return web.json_response({"error": "send JSON"}, status=415)
        try:
            return await handler(request)
        except _BadRequest as error:
            return web.json_response({"error": str(error)}, status=400)

    async def _index(self, _request: web.Request) -> web.StreamResponse:
        response = web.FileResponse(STATIC / "index.html")
        response.headers["Cache-Control"] = "no-cache"
        return response

    async def _setup(self, _request: web.Request) -> web.Response:
        return web.json_response(self.setup())

    async def _state(self, request: web.Request) -> web.Response:
        try:
            wait = float(request.query.get("wait", "0"))
        except ValueError:
            raise _BadRequest("wait is a number of seconds") from None
        body = await self.wait_snapshot(request.query.get("since"), wait)
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    @staticmethod
    async def _json(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise _BadRequest("the body is not JSON") from None
        if not isinstance(body, dict):
            raise _BadRequest("the body is a JSON object")
        return body

    def _person(self, request: web.Request) -> int:
        person_id = int(request.match_info["person"])
        if self.people.get(person_id) is None:
            raise web.HTTPNotFound(text=json.dumps({"error": "no such person"}), content_type="application/json")
        return person_id

    async def _create_person(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        try:
            person = self.people.create(str(body.get("name") or ""), str(body.get("role") or "parent"),
                                        str(body.get("lang") or "ru"))
        except ValueError as error:
            raise _BadRequest(str(error)) from None
        log.info("sandbox: person %s (%s) created", person.id, person.role)
        return web.json_response(person.as_json(), status=201)

    async def _send(self, request: web.Request) -> web.Response:
        person_id = self._person(request)
        text = str((await self._json(request)).get("text") or "").strip()
        if not text:
            raise _BadRequest("an empty message is not sent")
        if len(text) > MAX_TEXT_LENGTH:
            raise _BadRequest(f"at most {MAX_TEXT_LENGTH} characters")
        message = self.api.send_text(person_id, text)
        return web.json_response({"message_id": message["message_id"]})

    async def _press(self, request: web.Request) -> web.Response:
        person_id = self._person(request)
        body = await self._json(request)
        message_id, data = body.get("message_id"), body.get("data")
        if not isinstance(message_id, int) or not isinstance(data, str):
            raise _BadRequest("message_id (a number) and data (a string) are needed")
        try:
            query = self.api.press(person_id, message_id, data)
        except ValueError:
            raise _BadRequest("that button is no longer there") from None
        return web.json_response({"query_id": query["id"]})

    async def _contact(self, request: web.Request) -> web.Response:
        person_id = self._person(request)
        phone = str((await self._json(request)).get("phone") or "").strip()
        if not 5 <= len(digits(phone)) <= 15:
            raise _BadRequest("a phone number has 5 to 15 digits")
        message = self.api.share_contact(person_id, phone)
        pupils = self._children_by_phone.get(digits(phone))
        if pupils and self.teacher is not None:
            self.teacher.focus_on(pupils)
        return web.json_response({"message_id": message["message_id"]})

    async def _download(self, request: web.Request) -> web.Response:
        person_id = self._person(request)
        file_id = request.match_info["file_id"]
        for record in self.api.history(person_id):
            document = record["document"]
            if record["from_bot"] and document and document.get("file_id") == file_id:
                name = document.get("file_name") or "document"
                ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "document"
                return web.Response(
                    body=self.api.file_content(file_id),
                    content_type=document.get("mime_type") or "application/octet-stream",
                    headers={
                        "Content-Disposition":
                            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
                        "X-Content-Type-Options": "nosniff",
                    },
                )
        raise web.HTTPNotFound(text=json.dumps({"error": "no such document in this chat"}),
                               content_type="application/json")

    async def _new_mark(self, request: web.Request) -> web.Response:
        if self.teacher is None:
            raise _BadRequest("the sandbox runs without the demo journal")
        change = self.teacher.save_mark()
        return web.json_response({"mark_id": change.get("id")})
