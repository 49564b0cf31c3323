"""Pure render functions of the term-results feature: forecasts, final grades, the school's
rule, the push frequency, and the texts of their notifications (issue 5, items 1-3).

Service views (or message payloads) in, HTML chunks out, each ≤ 4096 characters; every data
value is escaped (texts come from ``bot.texts``). A forecast subject is always the JSON shape
of ``services.results.subject_payload``, so the view and the pushed message read alike.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.render import MESSAGE_LIMIT, esc, fmt_average, fmt_date, fmt_datetime, split_message
from bot.texts import Html, t

#: A value from a payload is clipped to this many characters before escaping.
CLIP = 120


def _clip(value: Any, limit: int = CLIP) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value: float, lang: str) -> str:
    text = f"{value:g}"
    return text.replace(".", ",") if lang != "en" else text


# --------------------------------------------------------------------------- forecasts


def hint_text(direction: str, count: int, result: int, lang: str) -> str:
    """«ещё две пятёрки — и будет 5» (up, assumed 5s) / «одна двойка — и будет 3» (down, 2s)."""
    form = str(count) if count in (1, 2, 3, 4) else "many"
    return t(lang, f"fc_{direction}_{form}", n=count, result=result)


def _mark_label(mark: str | None, lang: str) -> str:
    if mark == "зач":
        return t(lang, "fc_pass")
    if mark == "незач":
        return t(lang, "fc_fail")
    return esc(mark)


def forecast_subject_lines(item: Mapping[str, Any], lang: str) -> list[str]:
    """One subject of a forecast: the line with average → forecast, then its hints and risks."""
    subject = _clip(item.get("subject"))
    status = item.get("status")
    risks = list(item.get("risks") or [])
    if status == "graded":
        head = t(lang, "fc_line", subject=subject, average=fmt_average(item.get("average"), lang),
                 count=item.get("count", 0), mark=Html(f"<b>{esc(item.get('mark'))}</b>"))
    elif status == "pass_fail":
        head = t(lang, "fc_line_pass", subject=subject, mark=Html(f"<b>{_mark_label(item.get('mark'), lang)}</b>"))
    elif status == "exempt":
        head = t(lang, "fc_line_exempt", subject=subject)
    else:
        head = t(lang, "fc_line_none", subject=subject)
    if "failing" in risks:
        head += " " + t(lang, "fc_risk_failing")
    lines = [head]
    if "too_few_marks" in risks:
        lines.append("   " + t(lang, "fc_risk_too_few", count=item.get("count", 0), min=item.get("min_marks", 0)))
    up, down = item.get("up"), item.get("down")
    if up:
        lines.append("   ↑ " + hint_text("up", int(up[0]), int(up[1]), lang))
    if down:
        mark = "⚠️" if "near_fail" in risks else "↓"
        lines.append(f"   {mark} " + hint_text("down", int(down[0]), int(down[1]), lang))
    return lines


def _period_line(name: str, start: Any, end: Any, lang: str) -> str:
    return t(lang, "fc_period", period=_clip(name), start=fmt_date(start), end=fmt_date(end))


def _rule_line(rule: Any, lang: str) -> str:
    t5, t4, t3 = rule.thresholds
    return t(lang, "fc_rule", t5=_num(t5, lang), t4=_num(t4, lang), t3=_num(t3, lang), min=rule.min_marks)


def render_forecast(view: Any, lang: str, subject_payload: Any, limit: int = MESSAGE_LIMIT) -> list[str]:
    """ForecastView → chunks. `subject_payload` turns a SubjectForecastView into the JSON shape."""
    lines = [t(lang, "fc_header", name=view.student_name)]
    span = view.period
    if span is None:
        lines.extend(["", t(lang, "fc_no_period")])
        return split_message("\n".join(lines), limit)
    period = _period_line(span.name if span.kind != "half" or span.ref else t(lang, "fc_half_n", n=span.name),
                          span.starts_on, span.ends_on, lang)
    if span.starts_on <= view.today <= span.ends_on:
        period += t(lang, "fc_days_left", days=(span.ends_on - view.today).days)
    lines.extend([period, _rule_line(view.rule, lang), ""])
    if not view.subjects:
        lines.append(t(lang, "fc_none"))
    for subject in view.subjects:
        lines.extend(forecast_subject_lines(subject_payload(subject), lang))
    lines.extend(["", t(lang, "fc_footer")])
    return split_message("\n".join(lines), limit)


def which_label(which: str, term_kind: str | None, lang: str) -> str:
    if which == "term":
        return t(lang, f"btn_fc_term_{term_kind}" if term_kind in ("quarter", "trimester", "half") else "btn_fc_term")
    return t(lang, f"btn_fc_{which}")


# --------------------------------------------------------------------------- final grades


def final_value(item: Any, lang: str) -> str:
    """The value of a final grade as shown: the mark in bold, or «отложена до …»."""
    status = item["status"] if isinstance(item, Mapping) else item.status
    until = item.get("deferred_until") if isinstance(item, Mapping) else item.deferred_until
    value = item.get("value") if isinstance(item, Mapping) else item.value
    if status == "deferred":
        return t(lang, "fn_deferred", date=fmt_date(until, year=True)) if until else t(lang, "fn_deferred_nodate")
    return f"<b>{esc(_clip(value, 16))}</b>"


def group_label(group: Any, lang: str) -> str:
    if group.kind == "exam":
        return t(lang, "fn_group_exam")
    if group.kind == "certificate":
        return t(lang, "fn_group_cert")
    return _clip(group.name, 40) or t(lang, "fn_group_other")


def render_finals(view: Any, lang: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """FinalsView → chunks: the chosen group's grades, one line per subject (exams named)."""
    lines = [t(lang, "fn_header", name=view.student_name)]
    group = view.group
    if group is None:
        lines.extend(["", t(lang, "fn_none")])
        return split_message("\n".join(lines), limit)
    lines.extend([f"<b>{esc(group_label(group, lang))}</b>", ""])
    for item in group.items:
        value = Html(final_value(item, lang))
        if item.title:
            lines.append(t(lang, "fn_line_titled", subject=_clip(item.subject_name), title=_clip(item.title),
                           value=value))
        else:
            lines.append(t(lang, "fn_line", subject=_clip(item.subject_name), value=value))
    if group.deferred:
        lines.extend(["", t(lang, "fn_deferred_note")])
    return split_message("\n".join(lines), limit)


