"""Text normalisation shared by the index and the queries.

Case and diacritics are folded (ä→a, ё→е, й→и, ї→і) so that "Försäkringskassan",
"forsakringskassan" and a phone keyboard without umlauts all meet; punctuation becomes space.
"""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_CONTROL = re.compile(r"[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """Strip control and bidi characters and surrounding whitespace (keeps the text readable)."""
    return _CONTROL.sub(" ", text).strip()


def normalize(text: str) -> str:
    """Lower-case, diacritics folded, punctuation removed, single spaces."""
    folded = unicodedata.normalize("NFKD", clean(text).casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", folded).split())


def tokens(text: str) -> list[str]:
    """Normalised word tokens."""
    return normalize(text).split()
