"""The bot's own texts: complete in every language, dates in the user's language."""

from __future__ import annotations

import datetime as dt
import string

import pytest

from bot.i18n import LANGUAGES, catalogue, format_date, pick_language, t


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_catalogue_has_every_english_key(lang: str) -> None:
    assert set(catalogue(lang)) == set(catalogue("en"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_match_english(lang: str) -> None:
    def fields(text: object) -> set[str]:
        if not isinstance(text, str):
            return set()
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for key, text in catalogue("en").items():
        assert fields(catalogue(lang)[key]) == fields(text), key


def test_dates_are_written_in_the_users_language() -> None:
    day = dt.date(2026, 11, 25)
    assert format_date("en", day) == "25 November 2026"
    assert format_date("ru", day) == "25 ноября 2026"
    assert format_date("uk", day) == "25 листопада 2026"


def test_telegram_language_codes_map_to_supported_languages() -> None:
    assert pick_language("uk") == "uk"
    assert pick_language("ru-RU") == "ru"
    assert pick_language("be") == "ru"
    assert pick_language("fi") == "en"
    assert pick_language(None) == "en"


def test_unknown_language_falls_back_to_english() -> None:
    assert t("xx", "skip") == "Skip"
