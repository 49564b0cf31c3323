"""Admin commands: link requests and decisions, classes, invite codes, appointments.

Scope (which schools an admin sees) is decided by services; this module checks only that the
sender is an admin at all, so a non-admin gets «команда доступна только администраторам»
before any usage hint.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.callbacks import LinkDecisionCb
from bot.handlers.common import edit_chunks, require_admin, send, send_chunks
from bot.keyboards import link_decision_keyboard
from bot.render import (
    render_classes,
    render_decision,
    render_invite_codes,
    render_pending,
    render_schools,
)
from bot.texts import t
from services.errors import NotAdmin, NotFound

if TYPE_CHECKING:
    from services.accounts import AccountView
    from services.container import Services

log = logging.getLogger(__name__)

#: Link requests shown per /pending (one message each, so each can be decided and edited alone).
PENDING_PAGE = 10
INVITE_TTL_DAYS = 30


async def _require_region_admin(message: Message, bot: Bot, services: Services, lang: str) -> bool:
    assert message.from_user is not None
    tg = message.from_user.id
    if await services.admins.is_region_admin_any(tg):
        return True
    key = "region_admin_only" if await services.admins.is_admin(tg) else "admin_only"
    await send(bot, message.chat.id, t(lang, key))
    return False


async def on_pending(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    if not await require_admin(message, bot, services, lang):
        return
    items = await services.linking.pending_for(account.telegram_id)
    if not items:
        await send(bot, message.chat.id, t(lang, "pending_none"))
        return
    header = t(lang, "pending_header", count=len(items))
    if len(items) > PENDING_PAGE:
        header += "\n" + t(lang, "pending_more", shown=PENDING_PAGE)
    await send(bot, message.chat.id, header)
    tz = services.settings.default_timezone
    for item in items[:PENDING_PAGE]:
        await send(bot, message.chat.id, render_pending(item, lang, tz), link_decision_keyboard(lang, item.link_id))


def _who(query: CallbackQuery) -> str:
    user = query.from_user
    return f"{user.full_name} (@{user.username})" if user.username else user.full_name


async def on_link_decision(query: CallbackQuery, callback_data: LinkDecisionCb, bot: Bot, services: Services,
                           lang: str) -> None:
    approve = callback_data.action == "approve"
    # NotAdmin, NotFound and AlreadyDecided are answered by the errors router
    link = await services.linking.decide(query.from_user.id, callback_data.link_id, approve)
    await query.answer()
    if isinstance(query.message, Message):
        text = render_decision(query.message.html_text or "", approve, _who(query), link.decided_at, lang,
                               services.settings.default_timezone)
        await edit_chunks(bot, query.message, [text], None)


async def on_classes(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    if not await require_admin(message, bot, services, lang):
        return
    classes = await services.admins.list_classes(account.telegram_id)
    await send_chunks(bot, message.chat.id, render_classes(classes, lang))


async def on_invite(message: Message, command: CommandObject, bot: Bot, account: AccountView,
                    services: Services, lang: str) -> None:
    if not await require_admin(message, bot, services, lang):
        return
    arg = (command.args or "").strip()
    if not arg.isdigit():
        await send(bot, message.chat.id, t(lang, "invite_usage"))
        return
    class_id = int(arg)
    try:
        codes = await services.linking.issue_codes(account.telegram_id, class_id, ttl_days=INVITE_TTL_DAYS)
    except (NotFound, NotAdmin):  # another school's class is "not found" too
        await send(bot, message.chat.id, t(lang, "class_not_found"))
        return
    classes = await services.admins.list_classes(account.telegram_id)
    found = next((c for c in classes if c.id == class_id), None)
    class_name = f"{found.name}, {found.school_name}" if found else str(class_id)
    await send_chunks(bot, message.chat.id, render_invite_codes(class_name, codes, INVITE_TTL_DAYS, lang))
    log.info("invite codes sent class=%s count=%s", class_id, len(codes))


async def on_schools(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    if not await _require_region_admin(message, bot, services, lang):
        return
    schools = await services.admins.list_schools(account.telegram_id)
    await send_chunks(bot, message.chat.id, render_schools(schools, lang))


def _parse_appointment(command: CommandObject) -> tuple[int, str] | None:
    parts = (command.args or "").split()
    if len(parts) != 2 or not parts[0].lstrip("-").isdigit():
        return None
    return int(parts[0]), parts[1]


async def on_admin_add(message: Message, command: CommandObject, bot: Bot, account: AccountView,
                       services: Services, lang: str) -> None:
    if not await _require_region_admin(message, bot, services, lang):
        return
    parsed = _parse_appointment(command)
    if parsed is None:
        await send(bot, message.chat.id, t(lang, "admin_add_usage"))
        return
    telegram_id, school_ref = parsed
    try:
        role = await services.admins.appoint(account.telegram_id, telegram_id, school_ref)
    except NotFound:
        await send(bot, message.chat.id, t(lang, "school_not_found"))
        return
    school = role.school_name or t(lang, "region_scope")
    await send(bot, message.chat.id, t(lang, "admin_added", telegram_id=telegram_id, school=school))


async def on_admin_remove(message: Message, command: CommandObject, bot: Bot, account: AccountView,
                          services: Services, lang: str) -> None:
    if not await _require_region_admin(message, bot, services, lang):
        return
    parsed = _parse_appointment(command)
    if parsed is None:
        await send(bot, message.chat.id, t(lang, "admin_remove_usage"))
        return
    telegram_id, school_ref = parsed
    try:
        removed = await services.admins.remove(account.telegram_id, telegram_id, school_ref)
    except NotFound:
        await send(bot, message.chat.id, t(lang, "school_not_found"))
        return
    school = t(lang, "region_scope") if school_ref == "*" else school_ref
    key = "admin_removed" if removed else "admin_not_found"
    await send(bot, message.chat.id, t(lang, key, telegram_id=telegram_id, school=school))


def router() -> Router:
    r = Router(name="admin")
    r.message.register(on_pending, Command("pending"))
    r.message.register(on_classes, Command("classes"))
    r.message.register(on_invite, Command("invite"))
    r.message.register(on_schools, Command("schools"))
    r.message.register(on_admin_add, Command("admin_add"))
    r.message.register(on_admin_remove, Command("admin_remove"))
    r.callback_query.register(on_link_decision, LinkDecisionCb.filter(F.action.in_({"approve", "reject"})))
    return r
