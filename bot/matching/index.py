"""The match index: built once per knowledge, then only read.

Each intent becomes a bag of stemmed terms from all its paraphrases and keywords (every
language). Terms are weighted BM25-style: by inverse intent frequency, so a word shared by many
intents ("register", "получить") counts little and a distinctive one ("henkilötunnus", "kela")
a lot; and by how many of the intent's phrases use it, so a term that is central to an intent
outweighs one that appears there once.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.knowledge.model import Knowledge
from bot.matching import thresholds as th
from bot.matching.normalize import fold, normalize, raw_words, stem
from bot.matching.stopwords import STOPWORDS

MIN_STEM = 2
FUZZY_LIMIT = 5  # typo neighbours kept per query term


@dataclass(frozen=True)
class Phrase:
    """A paraphrase or keyword of an intent, prepared for both matching stages."""

    text: str  # normalised, for rapidfuzz phrase scores
    terms: tuple[str, ...]  # stemmed content words, for the lexical stage
    intent_id: str
    is_keyword: bool


class MatchIndex:
    """Term postings with BM25 weights, and the phrase lists for fuzzy re-ranking."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.intent_ids: tuple[str, ...] = tuple(sorted(knowledge.intents))
        places = _place_words(knowledge)
        self.stopwords = STOPWORDS | places
        self._place_stems = frozenset(w[:-1] for w in places if len(w) >= 5)
        self._make_caches()
        self.phrases: tuple[Phrase, ...] = tuple(self._phrases(knowledge))
        self.phrases_by_intent: dict[str, list[str]] = {i: [] for i in self.intent_ids}
        term_counts: dict[str, Counter[str]] = {i: Counter() for i in self.intent_ids}
        for phrase in self.phrases:
            self.phrases_by_intent[phrase.intent_id].append(phrase.text)
            term_counts[phrase.intent_id].update(set(phrase.terms))
        postings: dict[str, set[str]] = {}
        for intent_id, counts in term_counts.items():
            for term in counts:
                postings.setdefault(term, set()).add(intent_id)
        n = len(self.intent_ids) or 1
        self.postings: dict[str, frozenset[str]] = {t: frozenset(s) for t, s in postings.items()}
        self.idf: dict[str, float] = {t: math.log(1.0 + n / len(s)) for t, s in postings.items()}
        self.unknown_idf = math.log(1.0 + n)
        tf_weight = self._tf_weights(term_counts)
        # (intent, BM25 tf factor) per term: all the lexical stage's inner loop reads.
        self.weighted: dict[str, tuple[tuple[str, float], ...]] = {
            term: tuple((i, tf_weight[(term, i)]) for i in sorted(ids))
            for term, ids in postings.items()
        }
        self.vocab: tuple[str, ...] = tuple(sorted(self.postings))
        self._by_length = _by_length(self.vocab)

    def _make_caches(self) -> None:
        self._term = lru_cache(maxsize=100_000)(self._term_uncached)
        self._expand = lru_cache(maxsize=50_000)(self._expand_uncached)

    def __getstate__(self) -> dict[str, object]:
        """For the knowledge cache: everything but the per-process memo caches."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_term", "_expand")}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._make_caches()

    def _phrases(self, knowledge: Knowledge) -> list[Phrase]:
        out = []
        for intent_id in self.intent_ids:
            intent = knowledge.intents[intent_id]
            texts = [
                (p, False) for lang in sorted(intent.paraphrases) for p in intent.paraphrases[lang]
            ]
            texts += [(k, True) for k in intent.keywords]
            for text, is_keyword in texts:
                phrase = Phrase(normalize(text), tuple(self.terms(text)), intent_id, is_keyword)
                if phrase.text:
                    out.append(phrase)
        return out

    def _tf_weights(self, term_counts: dict[str, Counter[str]]) -> dict[tuple[str, str], float]:
        """BM25 term-frequency factor per (term, intent), length-normalised by phrase count."""
        sizes = {i: max(1, len(self.phrases_by_intent[i])) for i in self.intent_ids}
        average = sum(sizes.values()) / max(1, len(sizes))
        k1, b = th.BM25_K1, th.BM25_B
        weights = {}
        for intent_id, counts in term_counts.items():
            norm = k1 * (1 - b + b * sizes[intent_id] / average)
            for term, tf in counts.items():
                weights[(term, intent_id)] = tf * (k1 + 1) / (tf + norm)
        return weights

    def terms(self, text: str) -> list[str]:
        """Stemmed content words of raw `text` (stopwords and place names dropped)."""
        return list(self.iter_terms(text))

    def iter_terms(self, text: str) -> Iterator[str]:
        """`terms`, one at a time (a caller may stop early on a very long message)."""
        return (term for term in map(self._term, raw_words(text)) if term)

    def _term_uncached(self, word: str) -> str:
        """The stem of one word, or "" for a stopword, a place name or a too-short stem."""
        if self.is_stopword(fold(word)):
            return ""
        found = stem(word)
        return found if len(found) >= MIN_STEM else ""  # "им" (from "имею") says nothing

    def is_stopword(self, word: str) -> bool:
        """A function word, a place name (also inflected: "финляндии", "tallinnas"), or noise."""
        if word in self.stopwords or len(word) < 2:
            return True
        return len(word) >= 5 and any(
            word[:cut] in self._place_stems for cut in range(4, min(len(word), 12) + 1)
        )

    def expand(self, term: str) -> dict[str, float]:
        """Vocabulary terms similar to `term`, with a similarity in (0, 1]."""
        return self._expand(term)

    def _expand_uncached(self, term: str) -> dict[str, float]:
        found: dict[str, float] = {}
        if term in self.postings:
            found[term] = 1.0
        if len(term) >= th.MIN_PREFIX:
            # Compounds and leftovers the stemmer misses: a vocabulary term that starts with
            # this one ("pankki" ~ "pankkitili"), or this one starting with a vocabulary term.
            start = bisect.bisect_left(self.vocab, term)
            for word in self.vocab[start : start + 50]:
                if not word.startswith(term):
                    break
                found.setdefault(word, th.PREFIX_SIMILARITY)
            for cut in range(len(term) - 1, th.MIN_PREFIX - 1, -1):
                if term[:cut] in self.postings:
                    found.setdefault(term[:cut], th.PREFIX_SIMILARITY * cut / len(term))
                    break
        if len(term) >= th.MIN_FUZZY_TOKEN_LEN:
            for word, score in self._typos(term):
                found.setdefault(word, th.FUZZY_SIMILARITY * score / 100.0)
        return found

    def _typos(self, term: str) -> list[tuple[str, float]]:
        """The five vocabulary terms most similar to `term` (fuzz.ratio at or above the cutoff),
        best first, ties in vocabulary order: what one `process.extract` over the whole
        vocabulary gives, but scanning only the lengths that can reach the cutoff."""
        found: list[tuple[str, float]] = []
        for length in _reachable_lengths(len(term), th.FUZZY_TOKEN_CUTOFF):
            words = self._by_length.get(length)
            if not words:
                continue
            found += (
                (word, score)
                for word, score, _ in process.extract(
                    term,
                    words,
                    scorer=fuzz.ratio,
                    processor=None,
                    score_cutoff=th.FUZZY_TOKEN_CUTOFF,
                    limit=FUZZY_LIMIT,
                )
            )
        found.sort(key=lambda pair: (-pair[1], pair[0]))
        return found[:FUZZY_LIMIT]


def _by_length(vocab: tuple[str, ...]) -> dict[int, tuple[str, ...]]:
    """The (sorted) vocabulary split by word length, each part still sorted."""
    groups: dict[int, list[str]] = {}
    for word in vocab:
        groups.setdefault(len(word), []).append(word)
    return {length: tuple(words) for length, words in groups.items()}


@lru_cache(maxsize=256)
def _reachable_lengths(length: int, cutoff: float) -> tuple[int, ...]:
    """Word lengths whose fuzz.ratio with a word of `length` can reach `cutoff`.

    fuzz.ratio is 100 * (1 - indel / (a + b)) and the indel distance is at least |a - b|, so
    the best possible score is 200 * min(a, b) / (a + b); a small margin keeps float rounding
    on the safe (inclusive) side.
    """
    upper = int(length * 200 / max(cutoff, 1.0)) + 1
    return tuple(
        other
        for other in range(1, upper + 1)
        if 200.0 * min(length, other) / (length + other) >= cutoff - 1e-6
    )


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
