"""/settings: a parent's notifications — types on/off, quiet hours, a daily digest, language.

One message with inline buttons; every press edits that message in place (NotifySettingsCb,
prefix "ns"). Choices are fixed lists (keyboards QUIET_CHOICES, DIGEST_CHOICES): anything else
in the callback data is a forged or stale button and changes nothing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.callbacks import NotifySettingsCb
from bot.handlers.common import edit_chunks, send
from bot.keyboards import DIGEST_CHOICES, QUIET_CHOICES, main_menu, settings_keyboard
from bot.texts import t, variants
from services.notify.calm import QuietHours, format_clock
from services.notify.kinds import PREF_TYPE_ORDER

if TYPE_CHECKING:
    from services.accounts import AccountView
    from services.container import Services
    from services.notify.prefs import NotifySettingsView


# --------------------------------------------------------------------------- rendering


def quiet_text(view: NotifySettingsView, lang: str) -> str:
    if view.quiet is None:
        return t(lang, "ns_quiet_none")
    if view.quiet_is_default:
        return t(lang, "ns_quiet_default", range=view.quiet.label())
    return view.quiet.label()


def digest_text(view: NotifySettingsView, lang: str) -> str:
    if view.digest_at is None:
        return t(lang, "ns_digest_instant")
    return t(lang, "ns_digest_at", time=format_clock(view.digest_at))


def render_settings(view: NotifySettingsView, lang: str) -> str:
    lines = [
        t(lang, "ns_title"),
        t(lang, "ns_quiet_line", value=quiet_text(view, lang)),
        t(lang, "ns_digest_line", value=digest_text(view, lang)),
        t(lang, "ns_lang_line", value=t(lang, f"ns_lang_{view.language}")),
        "",
        t(lang, "ns_note", tz=view.timezone),
        "",
        t(lang, "ns_types_header"),
    ]
    return "\n".join(lines)


def quiet_code(view: NotifySettingsView) -> str:
    """The current quiet hours as a QUIET_CHOICES code ("2100-0700"), or "off"."""
    if view.quiet is None:
        return "off"
    return f"{format_clock(view.quiet.start)}-{format_clock(view.quiet.end)}".replace(":", "")


def digest_code(view: NotifySettingsView) -> str:
    return "off" if view.digest_at is None else format_clock(view.digest_at).replace(":", "")


def screen(view: NotifySettingsView, lang: str, which: str = "main") -> tuple[str, object]:
    """(text, keyboard) of one settings screen."""
    if which == "quiet":
        return (t(lang, "ns_quiet_pick", value=quiet_text(view, lang)),
                settings_keyboard(lang, "quiet", current=quiet_code(view)))
    if which == "digest":
        return (t(lang, "ns_digest_pick", value=digest_text(view, lang)),
                settings_keyboard(lang, "digest", current=digest_code(view)))
    enabled = {name: view.enabled.get(name, True) for name in PREF_TYPE_ORDER}
    return render_settings(view, lang), settings_keyboard(lang, "main", enabled=enabled)


# --------------------------------------------------------------------------- handlers


async def on_settings(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    view = await services.notify_prefs.view(account.id)
    text, keyboard = screen(view, lang)
    await send(bot, message.chat.id, text, keyboard)


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[2:])


async def on_settings_button(query: CallbackQuery, callback_data: NotifySettingsCb, bot: Bot,
                             account: AccountView, services: Services, lang: str) -> None:
    prefs = services.notify_prefs
    action, arg = callback_data.action, callback_data.arg
    which, note = "main", None
    if action == "type" and arg in PREF_TYPE_ORDER:
        view, note = await prefs.toggle(account.id, arg), t(lang, "ns_saved")
    elif action == "quiet" and arg == "":
        view, which = await prefs.view(account.id), "quiet"
    elif action == "quiet" and (arg == "off" or arg in QUIET_CHOICES):
        quiet = None if arg == "off" else QuietHours(_minutes(arg[:4]), _minutes(arg[5:]))
        view, note = await prefs.set_quiet(account.id, quiet), t(lang, "ns_saved")
    elif action == "digest" and arg == "":
        view, which = await prefs.view(account.id), "digest"
    elif action == "digest" and (arg == "off" or arg in DIGEST_CHOICES):
        view = await prefs.set_digest(account.id, None if arg == "off" else _minutes(arg))
        note = t(lang, "ns_saved")
    elif action == "lang" and arg in ("ru", "en"):
        view = await prefs.set_language(account.id, arg)
        lang = view.language
        note = t(lang, "ns_saved")
    elif action == "back":
        view = await prefs.view(account.id)
    else:
        await query.answer(t(lang, "stale_button"), show_alert=True)
        return
    await query.answer(note)
    text, keyboard = screen(view, lang, which)
    if isinstance(query.message, Message):
        await edit_chunks(bot, query.message, [text], keyboard)  # type: ignore[arg-type]
    else:
        await send(bot, query.from_user.id, text, keyboard)  # type: ignore[arg-type]
    if action == "lang" and account.consent_state == "granted":
        # The reply keyboard speaks the new language too.
        await send(bot, query.from_user.id, t(lang, "ns_lang_changed"), main_menu(lang))


def router() -> Router:
    r = Router(name="settings")
    r.message.register(on_settings, Command("settings"))
    r.message.register(on_settings, F.text.in_(variants("btn_settings")))
    r.callback_query.register(on_settings_button, NotifySettingsCb.filter())
    return r

