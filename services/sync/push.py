"""The journal's push endpoint (exchange-v1, section 3): ``POST /journal/v1/push``.

A push is a hint for speed: the journal POSTs the same envelope as the change feed,
``{"changes": [...]}``, signed with ``X-Journal-Signature: sha256=<hex HMAC-SHA256 of the raw
body>`` under JOURNAL_PUSH_SECRET. The batch is applied with the pull's own `apply_changes`
inside a transaction that holds the source's sync-state lock, so pushed and pulled pages of
one source are applied one at a time; the pull cursor is NOT moved (the pull still reads
every change). A change seen both ways is applied once: each mirror row keeps the ``seq`` of
its last change and older or equal ``seq``s are skipped.

Answers: ``202`` after the batch is committed; ``401`` on a missing or wrong signature
(compared in constant time); ``400`` on a body that is not ``{"changes": [list]}``; ``413``
over 5 MiB; ``404`` while no JOURNAL_PUSH_SECRET is configured (push is off, and nothing
tells a caller whether it would be on). Malformed single changes are quarantined as in the
pull. Messages written by a push wake the outbox dispatcher (`JournalPush.on_stored`).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.config import Settings
from services.sync.apply import apply_changes, lock_state

if TYPE_CHECKING:
    from services.container import Services

log = logging.getLogger(__name__)

PUSH_PATH = "/journal/v1/push"
SIGNATURE_HEADER = "X-Journal-Signature"
MAX_PUSH_BYTES = 5 * 1024 * 1024
_SCHEME = "sha256="


class PushRejected(Exception):
    """The push is refused with an HTTP ``status``; ``reason`` is safe to return and log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class PushResult:
    received: int
    applied: int  # created, updated or deleted records
    skipped: int  # already applied (stale seq) or unchanged
    quarantined: int
    messages: int  # outbox rows written or changed


def sign(secret: str | bytes, body: bytes) -> str:
    """The header value a journal sends for `body`: ``sha256=<hex>``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return _SCHEME + hmac.new(key, body, hashlib.sha256).hexdigest()


def signature_ok(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """Constant-time check of an ``X-Journal-Signature`` header against `body`."""
    if not header:
        return False
    value = header.strip()
    if value[: len(_SCHEME)].lower() != _SCHEME:
        return False
    given = value[len(_SCHEME) :].strip().lower().encode("utf-8", "replace")
    expected = sign(secret, body)[len(_SCHEME) :].encode()
    return hmac.compare_digest(expected, given)


def parse_changes(body: bytes) -> list[Any]:
    """The ``changes`` list of a push body, or `PushRejected` (400)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PushRejected(400, "the body is not JSON in UTF-8") from None
    if not isinstance(data, dict) or not isinstance(data.get("changes"), list):
        raise PushRejected(400, 'the body must be an object {"changes": [...]}')
    return data["changes"]


class JournalPush:
    """Receives signed pushes of the configured journal source and stores them."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings
        self._on_stored: list[Callable[[], None]] = []

    @property
    def enabled(self) -> bool:
        return self._secret() is not None

    def on_stored(self, callback: Callable[[], None]) -> None:
        """Call `callback` after a push that wrote outbox rows is committed (wake the dispatcher)."""
        self._on_stored.append(callback)

    def _secret(self) -> str | None:
        secret = self._settings.journal_push_secret
        value = secret.get_secret_value() if secret is not None else ""
        return value or None

    async def receive(self, body: bytes, signature: str | None) -> PushResult:
        """Check the signature, parse and store one push; `PushRejected` with the HTTP status."""
        secret = self._secret()
        if secret is None:
            raise PushRejected(404, "push is not enabled")
        if not signature_ok(secret, body, signature):
            raise PushRejected(401, "missing or wrong signature")
        return await self.store(parse_changes(body))

    async def store(self, changes: list[Any]) -> PushResult:
        """Apply `changes` in one transaction under the source's lock; the cursor stays."""
        source = self._settings.source
        async with self._sessions.begin() as session:
            state = await lock_state(session, source)
            report = await apply_changes(session, source, changes, notify=state.bootstrapped_at is not None)
        result = PushResult(
            received=report.received,
            applied=report.events,
            skipped=report.stale + report.unchanged,
            quarantined=report.quarantined,
            messages=report.outbox,
        )
        log.info("journal push: %d changes, %d applied, %d skipped, %d quarantined, %d messages",
                 result.received, result.applied, result.skipped, result.quarantined, result.messages)
        if result.messages:
            for callback in self._on_stored:
                callback()
        return result


# --------------------------------------------------------------------------- HTTP


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def _read_body(request: web.Request, limit: int) -> bytes | None:
    """The raw body, or None when it is longer than `limit` bytes (read no further)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def push_handler(push: JournalPush) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.Response:
        if not push.enabled:
            return _error(404, "push is not enabled")
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            return _error(401, "missing signature")
        body = await _read_body(request, MAX_PUSH_BYTES)
        if body is None:
            return _error(413, f"the body is larger than {MAX_PUSH_BYTES} bytes")
        try:
            result = await push.receive(body, signature)
        except PushRejected as exc:
            if exc.status == 401:
                log.warning("journal push rejected: %s", exc.reason)
            return _error(exc.status, exc.reason)
        return web.json_response(
            {"received": result.received, "applied": result.applied, "skipped": result.skipped,
             "quarantined": result.quarantined},
            status=202,
        )

    return handle


def add_push_route(app: web.Application, services: Services) -> None:
    """Route adder for bot/web.py: ``POST /journal/v1/push``."""
    app.router.add_post(PUSH_PATH, push_handler(services.push))
