"""Matching on the small test knowledge: typos, short keywords, other languages, misses."""

from __future__ import annotations

import pytest

from bot.core.knowledge_holder import KnowledgeHolder
from bot.matching.matcher import Matcher
from bot.matching.normalize import normalize
from tests.conftest import FIXTURE_KNOWLEDGE


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return KnowledgeHolder(FIXTURE_KNOWLEDGE).current.matcher


def test_normalize_folds_case_diacritics_and_punctuation() -> None:
    assert normalize("  Försäkringskassan?!  ") == "forsakringskassan"
    assert normalize("Счёт в БАНКЕ…") == "счет в банке"
    assert normalize("HENKILÖTUNNUS\u200f") == "henkilotunnus"


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("how do I open a bank account?", "bank-account"),
        ("bank?", "bank-account"),
        ("how to opne a bank acount", "bank-account"),
        ("henkilotunnus", "personal-id-number"),
        ("where do I get my isikukood in tartu", "personal-id-number"),
        ("как открыть счет в банке", "bank-account"),
        ("де отримати особистий код", "personal-id-number"),
        ("can I bring my dog", "moving-pets"),
    ],
)
def test_realistic_questions_are_answered(matcher: Matcher, question: str, intent: str) -> None:
    result = matcher.match(question)
    assert (result.outcome, result.intent_id) == ("answer", intent)


@pytest.mark.parametrize(
    "question",
    [
        "will it rain in helsinki on saturday",
        "recipe for cheesecake",
        "who won the football match yesterday",
        "",
        "🙂🙂🙂",
    ],
)
def test_unrelated_questions_are_unknown(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).outcome == "unknown"


def test_candidates_are_ordered_and_deterministic(matcher: Matcher) -> None:
    first = matcher.match("documents for bank and personal code")
    second = matcher.match("documents for bank and personal code")
    assert first == second
    scores = [c.score for c in first.candidates]
    assert scores == sorted(scores, reverse=True)
    assert {c.intent_id for c in first.candidates} >= {"bank-account", "personal-id-number"}
