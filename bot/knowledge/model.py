"""Immutable knowledge records: what the loader builds and every other module reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.knowledge.mentoring import MentoringCatalog
from bot.knowledge.pathway_model import Pathway

BOT_LANGUAGES: tuple[str, ...] = ("en", "ru", "uk")
DEFAULT_ANSWER = "default"


@dataclass(frozen=True)
class City:
    id: str
    country: str
    names: Mapping[str, str]
    local_name: str
    aliases: tuple[str, ...] = ()

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names.get("en") or self.local_name


@dataclass(frozen=True)
class Helpline:
    id: str
    kind: str
    names: Mapping[str, str]
    number: str
    website: str = ""

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["en"]


@dataclass(frozen=True)
class Country:
    code: str
    names: Mapping[str, str]
    local_name: str
    timezone: str
    emergency: str
    languages: tuple[str, ...]
    helplines: tuple[Helpline, ...]
    cities: tuple[City, ...]

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["en"]


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    kind: str
    countries: tuple[str, ...]
    cities: tuple[str, ...]
    languages: tuple[str, ...]
    website: str
    helps_with: Mapping[str, str]
    local_name: str = ""

    def serves(self, country: str | None, city: str | None) -> bool:
        """True when the service is for this country and (if it is local) this city."""
        if country and country not in self.countries:
            return False
        return not self.cities or city is None or city in self.cities


@dataclass(frozen=True)
class Answer:
    """One answer block: the texts per language for one country (or `default`)."""

    country: str
    texts: Mapping[str, str]
    sources: tuple[str, ...]
    reviewed: dt.date


@dataclass(frozen=True)
class Intent:
    id: str
    titles: Mapping[str, str]
    topic: str
    phase: str
    paraphrases: Mapping[str, tuple[str, ...]]
    keywords: tuple[str, ...]
    services: tuple[str, ...]
    related: tuple[str, ...]
    answers: Mapping[str, Answer]
    source_file: str = ""

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or self.titles.get("en") or self.id

    def answer_for(self, country: str | None) -> Answer | None:
        """The user's country answer, else the general one."""
        if country and country in self.answers:
            return self.answers[country]
        return self.answers.get(DEFAULT_ANSWER)


@dataclass(frozen=True)
class ChecklistTask:
    """One task of a checklist template; planned for users whose profile matches `when`."""

    id: str
    country: str  # a country code, or ANY_COUNTRY for common tasks
    intent: str | None
    titles: Mapping[str, str]
    descriptions: Mapping[str, str]
    due: int  # days from the anchor date
    anchor: str  # "arrival" or "departure"
    after: tuple[str, ...] = ()
    when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or self.titles["en"]

    def description(self, lang: str) -> str:
        return self.descriptions.get(lang) or self.descriptions.get("en", "")


ANY_COUNTRY = "any"


@dataclass(frozen=True)
class Team:
    """A provider team: people who answer escalated questions in a Telegram group."""

    id: str
    names: Mapping[str, str]
    countries: tuple[str, ...]
    cities: tuple[str, ...]
    topics: tuple[str, ...]
    languages: tuple[str, ...]
    chat_id_env: str = ""
    chat_id: int | None = None
    forum: bool = False
    response_hours: int = 48
    fallback: bool = False

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["en"]


@dataclass(frozen=True)
class Event:
    """An upcoming event newcomers may like (knowledge/events.yaml)."""

    id: str
    titles: Mapping[str, str]
    date: dt.date
    country: str
    city: str | None
    languages: tuple[str, ...]
    link: str

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or self.titles["en"]


@dataclass(frozen=True)
class Knowledge:
    """The whole validated knowledge, indexed by id. Replaced as a unit on reload."""

    intents: Mapping[str, Intent]
    services: Mapping[str, Service]
    countries: Mapping[str, Country]
    smalltalk: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tasks: Mapping[str, ChecklistTask] = field(default_factory=dict)  # all templates, by id
    teams: Mapping[str, Team] = field(default_factory=dict)
    safety: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # signal -> phrases
    events: Mapping[str, Event] = field(default_factory=dict)
    mentoring: MentoringCatalog = field(default_factory=MentoringCatalog)  # buddies, mentors
    pathways: Mapping[str, Pathway] = field(default_factory=dict)  # guided flows, e.g. /business

    def __post_init__(self) -> None:
        names = (
            "intents",
            "services",
            "countries",
            "smalltalk",
            "tasks",
            "teams",
            "safety",
            "events",
            "pathways",
        )
        for name in names:
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def city(self, city_id: str | None) -> City | None:
        for country in self.countries.values():
            for city in country.cities:
                if city.id == city_id:
                    return city
        return None

    def services_for(self, intent: Intent, country: str | None, city: str | None) -> list[Service]:
        """Services of an intent for the user's place, city-specific ones first."""
        found = [
            self.services[sid]
            for sid in intent.services
            if sid in self.services and self.services[sid].serves(country, city)
        ]
        return sorted(found, key=lambda s: (not (city and city in s.cities), s.name))
