"""Rendering for the admin reports and the one-day rule (issue 5, items 4-5): the /delivery
report, the ``delivery_alarm`` message, report captions and the list of periods.

Every data value goes through `t()` (escaped); the results fit Telegram's limits (the
delivery report is split with `split_message`, a caption stays under 1024 characters).
"""
from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import ReportCb
from bot.render import split_message
from bot.texts import Html, t
from services.delivery import ALARM, WARNING, DeliveryReport, PendingResult, SchoolDelivery
from services.reports.service import ClassPeriods, ReportFile

CAPTION_LIMIT = 1024
_ICONS = {WARNING: "⚠️", ALARM: "🚨"}


def duration(seconds: float | None, lang: str) -> str:
    """«45 с», «12 мин», «3 ч 20 мин», «2 д 4 ч»: two units at most."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    if s < 60:
        return t(lang, "dl_unit_s", n=s)
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if s < 3600:
        return t(lang, "dl_unit_m", n=minutes)
    if s < 86400:
        rest = minutes - hours * 60
        text = t(lang, "dl_unit_h", n=hours)
        return f"{text} {t(lang, 'dl_unit_m', n=rest)}" if rest else text
    rest = hours - days * 24
    text = t(lang, "dl_unit_d", n=days)
    return f"{text} {t(lang, 'dl_unit_h', n=rest)}" if rest else text


def result_label(kind: str | None, period: str | None, title: str | None, lang: str) -> str:
    if kind == "period":
        return period or "—"
    if kind == "year":
        return t(lang, "dl_res_year")
    if kind == "exam":
        return t(lang, "dl_res_exam_titled", title=title) if title else t(lang, "dl_res_exam")
    if kind == "certificate":
        return t(lang, "dl_res_certificate")
    return "—"


def _item(p: PendingResult, lang: str) -> str:
    result = result_label(p.kind, p.period, p.title, lang)
    if p.channel == "paper":
        result = f"{result}, {t(lang, 'dl_via_paper')}"
    return t(lang, "dl_item", icon=Html(_ICONS.get(p.level, "•")), class_name=p.class_name or "—",
             subject=p.subject or "—", pupil=p.pupil or "—", result=result,
             age=duration(p.age_seconds, lang))


def _school(school: SchoolDelivery, lang: str) -> list[str]:
    name = school.school_name or t(lang, "dl_unknown_school")
    lines = [t(lang, "dl_school", school=name)]
    d = school.delays
    if d.delivered:
        lines.append(t(lang, "dl_delivered", count=d.delivered, p50=duration(d.p50, lang),
                       p90=duration(d.p90, lang), max=duration(d.max, lang), hour=d.within_hour, day=d.within_day))
    else:
        lines.append(t(lang, "dl_delivered_none"))
    if school.waiting or school.warning or school.alarm:
        lines.append(t(lang, "dl_open", waiting=school.waiting, warning=school.warning, alarm=school.alarm))
    else:
        lines.append(t(lang, "dl_open_none"))
    lines += [_item(p, lang) for p in school.pending]
    hidden = school.warning + school.alarm - len(school.pending)
    if hidden > 0:
        lines.append(t(lang, "dl_more", count=hidden))
    return lines


def render_delivery_report(report: DeliveryReport, days: int, lang: str) -> list[str]:
    """The /delivery answer as message chunks."""
    th = report.thresholds
    lines = [t(lang, "dl_header", days=days, warning=duration(th.warning.total_seconds(), lang),
               alarm=duration(th.alarm.total_seconds(), lang))]
    if not report.schools:
        lines += ["", t(lang, "dl_nothing")]
    for school in report.schools:
        lines += [""] + _school(school, lang)
    return split_message("\n".join(lines))


def render_delivery_alarm(payload: dict[str, Any], lang: str) -> str:
    """The ``delivery_alarm`` message to a school's admins."""
    threshold = payload.get("threshold_hours")
    hours = f"{float(threshold):g}" if isinstance(threshold, (int, float)) else "20"
    lines = [t(lang, "dl_alarm", hours=hours, school=str(payload.get("school_name") or "")[:300],
               count=int(payload.get("count") or 0), oldest=int(payload.get("oldest_hours") or 0))]
    items = list(payload.get("items") or [])[:10]
    for item in items:
        result = result_label(item.get("kind"), item.get("period"), item.get("title"), lang)
        lines.append(t(lang, "dl_item", icon=Html("🚨"), class_name=str(item.get("class_name") or "—")[:32],
                       subject=str(item.get("subject") or "—")[:100], pupil=str(item.get("pupil") or "—")[:100],
                       result=result[:100], age="").rstrip(" —"))
    hidden = int(payload.get("count") or 0) - len(items)
    if hidden > 0:
        lines.append(t(lang, "dl_more", count=hidden))
    lines.append(t(lang, "dl_alarm_tail"))
    return "\n".join(lines)


def report_caption(file: ReportFile, lang: str) -> str:
    key = f"rp_caption_{file.kind}"
    text = t(lang, key, class_name=file.class_name, school=file.school_name[:300],
             year=file.year_label or "", period=file.period_name or "")
    return text[:CAPTION_LIMIT]


def render_periods(periods: ClassPeriods, lang: str) -> list[str]:
    lines = [t(lang, "rp_periods_header", class_name=periods.class_name)]
    for p in periods.periods:
        current = Html(t(lang, "rp_period_current")) if p.id == periods.current_id else ""
        lines.append(t(lang, "rp_period_line", id=p.id, name=p.name, start=p.starts_on.strftime("%d.%m.%Y"),
                       end=p.ends_on.strftime("%d.%m.%Y"), current=current))
    return split_message("\n".join(lines))


def periods_keyboard(periods: ClassPeriods, kind: str, fmt: str) -> InlineKeyboardMarkup | None:
    """One button per period (at most 12, the latest), two in a row."""
    items = periods.periods[-12:]
    if not items:
        return None
    buttons = [InlineKeyboardButton(text=p.name[:40], callback_data=ReportCb(
        kind=kind, class_id=periods.class_id, period_id=p.id, fmt=fmt).pack()) for p in items]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[i : i + 2] for i in range(0, len(buttons), 2)])
