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
