"""Reply keyboard (the main menu for phones) and inline keyboards built from typed callback data."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.callbacks import (
    ChildCb,
    ChildListCb,
    ChildViewCb,
    ConsentCb,
    ConsentMenuCb,
    DayCb,
    DiaryViewCb,
    LinkDecisionCb,
    MenuCb,
    SubjectCb,
    ViewCb,
)
from bot.render import child_label, fmt_date, fmt_day, subject_label
from bot.texts import t

VIEWS = ("grades", "homework", "schedule")
RANGES = ("today", "tomorrow", "week")
#: The range a view opens with when none was chosen.
DEFAULT_RANGE = {"grades": "", "homework": "tomorrow", "schedule": "today"}
#: Every view of a child that the menu opens (DiaryViewCb) and «another child» reopens.
SCREENS = ("grades", "schedule", "homework", "hwsubj", "works", "teachers", "holidays", "recs")
#: The inline menu's entries, two per row (the text key is btn_view_<view>).
MENU_ROWS = (("grades", "schedule"), ("homework", "hwsubj"), ("works", "teachers"), ("holidays", "recs"))
#: Short codes of DayCb / SubjectCb views.
DAY_VIEWS = {"s": "schedule", "h": "homework"}
SUBJECT_VIEWS = {"g": "grades", "h": "hwsubj"}
SPAN_CODES = {"d": "day", "w": "week"}


def main_menu(lang: str) -> ReplyKeyboardMarkup:
    """The persistent menu; shown only to accounts that granted consent.

    The three daily views have their own buttons; «Ещё…» opens the inline menu of the rest
    (control works, teachers, holidays, recommendations): every view is at most two taps away."""
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=t(lang, "btn_grades")), KeyboardButton(text=t(lang, "btn_schedule"))],
            [KeyboardButton(text=t(lang, "btn_homework")), KeyboardButton(text=t(lang, "btn_more"))],
            [KeyboardButton(text=t(lang, "btn_children")), KeyboardButton(text=t(lang, "btn_settings"))],
            [KeyboardButton(text=t(lang, "btn_consent")), KeyboardButton(text=t(lang, "btn_help"))],
            [KeyboardButton(text=t(lang, "btn_share_phone"), request_contact=True)],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )


def no_menu() -> ReplyKeyboardRemove:
    return ReplyKeyboardRemove()


def _button(text: str, cb: Any) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=cb.pack())


def consent_keyboard(lang: str, version: str, *, refuse: bool = True) -> InlineKeyboardMarkup:
    """«Согласен» / «Не согласен» for the consent text of `version`."""
    row = [_button(t(lang, "btn_agree"), ConsentCb(action="grant", version=version))]
    if refuse:
        row.append(_button(t(lang, "btn_disagree"), ConsentCb(action="refuse", version=version)))
    return InlineKeyboardMarkup(inline_keyboard=[row])


def withdraw_keyboard(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [_button(t(lang, "btn_withdraw"), ConsentMenuCb(action="ask_withdraw"))],
    ])


def withdraw_confirm_keyboard(lang: str, version: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        _button(t(lang, "btn_withdraw_confirm"), ConsentCb(action="withdraw", version=version)),
        _button(t(lang, "btn_cancel"), ConsentMenuCb(action="cancel")),
    ]])


Rows = list[list[InlineKeyboardButton]]


def view_keyboard(lang: str, view: str, student_id: int, arg: str, *, several_children: bool,
                  before: Sequence[list[InlineKeyboardButton]] = (),
                  after: Sequence[list[InlineKeyboardButton]] = (), menu: bool = False,
                  child_arg: str | None = None) -> InlineKeyboardMarkup:
    """Range buttons (today/tomorrow/week, ✓ on `arg`; «refresh» for marks) and «another child»,
    which reopens `view` with `child_arg` (default `arg`) for the chosen child.

    `before` / `after` rows go around the range row (views other than grades, homework and
    schedule have none); `menu` adds «Все разделы» next to «another child»."""
    rows: Rows = [list(row) for row in before]
    if view == "grades":
        rows.append([_button(t(lang, "btn_refresh"), ViewCb(view=view, student_id=student_id, arg=""))])
    elif view in VIEWS:
        rows.append([
            _button(("✓ " if which == arg else "") + t(lang, f"btn_{which}"),
                    ViewCb(view=view, student_id=student_id, arg=which))
            for which in RANGES
        ])
    rows.extend(list(row) for row in after)
    footer = [_button(t(lang, "btn_menu"), MenuCb(student_id=student_id))] if menu else []
    if several_children:
        footer.append(_button(t(lang, "btn_other_child"),
                              ChildListCb(view=view, arg=arg if child_arg is None else child_arg)))
    if footer:
        rows.append(footer)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _pairs(buttons: Sequence[InlineKeyboardButton], per_row: int = 2) -> Rows:
    return [list(buttons[i:i + per_row]) for i in range(0, len(buttons), per_row)]


def grades_keyboard(lang: str, student_id: int, subjects: Sequence[Any], *,
                    several_children: bool) -> InlineKeyboardMarkup:
    """A button per subject with marks (its detail), «refresh», «all sections», «another child»."""
    buttons = [_button(subject_label(s.subject_name, s.average, lang),
                       SubjectCb(view="g", student_id=student_id, subject_id=s.subject_id))
               for s in subjects if s.subject_id is not None and s.marks]
    return view_keyboard(lang, "grades", student_id, "", several_children=several_children,
                         before=_pairs(buttons), menu=True)


def day_state(day: date, span: str) -> str:
    """The state of a day view as carried by «another child»: "d20261130" or "w20261130"."""
    return ("w" if span == "week" else "d") + day.strftime("%Y%m%d")


def relative_range(days: Sequence[date], today: date | None) -> str:
    """"today", "tomorrow" or "week" when the shown days are exactly that range, else ""."""
    if today is None or not days:
        return ""
    if len(days) == 1:
        return {0: "today", 1: "tomorrow"}.get((days[0] - today).days, "")
    return "week" if days[0] <= today <= days[-1] else ""


def day_keyboard(lang: str, view: str, student_id: int, days: Sequence[date], today: date | None, *,
                 several_children: bool, state: str) -> InlineKeyboardMarkup:
    """◀ / ▶ to the previous / next day or week, today/tomorrow/week, (homework:) «by subject»,
    «all sections» and «another child» (which keeps `state`)."""
    code = "s" if view == "schedule" else "h"
    week = len(days) > 1
    step = timedelta(days=7 if week else 1)
    prev_day, next_day = days[0] - step, days[0] + step

    def label(day: date) -> str:
        if week:
            return f"{fmt_date(day)}–{fmt_date(day + timedelta(days=6))}"
        return fmt_day(day, lang)

    def nav(day: date) -> DayCb:
        return DayCb(view=code, student_id=student_id, day=day.strftime("%Y%m%d"), span="w" if week else "d")

    arrows = [_button(f"◀ {label(prev_day)}", nav(prev_day)), _button(f"{label(next_day)} ▶", nav(next_day))]
    after: Rows = []
    if view == "homework":
        after.append([_button(t(lang, "btn_by_subject"), DiaryViewCb(view="hwsubj", student_id=student_id))])
    return view_keyboard(lang, view, student_id, relative_range(days, today), several_children=several_children,
                         before=[arrows], after=after, menu=True, child_arg=state)


def homework_subjects_keyboard(lang: str, student_id: int, subjects: Sequence[Any], *,
                               several_children: bool) -> InlineKeyboardMarkup:
    """A button per subject (its homework of the period), «by day», «all sections», «another child»."""
    buttons = [_button(subject_label(s.subject_name, None, lang),
                       SubjectCb(view="h", student_id=student_id, subject_id=s.subject_id))
               for s in subjects if s.subject_id is not None]
    rows = [*_pairs(buttons), [_button(t(lang, "btn_by_day"), DiaryViewCb(view="homework", student_id=student_id))]]
    return _with_footer(lang, "hwsubj", student_id, rows, several_children=several_children)


def subject_keyboard(lang: str, view: str, student_id: int, *, several_children: bool) -> InlineKeyboardMarkup:
    """Under a subject's detail: back to all subjects (marks or homework), «all sections»,
    «another child» (which opens the other child's list of subjects)."""
    back_key = "btn_all_subjects" if view == "grades" else "btn_by_subject"
    back = [[_button(t(lang, back_key), DiaryViewCb(view=view, student_id=student_id))]]
    return _with_footer(lang, view, student_id, back, several_children=several_children)


def _with_footer(lang: str, view: str, student_id: int, rows: Rows, *, several_children: bool) -> InlineKeyboardMarkup:
    """`rows`, then «all sections» and «another child» (which reopens `view` for the chosen child)."""
    footer = [_button(t(lang, "btn_menu"), MenuCb(student_id=student_id))]
    if several_children:
        footer.append(_button(t(lang, "btn_other_child"), ChildListCb(view=view, arg="")))
    return InlineKeyboardMarkup(inline_keyboard=[*rows, footer])


def screen_keyboard(lang: str, view: str, student_id: int, *, several_children: bool) -> InlineKeyboardMarkup:
    """Under a list view (control works, teachers, holidays, recommendations): «refresh»,
    «all sections», «another child»."""
    refresh = [[_button(t(lang, "btn_refresh"), DiaryViewCb(view=view, student_id=student_id))]]
    return _with_footer(lang, view, student_id, refresh, several_children=several_children)


def menu_keyboard(lang: str, student_id: int, *, several_children: bool) -> InlineKeyboardMarkup:
    """The inline menu of every view of one child; «another child» reopens the menu."""
    rows: Rows = [[_button(t(lang, f"btn_view_{view}"), DiaryViewCb(view=view, student_id=student_id))
                   for view in pair] for pair in MENU_ROWS]
    if several_children:
        rows.append([_button(t(lang, "btn_other_child"), ChildListCb(view="menu", arg=""))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def children_keyboard(children: Sequence[Any], active_id: int | None, *, view: str | None = None,
                      arg: str = "") -> InlineKeyboardMarkup:
    """One button per child: ChildCb (the /children list) or ChildViewCb (reopen `view`)."""
    rows = []
    for child in children:
        cb = (ChildCb(student_id=child.student_id) if view is None
              else ChildViewCb(student_id=child.student_id, view=view, arg=arg))
        rows.append([_button(child_label(child, active_id), cb)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def link_decision_keyboard(lang: str, link_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        _button(t(lang, "btn_approve"), LinkDecisionCb(action="approve", link_id=link_id)),
        _button(t(lang, "btn_reject"), LinkDecisionCb(action="reject", link_id=link_id)),
    ]])


# --------------------------------------------------------------------------- notification settings (issue 4, items 2-4)

from bot.callbacks import NotifySettingsCb  # noqa: E402

#: Quiet hours a parent may choose (school time), and daily digest times.
QUIET_CHOICES = ("2000-0700", "2100-0700", "2200-0700", "2200-0800", "2300-0700", "2300-0800")
DIGEST_CHOICES = ("0730", "1200", "1500", "1800", "1900", "2000")


def _clock_label(hhmm: str) -> str:
    return f"{hhmm[:2]}:{hhmm[2:]}"


def _rows_of(buttons: list[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]


def settings_keyboard(lang: str, screen: str, *, enabled: dict[str, bool] | None = None,
                      current: str = "") -> InlineKeyboardMarkup:
    """The /settings keyboards. `screen`: main (one toggle per type, then quiet hours, digest,
    language), quiet or digest (the choices, `current` marked, and «back»)."""
    def choice(label: str, action: str, arg: str) -> InlineKeyboardButton:
        return _button(("✓ " if arg == current else "") + label, NotifySettingsCb(action=action, arg=arg))

    rows: list[list[InlineKeyboardButton]] = []
    if screen == "quiet":
        rows += _rows_of([choice(f"{_clock_label(c[:4])}–{_clock_label(c[5:])}", "quiet", c)
                          for c in QUIET_CHOICES], 2)
        rows.append([choice(t(lang, "ns_quiet_off_btn"), "quiet", "off")])
    elif screen == "digest":
        rows.append([choice(t(lang, "ns_digest_instant_btn"), "digest", "off")])
        rows += _rows_of([choice(_clock_label(c), "digest", c) for c in DIGEST_CHOICES], 3)
    else:
        for name, on in (enabled or {}).items():
            rows.append([_button(("✅ " if on else "🔕 ") + t(lang, f"ns_type_{name}"),
                                 NotifySettingsCb(action="type", arg=name))])
        rows.append([_button(t(lang, "ns_btn_quiet"), NotifySettingsCb(action="quiet")),
                     _button(t(lang, "ns_btn_digest"), NotifySettingsCb(action="digest"))])
        rows.append([_button(t(lang, "ns_btn_lang"),
                             NotifySettingsCb(action="lang", arg="en" if lang == "ru" else "ru"))])
        return InlineKeyboardMarkup(inline_keyboard=rows)
    rows.append([_button(t(lang, "ns_btn_back"), NotifySettingsCb(action="back"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)
