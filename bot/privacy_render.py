"""Rendering of the consent lifecycle, erasure and audit views (issue 6): pure functions,
service views in, HTML chunks (each ≤ 4096 characters) out; every data value escaped."""
from __future__ import annotations

from datetime import date
from typing import Any

from bot.render import MESSAGE_LIMIT, esc, fmt_date, fmt_datetime, split_message
from bot.texts import Html, t
from services.notify.kinds import CONSENT_REASK, ERASURE_REMINDER, ERASURE_SCHEDULED


def fmt_day(value: date | str | None) -> str:
    """A due date as 31.12.2026."""
    return fmt_date(value, year=True) if value else "—"


def state_text(lang: str, state: str, version: str | None) -> str:
    key = f"consent_state_{state}" if state in ("none", "granted", "refused", "withdrawn", "outdated") else "consent_state_none"
    return t(lang, key, version=version or "—")


# --------------------------------------------------------------------------- audit


def _audit_line(line: Any, lang: str, tz: str) -> str:
    actor = (t(lang, "audit_actor", id=line.actor_telegram_id) if line.actor_telegram_id is not None
             else t(lang, "audit_system"))
    parts = [f"#{line.id}", fmt_datetime(line.at, tz), actor, f"<b>{esc(line.action)}</b>"]
    if line.target_type or line.target_id:
        parts.append(esc(f"{line.target_type or ''}:{line.target_id or ''}"))
    if line.school_id is not None:
        parts.append(t(lang, "audit_school", id=line.school_id))
    details = ", ".join(f"{esc(k)}={esc(v)}" for k, v in line.details if k != "school_id")
    text = " · ".join(parts)
    return f"{text} ({details})" if details else text


def render_audit_page(page: Any, lang: str, tz: str, limit: int = MESSAGE_LIMIT) -> str:
    """One page of the audit log as one message (lines are short: ids and action names only)."""
    lines = [t(lang, "audit_header", page=page.page, pages=page.pages, total=page.total), ""]
    if not page.lines:
        lines.append(t(lang, "audit_none"))
    lines.extend(_audit_line(line, lang, tz) for line in page.lines)
    return split_message("\n".join(lines), limit)[0]  # a page is sized to fit; never more than one message


# --------------------------------------------------------------------------- parents of a class


def _parent_line(entry: Any, lang: str) -> str:
    state = state_text(lang, entry.consent_state, entry.consent_version)
    if entry.guardian_ref is not None:
        return f"   <code>g:{esc(entry.guardian_ref)}</code> {esc(entry.name or '—')} — {esc(state)}"
    name = esc(entry.name or "—") + (f" (@{esc(entry.username)})" if entry.username else "")
    link = t(lang, f"consent_parents_link_{entry.link_status}") if entry.link_status in ("approved", "pending") else ""
    tail = f", {link}" if link else ""
    return f"   <code>tg:{entry.telegram_id}</code> {name} — {esc(state)}{tail}"


def render_parents(view: Any, lang: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    lines = [t(lang, "consent_parents_header", class_name=view.class_name, school=view.school_name or "—"), ""]
    if not view.pupils:
        lines.append(t(lang, "consent_parents_none"))
    for pupil in view.pupils:
        lines.append(f"<b>{esc(pupil.student_name)}</b>")
        if not pupil.parents:
            lines.append(t(lang, "consent_parents_nobody"))
        lines.extend(_parent_line(p, lang) for p in pupil.parents)
    return split_message("\n".join(lines), limit)


# --------------------------------------------------------------------------- notes and notices


def erasure_note(lang: str, decision: str, erasure: Any | None) -> str:
    """The paragraph added to the reply to a refusal or withdrawal: when the data goes."""
    if erasure is None:
        return ""
    key = "erasure_note_withdrawn" if decision == "withdrawn" else "erasure_note_refused"
    return t(lang, key, date=fmt_day(erasure.due_date), reference=erasure.reference)


def render_privacy_notice(kind: str, payload: dict[str, Any], lang: str) -> str:
    """An outbox message of PRIVACY_KINDS (services/notify/kinds.py); KeyError for a broken payload."""
    if kind == CONSENT_REASK:
        return t(lang, "notice_consent_reask", version=str(payload["version"])[:32])
    due, reference = fmt_day(str(payload["due_date"])[:10]), str(payload["reference"])[:32]
    if kind == ERASURE_SCHEDULED:
        rule = "refusal" if payload.get("rule") == "refusal" else "withdrawal"
        return t(lang, f"notice_erasure_scheduled_{rule}", date=due, reference=reference)
    if kind == ERASURE_REMINDER:
        return t(lang, "notice_erasure_reminder", date=due, reference=reference)
    raise KeyError(kind)


def paper_reply(lang: str, result: Any, number: str, signed_on: date, tz: str) -> str:
    lines = [t(lang, "paper_consent_done", decision=t(lang, f"consent_decision_{result.decision}"), number=number,
               date=signed_on.strftime("%d.%m.%Y"), version=result.version)]
    if result.accounts_withdrawn:
        lines.append(t(lang, "paper_consent_accounts", count=result.accounts_withdrawn))
    if result.erasure_due is not None:
        lines.append(t(lang, "paper_consent_erasure", date=Html(fmt_datetime(result.erasure_due, tz)[:10])))
    return "\n".join(lines)
