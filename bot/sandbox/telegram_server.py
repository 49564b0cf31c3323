"""A local server that speaks the subset of the Telegram Bot API used by an aiogram 3 bot.

Two uses:

* end-to-end tests drive a real aiogram ``Bot`` over HTTP, pointed here with
  ``TelegramAPIServer.from_base(api.base_url)``; nothing in aiogram is patched;
* the browser sandbox lets people chat with the bot without Telegram (the page is served
  from the same aiohttp application, see :meth:`LocalBotApi.add_routes` / :attr:`LocalBotApi.app`).

Requests arrive the way aiogram's ``AiohttpSession`` sends them: a urlencoded or
multipart form (JSON bodies and query strings are accepted too), nested objects such as
``reply_markup`` as JSON strings, uploads as multipart parts referenced by
``attach://<name>``. Responses, including errors, have Telegram's shape
(``{"ok": false, "error_code": ..., "description": ..., "parameters": ...}`` with the
matching HTTP status) so that aiogram raises ``TelegramRetryAfter``,
``TelegramForbiddenError``, ``TelegramBadRequest`` ... exactly as against the real API.

Simulated users act through plain synchronous methods (:meth:`LocalBotApi.send_text`,
:meth:`LocalBotApi.share_contact`, :meth:`LocalBotApi.press`) that enqueue updates for
``getUpdates``. Everything the bot does is recorded per chat; tests wait for it with
:meth:`LocalBotApi.wait_for_bot_message` and friends. All state lives on the instance.

Known simplifications: only private chats exist; ``allowed_updates`` is ignored;
Markdown/MarkdownV2 text is stored unparsed (only HTML is parsed into entities);
webhooks are never delivered (``setWebhook`` only makes ``getUpdates`` answer 409,
as Telegram does).
"""
from __future__ import annotations

import asyncio
import json
import math
import mimetypes
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.web_request import FileField

__all__ = ["HtmlParseError", "LocalBotApi", "parse_html"]

T = TypeVar("T")

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
PER_CHAT_INTERVAL = 1.0  # seconds between two messages to one private chat
GLOBAL_PER_SECOND = 30  # messages per second over all chats

# Methods that produce a message and therefore count towards the rate limits.
_MESSAGE_METHODS = frozenset({"sendMessage", "sendDocument"})
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
_CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)
_INLINE_BUTTON_ACTIONS = (
    "callback_data", "url", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
    "callback_game", "pay", "web_app", "copy_text",
)
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_URL_RE = re.compile(r"(?:https?|tg)://\S+", re.IGNORECASE)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class _ApiError(Exception):
    """A Telegram-shaped failure: becomes ``{"ok": false, ...}`` with HTTP status ``error_code``."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


# --------------------------------------------------------------------------- HTML parsing

_ALLOWED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del",
        "code", "pre", "tg-spoiler", "span", "blockquote",
    }
)
_TAG_ENTITY = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler", "code": "code", "pre": "pre",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,6});")
_SPACES = frozenset(" \t\r\n\v\f\0")


class HtmlParseError(ValueError):
    """Malformed HTML text; the message matches Telegram's "can't parse entities: ..." tail."""


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the plain text


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, pos: int) -> int:
    return len(text[:pos].encode("utf-8"))


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the HTML entity at ``text[pos] == "&"``; None if it is not one Telegram knows."""
    match = _ENTITY_RE.match(text, pos)
    if match is None:
        return None
    body = match.group(1)
    if body[0] == "#":
        code = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        char = chr(code)
    else:
        found = _NAMED_ENTITIES.get(body)
        if found is None:
            return None
        char = found
    return char, match.end() - pos


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "&" and (decoded := _decode_entity(text, i)) is not None:
            out.append(decoded[0])
            i += decoded[1]
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into ``(plain_text, entities)``.

    Mirrors the Bot API server's parser: only the supported tags, every tag closed in
    order, ``&lt; &gt; &amp; &quot;`` and numeric entities decoded, unknown ``&...;``
    left as is. Entity offsets are in UTF-16 code units, as in the Bot API.
    Raises :class:`HtmlParseError` with Telegram's wording on malformed input.
    """
    out: list[str] = []
    utf16 = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    n = len(text)
    i = 0
    while i < n:
        char = text[i]
        if char == "&" and (decoded := _decode_entity(text, i)) is not None:
            out.append(decoded[0])
            utf16 += _utf16_len(decoded[0])
            i += decoded[1]
            continue
        if char != "<":
            out.append(char)
            utf16 += 2 if ord(char) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        where = f"at byte offset {_byte_offset(text, begin)}"
        i += 1
        if i < n and text[i] == "/":
            if not stack:
                raise HtmlParseError(f"Unexpected end tag {where}")
            j = i + 1
            while j < n and text[j] not in _SPACES and text[j] != ">":
                j += 1
            end_name = text[i + 1 : j].lower()
            while j < n and text[j] in _SPACES:
                j += 1
            if j >= n or text[j] != ">":
                raise HtmlParseError(f"Unclosed end tag {where}")
            tag = stack.pop()
            if end_name and end_name != tag.name:
                raise HtmlParseError(
                    f'Unmatched end tag {where}, expected "</{tag.name}>", found "</{end_name}>"'
                )
            i = j + 1
            _close_tag(tag, utf16, stack, entities)
            continue

        j = i
        while j < n and text[j] not in _SPACES and text[j] != ">":
            j += 1
        if j >= n:
            raise HtmlParseError(f"Unclosed start tag {where}")
        name = text[i:j].lower()
        if name not in _ALLOWED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" {where}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and text[j] in _SPACES:
                j += 1
            if j >= n:
                raise HtmlParseError(f'Unclosed start tag "{name}" {where}')
            if text[j] == ">":
                break
            attr_begin = j
            while j < n and text[j] not in _SPACES and text[j] not in "=>":
                j += 1
            attr = text[attr_begin:j].lower()
            if not attr:
                raise HtmlParseError(f'Empty attribute name in the tag "{name}" {where}')
            while j < n and text[j] in _SPACES:
                j += 1
            if j >= n:
                raise HtmlParseError(f'Unclosed start tag "{name}" {where}')
            if text[j] != "=":
                if name == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                raise HtmlParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" {where}'
                )
            j += 1
            while j < n and text[j] in _SPACES:
                j += 1
            if j >= n:
                raise HtmlParseError(f'Unclosed start tag "{name}" {where}')
            if text[j] in "\"'":
                end = text.find(text[j], j + 1)
                if end < 0:
                    raise HtmlParseError(f'Unclosed start tag "{name}" {where}')
                value = _unescape(text[j + 1 : end])
                j = end + 1
            else:
                value_begin = j
                while j < n and (text[j].isascii() and (text[j].isalnum() or text[j] in ".-")):
                    j += 1
                value = text[value_begin:j]
                if not value:
                    raise HtmlParseError(
                        f'Expected quote in declaration of an attribute of the tag "{name}" {where}'
                    )
            attrs[attr] = value
        i = j + 1
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError('Tag "span" must have class "tg-spoiler"')
        stack.append(_OpenTag(name, attrs, utf16))

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_tag(
    tag: _OpenTag, utf16: int, stack: list[_OpenTag], entities: list[dict[str, Any]]
) -> None:
    length = utf16 - tag.start
    if tag.name == "code" and stack and stack[-1].name == "pre":
        css = tag.attrs.get("class", "")
        if css.startswith("language-") and "language" not in stack[-1].attrs:
            # <pre><code class="language-x"> is one pre entity with a language.
            stack[-1].attrs["language"] = css[len("language-") :]
            return
    if length <= 0:
        return
    entity: dict[str, Any] = {"offset": tag.start, "length": length}
    if tag.name == "a":
        href = tag.attrs.get("href", "")
        if not href:
            return
        entity.update(type="text_link", url=href)
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
    else:
        entity["type"] = _TAG_ENTITY[tag.name]
        if tag.name == "pre" and tag.attrs.get("language"):
            entity["language"] = tag.attrs["language"]
    entities.append(entity)


