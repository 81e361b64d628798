"""Provider teams (providers.yaml) and safety signals (safety.yaml): parsing and validation."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bot.knowledge.fields import check_fields
from bot.knowledge.model import Event, Team
from bot.knowledge.yamlload import LineDict

SAFETY_KINDS = frozenset({"self-harm", "violence", "child-at-risk", "emergency"})
_ENV = re.compile(r"^[A-Z][A-Z0-9_]*$")
_TEAM_FIELDS = {
    "id",
    "name",
    "countries",
    "cities",
    "topics",
    "languages",
    "chat_id_env",
    "chat_id",
    "forum",
    "response_hours",
    "fallback",
}


def _strings(node: Any) -> tuple[str, ...]:
    return tuple(str(x) for x in node) if isinstance(node, list) else ()


def parse_teams(
    rep: Any,
    nodes: list[LineDict],
    *,
    countries: set[str],
    cities: set[str],
    topics: frozenset[str],
) -> dict[str, Team]:
    """providers.yaml: the team entries (already checked to be mappings)."""
    teams: dict[str, Team] = {}
    for node in nodes:
        what = f"team '{node.get('id', '?')}'"
        if not check_fields(rep, node, what, {"id", "name"}, _TEAM_FIELDS - {"id", "name"}):
            continue
        if not isinstance(node["name"], dict) or "en" not in node["name"]:
            rep.error(node.line_of("name"), f"{what}: 'name' needs at least 'en'")
            continue
        team = Team(
            id=str(node["id"]),
            names={str(k): str(v) for k, v in node["name"].items()},
            countries=_strings(node.get("countries")),
            cities=_strings(node.get("cities")),
            topics=_strings(node.get("topics")),
            languages=_strings(node.get("languages")) or ("en",),
            chat_id_env=str(node.get("chat_id_env") or ""),
            chat_id=node.get("chat_id") if isinstance(node.get("chat_id"), int) else None,
            forum=bool(node.get("forum", False)),
            response_hours=int(node.get("response_hours") or 48),
            fallback=bool(node.get("fallback", False)),
        )
        fields = (
            ("country", "countries", countries),
            ("city", "cities", cities),
            ("topic", "topics", topics),
        )
        for kind, field, known in fields:
            for value in getattr(team, field):
                if value not in known:
                    rep.error(
                        node.line_of(field),
                        f"{what}: unknown {kind} '{value}'",
                    )
        if team.chat_id_env and not _ENV.match(team.chat_id_env):
            rep.error(node.line_of("chat_id_env"), f"{what}: not an environment variable name")
        if team.id in teams:
            rep.error(node.line, f"{what}: duplicate id")
        teams[team.id] = team
    if sum(t.fallback for t in teams.values()) > 1:
        rep.error(nodes[0].line, "at most one team can be the fallback")
    return teams


def parse_safety(rep: Any, doc: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(doc, LineDict) or not isinstance(doc.get("signals"), dict):
        rep.error(1, "expected 'version: 1' and a mapping 'signals'")
        return {}
    signals = doc["signals"]
    out = {}
    for kind, phrases in signals.items():
        if kind not in SAFETY_KINDS:
            rep.error(
                signals.line_of(kind),
                f"unknown safety signal '{kind}' ({', '.join(sorted(SAFETY_KINDS))})",
            )
            continue
        out[str(kind)] = _strings(phrases)
    return out


def parse_events(
    rep: Any, nodes: list[LineDict], *, countries: set[str], cities: set[str]
) -> dict[str, Event]:
    """events.yaml: id, title per language, date, country, city (optional), languages, link."""
    events: dict[str, Event] = {}
    for node in nodes:
        what = f"event '{node.get('id', '?')}'"
        required = {"id", "title", "date", "country", "link"}
        if not check_fields(rep, node, what, required, {"city", "languages"}):
            continue
        if not isinstance(node["title"], dict) or "en" not in node["title"]:
            rep.error(node.line_of("title"), f"{what}: 'title' needs at least 'en'")
            continue
        if not isinstance(node["date"], dt.date):
            rep.error(node.line_of("date"), f"{what}: 'date' is not a date (YYYY-MM-DD)")
            continue
        if node["country"] not in countries:
            rep.error(node.line_of("country"), f"{what}: unknown country '{node['country']}'")
        city = node.get("city")
        if city and city not in cities:
            rep.error(node.line_of("city"), f"{what}: unknown city '{city}'")
        if not str(node["link"]).startswith(("https://", "http://")):
            rep.error(node.line_of("link"), f"{what}: link is not a URL")
        events[str(node["id"])] = Event(
            id=str(node["id"]),
            titles={str(k): str(v) for k, v in node["title"].items()},
            date=node["date"],
            country=str(node["country"]),
            city=str(city) if city else None,
            languages=_strings(node.get("languages")),
            link=str(node["link"]),
        )
    return events
