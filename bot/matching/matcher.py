"""Match a user's question to intents: answer, "did you mean", or unknown.

Two stages. A lexical stage scores every intent by the idf-weighted share of the question's
content words it covers (with prefix and typo-tolerant token matching through rapidfuzz).
The best few are re-ranked with rapidfuzz's WRatio against their paraphrases and keywords,
which rewards whole-phrase similarity and short keyword questions ("kela", "bank?").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

from bot.matching import thresholds as th
from bot.matching.index import MatchIndex
from bot.matching.normalize import normalize

Outcome = Literal["answer", "suggest", "unknown"]


@dataclass(frozen=True)
class Candidate:
    intent_id: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    """What the matcher decided; rendering is someone else's job."""

    outcome: Outcome
    intent_id: str | None
    score: float
    candidates: tuple[Candidate, ...]


def lexical_scores(index: MatchIndex, text: str) -> dict[str, float]:
    """Share (0..1) of the question's weighted content words that each intent covers."""
    words = index.content_tokens(text)
    if not words:
        return {}
    scores: dict[str, float] = {}
    mass = 0.0
    for word in dict.fromkeys(words):
        matches = index.expand(word)
        if not matches:
            mass += index.unknown_idf
            continue
        best_by_intent: dict[str, float] = {}
        weight = 0.0
        for vocab_word, similarity in matches.items():
            value = similarity * index.idf[vocab_word]
            weight = max(weight, index.idf[vocab_word])
            for intent_id in index.postings[vocab_word]:
                if value > best_by_intent.get(intent_id, 0.0):
                    best_by_intent[intent_id] = value
        mass += weight
        for intent_id, value in best_by_intent.items():
            scores[intent_id] = scores.get(intent_id, 0.0) + value
    return {i: s / mass for i, s in scores.items()} if mass else {}


def fuzzy_score(index: MatchIndex, text: str, intent_id: str) -> float:
    """Best WRatio (0..100) between the question and the intent's phrases."""
    best = process.extractOne(
        text,
        index.phrases_by_intent[intent_id],
        scorer=fuzz.WRatio,
        processor=None,
        score_cutoff=0,
    )
    return best[1] if best else 0.0


def rank(index: MatchIndex, question: str) -> list[Candidate]:
    """All plausible intents, best first, with a 0..100 confidence."""
    text = normalize(question)
    if not text:
        return []
    lexical = lexical_scores(index, text)
    top = sorted(lexical.items(), key=lambda kv: (-kv[1], kv[0]))[: th.RERANK_TOP]
    ranked = [
        Candidate(
            intent_id,
            round(
                100.0 * th.LEXICAL_WEIGHT * min(1.0, coverage)
                + th.FUZZY_WEIGHT * fuzzy_score(index, text, intent_id),
                2,
            ),
        )
        for intent_id, coverage in top
    ]
    return sorted(ranked, key=lambda c: (-c.score, c.intent_id))


def decide(ranked: list[Candidate]) -> MatchResult:
    """Turn a ranking into one of the three outcomes, using the calibrated bands."""
    if not ranked or ranked[0].score < th.SUGGEST_AT:
        best = ranked[0].score if ranked else 0.0
        return MatchResult("unknown", None, best, tuple(ranked[: th.MAX_SUGGESTIONS]))
    best = ranked[0]
    lead = best.score - ranked[1].score if len(ranked) > 1 else best.score
    if best.score >= th.ANSWER_AT and lead >= th.MIN_LEAD:
        return MatchResult("answer", best.intent_id, best.score, tuple(ranked[:3]))
    close = [c for c in ranked if c.score >= best.score * th.SUGGEST_RELATIVE]
    shown = tuple(close[: th.MAX_SUGGESTIONS])
    return MatchResult("suggest", best.intent_id, best.score, shown)


class Matcher:
    """The matcher for one knowledge version (build a new one on reload)."""

    def __init__(self, index: MatchIndex) -> None:
        self.index = index

    def match(self, question: str) -> MatchResult:
        return decide(rank(self.index, question))
