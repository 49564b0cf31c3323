"""Linking a parent to a child: by the parent's own phone number, or by a school invite code.

The requests go to the school's admins through the outbox (services write it); this module
only answers the parent. Behind the consent gate: nothing about a child before consent.
"""
from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.handlers.common import send, send_consent_prompt
from bot.keyboards import main_menu
from bot.middlewares import ConsentGate
from bot.texts import t
from services.linking import CODE_ALPHABET, normalize_code

if TYPE_CHECKING:
    from services.accounts import AccountView
    from services.container import Services

log = logging.getLogger(__name__)

_CODE_CHARS = "".join(sorted(set(CODE_ALPHABET + CODE_ALPHABET.lower())))
#: Eight characters of the code alphabet, optionally split in two halves by a dash or a space.
CODE_RE = re.compile(rf"^\s*[{_CODE_CHARS}]{{4}}[\s\-–—]?[{_CODE_CHARS}]{{4}}\s*$")


def looks_like_code(text: str | None) -> bool:
    return bool(text) and CODE_RE.match(text) is not None and normalize_code(text) is not None


async def on_contact(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    contact = message.contact
    assert contact is not None and message.from_user is not None
    if contact.user_id != message.from_user.id:
        await send(bot, message.chat.id, t(lang, "contact_not_own"), main_menu(lang))
        return
    result = await services.linking.request_by_phone(account.id, contact.phone_number)
    if result.created:
        text = t(lang, "link_requested", count=result.created)
    elif result.existing:
        children = await services.linking.children(account.id)
        text = (t(lang, "link_already", names=", ".join(c.full_name for c in children)) if children
                else t(lang, "link_already_pending"))
    else:
        text = t(lang, "link_no_match")
    await send(bot, message.chat.id, text, main_menu(lang))


async def _redeem(message: Message, bot: Bot, account: AccountView, services: Services, lang: str,
                  code: str) -> None:
    link = await services.linking.request_by_code(account.id, code)  # InvalidCode → errors router
    key = "code_linked" if link.status == "approved" else "code_requested"
    await send(bot, message.chat.id, t(lang, key, name=link.student_name), main_menu(lang))


async def on_code_command(message: Message, command: CommandObject, bot: Bot, account: AccountView,
                          services: Services, lang: str) -> None:
    if not command.args or not command.args.strip():
        await send(bot, message.chat.id, t(lang, "code_usage"))
        return
    await _redeem(message, bot, account, services, lang, command.args.strip())


async def on_code_text(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    await _redeem(message, bot, account, services, lang, message.text or "")


def router() -> Router:
    r = Router(name="linking")
    gate = ConsentGate(send_consent_prompt)
    r.message.middleware(gate)
    r.callback_query.middleware(gate)
    r.message.register(on_contact, F.contact)
    r.message.register(on_code_command, Command("code"))
    r.message.register(on_code_text, F.text.func(looks_like_code))
    return r
