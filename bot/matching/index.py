"""The match index: built once per knowledge, then only read.

Each intent becomes a bag of tokens from all its paraphrases and keywords (every language).
Tokens are weighted by inverse intent frequency, so a word shared by many intents ("register",
"получить") counts little and a distinctive one ("henkilötunnus", "kela") counts a lot.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.knowledge.model import Knowledge
from bot.matching import thresholds as th
from bot.matching.normalize import normalize
from bot.matching.stopwords import STOPWORDS


@dataclass(frozen=True)
class Phrase:
    """A normalised paraphrase or keyword and the intent it belongs to."""

    text: str
    intent_id: str
    is_keyword: bool


class MatchIndex:
    """Token postings with idf weights, and the phrase list for fuzzy re-ranking."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.intent_ids: tuple[str, ...] = tuple(sorted(knowledge.intents))
        places = _place_words(knowledge)
        self.stopwords = STOPWORDS | places
        self._place_stems = frozenset(w[:-1] for w in places if len(w) >= 5)
        phrases: list[Phrase] = []
        for intent_id in self.intent_ids:
            intent = knowledge.intents[intent_id]
            for lang in sorted(intent.paraphrases):
                phrases += [
                    Phrase(normalize(p), intent_id, False) for p in intent.paraphrases[lang]
                ]
            phrases += [Phrase(normalize(k), intent_id, True) for k in intent.keywords]
        self.phrases: tuple[Phrase, ...] = tuple(p for p in phrases if p.text)
        self.phrases_by_intent: dict[str, list[str]] = {i: [] for i in self.intent_ids}
        postings: dict[str, set[str]] = {}
        for phrase in self.phrases:
            self.phrases_by_intent[phrase.intent_id].append(phrase.text)
            for token in self.content_tokens(phrase.text):
                postings.setdefault(token, set()).add(phrase.intent_id)
        n = len(self.intent_ids) or 1
        self.postings: dict[str, frozenset[str]] = {t: frozenset(s) for t, s in postings.items()}
        self.idf: dict[str, float] = {
            t: math.log(1.0 + n / len(s)) for t, s in self.postings.items()
        }
        self.unknown_idf = math.log(1.0 + n)
        self.vocab: tuple[str, ...] = tuple(sorted(self.postings))
        self._expand = lru_cache(maxsize=50_000)(self._expand_uncached)

    def content_tokens(self, text: str) -> list[str]:
        """Tokens of normalised `text` that carry topic: no stopwords, no place names."""
        return [t for t in text.split() if not self._is_stopword(t)]

    def _is_stopword(self, token: str) -> bool:
        if token in self.stopwords or len(token) < 2:
            return True
        # Inflected place names: "финляндии", "tallinnas", "латвії".
        return len(token) >= 5 and any(
            token[:cut] in self._place_stems for cut in range(4, min(len(token), 12) + 1)
        )

    def expand(self, token: str) -> dict[str, float]:
        """Vocabulary tokens similar to `token`, with a similarity in (0, 1]."""
        return self._expand(token)

    def _expand_uncached(self, token: str) -> dict[str, float]:
        found: dict[str, float] = {}
        if token in self.postings:
            found[token] = 1.0
        if len(token) >= th.MIN_PREFIX:
            # Crude stemming that works across languages: a shared prefix of at least
            # MIN_PREFIX characters covering the shorter word ("банк" ~ "банковский").
            stem = token[: max(th.MIN_PREFIX, len(token) - 3)]
            start = bisect.bisect_left(self.vocab, stem)
            for word in self.vocab[start:]:
                if not word.startswith(stem):
                    break
                found.setdefault(word, th.PREFIX_SIMILARITY)
            for cut in range(len(token) - 1, th.MIN_PREFIX - 1, -1):
                prefix = token[:cut]
                if prefix in self.postings and len(prefix) >= len(token) - 3:
                    found.setdefault(prefix, th.PREFIX_SIMILARITY)
        if len(token) >= th.MIN_FUZZY_TOKEN_LEN:
            for word, score, _ in process.extract(
                token,
                self.vocab,
                scorer=fuzz.ratio,
                processor=None,
                score_cutoff=th.FUZZY_TOKEN_CUTOFF,
                limit=8,
            ):
                found.setdefault(word, 0.9 * score / 100.0)
        return found


def _place_words(knowledge: Knowledge) -> frozenset[str]:
    """Country and city names in every spelling: they say where, not what."""
    words: set[str] = set()
    for country in knowledge.countries.values():
        names = [*country.names.values(), country.local_name, country.code]
        for city in country.cities:
            names += [*city.names.values(), city.local_name, *city.aliases]
        for name in names:
            words.update(normalize(name).split())
    return frozenset(w for w in words if len(w) > 2)
