"""The matcher's speed-ups give exactly what the plain computation gives."""

from __future__ import annotations

import unicodedata

import pytest
import snowballstemmer
from rapidfuzz import fuzz, process
from snowballstemmer.arabic_stemmer import ArabicStemmer
from snowballstemmer.english_stemmer import EnglishStemmer
from snowballstemmer.russian_stemmer import RussianStemmer

from bot.core.knowledge_holder import KnowledgeHolder
from bot.matching import thresholds as th
from bot.matching.index import MatchIndex, _reachable_lengths
from bot.matching.matcher import Matcher, query_terms
from bot.matching.normalize import fold, raw_words
from tests.conftest import FIXTURE_KNOWLEDGE, SHIPPED_KNOWLEDGE


@pytest.fixture(scope="module")
def shipped_index() -> MatchIndex:
    return KnowledgeHolder(SHIPPED_KNOWLEDGE).current.matcher.index


def _typos_by_full_scan(index: MatchIndex, term: str) -> list[tuple[str, float]]:
    found = process.extract(
        term,
        index.vocab,
        scorer=fuzz.ratio,
        processor=None,
        score_cutoff=th.FUZZY_TOKEN_CUTOFF,
        limit=5,
    )
    return [(word, score) for word, score, _ in found]


def _misspellings(word: str) -> list[str]:
    """A letter dropped, doubled and swapped: the typos users make."""
    middle = len(word) // 2
    swapped = word[: middle - 1] + word[middle] + word[middle - 1] + word[middle + 1 :]
    return [
        word[:middle] + word[middle + 1 :],
        word[:middle] + word[middle] + word[middle:],
        swapped,
    ]


def test_typo_search_by_length_equals_a_full_vocabulary_scan(shipped_index: MatchIndex) -> None:
    words = [w for w in shipped_index.vocab if len(w) >= th.MIN_FUZZY_TOKEN_LEN][::7]
    terms = [t for w in words for t in (w, *_misspellings(w))]
    assert len(terms) > 1000
    for term in terms:
        assert shipped_index._typos(term) == _typos_by_full_scan(shipped_index, term), term


@pytest.mark.parametrize("length", range(1, 40))
def test_lengths_left_out_can_never_reach_the_cutoff(length: int) -> None:
    reachable = _reachable_lengths(length, th.FUZZY_TOKEN_CUTOFF)
    assert length in reachable
    for other in range(1, 3 * length + 3):
        best_possible = fuzz.ratio("a" * length, "a" * other)  # identical but for the length
        assert (best_possible >= th.FUZZY_TOKEN_CUTOFF) == (other in reachable), other


def test_a_very_long_message_is_read_up_to_the_term_cap() -> None:
    index = KnowledgeHolder(FIXTURE_KNOWLEDGE).current.matcher.index
    story = " ".join(f"word{n}x" for n in range(500)) + " bank account"
    terms = query_terms(index, story)
    assert len(terms) == th.MAX_QUERY_TERMS
    assert terms == list(dict.fromkeys(index.terms(story)))[: th.MAX_QUERY_TERMS]


def test_a_repeated_question_gets_the_same_result_from_the_cache() -> None:
    holder = KnowledgeHolder(FIXTURE_KNOWLEDGE)
    matcher = holder.current.matcher
    fresh = Matcher(matcher.index)
    question = "how to opne a bank acount"
    assert matcher.match(question) is matcher.match(question)
    assert matcher.match(question) == fresh._match_uncached(question)


def _fold_by_definition(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def test_fold_equals_its_definition_for_every_character_of_the_alphabets() -> None:
    text = "".join(chr(c) for c in [*range(0x20, 0x3000), 0x1F642, 0xFB01, 0xFF21])
    assert fold(text) == _fold_by_definition(text)
    assert fold("Försäkringskassan ёжик Їжак") == "Forsakringskassan ежик Іжак"


@pytest.mark.parametrize(
    ("language", "pure_python"),
    [("russian", RussianStemmer), ("english", EnglishStemmer), ("arabic", ArabicStemmer)],
)
def test_the_installed_stemmer_gives_the_stems_of_the_pure_python_one(
    shipped_index: MatchIndex, language: str, pure_python: type
) -> None:
    """PyStemmer (C) is used when installed; the index and thresholds were tuned on these."""
    knowledge = KnowledgeHolder(SHIPPED_KNOWLEDGE).current.knowledge
    texts = [p for i in knowledge.intents.values() for ps in i.paraphrases.values() for p in ps]
    words = sorted({w for text in texts for w in raw_words(text)})
    installed, reference = snowballstemmer.stemmer(language), pure_python()
    assert [installed.stemWord(w) for w in words] == [reference.stemWord(w) for w in words]
