"""Pull adapter for the journal exchange, version 1 (GET /v1/changes), over aiohttp.

It never skips a page: on 429/503 it waits as long as `Retry-After` says, on other server or
network errors it retries the same cursor with bounded exponential backoff, and it gives up
(raising `JournalUnavailable`) only after `max_attempts`, so the caller can record the error
and try the same cursor again later.
"""
from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from services.sync.apply import Page

log = logging.getLogger(__name__)


class JournalError(Exception):
    """The journal cannot be read now."""


class JournalUnavailable(JournalError):
    """Retries were exhausted (network, 5xx, 429); the same cursor is to be tried again later."""


class JournalAuthError(JournalError):
    """401: JOURNAL_TOKEN is wrong. Retrying will not help until the configuration changes."""


class BadCursor(JournalError):
    """400: the provider does not know our cursor (for example, it was restored from a backup)."""


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class ExchangeV1Client:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        limit: int = 500,
        timeout: float = 30.0,
        max_attempts: int = 6,
        base_backoff: float = 1.0,
        max_backoff: float = 60.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._url = base_url.rstrip("/") + "/v1/changes"
        self._headers = {"Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._limit = limit
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_attempts = max_attempts
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _backoff(self, attempt: int) -> float:
        delay = min(self._max_backoff, self._base_backoff * 2 ** (attempt - 1))
        return delay * (0.5 + random.random() / 2)

    async def fetch(self, cursor: str | None) -> Page:
        """The page after `cursor` (None: from the beginning)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout, headers=self._headers)
        params = {"limit": str(self._limit)}
        if cursor is not None:
            params["cursor"] = cursor
        last_problem = "no attempt made"
        for attempt in range(1, self._max_attempts + 1):
            wait: float | None = None
            try:
                async with self._session.get(self._url, params=params) as resp:
                    if resp.status == 200:
                        try:
                            return _parse_page(await resp.json(content_type=None))
                        except (ValueError, TypeError, KeyError) as exc:
                            last_problem = f"malformed page: {exc}"
                    elif resp.status == 401:
                        raise JournalAuthError("journal answered 401: check JOURNAL_TOKEN")
                    elif resp.status == 400:
                        raise BadCursor(f"journal answered 400: {(await resp.text())[:200]}")
                    elif resp.status in (429, 503):
                        wait = retry_after_seconds(resp.headers.get("Retry-After"))
                        last_problem = f"journal answered {resp.status}"
                    else:
                        last_problem = f"journal answered {resp.status}"
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                last_problem = f"{type(exc).__name__}: {exc}"[:300]
            if attempt == self._max_attempts:
                break
            delay = wait if wait is not None else self._backoff(attempt)
            log.info("journal fetch attempt %d failed (%s); retrying in %.1fs", attempt, last_problem, delay)
            await self._sleep(delay)
        raise JournalUnavailable(last_problem)


def _parse_page(body: Any) -> Page:
    if not isinstance(body, dict) or not isinstance(body.get("changes"), list):
        raise ValueError("body has no 'changes' list")
    next_cursor = body.get("next_cursor")
    if next_cursor is not None and not isinstance(next_cursor, str):
        next_cursor = str(next_cursor)
    return Page(changes=body["changes"], next_cursor=next_cursor, has_more=bool(body.get("has_more", False)))
