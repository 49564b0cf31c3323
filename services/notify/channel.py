"""The delivery channel protocol: Telegram today, e-mail, paper or another messenger tomorrow.

A channel renders one outbox row (``kind`` + JSON ``payload``, see ``kinds.py``) for one
recipient and delivers it. It reports how the delivery went by returning (success) or by
raising one of the outcome exceptions below; the dispatcher decides what to do with the row.
Anything else a channel raises is treated by the dispatcher as a transient error.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who gets a message: our account id and the channel's address for it."""

    account_id: int
    chat_id: int
    language: str = "ru"


@runtime_checkable
class Channel(Protocol):
    """Something that can deliver an outbox row. ``name`` matches ``OutboxMessage.channel``."""

    name: str

    async def send(self, recipient: Recipient, kind: str, payload: dict[str, Any]) -> None:
        """Deliver one message or raise a ``DeliveryError``."""
        ...


@runtime_checkable
class DigestChannel(Protocol):
    """A channel that can deliver several news rows as one message (kind ``digest``, payload
    ``{"items": [{"kind", "payload"}, ...]}``; see services/notify/calm.py). Channels without
    it get one row per message."""

    def digest_fit(self, recipient: Recipient, items: Sequence[dict[str, Any]]) -> int:
        """How many of the first `items` fit in one message (at least 1)."""
        ...


class DeliveryError(Exception):
    """Base of the outcomes a channel reports. ``reason`` is short and holds no personal data."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class RetryAfter(DeliveryError):
    """Flood control: no message may be sent through this channel for ``seconds``.

    The dispatcher honours it exactly and pauses ALL sending until it has passed
    (sending earlier prolongs Telegram's penalty)."""

    def __init__(self, seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"retry after {seconds:g}s")
        self.seconds = float(seconds)


class RecipientGone(DeliveryError):
    """The recipient can no longer be reached (blocked the bot, deactivated, chat not found):
    stop sending to this account."""


class TransientError(DeliveryError):
    """A server error, a timeout or a network failure: retry later with bounded backoff."""


class PermanentError(DeliveryError):
    """The message itself cannot be delivered (bad request, unknown kind): do not retry."""
