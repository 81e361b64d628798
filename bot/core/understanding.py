"""Read a user's message: small talk, a request for services, a city, and the FAQ match."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.knowledge_holder import Loaded
from bot.knowledge.model import City, Knowledge
from bot.matching.matcher import MatchResult
from bot.matching.normalize import normalize

SMALLTALK_MAX_WORDS = 8
SMALLTALK_WHOLE_CUTOFF = 86.0
# "Who can help me with this (in Tartu)?" and its Russian and Ukrainian forms.
_SERVICES_REQUEST = re.compile(
    r"\b(who can help|who could help|where can i get help|who do i (contact|ask)|"
    r"кто (может |мне )?помо(чь|жет)|куда (мне )?обратиться|к кому обратиться|"
    r"хто (може |мені )?допомо(гти|же)|куди (мені )?звернутися|до кого звернутися)\b"
)


@dataclass(frozen=True)
class Understanding:
    smalltalk: str | None
    services_request: bool
    city: City | None
    result: MatchResult


def smalltalk_kind(knowledge: Knowledge, text: str) -> tuple[str | None, list[str]]:
    """The small-talk kind of a short message and the words left after removing it."""
    norm = normalize(text)
    words = norm.split()
    if not words or len(words) > SMALLTALK_MAX_WORDS:
        return None, words
    phrases = sorted(
        ((normalize(p), kind) for kind, items in knowledge.smalltalk.items() for p in items),
        key=lambda pk: -len(pk[0]),
    )
    found: str | None = None
    rest = f" {norm} "
    for phrase, kind in phrases:
        if phrase and f" {phrase} " in rest:
            rest = rest.replace(f" {phrase} ", " ")
            found = found or kind
    if found is None:
        best = process.extractOne(
            norm,
            [p for p, _ in phrases],
            scorer=fuzz.ratio,
            processor=None,
            score_cutoff=SMALLTALK_WHOLE_CUTOFF,
        )
        if best:
            return phrases[best[2]][1], []
    return found, rest.split()


def mentioned_city(knowledge: Knowledge, text: str) -> City | None:
    """A city named in the text, tolerant of case endings ("в Тарту", "у Таллінні")."""
    words = normalize(text).split()
    for country in knowledge.countries.values():
        for city in country.cities:
            names = {normalize(n) for n in (*city.names.values(), city.local_name, *city.aliases)}
            for name in names:
                stem = name[:-1] if len(name) >= 5 else name
                if any(w == name or (len(name) >= 5 and w.startswith(stem)) for w in words):
                    return city
    return None


def understand(loaded: Loaded, text: str) -> Understanding:
    knowledge = loaded.knowledge
    kind, rest = smalltalk_kind(knowledge, text)
    if kind:
        # "thanks!" is small talk; "hi, how do I open a bank account?" is a question.
        rest_text = " ".join(rest)
        rest_result = loaded.matcher.match(rest_text) if rest_text else None
        if rest_result is None or rest_result.outcome != "answer":
            return Understanding(kind, False, None, loaded.matcher.match(text))
    result = loaded.matcher.match(text)
    norm = normalize(text)
    services = False
    if _SERVICES_REQUEST.search(norm):
        # "Who can help me with this in Tartu?" asks about the last topic; "my husband hits
        # me, where do I turn?" is a question of its own and is answered as one.
        rest = _SERVICES_REQUEST.sub(" ", norm)
        services = loaded.matcher.match(rest).outcome != "answer"
    return Understanding(None, services, mentioned_city(knowledge, text), result)
