"""Gettext catalogs for the bot's texts, through aiogram's I18n.

The catalogs are `bot/locales/<lang>/LC_MESSAGES/messages.po`; each msgid is a text key
(e.g. "btn_grades") and each msgstr the text in that language. Russian is the default and
the fallback. The .po files are compiled in memory at start-up, so no binary .mo files are
kept in the repository; translators edit the .po files with any gettext tool.
"""
from __future__ import annotations

import ast
import gettext
import io
import struct
from pathlib import Path

from aiogram.utils.i18n import I18n

LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
DEFAULT_LOCALE = "ru"


def parse_po(text: str) -> dict[str, str]:
    """msgid → msgstr of a .po file (no plurals or contexts: the bot's catalogs use neither)."""
    messages: dict[str, str] = {}
    key: str | None = None
    field: str | None = None
    parts: dict[str, list[str]] = {}

    def flush() -> None:
        if parts.get("msgid") is not None and "".join(parts["msgid"]):
            messages["".join(parts["msgid"])] = "".join(parts.get("msgstr", []))

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            flush()
            parts, field = {"msgid": [ast.literal_eval(line[6:])]}, "msgid"
        elif line.startswith("msgstr "):
            parts["msgstr"], field = [ast.literal_eval(line[7:])], "msgstr"
        elif line.startswith('"') and field is not None:
            parts[field].append(ast.literal_eval(line))
        else:
            raise ValueError(f"unsupported .po line: {raw!r}")
        key = field
    del key
    flush()
    return messages


def _po_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    lines = escaped.split("\n")
    if len(lines) == 1:
        return f'"{escaped}"'
    chunks = [line + "\\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    return '""\n' + "\n".join(f'"{c}"' for c in chunks)


def write_po(messages: dict[str, str], language: str) -> str:
    header = (
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        f'"Language: {language}\\n"\n"Project-Id-Version: ediary\\n"\n'
    )
    body = "\n".join(f"msgid {_po_string(k)}\nmsgstr {_po_string(v)}\n" for k, v in messages.items())
    return header + "\n" + body


def compile_mo(messages: dict[str, str]) -> bytes:
    """The GNU .mo image of a catalog (what msgfmt writes), for gettext.GNUTranslations."""
    entries = {"": "Content-Type: text/plain; charset=UTF-8\n", **messages}
    keys = sorted(entries)
    ids = b"".join(k.encode() + b"\0" for k in keys)
    strs = b"".join(entries[k].encode() + b"\0" for k in keys)
    n = len(keys)
    id_table, str_table = 7 * 4, 7 * 4 + n * 8
    data_start = 7 * 4 + n * 16
    offsets, pos_id, pos_str = [], data_start, data_start + len(ids)
    for k in keys:
        kid, kstr = k.encode(), entries[k].encode()
        offsets.append((len(kid), pos_id, len(kstr), pos_str))
        pos_id += len(kid) + 1
        pos_str += len(kstr) + 1
    out = struct.pack("Iiiiiii", 0x950412DE, 0, n, id_table, str_table, 0, 0)
    out += b"".join(struct.pack("ii", o[0], o[1]) for o in offsets)
    out += b"".join(struct.pack("ii", o[2], o[3]) for o in offsets)
    return out + ids + strs


def load_catalogs(path: Path = LOCALES) -> dict[str, dict[str, str]]:
    return {
        po.parent.parent.name: parse_po(po.read_text(encoding="utf-8"))
        for po in sorted(path.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    }


class CatalogI18n(I18n):
    """aiogram's I18n over .po catalogs compiled in memory."""

    def __init__(self, *, path: Path = LOCALES, default_locale: str = DEFAULT_LOCALE) -> None:
        super().__init__(path=path, default_locale=default_locale, domain=DOMAIN)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        return {
            lang: gettext.GNUTranslations(io.BytesIO(compile_mo(messages)))
            for lang, messages in load_catalogs(self.path).items()
        }
