"""Per-language message catalogues for the bot's own texts (not the knowledge)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import yaml

LANGUAGES: tuple[str, ...] = ("en", "ru", "uk")
FALLBACK = "en"
_DIR = Path(__file__).resolve().parent
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster


@cache
def catalogue(lang: str) -> dict[str, Any]:
    """The texts of one language (read once, on first use)."""
    with (_DIR / f"{lang}.yaml").open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_SAFE_LOADER)


def pick_language(code: str | None) -> str:
    """Map a Telegram language_code ('ru', 'uk-UA', 'be') to a supported language."""
    base = (code or "").split("-")[0].lower()
    if base in LANGUAGES:
        return base
    return "ru" if base in {"be", "kk", "ky", "uz", "tg", "hy", "az", "ka"} else FALLBACK


def t(lang: str, key: str, **values: Any) -> str:
    """The text `key` in `lang` (English if the language is unknown), formatted."""
    texts = catalogue(lang if lang in LANGUAGES else FALLBACK)
    text = texts.get(key, catalogue(FALLBACK)[key])
    return text.format(**values) if values else text


def format_date(lang: str, day: dt.date) -> str:
    """A date as people write it in `lang`: 25 November 2026, 25 ноября 2026."""
    texts = catalogue(lang if lang in LANGUAGES else FALLBACK)
    return texts["date_format"].format(
        day=day.day, month=texts["months"][day.month - 1], year=day.year
    )
