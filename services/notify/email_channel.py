"""The e-mail delivery channel: outbox rows with ``channel == "email"`` sent through SMTP.

Implements ``services.notify.channel.Channel``; a second outbox dispatcher runs it when
SMTP_HOST and SMTP_FROM are set (bot/app.py). The address is looked up at send time, so an
address the parent removed or replaced is never written to: the row fails instead.

SMTP outcomes (`classify_smtp_error`):
- 4xx answers, refused or dropped connections, timeouts → `TransientError` (the dispatcher
  retries with backoff up to SEND_MAX_ATTEMPTS);
- 5xx refusal of the recipient (RCPT: 550 no such mailbox, 553...) → `PermanentError`, and the
  address is marked bounced: no more e-mail rows are written for it until the parent confirms
  an address again. Not `RecipientGone`: that would deactivate the parent's Telegram account;
- 5xx refusal of the message (DATA) → `PermanentError`;
- our own set-up (authentication failed, sender refused) → `TransientError`, like a wrong bot
  token on Telegram: retried, boundedly, while an operator fixes it.
Logs carry row ids and SMTP codes only, never addresses.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Any

import aiosmtplib

from services.notify.channel import DeliveryError, PermanentError, Recipient, TransientError
from services.notify.email_render import build_message, render_email

log = logging.getLogger(__name__)


class Mailer:
    """Sends one prepared message through the configured SMTP server (a connection per message)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        tls: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self._username, self._password = username, password
        self._starttls, self._tls, self._timeout = starttls and not tls, tls, timeout

    @classmethod
    def from_settings(cls, settings: Any) -> Mailer | None:
        """A mailer for ``services.config.Settings``, or None when SMTP is not configured."""
        if not settings.smtp_configured:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
            tls=settings.smtp_tls,
            timeout=settings.smtp_timeout_seconds,
        )

    async def send(self, message: EmailMessage) -> None:
        """Send or raise a ``DeliveryError`` (see `classify_smtp_error`)."""
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self._username,
                password=self._password,
                use_tls=self._tls,
                start_tls=self._starttls,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            raise classify_smtp_error(exc) from None


class RecipientRefused(PermanentError):
    """The server refused the recipient's address for good (5xx at RCPT)."""


def classify_smtp_error(exc: BaseException) -> DeliveryError:
    """Map an aiosmtplib (or socket) exception to the channel outcome the dispatcher acts on."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients] or [0]
        if all(500 <= code < 600 for code in codes):
            return RecipientRefused(f"recipient refused ({codes[0]})")
        return TransientError(f"recipient deferred ({codes[0]})")
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        if 500 <= exc.code < 600:
            return RecipientRefused(f"recipient refused ({exc.code})")
        return TransientError(f"recipient deferred ({exc.code})")
    if isinstance(exc, (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPSenderRefused)):
        return TransientError(f"SMTP set-up refused ({exc.code})")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if 400 <= exc.code < 500:
            return TransientError(f"SMTP {exc.code}")
        if 500 <= exc.code < 600 and isinstance(exc, aiosmtplib.SMTPDataError):
            return PermanentError(f"message refused ({exc.code})")
        return TransientError(f"SMTP {exc.code}")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return TransientError("SMTP timeout")
    if isinstance(exc, (aiosmtplib.SMTPException, OSError)):
        return TransientError(type(exc).__name__)
    return TransientError(type(exc).__name__)


#: account id → the address to write to, or None when e-mail is no longer agreed or confirmed.
AddressLookup = Callable[[int], Awaitable["str | None"]]
#: Called with the account id when its address was refused for good.
BounceHook = Callable[[int], Awaitable[None]]


class EmailChannel:
    """Delivers outbox rows as e-mails (HTML with a plain-text part)."""

    name = "email"

    def __init__(self, mailer: Mailer, address_of: AddressLookup, *, on_bounce: BounceHook | None = None) -> None:
        self.mailer = mailer
        self._address_of = address_of
        self._on_bounce = on_bounce

    async def send(self, recipient: Recipient, kind: str, payload: dict[str, Any]) -> None:
        address = await self._address_of(recipient.account_id)
        if not address:
            raise PermanentError("e-mail no longer agreed or confirmed")
        rendered = render_email(kind, payload, recipient.language)
        message = build_message(rendered, sender=self.mailer.sender, to=address)
        try:
            await self.mailer.send(message)
        except RecipientRefused as exc:
            if self._on_bounce is not None:
                await self._on_bounce(recipient.account_id)
            log.info("e-mail of account %s bounced: %s", recipient.account_id, exc.reason)
            raise
