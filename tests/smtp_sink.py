"""A real SMTP server on loopback for tests (aiosmtpd, in the test's own event loop).

It keeps every accepted message parsed (`messages`) and can be told to refuse the next
recipients or messages with an SMTP code (`refuse_rcpt`, `refuse_data`)."""
from __future__ import annotations

import asyncio
import email
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.smtp import SMTP


class SmtpSink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.rcpt_answers: list[str] = []  # e.g. "550 5.1.1 no such mailbox", used once each
        self.data_answers: list[str] = []
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    # aiosmtpd handler hooks
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.rcpt_answers:
            return self.rcpt_answers.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.data_answers:
            return self.data_answers.pop(0)
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=default_policy)
        self.messages.append(message)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="sink.local", decode_data=False, enable_SMTPUTF8=True),
            "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> SmtpSink:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.messages) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} e-mails, got {len(self.messages)}")
            await asyncio.sleep(0.02)
        return self.messages


def parts(message: EmailMessage) -> tuple[str, str]:
    """(plain text, HTML) of a multipart/alternative message, decoded."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None, "both a text and an HTML part"
    return text.get_content(), html.get_content()
