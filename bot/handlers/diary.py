"""Parent views: marks, homework, timetable, children; behind the consent gate.

A view shows the active child. Its inline buttons (ViewCb) switch the range and edit the
message in place; «another child» (ChildListCb) lists the children, and a choice
(ChildViewCb) makes that child active and reopens the same view. Every student id from a
button goes back to services, which raise NotLinked for a forged one: the errors router then
answers «нет доступа» and nothing else is shown.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.callbacks import ChildCb, ChildListCb, ChildViewCb, ViewCb
from bot.handlers.common import edit_chunks, send, send_chunks, send_consent_prompt
from bot.keyboards import DEFAULT_RANGE, RANGES, VIEWS, children_keyboard, main_menu, view_keyboard
from bot.middlewares import ConsentGate
from bot.render import render_children, render_grades, render_homework, render_schedule
from bot.texts import t, variants

if TYPE_CHECKING:
    from services.accounts import AccountView
    from services.container import Services


def _range(view: str, arg: str) -> str:
    if view == "grades":
        return ""
    return arg if arg in RANGES else DEFAULT_RANGE[view]


async def render_view(services: Services, account_id: int, lang: str, view: str, student_id: int,
                      arg: str) -> list[str]:
    """The chunks of one view of one child; NotLinked (from services) if not the parent's child."""
    if view == "grades":
        return render_grades(await services.diary.grades(account_id, student_id), lang)
    if view == "homework":
        return render_homework(await services.diary.homework(account_id, student_id, arg), lang, arg)
    return render_schedule(await services.diary.schedule(account_id, student_id, arg), lang, arg)


async def _show(bot: Bot, chat_id: int, services: Services, account: AccountView, lang: str, view: str,
                student_id: int, arg: str, *, several: bool, edit: Message | None = None) -> None:
    arg = _range(view, arg)
    chunks = await render_view(services, account.id, lang, view, student_id, arg)
    keyboard = view_keyboard(lang, view, student_id, arg, several_children=several)
    if edit is not None:
        await edit_chunks(bot, edit, chunks, keyboard)
    else:
        await send_chunks(bot, chat_id, chunks, keyboard)


async def _open(message: Message, bot: Bot, account: AccountView, services: Services, lang: str,
                view: str) -> None:
    children = await services.linking.children(account.id)
    active = next((c for c in children if c.is_active), None)
    if active is None:
        await send(bot, message.chat.id, t(lang, "no_children"), main_menu(lang))
        return
    await _show(bot, message.chat.id, services, account, lang, view, active.student_id, DEFAULT_RANGE[view],
                several=len(children) > 1)


async def on_grades(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    await _open(message, bot, account, services, lang, "grades")


async def on_homework(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    await _open(message, bot, account, services, lang, "homework")


async def on_schedule(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    await _open(message, bot, account, services, lang, "schedule")


async def on_children(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    children = await services.linking.children(account.id)
    if not children:
        await send(bot, message.chat.id, t(lang, "no_children"), main_menu(lang))
        return
    active = next((c.student_id for c in children if c.is_active), None)
    await send(bot, message.chat.id, render_children(children, active, lang), children_keyboard(children, active))


def _message(query: CallbackQuery) -> Message | None:
    return query.message if isinstance(query.message, Message) else None


async def on_view(query: CallbackQuery, callback_data: ViewCb, bot: Bot, account: AccountView,
                  services: Services, lang: str) -> None:
    arg = _range(callback_data.view, callback_data.arg)
    # render first: a forged id fails here, before anything is answered or edited
    chunks = await render_view(services, account.id, lang, callback_data.view, callback_data.student_id, arg)
    children = await services.linking.children(account.id)
    keyboard = view_keyboard(lang, callback_data.view, callback_data.student_id, arg,
                             several_children=len(children) > 1)
    await query.answer()
    message = _message(query)
    if message is not None:
        await edit_chunks(bot, message, chunks, keyboard)
    else:
        await send_chunks(bot, query.from_user.id, chunks, keyboard)


async def on_child_list(query: CallbackQuery, callback_data: ChildListCb, bot: Bot, account: AccountView,
                        services: Services, lang: str) -> None:
    children = await services.linking.children(account.id)
    await query.answer()
    if not children:
        await send(bot, query.from_user.id, t(lang, "no_children"), main_menu(lang))
        return
    active = next((c.student_id for c in children if c.is_active), None)
    keyboard = children_keyboard(children, active, view=callback_data.view, arg=callback_data.arg)
    message = _message(query)
    if message is not None:
        await edit_chunks(bot, message, [t(lang, "children_pick")], keyboard)
    else:
        await send(bot, query.from_user.id, t(lang, "children_pick"), keyboard)


async def on_child_view(query: CallbackQuery, callback_data: ChildViewCb, bot: Bot, account: AccountView,
                        services: Services, lang: str) -> None:
    child = await services.linking.set_active_child(account.id, callback_data.student_id)  # NotLinked
    children = await services.linking.children(account.id)
    await query.answer()
    await _show(bot, query.from_user.id, services, account, lang, callback_data.view, child.student_id,
                callback_data.arg, several=len(children) > 1, edit=_message(query))


async def on_child(query: CallbackQuery, callback_data: ChildCb, bot: Bot, account: AccountView,
                   services: Services, lang: str) -> None:
    child = await services.linking.set_active_child(account.id, callback_data.student_id)  # NotLinked
    children = await services.linking.children(account.id)
    await query.answer(t(lang, "child_selected", name=child.first_name or child.full_name))
    text = render_children(children, child.student_id, lang)
    keyboard = children_keyboard(children, child.student_id)
    message = _message(query)
    if message is not None:
        await edit_chunks(bot, message, [text], keyboard)
    else:
        await send(bot, query.from_user.id, text, keyboard)


def router() -> Router:
    r = Router(name="diary")
    gate = ConsentGate(send_consent_prompt)
    r.message.middleware(gate)
    r.callback_query.middleware(gate)
    r.message.register(on_grades, Command("grades"))
    r.message.register(on_grades, F.text.in_(variants("btn_grades")))
    r.message.register(on_homework, Command("homework"))
    r.message.register(on_homework, F.text.in_(variants("btn_homework")))
    r.message.register(on_schedule, Command("schedule"))
    r.message.register(on_schedule, F.text.in_(variants("btn_schedule")))
    r.message.register(on_children, Command("children"))
    r.message.register(on_children, F.text.in_(variants("btn_children")))
    r.callback_query.register(on_view, ViewCb.filter(F.view.in_(VIEWS)))
    r.callback_query.register(on_child_list, ChildListCb.filter(F.view.in_(VIEWS)))
    r.callback_query.register(on_child_view, ChildViewCb.filter(F.view.in_(VIEWS)))
    r.callback_query.register(on_child, ChildCb.filter())
    return r
