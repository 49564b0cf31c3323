"""Every text the bot sends, in Russian (the default) and complete English.

The texts live in gettext catalogs, ``bot/locales/<lang>/LC_MESSAGES/messages.po`` (msgid =
text key), served by aiogram's I18n (``bot/i18n.py``). ``t(lang, key, **values)`` formats a
text; each value is HTML-escaped unless it is wrapped in
:class:`Html` (markup the caller built itself, already escaped). Parse mode is HTML.
"""
from __future__ import annotations

import html
from typing import Any

from bot.i18n import CatalogI18n, load_catalogs

DEFAULT_LANG = "ru"


class Html(str):
    """A string of ready markup: ``t()`` inserts it without escaping."""


def lang_of(language_code: str | None) -> str:
    """The language of the texts for a Telegram ``language_code`` (Russian unless English)."""
    return "en" if (language_code or "").lower().startswith("en") else DEFAULT_LANG


#: The gettext catalogs (bot/locales/*/LC_MESSAGES/messages.po) behind every text.
I18N = CatalogI18n(default_locale=DEFAULT_LANG)
_CATALOGS = load_catalogs()
#: Key → text per language, read from the catalogs (tests and renderers look texts up here).
RU: dict[str, str] = _CATALOGS["ru"]
EN: dict[str, str] = _CATALOGS["en"]

TEXTS: dict[str, dict[str, str]] = {"ru": RU, "en": EN}
LANGUAGES = tuple(TEXTS)

#: Short weekday names, Monday first.
WEEKDAYS: dict[str, tuple[str, ...]] = {
    "ru": ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def _escape(value: Any) -> str:
    if isinstance(value, Html):
        return str(value)
    return html.escape(str(value), quote=False)


def t(lang: str | None, key: str, **values: Any) -> str:
    """The text ``key`` in ``lang`` (Russian if unknown), with escaped ``values`` inserted."""
    if key not in RU:
        raise KeyError(key)
    locale = lang if lang in TEXTS else DEFAULT_LANG
    template = I18N.gettext(key, locale=locale)
    if template == key:  # not translated in that catalog: fall back to Russian
        template = RU[key]
    if not values:
        return template
    return template.format(**{name: _escape(value) for name, value in values.items()})


def variants(key: str) -> frozenset[str]:
    """The text ``key`` in every language: to match reply-keyboard buttons whatever the language."""
    return frozenset(table[key] for table in TEXTS.values())
