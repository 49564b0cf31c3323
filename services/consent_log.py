"""Writing the consent log, the operator's legal record (152-FZ art. 9 part 3: the burden of
proof is the operator's).

One writer for every decision, whatever the channel: the entry names the exact text shown
(version and language; the text itself is stored once in `consent_texts` and never changes),
the time, the channel (the bot, or a signed paper form with its number and date, entered by
an admin) and the person (an account, or a guardian of the journal for paper records).

After an erasure an entry keeps no identity, only a proof key: an HMAC of the person's
Telegram id under a secret, so the history can be shown to whoever presents that id, and to
nobody else (see docs/privacy.md).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.consent_text import consent_text, text_digest
from storage.models import ConsentRecord
from storage.privacy import ConsentText, PrivacyKey

GRANTED, REFUSED, WITHDRAWN = "granted", "refused", "withdrawn"
DECISIONS = frozenset({GRANTED, REFUSED, WITHDRAWN})
#: An account state, not a decision: consent was granted to an older text version.
OUTDATED = "outdated"
TELEGRAM, PAPER = "telegram", "paper"

_PROOF_KEY_NAME = "consent-proof"


class PublishedTextChanged(RuntimeError):
    """The text of a published consent version differs from the one stored when first shown."""


@dataclass(frozen=True)
class PaperForm:
    """A signed paper form: its registration number at the school and the date it was signed."""

    number: str
    signed_on: date


async def store_text(s: AsyncSession, version: str, language: str) -> ConsentText:
    """The stored text of (version, language), stored now if it never was.

    PublishedTextChanged if the code's text no longer matches what was stored: a published
    version was edited in place, and records referencing it could not be reproduced."""
    body = consent_text(version, language)
    digest = text_digest(body)
    row = await s.get(ConsentText, (version, language))
    if row is None:
        try:
            async with s.begin_nested():
                row = ConsentText(version=version, language=language, body=body, sha256=digest)
                s.add(row)
                await s.flush()
        except IntegrityError:  # stored concurrently
            row = await s.get(ConsentText, (version, language))
            assert row is not None
    if row.sha256 != digest:
        raise PublishedTextChanged(f"consent text {version}/{language} differs from the stored one")
    return row


async def append(
    s: AsyncSession,
    *,
    decision: str,
    version: str,
    channel: str,
    language: str,
    at: datetime,
    account_id: int | None = None,
    guardian: tuple[str, str] | None = None,
    form: PaperForm | None = None,
    entered_by: int | None = None,
) -> ConsentRecord:
    """Append one decision (the caller validated it) and make sure its text is stored."""
    if (account_id is None) == (guardian is None):
        raise ValueError("a consent record names either an account or a guardian")
    await store_text(s, version, language)
    record = ConsentRecord(
        account_id=account_id,
        guardian_source=guardian[0] if guardian else None,
        guardian_ref=guardian[1] if guardian else None,
        decision=decision,
        text_version=version,
        channel=channel,
        language=language,
        decided_at=at,
        form_number=form.number if form else None,
        form_date=form.signed_on if form else None,
        entered_by=entered_by,
    )
    s.add(record)
    await s.flush()
    return record


# --------------------------------------------------------------------------- proof keys


def telegram_identity(telegram_id: int) -> str:
    return f"tg:{int(telegram_id)}"


def proof_key(secret: bytes, identity: str) -> str:
    """The pseudonymous key of a person: HMAC-SHA256(secret, identity), hex."""
    return hmac.new(secret, identity.encode("utf-8"), hashlib.sha256).hexdigest()


async def proof_secret(s: AsyncSession, configured: str | None) -> bytes:
    """PRIVACY_PROOF_KEY when set; otherwise a random key generated once and kept in the database."""
    if configured:
        return configured.encode("utf-8")
    row = await s.get(PrivacyKey, _PROOF_KEY_NAME)
    if row is None:
        try:
            async with s.begin_nested():
                row = PrivacyKey(name=_PROOF_KEY_NAME, value=secrets.token_hex(32))
                s.add(row)
                await s.flush()
        except IntegrityError:
            row = await s.get(PrivacyKey, _PROOF_KEY_NAME)
            assert row is not None
    return row.value.encode("utf-8")
