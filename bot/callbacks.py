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
