"""Parent views of one child, behind the consent gate.

Views (see bot.keyboards.SCREENS): marks (and a subject's detail), timetable and homework of a
day or a week (◀ / ▶ over any date), homework by subject (and a subject's detail), control
works, teachers, holidays, recommendations, and the inline menu of all of them («Ещё…»).

A view opened from the reply keyboard or a command is a new message about the active child;
every inline button edits that message in place. «another child» (ChildListCb) lists the
children, and a choice (ChildViewCb) makes that child active and reopens the same view with
the same state (e.g. the same dates). Every student or subject id from a button goes back to
services, which raise NotLinked for a forged one: the errors router then answers «нет доступа»
and nothing else is shown or edited (a view is built before anything is answered).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.callbacks import (
    ChildCb,
    ChildListCb,
    ChildViewCb,
    DayCb,
    DiaryViewCb,
    MenuCb,
    SubjectCb,
    ViewCb,
)
from bot.handlers.common import edit_chunks, send, send_chunks, send_consent_prompt
from bot.keyboards import (
    DAY_VIEWS,
    DEFAULT_RANGE,
    RANGES,
    SCREENS,
    SPAN_CODES,
    SUBJECT_VIEWS,
    VIEWS,
    children_keyboard,
    day_keyboard,
    day_state,
    grades_keyboard,
    homework_subjects_keyboard,
    main_menu,
    menu_keyboard,
    screen_keyboard,
    subject_keyboard,
)
from bot.middlewares import ConsentGate
from bot.render import (
    day_title,
    render_assessments,
    render_children,
    render_grades,
    render_holidays,
    render_homework,
    render_homework_subjects,
    render_menu,
    render_recommendations,
    render_schedule,
    render_subject_homework,
    render_subject_marks,
    render_teachers,
)
from bot.texts import t, variants

if TYPE_CHECKING:
    from services.accounts import AccountView
    from services.container import Services

#: Views «another child» can reopen: every screen and the menu (a subject's detail reopens
#: the list of subjects: the other child may be in another school with other subjects).
SWITCHABLE = (*SCREENS, "menu")
#: Dates a day view accepts from a button (anything else is a stale or forged button).
MIN_YEAR, MAX_YEAR = 2000, 2099

Shown = tuple[list[str], InlineKeyboardMarkup]
Builder = Callable[["Services", int, str, int, str, bool], Awaitable[Shown]]


# --------------------------------------------------------------------------- state of day views


def parse_day(value: str) -> date | None:
    """A YYYYMMDD date from a button, or None."""
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        day = date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


def parse_state(view: str, arg: str) -> tuple[str, date | None, str]:
    """The state of a timetable/homework view: ("today"|"tomorrow"|"week", None, "") for a range
    relative to the school's today, or ("", day, "day"|"week") for given dates. Anything
    unreadable falls back to the view's default range."""
    if arg in RANGES:
        return arg, None, ""
    if len(arg) == 9 and arg[0] in SPAN_CODES:
        day = parse_day(arg[1:])
        if day is not None:
            return "", day, SPAN_CODES[arg[0]]
    return DEFAULT_RANGE[view], None, ""


# --------------------------------------------------------------------------- builders: view → (chunks, keyboard)


async def _grades(services: Services, account_id: int, lang: str, student_id: int, arg: str,
                  several: bool) -> Shown:
    view = await services.diary.grades(account_id, student_id)
    keyboard = grades_keyboard(lang, student_id, view.subjects, several_children=several)
    hint = any(s.subject_id is not None and s.marks for s in view.subjects)
    return render_grades(view, lang, hint=hint), keyboard


async def _subject_marks(services: Services, account_id: int, lang: str, student_id: int, arg: str,
                         several: bool) -> Shown:
    view = await services.diary.subject_marks(account_id, student_id, int(arg))
    return render_subject_marks(view, lang), subject_keyboard(lang, "grades", student_id, several_children=several)


async def _day_view(services: Services, account_id: int, lang: str, view_name: str, student_id: int, arg: str,
                    several: bool) -> Shown:
    which, day, span = parse_state(view_name, arg)
    diary = services.diary
    if view_name == "schedule":
        view = (await diary.schedule(account_id, student_id, which) if which
                else await diary.schedule_for(account_id, student_id, day, span))
    else:
        view = (await diary.homework(account_id, student_id, which) if which
                else await diary.homework_for(account_id, student_id, day, span))
    days = [d.date for d in view.days]
    title = day_title(days, view.today, lang)
    render = render_schedule if view_name == "schedule" else render_homework
    state = which or day_state(days[0], span)
    keyboard = day_keyboard(lang, view_name, student_id, days, view.today, several_children=several, state=state)
    return render(view, lang, which, title=title), keyboard


