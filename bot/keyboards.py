"""Reply keyboard (the main menu for phones) and inline keyboards built from typed callback data."""
from __future__ import annotations

from collections.abc import Sequence
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
    LinkDecisionCb,
    ViewCb,
)
from bot.render import child_label
from bot.texts import t

VIEWS = ("grades", "homework", "schedule")
RANGES = ("today", "tomorrow", "week")
#: The range a view opens with when none was chosen.
DEFAULT_RANGE = {"grades": "", "homework": "tomorrow", "schedule": "today"}


def main_menu(lang: str) -> ReplyKeyboardMarkup:
    """The persistent menu; shown only to accounts that granted consent."""
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=t(lang, "btn_grades")), KeyboardButton(text=t(lang, "btn_homework"))],
            [KeyboardButton(text=t(lang, "btn_schedule")), KeyboardButton(text=t(lang, "btn_children"))],
            [KeyboardButton(text=t(lang, "btn_share_phone"), request_contact=True)],
            [KeyboardButton(text=t(lang, "btn_consent")), KeyboardButton(text=t(lang, "btn_help"))],
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


def view_keyboard(lang: str, view: str, student_id: int, arg: str, *, several_children: bool) -> InlineKeyboardMarkup:
    """Range buttons (today/tomorrow/week; «refresh» for marks) and «another child»."""
    rows: list[list[InlineKeyboardButton]] = []
    if view == "grades":
        rows.append([_button(t(lang, "btn_refresh"), ViewCb(view=view, student_id=student_id, arg=""))])
    else:
        rows.append([
            _button(("✓ " if which == arg else "") + t(lang, f"btn_{which}"),
                    ViewCb(view=view, student_id=student_id, arg=which))
            for which in RANGES
        ])
    if several_children:
        rows.append([_button(t(lang, "btn_other_child"), ChildListCb(view=view, arg=arg))])
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
