"""Text normalisation shared by the index and the queries.

Case and diacritics are folded (ä→a, ё→е, й→и, ї→і) so that "Försäkringskassan",
"forsakringskassan" and a phone keyboard without umlauts all meet; punctuation becomes space.
Words are reduced to stems (Snowball) so that "квартиру" meets "квартира" and "registering"
meets "register"; the stemmer is chosen by the word's script, since a chat message does not
say which language each word is in.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_CONTROL = re.compile(r"[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_STEMMERS = {
    "cyrillic": snowballstemmer.stemmer("russian"),  # also fair for Ukrainian stems
    "latin": snowballstemmer.stemmer("english"),
    "arabic": snowballstemmer.stemmer("arabic"),
}


def clean(text: str) -> str:
    """Strip control and bidi characters and surrounding whitespace (keeps the text readable)."""
    return _CONTROL.sub(" ", text).strip()


class _CombiningMarks(dict):
    """str.translate table that drops combining marks, filled in as characters are met
    (only the alphabets' block, so that odd input cannot grow it without bound)."""

    def __missing__(self, codepoint: int) -> int | None:
        kept = None if unicodedata.combining(chr(codepoint)) else codepoint
        if codepoint < _TABLE_END:
            self[codepoint] = kept
        return kept


_TABLE_END = 0x2000  # Latin, Greek, Cyrillic, Arabic and the combining marks


_DROP_COMBINING = _CombiningMarks()


def fold(text: str) -> str:
    """Remove diacritics from already case-folded text."""
    if text.isascii():  # nothing to decompose or drop
        return text
    return unicodedata.normalize("NFKD", text).translate(_DROP_COMBINING)


def normalize(text: str) -> str:
    """Lower-case, diacritics folded, punctuation removed, single spaces."""
    return " ".join(_NON_WORD.sub(" ", fold(clean(text).casefold())).split())


def tokens(text: str) -> list[str]:
    """Normalised word tokens."""
    return normalize(text).split()


def raw_words(text: str) -> list[str]:
    """Case-folded words with their diacritics (what the stemmers expect)."""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", clean(text).casefold())).split()


def _script(word: str) -> str:
    first = word[0]
    if "\u0400" <= first <= "\u04ff":
        return "cyrillic"
    if "\u0600" <= first <= "\u06ff":
        return "arabic"
    return "latin"


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """The folded stem of one case-folded word."""
    if len(word) <= 3 or word.isdigit():
        return fold(word)
    return fold(_STEMMERS[_script(word)].stemWord(word))
