"""The default knowledge pack: complete for the catalog, three languages, real sources."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.core.knowledge_holder import KnowledgeHolder
from bot.knowledge.model import BOT_LANGUAGES, DEFAULT_ANSWER
from tests.conftest import CATALOG

CATALOG_ITEMS = yaml.safe_load(CATALOG.read_text())["intents"]
COUNTRIES = ("FI", "SE", "EE", "LV")
PHONE = re.compile(r"\+?\d[\d \-]{5,}\d")


def test_every_catalog_intent_exists(shipped_holder: KnowledgeHolder) -> None:
    intents = shipped_holder.current.knowledge.intents
    assert [i["id"] for i in CATALOG_ITEMS if i["id"] not in intents] == []


@pytest.mark.parametrize("item", CATALOG_ITEMS, ids=[i["id"] for i in CATALOG_ITEMS])
def test_intent_answers_every_country_in_three_languages(
    item, shipped_holder: KnowledgeHolder
) -> None:
    intent = shipped_holder.current.knowledge.intents[item["id"]]
    expected = COUNTRIES if item["per_country"] else (DEFAULT_ANSWER,)
    for country in expected:
        answer = intent.answers[country]
        for lang in BOT_LANGUAGES:
            assert 400 <= len(answer.texts[lang]) <= 1200, (country, lang, len(answer.texts[lang]))
        assert answer.sources and all(s.startswith("https://") for s in answer.sources)
    for lang in BOT_LANGUAGES:
        assert len(intent.paraphrases.get(lang, ())) >= 8, lang
    assert intent.phase == item["phase"]


def test_service_directory_is_large_and_covers_every_country(
    shipped_holder: KnowledgeHolder,
) -> None:
    services = shipped_holder.current.knowledge.services
    assert len(services) >= 60
    for country in COUNTRIES:
        assert sum(country in s.countries for s in services.values()) >= 15, country
    for service in services.values():
        assert service.website.startswith("https://"), service.id
        assert set(BOT_LANGUAGES) <= set(service.helps_with), service.id


def test_countries_have_names_time_zones_and_the_emergency_number(
    shipped_holder: KnowledgeHolder,
) -> None:
    countries = shipped_holder.current.knowledge.countries
    assert set(countries) == set(COUNTRIES)
    for country in countries.values():
        assert country.emergency == "112"
        assert set(BOT_LANGUAGES) <= set(country.names)
        assert country.timezone.startswith("Europe/")
        assert all(set(BOT_LANGUAGES) <= set(c.names) for c in country.cities)


def test_answers_are_telegram_safe_plain_text(shipped_holder: KnowledgeHolder) -> None:
    for intent in shipped_holder.current.knowledge.intents.values():
        for answer in intent.answers.values():
            for text in answer.texts.values():
                assert "**" not in text and "<b>" not in text and "](" not in text, intent.id
