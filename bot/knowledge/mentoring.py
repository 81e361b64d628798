"""Buddies and mentors (knowledge/mentoring.yaml): topics, languages and availability options.

Volunteers pick from these lists and newcomers ask by topic; every label exists in each of the
bot's languages, so the buttons never fall back to another language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bot.knowledge.fields import SCHEMA_VERSION, check_fields
from bot.knowledge.yamlload import LineDict, LineList

LABEL_LANGUAGES = ("en", "ru", "uk")  # the bot's own languages
SCOPES = frozenset({"city", "country"})  # where a helper must live for the topic
MAX_CAPACITY = 20
REPLY_DAYS = 7  # default: an unanswered proposal or request expires after this many days
MAX_REPLY_DAYS = 60
MAX_ID = 30  # ids go into button data (at most 64 bytes with the prefixes)
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CODE = re.compile(r"^[a-z]{2}$")


@dataclass(frozen=True)
class Choice:
    """A labelled option shown as a button."""

    id: str
    labels: Mapping[str, str]

    def label(self, lang: str) -> str:
        return self.labels.get(lang) or self.labels.get("en") or self.id


@dataclass(frozen=True)
class MentoringTopic(Choice):
    scope: str = "country"  # "city": only helpers in the newcomer's city fit


@dataclass(frozen=True)
class Availability(Choice):
    capacity: int = 1  # how many newcomers a helper with this availability takes at once


@dataclass(frozen=True)
class MentoringCatalog:
    """The three lists; empty when the knowledge has no mentoring.yaml."""

    topics: Mapping[str, MentoringTopic] = field(default_factory=dict)
    languages: Mapping[str, Choice] = field(default_factory=dict)
    availability: Mapping[str, Availability] = field(default_factory=dict)
    reply_days: int = REPLY_DAYS  # `settings.reply_days`

    def __post_init__(self) -> None:
        for name in ("topics", "languages", "availability"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    @property
    def enabled(self) -> bool:
        return bool(self.topics and self.languages and self.availability)

    def topic_label(self, topic_id: str, lang: str) -> str:
        topic = self.topics.get(topic_id)
        return topic.label(lang) if topic else topic_id

    def language_label(self, code: str, lang: str) -> str:
        choice = self.languages.get(code)
        return choice.label(lang) if choice else code


def parse_mentoring(rep: Any, doc: Any) -> MentoringCatalog:
    """mentoring.yaml: `topics`, `languages` and `availability`, each a list of options, and
    optional `settings`."""
    if not isinstance(doc, LineDict):
        rep.error(1, "expected a mapping with 'version', 'topics', 'languages', 'availability'")
        return MentoringCatalog()
    check_fields(
        rep, doc, "mentoring.yaml", {"version", "topics", "languages", "availability"}, {"settings"}
    )
    if doc.get("version") != SCHEMA_VERSION:
        rep.error(doc.line_of("version"), f"'version' must be {SCHEMA_VERSION}")
    topics = {
        node["id"]: MentoringTopic(
            node["id"], _labels(rep, node, "topic"), str(node.get("scope", "country"))
        )
        for node in _options(rep, doc, "topics", "id", {"scope"})
        if _scope_ok(rep, node)
    }
    languages = {
        node["code"]: Choice(node["code"], _labels(rep, node, "language"))
        for node in _options(rep, doc, "languages", "code", set())
    }
    availability = {
        node["id"]: Availability(node["id"], _labels(rep, node, "availability"), node["capacity"])
        for node in _options(rep, doc, "availability", "id", {"capacity"}, required={"capacity"})
        if _capacity_ok(rep, node)
    }
    return MentoringCatalog(topics, languages, availability, _reply_days(rep, doc))


def _reply_days(rep: Any, doc: LineDict) -> int:
    """`settings.reply_days`: days a volunteer (or a newcomer) has to answer a proposal."""
    settings = doc.get("settings")
    if settings is None:
        return REPLY_DAYS
    if not isinstance(settings, LineDict):
        rep.error(doc.line_of("settings"), "'settings' must be a mapping (e.g. reply_days: 7)")
        return REPLY_DAYS
    check_fields(rep, settings, "settings", set(), {"reply_days"})
    days = settings.get("reply_days", REPLY_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_REPLY_DAYS:
        rep.error(
            settings.line_of("reply_days"),
            f"settings: reply_days must be a whole number of days from 1 to {MAX_REPLY_DAYS}",
        )
        return REPLY_DAYS
    return days


def _options(
    rep: Any,
    doc: LineDict,
    key: str,
    id_field: str,
    optional: set[str],
    *,
    required: set[str] = frozenset(),
) -> list[LineDict]:
    """The well-formed entries of one list (unique ids, known fields); others are reported."""
    items = doc.get(key)
    if not isinstance(items, LineList) or not items:
        rep.error(doc.line_of(key), f"'{key}' must be a non-empty list")
        return []
    good: list[LineDict] = []
    seen: dict[str, int] = {}
    for index, node in enumerate(items):
        where = items.line_of(index)
        if not isinstance(node, LineDict):
            rep.error(where, f"{key}[{index}] must be a mapping")
            continue
        what = f"{key} entry '{node.get(id_field, '?')}'"
        if not check_fields(rep, node, what, {id_field, "label", *required}, optional - required):
            continue
        value = str(node[id_field])
        pattern = _CODE if id_field == "code" else _ID
        if not pattern.match(value):
            rule = (
                "two lower-case letters"
                if id_field == "code"
                else "lower-case letters, digits, '-'"
            )
            rep.error(node.line_of(id_field), f"{what}: {id_field} must be {rule}")
            continue
        if len(value) > MAX_ID:
            rep.error(node.line_of(id_field), f"{what}: {id_field} is longer than {MAX_ID}")
            continue
        if value in seen:
            rep.error(node.line_of(id_field), f"{what}: duplicate (also line {seen[value]})")
            continue
        seen[value] = node.line_of(id_field)
        node[id_field] = value
        good.append(node)
    return good


def _labels(rep: Any, node: LineDict, what: str) -> dict[str, str]:
    labels = node["label"]
    name = f"{what} '{node.get('id', node.get('code'))}' label"
    if not isinstance(labels, LineDict):
        rep.error(node.line_of("label"), f"{name}: expected a mapping of language code to text")
        return {}
    out: dict[str, str] = {}
    for lang, text in labels.items():
        if not isinstance(text, str) or not text.strip():
            rep.error(labels.line_of(lang), f"{name}: text for '{lang}' is empty")
        elif len(text.strip()) > 40:
            rep.error(labels.line_of(lang), f"{name}: '{lang}' is longer than 40 characters")
        else:
            out[str(lang)] = text.strip()
    for lang in LABEL_LANGUAGES:
        if lang not in labels:
            rep.error(node.line_of("label"), f"{name}: '{lang}' text is required")
    return out


def _scope_ok(rep: Any, node: LineDict) -> bool:
    scope = node.get("scope", "country")
    if scope not in SCOPES:
        rep.error(node.line_of("scope"), f"topic '{node['id']}': scope must be city or country")
        return False
    return True


def _capacity_ok(rep: Any, node: LineDict) -> bool:
    capacity = node["capacity"]
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        rep.error(node.line_of("capacity"), f"availability '{node['id']}': capacity is a number")
        return False
    if not 1 <= capacity <= MAX_CAPACITY:
        rep.error(
            node.line_of("capacity"),
            f"availability '{node['id']}': capacity must be 1 to {MAX_CAPACITY}",
        )
        return False
    return True
