"""Admin reports as files and the one-day rule's delivery report (issue 5, items 4-5).

/report summary|plan|stats|periods CLASS_ID [PERIOD_ID] [pdf|xlsx] — documents sent in the
chat; /delivery [DAYS] (alias /results_delay) — how fast final grades reached parents. Scope
and audit live in services (Reports, DeliveryMonitor): a class of another school is "not
found", exactly like an unknown one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.callbacks import ReportCb
from bot.handlers.common import ensure_admin, send, send_chunks
from bot.render_reports import (
    periods_keyboard,
    render_delivery_report,
    render_periods,
    report_caption,
)
from bot.texts import t
from services.errors import NotAdmin, NotFound
from services.reports.service import FORMATS, UnknownPeriod

if TYPE_CHECKING:
    from services.accounts import AccountView
    from services.container import Services

log = logging.getLogger(__name__)

KINDS = ("summary", "plan", "stats", "periods")
DEFAULT_DAYS, MAX_DAYS = 7, 365


@dataclass(frozen=True)
class ReportArgs:
    kind: str
    class_id: int
    period_id: int | None
    fmt: str


def parse_report_args(args: str | None) -> ReportArgs | None:
    """«stats 12 7 xlsx» → ReportArgs; None when it does not parse (the usage is shown)."""
    parts = (args or "").lower().split()
    if len(parts) < 2 or parts[0] not in KINDS or not parts[1].isdigit():
        return None
    kind, class_id, rest = parts[0], int(parts[1]), parts[2:]
    fmt = "pdf"
    if rest and rest[-1] in FORMATS:
        fmt = rest.pop()
    period_id = None
    if rest and kind in ("plan", "stats") and rest[0].isdigit():
        period_id = int(rest.pop(0))
    if rest or len(str(class_id)) > 12 or (period_id is not None and len(str(period_id)) > 12):
        return None
    return ReportArgs(kind, class_id, period_id, fmt)


async def _send_report(bot: Bot, chat_id: int, telegram_id: int, services: Services, lang: str,
                       args: ReportArgs) -> None:
    try:
        if args.kind == "periods":
            periods = await services.reports.periods(telegram_id, args.class_id)
            await send_chunks(bot, chat_id, render_periods(periods, lang) if periods.periods
                              else [t(lang, "rp_no_periods")])
            return
        await bot.send_chat_action(chat_id, ChatAction.UPLOAD_DOCUMENT)
        file = await services.reports.build(telegram_id, args.kind, args.class_id, fmt=args.fmt,
                                            period_id=args.period_id)
    except NotFound:  # unknown, deleted, or another school's class
        await send(bot, chat_id, t(lang, "class_not_found"))
        return
    except UnknownPeriod:
        periods = await services.reports.periods(telegram_id, args.class_id)
        if not periods.periods:
            await send(bot, chat_id, t(lang, "rp_no_periods"))
            return
        await send_chunks(bot, chat_id, render_periods(periods, lang))
        await send(bot, chat_id, t(lang, "rp_period_unknown") + "\n"
                   + t(lang, "rp_pick_period", report=t(lang, f"rp_name_{args.kind}")),
                   periods_keyboard(periods, args.kind, args.fmt))
        return
    await bot.send_document(chat_id, BufferedInputFile(file.content, filename=file.filename),
                            caption=report_caption(file, lang), parse_mode="HTML")


async def on_report(message: Message, command: CommandObject, bot: Bot, account: AccountView, services: Services,
                    lang: str) -> None:
    if not await ensure_admin(bot, message.chat.id, account.telegram_id, services, lang):
        return
    args = parse_report_args(command.args)
    if args is None:
        await send(bot, message.chat.id, t(lang, "rp_usage"))
        return
    await _send_report(bot, message.chat.id, account.telegram_id, services, lang, args)


async def on_report_period(query: CallbackQuery, callback_data: ReportCb, bot: Bot, account: AccountView,
                           services: Services, lang: str) -> None:
    if callback_data.kind not in ("plan", "stats") or callback_data.fmt not in FORMATS:
        await query.answer(t(lang, "stale_button"), show_alert=True)
        return
    if not await services.admins.is_admin(account.telegram_id):
        raise NotAdmin(f"telegram id {account.telegram_id} is not an admin")
    await query.answer()
    args = ReportArgs(callback_data.kind, callback_data.class_id, callback_data.period_id, callback_data.fmt)
    await _send_report(bot, query.from_user.id, account.telegram_id, services, lang, args)


async def on_delivery(message: Message, command: CommandObject, bot: Bot, account: AccountView, services: Services,
                      lang: str) -> None:
    if not await ensure_admin(bot, message.chat.id, account.telegram_id, services, lang):
        return
    arg = (command.args or "").strip()
    if arg and not (arg.isdigit() and 1 <= int(arg) <= MAX_DAYS):
        await send(bot, message.chat.id, t(lang, "dl_usage"))
        return
    days = int(arg) if arg else DEFAULT_DAYS
    report = await services.delivery.report(account.telegram_id, days=days)
    await send_chunks(bot, message.chat.id, render_delivery_report(report, days, lang))


def router() -> Router:
    r = Router(name="reports")
    r.message.register(on_report, Command("report", "reports"))
    r.message.register(on_delivery, Command("delivery", "results_delay"))
    r.callback_query.register(on_report_period, ReportCb.filter(F.kind.in_({"plan", "stats"})))
    return r
