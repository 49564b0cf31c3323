"""Term results: /forecast, /finals and /forecast_push for parents (behind the consent gate);
/forecast_rule and /forecast_round for school admins.

Views show the active child and edit in place: period buttons (ForecastCb), grade groups
(FinalsCb), «another child» (ResultsChildListCb → ResultsChildCb). A student id from a button
goes back to services, which raise NotLinked for a forged one: the errors router then answers
«нет доступа» and nothing is shown.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from bot.callbacks import (
    FinalsCb,
    ForecastCb,
    ForecastPushCb,
    ResultsChildCb,
    ResultsChildListCb,
)
from bot.handlers.common import (
    edit_chunks,
    require_admin,
    send,
    send_chunks,
    send_consent_prompt,
)
from bot.keyboards import main_menu
from bot.middlewares import ConsentGate
from bot.render import child_label
from bot.render_results import (
    group_label,
    render_finals,
    render_forecast,
    render_push_settings,
    render_rule,
    which_label,
)
from bot.texts import RU, t
from services.errors import NotAdmin, NotFound
from services.forecast import RuleError
from services.results import FREQUENCIES, WHICH, SchoolRequired, subject_payload

if TYPE_CHECKING:
    from services.accounts import AccountView
    from services.container import Services

log = logging.getLogger(__name__)

VIEWS = ("forecast", "finals")
#: Finals group buttons per row.
GROUPS_PER_ROW = 3


def _button(text: str, cb) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text[:60], callback_data=cb.pack())


def _message(query: CallbackQuery) -> Message | None:
    return query.message if isinstance(query.message, Message) else None


# --------------------------------------------------------------------------- keyboards


def forecast_keyboard(lang: str, view, *, several_children: bool) -> InlineKeyboardMarkup:
    rows = []
    if view.available:
        rows.append([
            _button(("✓ " if w == view.which else "") + which_label(w, view.term_kind, lang),
                    ForecastCb(student_id=view.student_id, which=w))
            for w in view.available
        ])
    rows.append([_button(t(lang, "btn_fc_push"), ForecastPushCb(frequency="show"))])
    if several_children:
        rows.append([_button(t(lang, "btn_other_child"), ResultsChildListCb(view="forecast", arg=view.which))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def finals_keyboard(lang: str, view, *, several_children: bool) -> InlineKeyboardMarkup:
    buttons = [
        _button(("✓ " if g.key == view.selected else "") + group_label(g, lang),
                FinalsCb(student_id=view.student_id, group=g.key))
        for g in view.groups
    ]
    rows = [buttons[i:i + GROUPS_PER_ROW] for i in range(0, len(buttons), GROUPS_PER_ROW)] if len(buttons) > 1 else []
    if several_children:
        rows.append([_button(t(lang, "btn_other_child"), ResultsChildListCb(view="finals", arg=view.selected or ""))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def push_keyboard(lang: str, frequency: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        _button(("✓ " if f == frequency else "") + t(lang, f"btn_fp_{f}"), ForecastPushCb(frequency=f))
        for f in ("weekly", "biweekly", "off")
    ]])


# --------------------------------------------------------------------------- parent views


async def render_view(services: Services, account_id: int, lang: str, view: str, student_id: int, arg: str,
                      *, several: bool) -> tuple[list[str], InlineKeyboardMarkup]:
    """Chunks and keyboard of one view of one child; NotLinked (from services) if not the parent's."""
    if view == "forecast":
        which = arg if arg in WHICH else "term"
        fv = await services.results.forecast(account_id, student_id, which)
        return render_forecast(fv, lang, subject_payload), forecast_keyboard(lang, fv, several_children=several)
    finals = await services.results.finals(account_id, student_id, arg or None)
    return render_finals(finals, lang), finals_keyboard(lang, finals, several_children=several)


async def _several(services: Services, account_id: int) -> bool:
    return len(await services.linking.children(account_id)) > 1


