"""Match a user's question to intents: answer, "did you mean", or unknown.

Two stages. A lexical stage scores every intent by the idf-weighted share of the question's
content words it covers (with prefix and typo-tolerant token matching through rapidfuzz).
The best few are re-ranked with rapidfuzz's WRatio against their paraphrases and keywords,
which rewards whole-phrase similarity and short keyword questions ("kela", "bank?").
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rapidfuzz import fuzz, process

from bot.matching import thresholds as th
from bot.matching.index import MatchIndex
from bot.matching.normalize import normalize

Outcome = Literal["answer", "suggest", "unknown"]
MATCH_CACHE_SIZE = 1024  # recent questions whose result is kept


@dataclass(frozen=True)
class Candidate:
    intent_id: str
    score: float  # ranking score, 0..100
    confidence: float = 0.0  # how sure we are that the question is about it, 0..100


@dataclass(frozen=True)
class MatchResult:
    """What the matcher decided; rendering is someone else's job."""

    outcome: Outcome
    intent_id: str | None  # the best candidate (None when unknown)
    score: float
    candidates: tuple[Candidate, ...]  # the top of the ranking, best first
    suggestions: tuple[Candidate, ...] = ()  # what "did you mean" offers


@dataclass(frozen=True)
class Lexical:
    """BM25 score per intent, and the share (0..1) of the question's weight it covers."""

    bm25: dict[str, float]
    coverage: dict[str, float]


def query_terms(index: MatchIndex, question: str) -> list[str]:
    """The question's distinct content terms, at most MAX_QUERY_TERMS (in order of use)."""
    found: dict[str, None] = {}
    for term in index.iter_terms(question):
        found[term] = None
        if len(found) >= th.MAX_QUERY_TERMS:
            break
    return list(found)


def lexical_scores(index: MatchIndex, question: str) -> Lexical:
    bm25: dict[str, float] = {}
    covered: dict[str, float] = {}
    mass = 0.0
    for term in query_terms(index, question):
        matches = index.expand(term)
        if not matches:
            mass += index.unknown_idf  # an unknown word: likely off-topic
            continue
        mass += max(index.idf[word] for word in matches)
        best: dict[str, float] = {}
        best_cover: dict[str, float] = {}
        # A prefix or typo match weighs no more than the word itself would: a rare inflection
        # ("residentsusega") must not lend its high idf to a common word ("resid").
        cap = index.idf.get(term, float("inf"))
        for word, similarity in matches.items():
            cover = similarity * min(index.idf[word], cap)
            for intent_id, tf in index.weighted[word]:
                value = cover * tf
                if value > best.get(intent_id, 0.0):
                    best[intent_id] = value
                if cover > best_cover.get(intent_id, 0.0):
                    best_cover[intent_id] = cover
        for intent_id, value in best.items():
            bm25[intent_id] = bm25.get(intent_id, 0.0) + value
            covered[intent_id] = covered.get(intent_id, 0.0) + best_cover[intent_id]
    # A question of one common word ("help?") must not look fully covered: below
    # MIN_EVIDENCE of idf mass, coverage is divided by MIN_EVIDENCE instead.
    mass = max(mass, th.MIN_EVIDENCE)
    coverage = {i: min(1.0, c / mass) for i, c in covered.items()}
    return Lexical(bm25, coverage)


def fuzzy_score(index: MatchIndex, text: str, intent_id: str) -> float:
    """Best whole-phrase similarity (0..100) between the question and the intent's phrases."""
    best = process.extractOne(
        text,
        index.phrases_by_intent[intent_id],
        scorer=fuzz.QRatio,
        processor=None,
        score_cutoff=0,
    )
    return best[1] if best else 0.0


def rank(index: MatchIndex, question: str) -> list[Candidate]:
    """All plausible intents, best first, with a 0..100 confidence."""
    text = normalize(question)
    if not text:
        return []
    lexical = lexical_scores(index, question)
    # nsmallest is sorted(...)[:n] without sorting every intent (100k-paraphrase packs).
    top = heapq.nsmallest(th.RERANK_TOP, lexical.bm25.items(), key=lambda kv: (-kv[1], kv[0]))
    if not top:
        return []
    best_bm25 = top[0][1]
    ranked = []
    for intent_id, bm25 in top:
        coverage = lexical.coverage[intent_id]
        fuzzy = fuzzy_score(index, text, intent_id) / 100.0
        score = (
            th.BM25_WEIGHT * bm25 / best_bm25
            + th.COVERAGE_WEIGHT * coverage
            + th.FUZZY_WEIGHT * fuzzy
        ) / th.TOTAL_WEIGHT
        # Confidence leaves out the relative BM25 part, which is 1.0 for whatever ranks first.
        confidence = (th.COVERAGE_WEIGHT * coverage + th.FUZZY_WEIGHT * fuzzy) / (
            th.COVERAGE_WEIGHT + th.FUZZY_WEIGHT
        )
        ranked.append(Candidate(intent_id, round(100.0 * score, 2), round(100.0 * confidence, 2)))
    return sorted(ranked, key=lambda c: (-c.score, c.intent_id))


def decide(ranked: list[Candidate]) -> MatchResult:
    """Turn a ranking into one of the three outcomes, using the calibrated bands."""
    top = tuple(ranked[: th.MAX_SUGGESTIONS])
    if not ranked or ranked[0].confidence < th.SUGGEST_AT:
        return MatchResult("unknown", None, ranked[0].confidence if ranked else 0.0, top)
    best = ranked[0]
    lead = best.score - ranked[1].score if len(ranked) > 1 else best.score
    if best.confidence >= th.ANSWER_AT and lead >= th.MIN_LEAD:
        return MatchResult("answer", best.intent_id, best.confidence, top)
    close = tuple(c for c in top if c.score >= best.score * th.SUGGEST_RELATIVE)
    return MatchResult("suggest", best.intent_id, best.confidence, top, close)


class Matcher:
    """The matcher for one knowledge version (build a new one on reload)."""

    def __init__(self, index: MatchIndex) -> None:
        self.index = index
        # One message is matched more than once (small talk, "who can help", the ticket's
        # topic), and results are immutable values: remember the recent ones.
        self._match = lru_cache(maxsize=MATCH_CACHE_SIZE)(self._match_uncached)

    def match(self, question: str) -> MatchResult:
        return self._match(question)

    def _match_uncached(self, question: str) -> MatchResult:
        return decide(rank(self.index, question))
