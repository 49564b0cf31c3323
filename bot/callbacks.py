"""Typed callback data for every inline button. Keep each packed value within 64 bytes."""
from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ConsentCb(CallbackData, prefix="cs"):
    action: str  # grant | refuse | withdraw
    version: str


class LinkDecisionCb(CallbackData, prefix="ld"):
    action: str  # approve | reject
    link_id: int


class ChildCb(CallbackData, prefix="ch"):
    student_id: int


class ViewCb(CallbackData, prefix="v"):
    view: str  # grades | homework | schedule
    student_id: int
    arg: str = ""  # today | tomorrow | week | a subject id ...


class ConsentMenuCb(CallbackData, prefix="cm"):
    """Steps around a consent decision that record nothing themselves."""

    action: str  # ask_withdraw | cancel


class ChildListCb(CallbackData, prefix="cl"):
    """«Another child» under a view: list the children, then reopen the same view."""

    view: str  # grades | homework | schedule
    arg: str = ""


class ChildViewCb(CallbackData, prefix="cv"):
    """A child chosen from that list: make it the active child and show `view`."""

    student_id: int
    view: str
    arg: str = ""


# --------------------------------------------------------------------------- diary views (issue 4, item 1)
# Student and subject ids are our own integer ids; every one goes back to services, which
# answer NotLinked for anything the account may not see.


class DiaryViewCb(CallbackData, prefix="dv"):
    """Open a view of a child in place: a menu entry, «back», «by subject» / «by day»."""

    view: str  # grades | schedule | homework | hwsubj | works | teachers | holidays | recs
    student_id: int


class DayCb(CallbackData, prefix="dn"):
    """Timetable or homework of a given date: the ◀ / ▶ arrows."""

    view: str  # s: timetable | h: homework
    student_id: int
    day: str  # YYYYMMDD, a date in the school's calendar
    span: str  # d: that day | w: its week (Monday..Sunday)


class SubjectCb(CallbackData, prefix="ds"):
    """One subject's detail: all its marks (g) or all its homework (h) in the current period."""

    view: str  # g | h
    student_id: int
    subject_id: int


class MenuCb(CallbackData, prefix="dm"):
    """The inline menu of every view of a child («Ещё…», «Все разделы»)."""

    student_id: int


# --------------------------------------------------------------------------- contacts, e-mail, paper (issue 6)


class EmailFormCb(CallbackData, prefix="ef"):
    """/email: the parent's delivery form and address."""

    action: str  # set (ask for an address) | stop (remove it) | cancel | toggle
    form: str = ""  # with toggle: telegram | email | paper


# --------------------------------------------------------------------------- term results (issue 5): prefixes "r*"
# Student ids go back to services, which answer NotLinked for anything the account may not see.


class ForecastCb(CallbackData, prefix="rf"):
    """/forecast of a child for a period, shown in place."""

    student_id: int
    which: str  # term | half | year


class FinalsCb(CallbackData, prefix="rg"):
    """/finals of a child, one group of grades, shown in place."""

    student_id: int
    group: str = ""  # "p<period id>" | exam | cert; "" = the default group


class ResultsChildListCb(CallbackData, prefix="rk"):
    """«Another child» under a forecast or finals view: list the children."""

    view: str  # forecast | finals
    arg: str = ""


class ResultsChildCb(CallbackData, prefix="rc"):
    """A child chosen from that list: make it the active child and show `view`."""

    student_id: int
    view: str  # forecast | finals
    arg: str = ""


class ForecastPushCb(CallbackData, prefix="rn"):
    """The forecast push frequency: show the choices, or choose one."""

    frequency: str  # show | off | weekly | biweekly


# --------------------------------------------------------------------------- notification settings (issue 4, items 2-4): prefixes "n*"


class NotifySettingsCb(CallbackData, prefix="ns"):
    """/settings: toggles and choices, each edits the settings message in place."""

    action: str  # type | quiet | digest | lang | back
    arg: str = ""  # type: a type name; quiet: "HHMM-HHMM" | "off" | "" (show choices);
    #                digest: "HHMM" | "off" | "" (show choices); lang: ru | en


# --------------------------------------------------------------------------- reports for admins (issue 5, items 4-5): prefixes "p*"


class ReportCb(CallbackData, prefix="pr"):
    """A period chosen for a class report: build and send it."""

    kind: str  # plan | stats
    class_id: int
    period_id: int
    fmt: str = "pdf"  # pdf | xlsx


# ---- consent lifecycle, erasure, audit (issue 6, items 1, 2, 6): prefixes "g…"


class ForgetCb(CallbackData, prefix="gf"):
    """/forget: confirm or cancel. `token` names the account the question was asked for
    (services.erasure.Erasure.forget_token): a press after the erasure, when the next update
    has created a fresh account, is stale."""

    action: str  # confirm | cancel
    token: str


class AuditPageCb(CallbackData, prefix="ga"):
    """/audit: another page (1 = the newest)."""

    page: int