async def _open(message: Message, bot: Bot, account: AccountView, services: Services, lang: str,
                view: str) -> None:
    children = await services.linking.children(account.id)
    active = next((c for c in children if c.is_active), None)
    if active is None:
        await send(bot, message.chat.id, t(lang, "no_children"), main_menu(lang))
        return
    chunks, keyboard = await render_view(services, account.id, lang, view, active.student_id, "",
                                         several=len(children) > 1)
    await send_chunks(bot, message.chat.id, chunks, keyboard)


async def on_forecast(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    await _open(message, bot, account, services, lang, "forecast")


async def on_finals(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    await _open(message, bot, account, services, lang, "finals")


async def _show_in_place(query: CallbackQuery, bot: Bot, services: Services, account: AccountView, lang: str,
                         view: str, student_id: int, arg: str) -> None:
    # render first: a forged id fails here, before anything is answered or edited
    chunks, keyboard = await render_view(services, account.id, lang, view, student_id, arg,
                                         several=await _several(services, account.id))
    await query.answer()
    message = _message(query)
    if message is not None:
        await edit_chunks(bot, message, chunks, keyboard)
    else:
        await send_chunks(bot, query.from_user.id, chunks, keyboard)


async def on_forecast_button(query: CallbackQuery, callback_data: ForecastCb, bot: Bot, account: AccountView,
                             services: Services, lang: str) -> None:
    await _show_in_place(query, bot, services, account, lang, "forecast", callback_data.student_id,
                         callback_data.which)


async def on_finals_button(query: CallbackQuery, callback_data: FinalsCb, bot: Bot, account: AccountView,
                           services: Services, lang: str) -> None:
    await _show_in_place(query, bot, services, account, lang, "finals", callback_data.student_id,
                         callback_data.group)


async def on_child_list(query: CallbackQuery, callback_data: ResultsChildListCb, bot: Bot, account: AccountView,
                        services: Services, lang: str) -> None:
    children = await services.linking.children(account.id)
    await query.answer()
    if not children:
        await send(bot, query.from_user.id, t(lang, "no_children"), main_menu(lang))
        return
    active = next((c.student_id for c in children if c.is_active), None)
    keyboard = InlineKeyboardMarkup(inline_keyboard=[
        [_button(child_label(c, active), ResultsChildCb(student_id=c.student_id, view=callback_data.view,
                                                        arg=callback_data.arg))]
        for c in children
    ])
    message = _message(query)
    if message is not None:
        await edit_chunks(bot, message, [t(lang, "children_pick")], keyboard)
    else:
        await send(bot, query.from_user.id, t(lang, "children_pick"), keyboard)


async def on_child(query: CallbackQuery, callback_data: ResultsChildCb, bot: Bot, account: AccountView,
                   services: Services, lang: str) -> None:
    child = await services.linking.set_active_child(account.id, callback_data.student_id)  # NotLinked
    # a group key of finals belongs to the child it was shown for: start afresh
    arg = callback_data.arg if callback_data.view == "forecast" else ""
    await _show_in_place(query, bot, services, account, lang, callback_data.view, child.student_id, arg)


# --------------------------------------------------------------------------- push frequency


def _push_text(services: Services, frequency: str, lang: str) -> str:
    st = services.settings
    return render_push_settings(frequency, st.forecast_push_weekday, st.forecast_push_time, st.forecast_risk_days,
                                lang)


async def on_push_settings(message: Message, bot: Bot, account: AccountView, services: Services,
                           lang: str) -> None:
    frequency = await services.results.push_frequency(account.id)
    await send(bot, message.chat.id, _push_text(services, frequency, lang), push_keyboard(lang, frequency))


async def on_push_button(query: CallbackQuery, callback_data: ForecastPushCb, bot: Bot, account: AccountView,
                         services: Services, lang: str) -> None:
    if callback_data.frequency == "show":
        frequency = await services.results.push_frequency(account.id)
        await query.answer()
        await send(bot, query.from_user.id, _push_text(services, frequency, lang), push_keyboard(lang, frequency))
        return
    frequency = await services.results.set_push_frequency(account.id, callback_data.frequency)
    await query.answer(t(lang, "fp_saved"))
    message = _message(query)
    text, keyboard = _push_text(services, frequency, lang), push_keyboard(lang, frequency)
    if message is not None:
        await edit_chunks(bot, message, [text], keyboard)
    else:
        await send(bot, query.from_user.id, text, keyboard)


# --------------------------------------------------------------------------- admins


def _split_rule_args(args: str | None) -> tuple[str | None, list[str]]:
    """"sch-1 min_marks=4" → ("sch-1", ["min_marks=4"]); "min_marks=4" → (None, [...])."""
    parts = (args or "").split()
    if parts and "=" not in parts[0] and parts[0].lower() != "reset":
        return parts[0], parts[1:]
    return None, parts


async def on_forecast_rule(message: Message, command: CommandObject, bot: Bot, account: AccountView,
                           services: Services, lang: str) -> None:
    if not await require_admin(message, bot, services, lang):
        return
    school_ref, settings = _split_rule_args(command.args)
    tz = services.settings.default_timezone
    try:
        if settings:
            view = await services.results.set_rule(account.telegram_id, school_ref, settings)
            text = t(lang, "fr_saved") + "\n\n" + render_rule(view, lang, tz)
        else:
            text = render_rule(await services.results.rule(account.telegram_id, school_ref), lang, tz)
    except SchoolRequired:
        text = t(lang, "fr_school_required")
    except (NotFound, NotAdmin):
        text = t(lang, "fr_school_not_found")
    except RuleError as exc:
        key = f"rule_err_{exc.code}"
        reason = t(lang, key) if key in RU else t(lang, "rule_err_bad_value")
        text = t(lang, "fr_error", reason=reason)
    await send(bot, message.chat.id, text)


async def on_forecast_round(message: Message, command: CommandObject, bot: Bot, account: AccountView,
                            services: Services, lang: str) -> None:
    if not await require_admin(message, bot, services, lang):
        return
    arg = (command.args or "").strip()
    if not arg.isdigit():
        await send(bot, message.chat.id, t(lang, "fr_round_usage"))
        return
    try:
        report = await services.forecast_push.round_for_class(account.telegram_id, int(arg))
    except (NotFound, NotAdmin):  # another school's class is "not found" too
        await send(bot, message.chat.id, t(lang, "class_not_found"))
        return
    if report.period_name is None:
        await send(bot, message.chat.id, t(lang, "fr_round_no_period", class_name=report.class_name))
        return
    await send(bot, message.chat.id, t(lang, "fr_round_done", period=report.period_name,
                                       class_name=report.class_name, messages=report.messages,
                                       pupils=report.pupils))


# --------------------------------------------------------------------------- routers


def router() -> Router:
    root = Router(name="results")
    admin = Router(name="results-admin")  # admins act without a parent's consent
    admin.message.register(on_forecast_rule, Command("forecast_rule"))
    admin.message.register(on_forecast_round, Command("forecast_round"))
    parent = Router(name="results-parent")
    gate = ConsentGate(send_consent_prompt)
    parent.message.middleware(gate)
    parent.callback_query.middleware(gate)
    parent.message.register(on_forecast, Command("forecast"))
    parent.message.register(on_finals, Command("finals"))
    parent.message.register(on_push_settings, Command("forecast_push"))
    parent.callback_query.register(on_forecast_button, ForecastCb.filter(F.which.in_(WHICH)))
    parent.callback_query.register(on_finals_button, FinalsCb.filter())
    parent.callback_query.register(on_child_list, ResultsChildListCb.filter(F.view.in_(VIEWS)))
    parent.callback_query.register(on_child, ResultsChildCb.filter(F.view.in_(VIEWS)))
    parent.callback_query.register(on_push_button, ForecastPushCb.filter(F.frequency.in_(("show", *FREQUENCIES))))
    root.include_routers(admin, parent)
    return root