# --------------------------------------------------------------------------- settings and admin


def render_push_settings(frequency: str, weekday: int, time: str, risk_days: int, lang: str) -> str:
    when = t(lang, "fp_when", day=t(lang, f"fp_day_{weekday}"), time=time)
    return "\n".join([t(lang, "fp_header"), t(lang, f"fp_now_{frequency}", when=when),
                      "", t(lang, "fp_note", days=risk_days)])


def render_rule(view: Any, lang: str, tz: str) -> str:
    rule = view.rule
    t5, t4, t3 = rule.thresholds
    lines = [
        t(lang, "fr_header", school=_clip(view.school_name, 300), ref=_clip(view.school_ref, 64)),
        t(lang, "fr_thresholds", t5=_num(t5, lang), t4=_num(t4, lang), t3=_num(t3, lang)),
        t(lang, "fr_rounding", digits=rule.rounding) if rule.rounding is not None else t(lang, "fr_no_rounding"),
        t(lang, "fr_min_marks", min=rule.min_marks),
    ]
    if rule.kind_weights:
        weights = ", ".join(f"{t(lang, f'fr_kind_{k}')} — {_num(w, lang)}" for k, w in rule.kind_weights)
        lines.append(t(lang, "fr_weights", weights=Html(esc(weights))))
    else:
        lines.append(t(lang, "fr_weights_journal"))
    if view.is_default:
        lines.append(t(lang, "fr_default"))
    else:
        lines.append(t(lang, "fr_changed", when=fmt_datetime(view.updated_at, tz), by=view.updated_by or "—"))
    lines.extend(["", t(lang, "fr_how", ref=_clip(view.school_ref, 64))])
    return "\n".join(lines)


# --------------------------------------------------------------------------- notifications


def _who_what(payload: Mapping[str, Any]) -> str:
    where = esc(_clip(payload.get("subject")))
    if payload.get("title"):
        where += f", {esc(_clip(payload['title']))}"
    if payload.get("period_name") and payload.get("kind") in ("period", "year"):
        where += f", {esc(_clip(payload['period_name']))}"
    return f"{esc(_clip(payload.get('student_name'), 60))} — {where}"


def render_final_grade_notice(kind: str, payload: Mapping[str, Any], lang: str) -> str:
    """The text of a `final_grade` / `final_grade_deleted` message."""
    grade_kind = payload.get("kind") if payload.get("kind") in ("period", "year", "exam", "certificate") else "period"
    if kind == "final_grade_deleted":
        value = esc(_clip(payload.get("value"), 16)) if payload.get("value") else t(lang, "fn_deferred_nodate")
        return f"{t(lang, 'fgn_deleted')}\n{_who_what(payload)}: <s>{value}</s>"
    change = payload.get("change") if payload.get("change") in ("new", "changed", "deferred", "set") else "new"
    title = t(lang, f"fgn_{change}_{grade_kind}")
    if change == "deferred":
        until = payload.get("deferred_until")
        body = (t(lang, "fn_deferred", date=fmt_date(until, year=True)) if until
                else t(lang, "fn_deferred_nodate"))
    elif change == "changed":
        body = t(lang, "fgn_was_now", old=_clip(payload.get("old_value") or "—", 16),
                 new=Html(f"<b>{esc(_clip(payload.get('value'), 16))}</b>"))
    else:
        body = f"<b>{esc(_clip(payload.get('value'), 16))}</b>"
    return f"{title}\n{_who_what(payload)}: {body}"


def forecast_open_label(lang: str) -> str:
    """The label of the «open the forecast» button under a forecast message."""
    return t(lang, "btn_fcn_open")


def render_forecast_notice(kind: str, payload: Mapping[str, Any], lang: str, limit: int = MESSAGE_LIMIT) -> str:
    """The text of a `forecast` / `forecast_risk` message (always one message: clipped)."""
    name, period = _clip(payload.get("student_name"), 60), _clip(payload.get("period_name"), 60)
    if kind == "forecast_risk":
        lines = [t(lang, "fcn_risk_header", name=name, period=period, days=payload.get("days_left", 0))]
    else:
        lines = [t(lang, "fcn_header", name=name, period=period)]
    lines.append("")
    for item in payload.get("subjects") or []:
        if isinstance(item, Mapping):
            lines.extend(forecast_subject_lines(item, lang))
    if payload.get("more"):
        lines.append(t(lang, "fcn_more", count=payload["more"]))
    lines.extend(["", t(lang, "fcn_footer")])
    text = "\n".join(lines)
    return text if len(text) <= limit else split_message(text, limit - 2)[0].rstrip() + "\n…"


__all__ = [
    "hint_text", "forecast_subject_lines", "render_forecast", "which_label", "final_value", "group_label",
    "render_finals", "render_push_settings", "render_rule", "render_final_grade_notice",
    "render_forecast_notice", "forecast_open_label",
]
