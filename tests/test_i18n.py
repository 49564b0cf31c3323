"""Texts come from gettext catalogs through aiogram's I18n; both languages are complete."""
from __future__ import annotations

from bot.i18n import LOCALES, CatalogI18n, compile_mo, load_catalogs, parse_po, write_po
from bot.texts import EN, I18N, RU, t


def test_catalogs_have_the_same_keys_and_no_empty_english():
    catalogs = load_catalogs()
    assert set(catalogs) == {"ru", "en"}
    assert set(catalogs["ru"]) == set(catalogs["en"])
    assert [k for k, v in catalogs["en"].items() if not v.strip() and catalogs["ru"][k].strip()] == []


def test_po_round_trip_and_mo_image():
    import gettext
    import io

    messages = {"a": "строка\nвторая «кавычки» \"q\" \\ tab\t", "b": "", "c": "{name} — ок"}
    assert parse_po(write_po(messages, "ru")) == messages
    tr = gettext.GNUTranslations(io.BytesIO(compile_mo(messages)))
    assert tr.gettext("a") == messages["a"] and tr.gettext("c") == "{name} — ok".replace("ok", "ок")


def test_t_goes_through_aiogram_i18n():
    assert isinstance(I18N, CatalogI18n) and set(I18N.available_locales) == {"ru", "en"}
    assert t("ru", "btn_grades") == RU["btn_grades"] == I18N.gettext("btn_grades", locale="ru")
    assert t("en", "btn_grades") == EN["btn_grades"] != RU["btn_grades"]
    assert t("de", "btn_grades") == RU["btn_grades"]  # unknown language: Russian
    with I18N.context(), I18N.use_locale("en"):
        assert I18N.gettext("btn_grades") == EN["btn_grades"]


def test_catalog_files_are_where_the_package_ships_them():
    assert (LOCALES / "ru" / "LC_MESSAGES" / "messages.po").is_file()
