"""Send-rate limits of one dispatcher process: pure logic with an injectable clock.

Three rules, checked together for each message:

- a global token bucket: ``rate`` messages per second on average, at most ``burst`` at once
  (Telegram allows about 30 messages/s per bot; the default burst is a tenth of the rate, so
  25/s gives at most 27 messages in any one second);
- a per-chat minimum interval (Telegram allows about 1 message/s to one private chat);
- a global pause set after a 429 (``pause(retry_after)``): nothing is sent until it has passed,
  because sending earlier prolongs Telegram's penalty. The bucket restarts empty after it.

The limiter never blocks a chat because another chat is busy: ``try_acquire`` answers at once
and ``busy_chats`` names the chats that must wait, so the dispatcher can skip their rows and
send to other chats meanwhile. Memory is bounded: a chat is forgotten once its interval passed
(at most about ``rate × per_chat_seconds + burst`` chats are remembered).

The limit is per process. Several dispatcher processes must share the configured rate
(give each ``rate / processes``) until a shared limiter (Redis) exists.
"""
from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

_EPS = 1e-9


class RateLimiter:
    def __init__(
        self,
        rate_per_second: float = 25.0,
        per_chat_seconds: float = 1.0,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        if per_chat_seconds < 0:
            raise ValueError("per_chat_seconds must not be negative")
        self.rate = float(rate_per_second)
        self.per_chat_seconds = float(per_chat_seconds)
        self.burst = float(burst) if burst is not None else max(1.0, self.rate * 0.1)
        if self.burst < 1:
            raise ValueError("burst must be at least 1")
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._stamp = clock()
        self._paused_until = -math.inf
        self._chat_ready: dict[int, float] = {}

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> "RateLimiter":
        """Build from ``send_rate_per_second`` and ``send_rate_per_chat_seconds``."""
        return cls(settings.send_rate_per_second, settings.send_rate_per_chat_seconds, **kwargs)

    # ------------------------------------------------------------------ state

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now

    def paused_for(self) -> float:
        """Seconds left of a flood-control pause (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock())

    def pause(self, seconds: float) -> None:
        """Stop all sending for ``seconds`` from now (a longer pause already set wins)."""
        now = self._clock()
        until = now + max(0.0, float(seconds))
        if until > self._paused_until:
            self._paused_until = until
            # Restart smoothly after the penalty: no burst right when it ends.
            self._tokens = 0.0
            self._stamp = until

    def global_delay(self) -> float:
        """Seconds until any message may be sent (pause and global rate)."""
        now = self._clock()
        paused = self._paused_until - now
        if paused > 0:
            return paused
        self._refill(now)
        if self._tokens >= 1 - _EPS:
            return 0.0
        return (1 - self._tokens) / self.rate

    def chat_delay(self, chat_id: int) -> float:
        """Seconds until the per-chat interval of ``chat_id`` has passed."""
        ready = self._chat_ready.get(chat_id)
        if ready is None:
            return 0.0
        return max(0.0, ready - self._clock())

    def delay_for(self, chat_id: int) -> float:
        """Seconds until a message to ``chat_id`` may be sent (0: now)."""
        return max(self.global_delay(), self.chat_delay(chat_id))

    # ------------------------------------------------------------------ taking slots

    def try_acquire(self, chat_id: int) -> float:
        """Take a slot for ``chat_id`` if one is free now and return 0; else take nothing and
        return how long to wait."""
        delay = self.delay_for(chat_id)
        if delay > _EPS:
            return delay
        now = self._clock()
        self._refill(now)
        self._tokens = max(0.0, self._tokens - 1)
        if self.per_chat_seconds > 0:
            self._chat_ready[chat_id] = now + self.per_chat_seconds
            if len(self._chat_ready) > 4096:
                self._prune(now)
        return 0.0

    async def acquire(self, chat_id: int) -> None:
        """Wait until a slot for ``chat_id`` is free and take it (blocks only the caller)."""
        while True:
            delay = self.try_acquire(chat_id)
            if delay <= 0:
                return
            await self._sleep(delay)

    def busy_chats(self, longer_than: float = 0.0) -> set[int]:
        """Chats that must still wait for their per-chat interval (for more than `longer_than` s)."""
        now = self._prune(self._clock())
        return {chat for chat, ready in self._chat_ready.items() if ready - now > longer_than}

    def next_chat_ready_in(self) -> float | None:
        """Seconds until the first busy chat becomes free, or None if no chat is busy."""
        now = self._prune(self._clock())
        if not self._chat_ready:
            return None
        return max(0.0, min(self._chat_ready.values()) - now)

    def _prune(self, now: float) -> float:
        expired = [chat for chat, ready in self._chat_ready.items() if ready <= now]
        for chat in expired:
            del self._chat_ready[chat]
        return now
