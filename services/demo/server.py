"""An aiohttp server for a `ChangeFeed`: ``GET /v1/changes`` of journal-exchange-v1.

Besides the contract it offers fault injection for tests (``fail_next``, ``delay_next``),
a log of served requests, and an optional long poll: ``wait=<seconds>`` (at most 30) makes
an empty page wait for the next change. Consumers that do not send ``wait`` see exactly the
contract's behaviour.
"""
from __future__ import annotations

import asyncio
import functools
import hmac
import json
from collections import deque
from dataclasses import dataclass
from typing import Any, NamedTuple

from aiohttp import web

from .feed import DEFAULT_LIMIT, MAX_LIMIT, BadCursor, ChangeFeed

__all__ = ["JournalServer", "RequestRecord", "MAX_WAIT_SECONDS"]

MAX_WAIT_SECONDS = 30.0
_dumps = functools.partial(json.dumps, ensure_ascii=False)


class RequestRecord(NamedTuple):
    """One served request: the raw ``cursor`` (None if absent), the ``limit`` (an int when
    it parsed, else the raw string, None if absent) and the response status."""

    cursor: str | None
    limit: int | str | None
    status: int


@dataclass(frozen=True)
class _Fault:
    status: int
    retry_after: int | str | None
    body: Any


class JournalServer:
    """Serves ``feed`` over HTTP with bearer-token auth."""

    def __init__(self, feed: ChangeFeed, *, token: str = "demo-token") -> None:
        self.feed = feed
        self.token = token
        self.requests: list[RequestRecord] = []
        self._faults: deque[_Fault] = deque()
        self._delays: deque[float] = deque()
        self.app = web.Application()
        self.app.router.add_get("/v1/changes", self._handle_changes)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        status: int,
        *,
        retry_after: int | str | None = None,
        times: int = 1,
        body: Any = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (before auth is checked).

        ``body`` None gives ``{"error": "injected <status>"}``; a dict or list is sent as
        JSON; a str or bytes is sent verbatim (to simulate a malformed answer).
        ``retry_after`` becomes the ``Retry-After`` header.
        """
        for _ in range(times):
            self._faults.append(_Fault(status, retry_after, body))

    def delay_next(self, seconds: float, *, times: int = 1) -> None:
        """Sleep ``seconds`` before answering each of the next ``times`` requests."""
        for _ in range(times):
            self._delays.append(float(seconds))

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str | None:
        """The base URL (``JOURNAL_URL``) once started."""
        return self._url

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._runner is not None:
            raise RuntimeError("server already started")
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound_port = runner.addresses[0][1]
        shown_host = f"[{host}]" if ":" in host else host
        self._url = f"http://{shown_host}:{bound_port}"
        return self._url

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._url = None

    async def __aenter__(self) -> "JournalServer":
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.stop()

    # ------------------------------------------------------------------ handler

    def _respond(self, cursor, limit, status: int, body: Any, headers=None) -> web.Response:
        self.requests.append(RequestRecord(cursor, limit, status))
        if isinstance(body, bytes):
            return web.Response(
                status=status, body=body, content_type="application/json", headers=headers
            )
        if isinstance(body, str):
            return web.Response(
                status=status, text=body, content_type="application/json", headers=headers
            )
        return web.json_response(body, status=status, headers=headers, dumps=_dumps)

    async def _handle_changes(self, request: web.Request) -> web.Response:
        query = request.query
        cursor = query.get("cursor")
        raw_limit = query.get("limit")
        logged_limit: int | str | None = raw_limit
        if raw_limit is not None:
            try:
                logged_limit = int(raw_limit)
            except ValueError:
                pass

        if self._delays:
            await asyncio.sleep(self._delays.popleft())
        if self._faults:
            fault = self._faults.popleft()
            body = fault.body if fault.body is not None else {"error": f"injected {fault.status}"}
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            return self._respond(cursor, logged_limit, fault.status, body, headers)

        if not self._authorized(request.headers.get("Authorization")):
            return self._respond(
                cursor, logged_limit, 401, {"error": "unauthorized"},
                {"WWW-Authenticate": "Bearer"},
            )

        limit = DEFAULT_LIMIT
        if raw_limit is not None:
            if not isinstance(logged_limit, int) or not 1 <= logged_limit <= MAX_LIMIT:
                return self._respond(
                    cursor, logged_limit, 400,
                    {"error": f"limit must be an integer in 1..{MAX_LIMIT}"},
                )
            limit = logged_limit

        wait = 0.0
        if "wait" in query:
            try:
                wait = float(query["wait"])
            except ValueError:
                wait = -1.0
            if not 0.0 <= wait <= MAX_WAIT_SECONDS:
                return self._respond(
                    cursor, logged_limit, 400,
                    {"error": f"wait must be a number of seconds in 0..{MAX_WAIT_SECONDS:g}"},
                )

        try:
            after = self.feed.parse_cursor(cursor)
            page = self.feed.page(cursor, limit)
            if not page["changes"] and wait > 0:
                await self.feed.wait_for_change(
                    after if after is not None else 0, wait
                )
                page = self.feed.page(cursor, limit)
        except BadCursor as exc:
            return self._respond(cursor, logged_limit, 400, {"error": f"bad cursor: {exc}"})
        return self._respond(cursor, logged_limit, 200, page)

    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(value.strip().encode(), self.token.encode())