async def _schedule(services: Services, account_id: int, lang: str, student_id: int, arg: str,
                    several: bool) -> Shown:
    return await _day_view(services, account_id, lang, "schedule", student_id, arg, several)


async def _homework(services: Services, account_id: int, lang: str, student_id: int, arg: str,
                    several: bool) -> Shown:
    return await _day_view(services, account_id, lang, "homework", student_id, arg, several)


async def _homework_subjects(services: Services, account_id: int, lang: str, student_id: int, arg: str,
                             several: bool) -> Shown:
    view = await services.diary.homework_by_subject(account_id, student_id)
    keyboard = homework_subjects_keyboard(lang, student_id, view.subjects, several_children=several)
    return render_homework_subjects(view, lang), keyboard


async def _subject_homework(services: Services, account_id: int, lang: str, student_id: int, arg: str,
                            several: bool) -> Shown:
    view = await services.diary.subject_homework(account_id, student_id, int(arg))
    return render_subject_homework(view, lang), subject_keyboard(lang, "hwsubj", student_id, several_children=several)


async def _works(services: Services, account_id: int, lang: str, student_id: int, arg: str,
                 several: bool) -> Shown:
    view = await services.diary.assessments(account_id, student_id)
    return render_assessments(view, lang), screen_keyboard(lang, "works", student_id, several_children=several)


async def _teachers(services: Services, account_id: int, lang: str, student_id: int, arg: str,
                    several: bool) -> Shown:
    view = await services.diary.teachers(account_id, student_id)
    return render_teachers(view, lang), screen_keyboard(lang, "teachers", student_id, several_children=several)


async def _holidays(services: Services, account_id: int, lang: str, student_id: int, arg: str,
                    several: bool) -> Shown:
    view = await services.diary.holidays(account_id, student_id)
    return render_holidays(view, lang), screen_keyboard(lang, "holidays", student_id, several_children=several)


async def _recommendations(services: Services, account_id: int, lang: str, student_id: int, arg: str,
                           several: bool) -> Shown:
    view = await services.diary.recommendations(account_id, student_id)
    return (render_recommendations(view, lang),
            screen_keyboard(lang, "recs", student_id, several_children=several))


async def _menu(services: Services, account_id: int, lang: str, student_id: int, arg: str,
                several: bool) -> Shown:
    pupil = await services.diary.pupil(account_id, student_id)
    return [render_menu(pupil, lang)], menu_keyboard(lang, student_id, several_children=several)


BUILDERS: dict[str, Builder] = {
    "grades": _grades,
    "grades_subject": _subject_marks,
    "schedule": _schedule,
    "homework": _homework,
    "hwsubj": _homework_subjects,
    "hwsubj_subject": _subject_homework,
    "works": _works,
    "teachers": _teachers,
    "holidays": _holidays,
    "recs": _recommendations,
    "menu": _menu,
}


async def build_view(services: Services, account_id: int, lang: str, view: str, student_id: int, arg: str = "",
                     *, several: bool) -> Shown:
    """The chunks and keyboard of one view of one child; NotLinked (from services) if the
    student (or subject) is not the account's to see."""
    return await BUILDERS[view](services, account_id, lang, student_id, arg, several)


# --------------------------------------------------------------------------- showing


async def _several(services: Services, account_id: int) -> bool:
    return len(await services.linking.children(account_id)) > 1


def _message(query: CallbackQuery) -> Message | None:
    return query.message if isinstance(query.message, Message) else None


async def _show_in_place(query: CallbackQuery, bot: Bot, account: AccountView, services: Services, lang: str,
                         view: str, student_id: int, arg: str = "") -> None:
    """Build first (a forged id fails here, before anything is answered or edited), then edit."""
    several = await _several(services, account.id)
    chunks, keyboard = await build_view(services, account.id, lang, view, student_id, arg, several=several)
    await query.answer()
    message = _message(query)
    if message is not None:
        await edit_chunks(bot, message, chunks, keyboard)
    else:
        await send_chunks(bot, query.from_user.id, chunks, keyboard)