def _trim(plain: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip surrounding whitespace like Telegram does, keeping entity offsets right."""
    left = plain.lstrip()
    lead = _utf16_len(plain[: len(plain) - len(left)])
    trimmed = left.rstrip()
    total = _utf16_len(trimmed)
    kept = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return trimmed, kept


# --------------------------------------------------------------------------- parameters


class _Params:
    """Request parameters from a query string, a form, a multipart body or a JSON body."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def get_str(self, name: str) -> str | None:
        value = self.data.get(name)
        if value is None or isinstance(value, FileField):
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False)
        return str(value)

    def get_int(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise _bad(f"invalid {name} specified") from None
        raise _bad(f"invalid {name} specified")

    def get_bool(self, name: str) -> bool:
        value = self.data.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def get_json(self, name: str) -> Any:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise _bad(f"can't parse {name} JSON object") from None
        if isinstance(value, FileField):
            raise _bad(f"can't parse {name} JSON object")
        return value

    def chat_id(self) -> int | None:
        """The integer chat id, or None for a missing/``@username`` one."""
        value = self.data.get("chat_id")
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                return None
        return None

    def loggable(self) -> dict[str, Any]:
        return {
            key: f"<file {value.filename}>" if isinstance(value, FileField) else value
            for key, value in self.data.items()
        }


# --------------------------------------------------------------------------- state


@dataclass
class _Chat:
    user: dict[str, Any]
    started: bool = True
    blocked: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None
    last_send: float | None = None  # monotonic time of the last accepted bot message

    @property
    def chat_id(self) -> int:
        return int(self.user["id"])

    def chat_json(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.chat_id, "type": "private"}
        for key in ("first_name", "last_name", "username"):
            if self.user.get(key):
                chat[key] = self.user[key]
        return chat

    def find(self, message_id: int | None) -> dict[str, Any] | None:
        if message_id is None or not 1 <= message_id < self.next_message_id:
            return None
        for record in reversed(self.messages):
            if record["message_id"] == message_id:
                return record
        return None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    content: bytes
    file_path: str

    def document_json(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.content),
        }


@dataclass
class _Fault:
    method: str  # lower case
    error_code: int
    description: str
    parameters: dict[str, Any] | None
    remaining: int
    chat_id: int | None


@dataclass
class _Delay:
    method: str  # lower case
    seconds: float
    remaining: int
    chat_id: int | None
    after_processing: bool


_SELF = object()  # "the sharing user himself" default for share_contact()