async def _open(message: Message, bot: Bot, account: AccountView, services: Services, lang: str,
                view: str) -> None:
    """A view of the active child as a new message (reply keyboard, commands)."""
    children = await services.linking.children(account.id)
    active = next((c for c in children if c.is_active), None)
    if active is None:
        await send(bot, message.chat.id, t(lang, "no_children"), main_menu(lang))
        return
    chunks, keyboard = await build_view(services, account.id, lang, view, active.student_id,
                                        several=len(children) > 1)
    await send_chunks(bot, message.chat.id, chunks, keyboard)


def _opener(view: str) -> Callable[..., Awaitable[None]]:
    async def handler(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
        await _open(message, bot, account, services, lang, view)

    handler.__name__ = f"on_{view}"
    return handler


on_grades = _opener("grades")
on_homework = _opener("homework")
on_schedule = _opener("schedule")
on_more = _opener("menu")


async def on_children(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    children = await services.linking.children(account.id)
    if not children:
        await send(bot, message.chat.id, t(lang, "no_children"), main_menu(lang))
        return
    active = next((c.student_id for c in children if c.is_active), None)
    await send(bot, message.chat.id, render_children(children, active, lang), children_keyboard(children, active))


# --------------------------------------------------------------------------- buttons


async def on_view(query: CallbackQuery, callback_data: ViewCb, bot: Bot, account: AccountView,
                  services: Services, lang: str) -> None:
    """today / tomorrow / week and «refresh» of marks."""
    arg = "" if callback_data.view == "grades" else (
        callback_data.arg if callback_data.arg in RANGES else DEFAULT_RANGE[callback_data.view])
    await _show_in_place(query, bot, account, services, lang, callback_data.view, callback_data.student_id, arg)


async def on_diary_view(query: CallbackQuery, callback_data: DiaryViewCb, bot: Bot, account: AccountView,
                        services: Services, lang: str) -> None:
    await _show_in_place(query, bot, account, services, lang, callback_data.view, callback_data.student_id)


async def on_day(query: CallbackQuery, callback_data: DayCb, bot: Bot, account: AccountView,
                 services: Services, lang: str) -> None:
    view = DAY_VIEWS[callback_data.view]
    await _show_in_place(query, bot, account, services, lang, view, callback_data.student_id,
                         callback_data.span + callback_data.day)


async def on_subject(query: CallbackQuery, callback_data: SubjectCb, bot: Bot, account: AccountView,
                     services: Services, lang: str) -> None:
    view = SUBJECT_VIEWS[callback_data.view] + "_subject"
    await _show_in_place(query, bot, account, services, lang, view, callback_data.student_id,
                         str(callback_data.subject_id))


async def on_menu(query: CallbackQuery, callback_data: MenuCb, bot: Bot, account: AccountView,
                  services: Services, lang: str) -> None:
    await _show_in_place(query, bot, account, services, lang, "menu", callback_data.student_id)


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
    view = callback_data.view
    arg = callback_data.arg if view in VIEWS and view != "grades" else ""
    await _show_in_place(query, bot, account, services, lang, view, child.student_id, arg)


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
    r.message.register(on_more, Command("more"))
    r.message.register(on_more, F.text.in_(variants("btn_more")))
    r.message.register(_opener("works"), Command("works"))
    r.message.register(_opener("teachers"), Command("teachers"))
    r.message.register(_opener("holidays"), Command("holidays"))
    r.message.register(_opener("recs"), Command("recommendations"))
    r.message.register(on_children, Command("children"))
    r.message.register(on_children, F.text.in_(variants("btn_children")))
    r.callback_query.register(on_view, ViewCb.filter(F.view.in_(VIEWS)))
    r.callback_query.register(on_diary_view, DiaryViewCb.filter(F.view.in_(SCREENS)))
    r.callback_query.register(on_day, DayCb.filter(
        F.view.in_(DAY_VIEWS) & F.span.in_(SPAN_CODES) & F.day.func(parse_day)))
    r.callback_query.register(on_subject, SubjectCb.filter(F.view.in_(SUBJECT_VIEWS)))
    r.callback_query.register(on_menu, MenuCb.filter())
    r.callback_query.register(on_child_list, ChildListCb.filter(F.view.in_(SWITCHABLE)))
    r.callback_query.register(on_child_view, ChildViewCb.filter(F.view.in_(SWITCHABLE)))
    r.callback_query.register(on_child, ChildCb.filter())
    return r