class LocalBotApi:
    """In-process fake of the Telegram Bot API (see the module docstring).

    Message records returned by :meth:`history`, :meth:`bot_messages` and the wait
    helpers are the live dicts kept by the server (edits update them in place); treat
    them as read-only. Keys: ``message_id, chat_id, date, from_bot, text`` (as sent,
    markup included), ``parse_mode, plain_text`` (what the user sees), ``entities,
    caption, plain_caption, caption_entities, reply_markup`` (dict, any keyboard kind),
    ``document`` (Bot API Document dict), ``contact, reply_to_message_id, edit_count,
    edit_date, deleted``.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        rate_limits: bool = False,
        bot_id: int = 7000000001,
        bot_username: str = "ediary_test_bot",
        bot_name: str = "ediary",
    ) -> None:
        self.token = token
        self.rate_limits = rate_limits
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.base_url: str | None = None

        self.requests: list[dict[str, Any]] = []
        """Every API call: ``method`` (canonical name), ``chat_id``, ``time``, ``params``,
        ``ok``, ``error_code``."""
        self.callback_answers: list[dict[str, Any]] = []
        """answerCallbackQuery calls: ``callback_query_id, text, show_alert, url,
        cache_time, chat_id, message_id, data, time``."""
        self.rate_limited: list[dict[str, Any]] = []
        """Sends rejected by the rate limiter: ``method, chat_id, time, retry_after, scope``."""

        self._chats: dict[int, _Chat] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._callback_queries: dict[str, dict[str, Any]] = {}
        self._next_query_id = 1
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._webhook_url = ""
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._global_sends: deque[float] = deque()
        self._pollers: dict[str, object] = {}
        self._version = 0
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._stopped = False

        self._methods: dict[str, tuple[str, Callable[[_Params, str], Awaitable[Any]]]] = {
            name.lower(): (name, handler)
            for name, handler in (
                ("getMe", self._api_get_me),
                ("getUpdates", self._api_get_updates),
                ("setWebhook", self._api_set_webhook),
                ("deleteWebhook", self._api_delete_webhook),
                ("getWebhookInfo", self._api_get_webhook_info),
                ("sendMessage", self._api_send_message),
                ("editMessageText", self._api_edit_message_text),
                ("editMessageReplyMarkup", self._api_edit_message_reply_markup),
                ("deleteMessage", self._api_delete_message),
                ("answerCallbackQuery", self._api_answer_callback_query),
                ("sendDocument", self._api_send_document),
                ("getFile", self._api_get_file),
                ("setMyCommands", self._api_set_my_commands),
                ("getMyCommands", self._api_get_my_commands),
                ("deleteMyCommands", self._api_delete_my_commands),
                ("sendChatAction", self._api_send_chat_action),
                ("close", self._api_true),
                ("logOut", self._api_true),
            )
        }
        self.app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        self.add_routes(self.app)

    # ------------------------------------------------------------------ lifecycle

    def add_routes(self, app: web.Application) -> None:
        """Register the Bot API routes on ``app`` (already done for :attr:`app`).

        To serve more pages from the same server, add routes to :attr:`app` before
        :meth:`start`.
        """
        app.router.add_route("GET", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("POST", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", self._handle_file)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on a loopback address; return the base URL (``http://127.0.0.1:PORT``)."""
        if host not in _LOOPBACK_HOSTS:
            raise ValueError(f"LocalBotApi binds loopback only, not {host!r}")
        if self._runner is not None or self._stopped:
            raise RuntimeError("LocalBotApi can be started only once")
        # handler_cancellation: a long poll whose client went away must not linger.
        runner = web.AppRunner(
            self.app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        if ":" in bound_host:
            bound_host = f"[{bound_host}]"
        self.base_url = f"http://{bound_host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        """Release pending long polls and delays, then shut the server down."""
        self._closing = True
        self._notify()
        self._stopped = True
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> LocalBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ users and their actions

    def add_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        *,
        started: bool = True,
    ) -> dict[str, Any]:
        """Create a user and their private chat (chat id == user id); return the User dict.

        ``started=False`` models a user who never opened the bot: sends to them fail
        with 403 "bot can't initiate conversation with a user" until they write.
        """
        if user_id <= 0:
            raise ValueError("user ids are positive")
        if user_id in self._chats:
            raise ValueError(f"user {user_id} already exists")
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._chats[user_id] = _Chat(user=user, started=started)
        self._notify()
        return dict(user)

    @property
    def users(self) -> list[dict[str, Any]]:
        return [dict(chat.user) for chat in self._chats.values()]

    def send_text(self, user_id: int, text: str) -> dict[str, Any]:
        """The user sends ``text``; returns the Bot API Message dict put into the update.

        A leading ``/command`` gets a ``bot_command`` entity. A user who blocked the bot
        unblocks it by writing (Telegram's "Restart" button).
        """
        chat = self._user_chat(user_id)
        if not text or not text.strip():
            raise ValueError("Telegram clients do not send empty messages")
        if len(text) > MAX_TEXT_LENGTH:
            raise ValueError("Telegram clients split texts longer than 4096 characters")
        self._user_writes(chat)
        entities = []
        if match := _COMMAND_RE.match(text):
            entities.append({"type": "bot_command", "offset": 0, "length": len(match.group(0))})
        record = self._add_message(
            chat, from_bot=False, text=text, plain_text=text, entities=entities
        )
        message = self._message_json(record)
        self._push_update("message", message)
        return message

    def share_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        contact_user_id: int | None | object = _SELF,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a contact: their own by default (``contact.user_id == user_id``).

        ``contact_user_id=None`` sends a contact without user_id (e.g. typed in by hand),
        another id sends someone else's contact.
        """
        chat = self._user_chat(user_id)
        self._user_writes(chat)
        cuid = user_id if contact_user_id is _SELF else contact_user_id
        own = cuid == user_id
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or (chat.user["first_name"] if own else "Contact"),
        }
        last = last_name if last_name is not None else (chat.user.get("last_name") if own else None)
        if last:
            contact["last_name"] = last
        if cuid is not None:
            contact["user_id"] = cuid
        record = self._add_message(chat, from_bot=False, contact=contact)
        message = self._message_json(record)
        self._push_update("message", message)
        return message

    def press(
        self, user_id: int, message_id: int, callback_data: str, *, check: bool = True
    ) -> dict[str, Any]:
        """The user presses an inline button of bot message ``message_id``; returns the CallbackQuery.

        With ``check=True`` the data must belong to a button currently on the message
        (ValueError otherwise); ``check=False`` forges arbitrary data.
        """
        chat = self._user_chat(user_id)
        if chat.blocked:
            raise ValueError(f"user {user_id} blocked the bot; send_text() restarts it")
        record = chat.find(message_id)
        if record is None or record["deleted"] or not record["from_bot"]:
            raise ValueError(f"no bot message {message_id} in chat {user_id}")
        if check:
            available = [
                button.get("callback_data") for button in self._inline_buttons(record)
            ]
            if callback_data not in available:
                raise ValueError(
                    f"message {message_id} has no button with callback_data {callback_data!r}; "
                    f"available: {available}"
                )
        query_id = f"{self.bot_id % 100000}{self._next_query_id:012d}"
        self._next_query_id += 1
        query = {
            "id": query_id,
            "from": dict(chat.user),
            "message": self._message_json(record),
            "chat_instance": f"-{self.bot_id % 1000}{user_id}",
            "data": callback_data,
        }
        self._callback_queries[query_id] = {
            "query": query,
            "answered": False,
            "chat_id": chat.chat_id,
            "message_id": message_id,
        }
        self._push_update("callback_query", query)
        return query

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to the chat fail with 403; a my_chat_member update is queued."""
        chat = self._user_chat(user_id)
        if not chat.blocked:
            chat.blocked = True
            self._push_member_update(chat, old="member", new="kicked")

    def unblock(self, user_id: int) -> None:
        chat = self._user_chat(user_id)
        if chat.blocked:
            chat.blocked = False
            self._push_member_update(chat, old="kicked", new="member")

    def is_blocked(self, user_id: int) -> bool:
        return self._user_chat(user_id).blocked

    # ------------------------------------------------------------------ inspection

    def history(self, chat_id: int) -> list[dict[str, Any]]:
        """All messages of the chat, user's and bot's, oldest first (deleted ones flagged)."""
        return list(self._user_chat(chat_id).messages)

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in the chat, oldest first, deleted ones included (flagged)."""
        return [m for m in self._user_chat(chat_id).messages if m["from_bot"]]

    def last_bot_message(self, chat_id: int) -> dict[str, Any] | None:
        messages = self.bot_messages(chat_id)
        return messages[-1] if messages else None

    def reply_keyboard(self, chat_id: int) -> dict[str, Any] | None:
        """The reply keyboard (``{"keyboard": ...}``) the user currently sees, if any."""
        return self._user_chat(chat_id).reply_keyboard

    def file_content(self, file_id: str) -> bytes:
        return self._files[file_id].content

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The command list set for ``scope`` (default scope if None) and language."""
        return list(self._commands.get((self._scope_key(scope), language_code), []))

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by getUpdates(offset=...)."""
        return list(self._updates)

    @property
    def version(self) -> int:
        """Bumped on every state change; see :meth:`wait_for_change`."""
        return self._version

    # ------------------------------------------------------------------ waiting

    async def wait_until(self, check: Callable[[], T], timeout: float = 5.0) -> T:
        """Return the first truthy ``check()`` result, re-evaluated on each state change.

        Raises TimeoutError after ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            await self._wait_change(remaining)

    async def wait_for_change(self, version: int, timeout: float = 30.0) -> int:
        """Wait until :attr:`version` differs from ``version`` (or timeout); return the current one."""
        try:
            await self.wait_until(lambda: self._version != version, timeout)
        except TimeoutError:
            pass
        return self._version

    async def wait_for_bot_message(
        self,
        chat_id: int,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 5.0,
        *,
        since: int | None = None,
    ) -> dict[str, Any]:
        """Wait for a bot message in the chat and return its record.

        Considers ``bot_messages(chat_id)[since:]``; ``since`` defaults to the number
        of bot messages at call time, i.e. only messages sent after the call count.
        Returns the first that satisfies ``predicate`` (re-checked as messages are
        edited). Raises TimeoutError listing the recent bot messages.
        """
        start = len(self.bot_messages(chat_id)) if since is None else since

        def find() -> dict[str, Any] | None:
            for message in self.bot_messages(chat_id)[start:]:
                if predicate is None or predicate(message):
                    return message
            return None

        try:
            return await self.wait_until(find, timeout)
        except TimeoutError:
            recent = [
                m.get("plain_text") or m.get("plain_caption") or m.get("document")
                for m in self.bot_messages(chat_id)[-5:]
            ]
            raise TimeoutError(
                f"no matching bot message in chat {chat_id} within {timeout} s "
                f"(index >= {start}); last bot messages: {recent!r}"
            ) from None

    async def wait_for_bot_messages(
        self, chat_id: int, count: int, timeout: float = 5.0, *, since: int | None = None
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` bot messages arrived after the call (or after ``since``); return them."""
        start = len(self.bot_messages(chat_id)) if since is None else since

        def enough() -> list[dict[str, Any]] | None:
            fresh = self.bot_messages(chat_id)[start:]
            return fresh[:count] if len(fresh) >= count else None

        try:
            return await self.wait_until(enough, timeout)
        except TimeoutError:
            got = len(self.bot_messages(chat_id)) - start
            raise TimeoutError(
                f"expected {count} bot messages in chat {chat_id} within {timeout} s, got {got}"
            ) from None

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (optionally to ``chat_id``) fail.

        The call has no effect and answers with Telegram's error shape and HTTP status
        ``error_code``. 429 defaults to ``retry_after=1`` and the description
        "Too Many Requests: retry after N".
        """
        if error_code < 400:
            raise ValueError("error_code must be an HTTP error status")
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            elif error_code in _DEFAULT_DESCRIPTIONS:
                description = _DEFAULT_DESCRIPTIONS[error_code]
            else:
                try:
                    description = HTTPStatus(error_code).phrase
                except ValueError:
                    description = "Error"
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        self._faults.append(
            _Fault(method.lower(), error_code, description, parameters, times, chat_id)
        )

    def delay_next(
        self,
        method: str,
        seconds: float,
        *,
        times: int = 1,
        chat_id: int | None = None,
        after_processing: bool = False,
    ) -> None:
        """Delay the next ``times`` calls of ``method`` by ``seconds``.

        By default the delay comes first, so a client that times out leaves no effect.
        ``after_processing=True`` performs the call and then stalls the answer: the
        "timed out, but the message was actually sent" case.
        """
        self._delays.append(_Delay(method.lower(), seconds, times, chat_id, after_processing))

    # ------------------------------------------------------------------ HTTP

    def _token_ok(self, token: str) -> bool:
        return self.token is None or token == self.token

    @staticmethod
    def _error_response(
        error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> web.Response:
        payload: dict[str, Any] = {
            "ok": False, "error_code": error_code, "description": description
        }
        if parameters:
            payload["parameters"] = parameters
        return web.json_response(payload, status=error_code)

    async def _read_params(self, request: web.Request) -> _Params:
        data: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.body_exists:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad("can't parse JSON request body") from None
                if isinstance(body, dict):
                    data.update(body)
            else:
                try:
                    form = await request.post()
                except web.HTTPRequestEntityTooLarge:
                    raise _ApiError(413, "Request Entity Too Large") from None
                data.update(form.items())
        return _Params(data)

    async def _handle_api(self, request: web.Request) -> web.Response:
        if not self._token_ok(request.match_info["token"]):
            return self._error_response(401, "Unauthorized")
        raw_method = request.match_info["method"]
        known = self._methods.get(raw_method.lower())
        method = known[0] if known else raw_method
        entry: dict[str, Any] = {"method": method, "chat_id": None, "time": time.time()}
        self.requests.append(entry)
        try:
            params = await self._read_params(request)
            entry["chat_id"] = params.chat_id()
            entry["params"] = params.loggable()
            if known is None:
                raise _ApiError(404, "Not Found")
            fault = self._take(self._faults, method.lower(), entry["chat_id"])
            delay = self._take(self._delays, method.lower(), entry["chat_id"])
            if delay is not None and not delay.after_processing:
                await self._sleep(delay.seconds)
            if fault is not None:
                raise _ApiError(fault.error_code, fault.description, fault.parameters)
            try:
                result = await known[1](params, request.match_info["token"])
            finally:
                if delay is not None and delay.after_processing:
                    await self._sleep(delay.seconds)
        except _ApiError as error:
            entry.update(ok=False, error_code=error.error_code)
            return self._error_response(error.error_code, error.description, error.parameters)
        entry["ok"] = True
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if not self._token_ok(request.match_info["token"]):
            return self._error_response(401, "Unauthorized")
        stored = self._files_by_path.get(request.match_info["file_path"])
        if stored is None:
            return self._error_response(404, "Not Found")
        return web.Response(body=stored.content, content_type=stored.mime_type)

    @staticmethod
    def _take(rules: list[Any], method: str, chat_id: int | None) -> Any:
        for rule in rules:
            if rule.method == method and (rule.chat_id is None or rule.chat_id == chat_id):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    rules.remove(rule)
                return rule
        return None

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up early when the server stops."""
        try:
            await self.wait_until(lambda: self._closing, seconds)
        except TimeoutError:
            pass

    # ------------------------------------------------------------------ internals

    def _notify(self) -> None:
        """Wake every waiter; they re-check their condition (no lost wake-ups: single thread)."""
        self._version += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _wait_change(self, timeout: float) -> None:
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout)
        except TimeoutError:
            pass

    def _user_chat(self, user_id: int) -> _Chat:
        chat = self._chats.get(user_id)
        if chat is None:
            raise ValueError(f"unknown user/chat {user_id}; call add_user() first")
        return chat

    def _user_writes(self, chat: _Chat) -> None:
        chat.started = True
        if chat.blocked:
            self.unblock(chat.chat_id)

    @property
    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def _push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self._updates.append(update)
        self._notify()
        return update

    def _push_member_update(self, chat: _Chat, *, old: str, new: str) -> None:
        def member(status: str) -> dict[str, Any]:
            value: dict[str, Any] = {"status": status, "user": self._bot_user}
            if status == "kicked":
                value["until_date"] = 0
            return value

        self._push_update(
            "my_chat_member",
            {
                "chat": chat.chat_json(),
                "from": dict(chat.user),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def _add_message(self, chat: _Chat, *, from_bot: bool, **fields: Any) -> dict[str, Any]:
        record: dict[str, Any] = {
            "message_id": chat.next_message_id,
            "chat_id": chat.chat_id,
            "date": int(time.time()),
            "from_bot": from_bot,
            "text": None,
            "parse_mode": None,
            "plain_text": None,
            "entities": [],
            "caption": None,
            "plain_caption": None,
            "caption_entities": [],
            "reply_markup": None,
            "document": None,
            "contact": None,
            "reply_to_message_id": None,
            "edit_count": 0,
            "edit_date": None,
            "deleted": False,
        }
        record.update(fields)
        chat.next_message_id += 1
        chat.messages.append(record)
        markup = record["reply_markup"]
        if from_bot and markup:
            if "keyboard" in markup:
                chat.reply_keyboard = markup
            elif markup.get("remove_keyboard"):
                chat.reply_keyboard = None
        self._notify()
        return record

    def _message_json(self, record: dict[str, Any], *, nested: bool = False) -> dict[str, Any]:
        """The Bot API Message object for a record."""
        chat = self._chats[record["chat_id"]]
        message: dict[str, Any] = {
            "message_id": record["message_id"],
            "from": self._bot_user if record["from_bot"] else dict(chat.user),
            "chat": chat.chat_json(),
            "date": record["date"],
        }
        if record["edit_date"]:
            message["edit_date"] = record["edit_date"]
        if record["reply_to_message_id"] and not nested:
            replied = chat.find(record["reply_to_message_id"])
            if replied is not None and not replied["deleted"]:
                message["reply_to_message"] = self._message_json(replied, nested=True)
        if record["plain_text"] is not None:
            message["text"] = record["plain_text"]
            if record["entities"]:
                message["entities"] = record["entities"]
        if record["document"]:
            message["document"] = dict(record["document"])
        if record["plain_caption"]:
            message["caption"] = record["plain_caption"]
            if record["caption_entities"]:
                message["caption_entities"] = record["caption_entities"]
        if record["contact"]:
            message["contact"] = dict(record["contact"])
        inline = self._inline_markup(record)
        if inline is not None:
            message["reply_markup"] = inline
        return message

    @staticmethod
    def _inline_markup(record: dict[str, Any]) -> dict[str, Any] | None:
        markup = record["reply_markup"]
        return markup if markup and "inline_keyboard" in markup else None

    def _inline_buttons(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        markup = self._inline_markup(record)
        if markup is None:
            return []
        return [button for row in markup["inline_keyboard"] for button in row]

    def _target_chat(self, params: _Params) -> _Chat:
        """The chat a message goes to, with Telegram's chat/blocked checks."""
        if params.data.get("chat_id") in (None, ""):
            raise _bad("chat_id is empty")
        chat = self._chats.get(params.chat_id() or 0)
        if chat is None:
            raise _bad("chat not found")
        if chat.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if not chat.started:
            raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _known_chat(self, params: _Params) -> _Chat:
        if params.data.get("chat_id") in (None, ""):
            raise _bad("chat_id is empty")
        chat = self._chats.get(params.chat_id() or 0)
        if chat is None:
            raise _bad("chat not found")
        return chat

    @staticmethod
    def _format(
        text: str | None,
        parse_mode: str | None,
        entities: Any,
        *,
        limit: int,
        too_long: str,
        empty: str | None,
    ) -> tuple[str, list[dict[str, Any]]]:
        """Apply parse_mode/entities, trim, and check emptiness and length like Telegram."""
        text = text or ""
        mode = (parse_mode or "").lower()
        if entities is not None:
            if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
                raise _bad("can't parse entities JSON object")
            plain, parsed = text, [dict(e) for e in entities]
        elif mode == "html":
            try:
                plain, parsed = parse_html(text)
            except HtmlParseError as error:
                raise _bad(f"can't parse entities: {error}") from None
        elif mode in ("", "markdown", "markdownv2"):
            plain, parsed = text, []
        else:
            raise _bad("unsupported parse_mode")
        plain, parsed = _trim(plain, parsed)
        if not plain and empty is not None:
            raise _bad(empty)
        if len(plain) > limit:
            raise _bad(too_long)
        return plain, parsed

    def _parse_markup(self, params: _Params, *, inline_only: bool = False) -> dict[str, Any] | None:
        raw = params.data.get("reply_markup")
        if raw is None or raw == "":
            return None
        try:
            markup = params.get_json("reply_markup")
        except _ApiError:
            raise _bad("can't parse reply keyboard markup JSON object") from None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            self._check_inline_keyboard(markup["inline_keyboard"])
            return markup
        if inline_only:
            raise _bad("inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
            for row in rows:
                for button in row:
                    text = button.get("text") if isinstance(button, dict) else button
                    if not isinstance(text, str):
                        raise _bad("can't parse keyboard button: Field \"text\" must be of type String")
            return markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise _bad("object expected as reply markup")

    @staticmethod
    def _check_inline_keyboard(rows: Any) -> None:
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        for row in rows:
            for button in row:
                if not isinstance(button, dict):
                    raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
                if not isinstance(button.get("text"), str):
                    raise _bad(
                        "can't parse inline keyboard button: Field \"text\" must be of type String"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if (
                        not isinstance(data, str)
                        or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                    ):
                        raise _bad("BUTTON_DATA_INVALID")
                elif "url" in button:
                    if not isinstance(button["url"], str) or not _URL_RE.fullmatch(button["url"]):
                        raise _bad("BUTTON_URL_INVALID")
                elif not any(key in button for key in _INLINE_BUTTON_ACTIONS):
                    raise _bad(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )

    def _reply_to(self, chat: _Chat, params: _Params) -> int | None:
        reply = params.get_json("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            tolerant = bool(reply.get("allow_sending_without_reply"))
        else:
            message_id = params.get_int("reply_to_message_id")
            tolerant = params.get_bool("allow_sending_without_reply")
        if not message_id:
            return None
        target = chat.find(int(message_id))
        if target is None or target["deleted"]:
            if tolerant:
                return None
            raise _bad("message to be replied not found")
        return int(message_id)

    def _check_rate(self, method: str, chat: _Chat) -> None:
        now = time.monotonic()
        while self._global_sends and now - self._global_sends[0] >= 1.0:
            self._global_sends.popleft()
        if not self.rate_limits:
            return
        retry_after: int | None = None
        scope = ""
        if chat.last_send is not None and now - chat.last_send < PER_CHAT_INTERVAL:
            retry_after, scope = math.ceil(PER_CHAT_INTERVAL - (now - chat.last_send)), "chat"
        elif len(self._global_sends) >= GLOBAL_PER_SECOND:
            retry_after, scope = math.ceil(1.0 - (now - self._global_sends[0])), "global"
        if retry_after is None:
            return
        retry_after = max(1, retry_after)
        self.rate_limited.append(
            {
                "method": method,
                "chat_id": chat.chat_id,
                "time": time.time(),
                "retry_after": retry_after,
                "scope": scope,
            }
        )
        self._notify()
        raise _ApiError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )

    def _note_send(self, chat: _Chat) -> None:
        now = time.monotonic()
        chat.last_send = now
        self._global_sends.append(now)

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not scope:
            scope = {"type": "default"}
        return json.dumps(scope, sort_keys=True)

    def _find_for_edit(self, params: _Params) -> dict[str, Any]:
        if params.get_str("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._known_chat(params)
        message_id = params.get_int("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        record = chat.find(message_id)
        if record is None or record["deleted"]:
            raise _bad("message to edit not found")
        if not record["from_bot"]:
            raise _bad("message can't be edited")
        return record

    def _apply_edit(self, record: dict[str, Any], **changes: Any) -> dict[str, Any]:
        record.update(changes)
        record["edit_count"] += 1
        record["edit_date"] = int(time.time())
        self._notify()
        return self._message_json(record)

    def _store_upload(self, upload: FileField) -> _StoredFile:
        content = upload.file.read()
        if not content:
            raise _bad("file must be non-empty")
        if len(content) > MAX_UPLOAD_BYTES:
            raise _ApiError(413, "Request Entity Too Large")
        name = upload.filename or "document"
        mime = mimetypes.guess_type(name)[0] or upload.content_type or "application/octet-stream"
        number = len(self._files) + 1
        extension = ("." + name.rsplit(".", 1)[1]) if "." in name else ""
        stored = _StoredFile(
            file_id=f"BQACAgIAAxkBAA{number:06d}{secrets.token_urlsafe(18)}",
            file_unique_id=f"AgAD{number:06d}{secrets.token_hex(3)}",
            file_name=name,
            mime_type=mime,
            content=content,
            file_path=f"documents/file_{number}{extension}",
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    # ------------------------------------------------------------------ API methods

    async def _api_true(self, params: _Params, token: str) -> bool:
        return True

    async def _api_get_me(self, params: _Params, token: str) -> dict[str, Any]:
        return {
            **self._bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_get_updates(self, params: _Params, token: str) -> list[dict[str, Any]]:
        """Long polling: answers as soon as an update is pending, else after ``timeout`` s.

        A newer getUpdates for the same token ends a pending one with 409, like Telegram.
        """
        if self._webhook_url:
            raise _ApiError(409, _CONFLICT_WEBHOOK)
        offset = params.get_int("offset") or 0
        limit = min(max(params.get_int("limit") or 100, 1), 100)
        timeout = max(params.get_int("timeout") or 0, 0)
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        ticket = object()
        self._pollers[token] = ticket
        self._notify()  # lets a superseded long poll answer 409
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if self._pollers.get(token) is not ticket:
                    raise _ApiError(409, _CONFLICT_OTHER_POLL)
                if self._updates or self._closing:
                    return self._updates[:limit]
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                await self._wait_change(remaining)
        finally:
            if self._pollers.get(token) is ticket:
                del self._pollers[token]

    async def _api_set_webhook(self, params: _Params, token: str) -> bool:
        self._webhook_url = params.get_str("url") or ""
        if params.get_bool("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_delete_webhook(self, params: _Params, token: str) -> bool:
        self._webhook_url = ""
        if params.get_bool("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_get_webhook_info(self, params: _Params, token: str) -> dict[str, Any]:
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _api_send_message(self, params: _Params, token: str) -> dict[str, Any]:
        chat = self._target_chat(params)
        text = params.get_str("text")
        parse_mode = params.get_str("parse_mode") or None
        plain, entities = self._format(
            text,
            parse_mode,
            params.get_json("entities"),
            limit=MAX_TEXT_LENGTH,
            too_long="message is too long",
            empty="message text is empty",
        )
        markup = self._parse_markup(params)
        reply_to = self._reply_to(chat, params)
        self._check_rate("sendMessage", chat)
        self._note_send(chat)
        record = self._add_message(
            chat,
            from_bot=True,
            text=text,
            parse_mode=parse_mode,
            plain_text=plain,
            entities=entities,
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        return self._message_json(record)

    async def _api_send_document(self, params: _Params, token: str) -> dict[str, Any]:
        chat = self._target_chat(params)
        document = params.data.get("document")
        upload: FileField | None = None
        stored: _StoredFile | None = None
        if isinstance(document, FileField):
            upload = document
        elif isinstance(document, str) and document.startswith("attach://"):
            part = params.data.get(document[len("attach://") :])
            if not isinstance(part, FileField):
                raise _bad("wrong file identifier/HTTP URL specified")
            upload = part
        elif isinstance(document, str) and document:
            stored = self._files.get(document)
            if stored is None:
                raise _bad("wrong file identifier/HTTP URL specified")
        else:
            raise _bad("there is no document in the request")
        caption = params.get_str("caption")
        parse_mode = params.get_str("parse_mode") or None
        plain_caption, caption_entities = self._format(
            caption,
            parse_mode,
            params.get_json("caption_entities"),
            limit=MAX_CAPTION_LENGTH,
            too_long="message caption is too long",
            empty=None,
        )
        markup = self._parse_markup(params)
        reply_to = self._reply_to(chat, params)
        if upload is not None:
            content = upload.file.read()
            upload.file.seek(0)
            if not content:
                raise _bad("file must be non-empty")
        self._check_rate("sendDocument", chat)
        if upload is not None:
            stored = self._store_upload(upload)
        assert stored is not None
        self._note_send(chat)
        record = self._add_message(
            chat,
            from_bot=True,
            caption=caption,
            parse_mode=parse_mode,
            plain_caption=plain_caption or None,
            caption_entities=caption_entities,
            document=stored.document_json(),
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        return self._message_json(record)

    async def _api_get_file(self, params: _Params, token: str) -> dict[str, Any]:
        stored = self._files.get(params.get_str("file_id") or "")
        if stored is None:
            raise _bad("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    async def _api_edit_message_text(self, params: _Params, token: str) -> dict[str, Any]:
        record = self._find_for_edit(params)
        if record["plain_text"] is None:
            raise _bad("there is no text in the message to edit")
        text = params.get_str("text")
        parse_mode = params.get_str("parse_mode") or None
        plain, entities = self._format(
            text,
            parse_mode,
            params.get_json("entities"),
            limit=MAX_TEXT_LENGTH,
            too_long="MESSAGE_TOO_LONG",
            empty="message text is empty",
        )
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        markup = self._parse_markup(params, inline_only=True)
        if (
            plain == record["plain_text"]
            and entities == record["entities"]
            and markup == self._inline_markup(record)
        ):
            raise _bad(NOT_MODIFIED)
        return self._apply_edit(
            record,
            text=text,
            parse_mode=parse_mode,
            plain_text=plain,
            entities=entities,
            reply_markup=markup,
        )

    async def _api_edit_message_reply_markup(self, params: _Params, token: str) -> dict[str, Any]:
        record = self._find_for_edit(params)
        markup = self._parse_markup(params, inline_only=True)
        if markup == self._inline_markup(record):
            raise _bad(NOT_MODIFIED)
        return self._apply_edit(record, reply_markup=markup)

    async def _api_delete_message(self, params: _Params, token: str) -> bool:
        chat = self._known_chat(params)
        record = chat.find(params.get_int("message_id"))
        if record is None or record["deleted"]:
            raise _bad("message to delete not found")
        record["deleted"] = True
        self._notify()
        return True

    async def _api_answer_callback_query(self, params: _Params, token: str) -> bool:
        query_id = params.get_str("callback_query_id") or ""
        query = self._callback_queries.get(query_id)
        if query is None or query["answered"]:
            raise _bad(_QUERY_INVALID)
        query["answered"] = True
        self.callback_answers.append(
            {
                "callback_query_id": query_id,
                "text": params.get_str("text"),
                "show_alert": params.get_bool("show_alert"),
                "url": params.get_str("url"),
                "cache_time": params.get_int("cache_time"),
                "chat_id": query["chat_id"],
                "message_id": query["message_id"],
                "data": query["query"]["data"],
                "time": time.time(),
            }
        )
        self._notify()
        return True

    async def _api_send_chat_action(self, params: _Params, token: str) -> bool:
        self._target_chat(params)
        if params.get_str("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    async def _api_set_my_commands(self, params: _Params, token: str) -> bool:
        commands = params.get_json("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        cleaned = []
        for item in commands:
            if not isinstance(item, dict):
                raise _bad("can't parse BotCommand: BotCommand must be an Object")
            command, description = item.get("command"), item.get("description")
            if not isinstance(command, str) or not _BOT_COMMAND_RE.fullmatch(command):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": command, "description": description})
        key = (self._scope_key(params.get_json("scope")), params.get_str("language_code") or "")
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        self._notify()
        return True

    async def _api_get_my_commands(self, params: _Params, token: str) -> list[dict[str, Any]]:
        key = (self._scope_key(params.get_json("scope")), params.get_str("language_code") or "")
        return list(self._commands.get(key, []))

    async def _api_delete_my_commands(self, params: _Params, token: str) -> bool:
        key = (self._scope_key(params.get_json("scope")), params.get_str("language_code") or "")
        self._commands.pop(key, None)
        self._notify()
        return True
