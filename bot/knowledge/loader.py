"""Load the knowledge folder into an immutable `Knowledge`, reporting every problem.

Validation never stops at the first error: an admin fixing a pull request wants the whole
list, each with file, line and a plain-language reason.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.knowledge.checklists import check_task_refs, parse_tasks
from bot.knowledge.fields import check_fields as _check_fields
from bot.knowledge.fields import items as _items
from bot.knowledge.mentoring import MentoringCatalog, parse_mentoring
from bot.knowledge.model import (
    BOT_LANGUAGES,
    DEFAULT_ANSWER,
    Answer,
    ChecklistTask,
    City,
    Country,
    Event,
    Helpline,
    Intent,
    Knowledge,
    Service,
    Team,
)
from bot.knowledge.pathways import load_pathways
from bot.knowledge.providers import parse_events, parse_safety, parse_teams
from bot.knowledge.yamlload import KnowledgeFileError, LineDict, load_yaml

PHASES = frozenset({"before", "after", "leaving", "any"})
TOPICS = frozenset(
    [
        "migration",
        "registration",
        "money",
        "health",
        "safety",
        "family",
        "education",
        "housing",
        "work",
        "business",
        "community",
        "protection",
        "transport",
        "everyday",
        "leaving",
        "assistant",
    ]
)
SERVICE_KINDS = frozenset(
    [
        "migration",
        "population-register",
        "tax",
        "social-security",
        "health",
        "employment",
        "education",
        "recognition",
        "international-house",
        "information-portal",
        "business-advice",
        "business-financing",
        "business-registry",
        "language-courses",
        "legal-aid",
        "helpline",
        "ngo",
        "transport",
        "equality",
        "police",
        "municipality",
        "pension",
        "housing",
    ]
)
HELPLINE_KINDS = frozenset(
    ["medical-advice", "crisis", "violence", "poison", "child", "police", "victim-support"]
)
SMALLTALK_KINDS = frozenset({"greeting", "thanks", "about", "bye"})
STALE_AFTER_DAYS = 365
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LANG = re.compile(r"^[a-z]{2}$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")


@dataclass(frozen=True)
class Problem:
    """One validation finding; `error`s block loading, `warning`s do not."""

    path: str
    line: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


class _Report:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.path = ""

    def at(self, path: Path) -> None:
        try:
            self.path = str(path.resolve().relative_to(Path.cwd()))
        except ValueError:
            self.path = str(path)

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def warn(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message, "warning"))


def _texts(rep: _Report, node: Any, line: int, what: str, *, require_en: bool = True) -> dict:
    if not isinstance(node, dict):
        rep.error(line, f"{what}: expected a mapping of language code to text")
        return {}
    out: dict[str, str] = {}
    for lang, text in node.items():
        if not isinstance(lang, str) or not _LANG.match(lang):
            rep.error(node.line_of(lang), f"{what}: '{lang}' is not a two-letter language code")
        elif not isinstance(text, str) or not text.strip():
            rep.error(node.line_of(lang), f"{what}: text for '{lang}' is empty")
        else:
            out[lang] = text.strip()
    if require_en and "en" not in out and out is not None:
        rep.error(line, f"{what}: English ('en') text is required")
    return out


def _str_list(rep: _Report, node: Any, line: int, what: str) -> tuple[str, ...]:
    if node is None:
        return ()
    if not isinstance(node, list) or not all(isinstance(x, (str, int)) for x in node):
        rep.error(line, f"{what}: expected a list of strings")
        return ()
    return tuple(str(x).strip() for x in node if str(x).strip())


# --- countries ------------------------------------------------------------------------------


def _parse_countries(rep: _Report, doc: Any, path: Path) -> dict[str, Country]:
    countries: dict[str, Country] = {}
    for node in _items(rep, doc, "countries", path):
        code = str(node.get("code", ""))
        what = f"country '{code}'"
        required = {"code", "name", "local_name", "timezone", "emergency", "cities"}
        if not _check_fields(rep, node, what, required, {"languages", "helplines"}):
            continue
        if not re.match(r"^[A-Z]{2}$", code):
            rep.error(node.line_of("code"), f"{what}: code must be two upper-case letters")
        if code in countries:
            rep.error(node.line, f"{what}: duplicate country code")
        tz = str(node["timezone"])
        if not _valid_timezone(tz):
            rep.error(node.line_of("timezone"), f"{what}: unknown time zone '{tz}'")
        cities = tuple(_parse_city(rep, c, code) for c in node.get("cities") or [])
        helplines = tuple(_parse_helpline(rep, h, code) for h in node.get("helplines") or [])
        countries[code] = Country(
            code=code,
            names=_texts(rep, node["name"], node.line_of("name"), f"{what} name"),
            local_name=str(node["local_name"]),
            timezone=tz,
            emergency=str(node["emergency"]),
            languages=_str_list(rep, node.get("languages"), node.line_of("languages"), what),
            helplines=tuple(h for h in helplines if h),
            cities=tuple(c for c in cities if c),
        )
    return countries


def _valid_timezone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _parse_city(rep: _Report, node: Any, country: str) -> City | None:
    if not isinstance(node, LineDict):
        rep.error(getattr(node, "line", 0), f"country '{country}': a city must be a mapping")
        return None
    what = f"city '{node.get('id', '?')}'"
    if not _check_fields(rep, node, what, {"id", "name", "local_name"}, {"aliases"}):
        return None
    if not _ID.match(str(node["id"])):
        rep.error(node.line_of("id"), f"{what}: id must be lower-case letters, digits and '-'")
    return City(
        id=str(node["id"]),
        country=country,
        names=_texts(rep, node["name"], node.line_of("name"), f"{what} name"),
        local_name=str(node["local_name"]),
        aliases=_str_list(rep, node.get("aliases"), node.line_of("aliases"), what),
    )


def _parse_helpline(rep: _Report, node: Any, country: str) -> Helpline | None:
    if not isinstance(node, LineDict):
        rep.error(getattr(node, "line", 0), f"country '{country}': a helpline must be a mapping")
        return None
    what = f"helpline '{node.get('id', '?')}'"
    if not _check_fields(rep, node, what, {"id", "kind", "name", "number"}, {"website"}):
        return None
    if node["kind"] not in HELPLINE_KINDS:
        kinds = ", ".join(sorted(HELPLINE_KINDS))
        rep.error(node.line_of("kind"), f"{what}: unknown kind '{node['kind']}' ({kinds})")
    website = str(node.get("website") or "")
    if website and not _URL.match(website):
        rep.error(node.line_of("website"), f"{what}: website is not a URL")
    return Helpline(
        id=str(node["id"]),
        kind=str(node["kind"]),
        names=_texts(rep, node["name"], node.line_of("name"), f"{what} name"),
        number=str(node["number"]),
        website=website,
    )


# --- services -------------------------------------------------------------------------------


def _parse_services(rep: _Report, doc: Any, path: Path) -> list[tuple[Service, int]]:
    out = []
    required = {"id", "name", "kind", "countries", "languages", "website", "helps_with"}
    for node in _items(rep, doc, "services", path):
        what = f"service '{node.get('id', '?')}'"
        if not _check_fields(rep, node, what, required, {"cities", "local_name"}):
            continue
        if not _ID.match(str(node["id"])):
            rep.error(node.line_of("id"), f"{what}: id must be lower-case letters, digits and '-'")
        if node["kind"] not in SERVICE_KINDS:
            rep.error(node.line_of("kind"), f"{what}: unknown kind '{node['kind']}'")
        if not _URL.match(str(node["website"])):
            rep.error(node.line_of("website"), f"{what}: website is not a URL")
        service = Service(
            id=str(node["id"]),
            name=str(node["name"]),
            kind=str(node["kind"]),
            countries=_str_list(rep, node["countries"], node.line_of("countries"), what),
            cities=_str_list(rep, node.get("cities"), node.line_of("cities"), what),
            languages=_str_list(rep, node["languages"], node.line_of("languages"), what),
            website=str(node["website"]),
            helps_with=_texts(rep, node["helps_with"], node.line_of("helps_with"), what),
            local_name=str(node.get("local_name") or ""),
        )
        out.append((service, node.line))
    return out


# --- intents --------------------------------------------------------------------------------


def _parse_date(rep: _Report, value: Any, line: int, what: str) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        rep.error(line, f"{what}: 'reviewed' is not a date (YYYY-MM-DD): '{value}'")
        return None


def _parse_answer(rep: _Report, node: Any, country: str, what: str) -> Answer | None:
    if not isinstance(node, LineDict):
        rep.error(getattr(node, "line", 0), f"{what}: answer '{country}' must be a mapping")
        return None
    texts: dict[str, str] = {}
    for key in node:
        if key in ("reviewed", "sources"):
            continue
        if not isinstance(key, str) or not _LANG.match(key):
            rep.error(node.line_of(key), f"{what} answer {country}: unknown field '{key}'")
        elif not isinstance(node[key], str) or not node[key].strip():
            rep.error(node.line_of(key), f"{what} answer {country}: '{key}' text is empty")
        else:
            texts[key] = node[key].strip()
    if "en" not in texts:
        rep.error(node.line, f"{what} answer {country}: English ('en') text is required")
    if "reviewed" not in node:
        rep.error(node.line, f"{what} answer {country}: missing 'reviewed' date")
        return None
    reviewed = _parse_date(rep, node["reviewed"], node.line_of("reviewed"), what)
    sources = _str_list(rep, node.get("sources"), node.line_of("sources"), what)
    if not sources:
        rep.error(node.line, f"{what} answer {country}: at least one source URL is required")
    for src in sources:
        if not _URL.match(src):
            rep.error(node.line_of("sources"), f"{what} answer {country}: '{src}' is not a URL")
    if reviewed is None:
        return None
    return Answer(country=country, texts=texts, sources=sources, reviewed=reviewed)


def _parse_intent(rep: _Report, node: LineDict, source: str) -> Intent | None:
    what = f"intent '{node.get('id', '?')}'"
    required = {"id", "title", "topic", "phase", "paraphrases", "answers"}
    optional = {"keywords", "services", "related"}
    if not _check_fields(rep, node, what, required, optional):
        return None
    if not _ID.match(str(node["id"])):
        rep.error(node.line_of("id"), f"{what}: id must be lower-case letters, digits and '-'")
    if node["topic"] not in TOPICS:
        rep.error(node.line_of("topic"), f"{what}: unknown topic '{node['topic']}'")
    if node["phase"] not in PHASES:
        rep.error(node.line_of("phase"), f"{what}: phase must be one of {sorted(PHASES)}")
    paraphrases: dict[str, tuple[str, ...]] = {}
    para_node = node["paraphrases"]
    if not isinstance(para_node, LineDict):
        rep.error(node.line_of("paraphrases"), f"{what}: paraphrases must map language to list")
    else:
        for lang, items in para_node.items():
            if not isinstance(lang, str) or not _LANG.match(lang):
                rep.error(para_node.line_of(lang), f"{what}: '{lang}' is not a language code")
                continue
            paraphrases[lang] = _str_list(rep, items, para_node.line_of(lang), what)
    answers: dict[str, Answer] = {}
    ans_node = node["answers"]
    if not isinstance(ans_node, LineDict) or not ans_node:
        rep.error(node.line_of("answers"), f"{what}: answers must map country code to answer")
    else:
        for country, block in ans_node.items():
            answer = _parse_answer(rep, block, str(country), what)
            if answer:
                answers[str(country)] = answer
    return Intent(
        id=str(node["id"]),
        titles=_texts(rep, node["title"], node.line_of("title"), f"{what} title"),
        topic=str(node["topic"]),
        phase=str(node["phase"]),
        paraphrases=paraphrases,
        keywords=_str_list(rep, node.get("keywords"), node.line_of("keywords"), what),
        services=_str_list(rep, node.get("services"), node.line_of("services"), what),
        related=_str_list(rep, node.get("related"), node.line_of("related"), what),
        answers=answers,
        source_file=source,
    )


def _parse_smalltalk(rep: _Report, doc: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(doc, LineDict):
        rep.error(1, "expected a mapping with 'version' and 'smalltalk'")
        return {}
    _check_fields(rep, doc, "smalltalk.yaml", {"version", "smalltalk"})
    kinds = doc.get("smalltalk")
    if not isinstance(kinds, LineDict):
        rep.error(doc.line_of("smalltalk"), "'smalltalk' must map a kind to phrases")
        return {}
    out = {}
    for kind, phrases in kinds.items():
        if kind not in SMALLTALK_KINDS:
            rep.error(kinds.line_of(kind), f"unknown smalltalk kind '{kind}'")
        out[kind] = _str_list(rep, phrases, kinds.line_of(kind), f"smalltalk '{kind}'")
    return out


# --- the folder -----------------------------------------------------------------------------


def _load(rep: _Report, path: Path) -> Any:
    rep.at(path)
    try:
        return load_yaml(path)
    except KnowledgeFileError as exc:
        rep.error(exc.line, exc.reason)
        return None


def _load_optional(rep: _Report, path: Path, parse: Callable[[Any], dict]) -> dict:
    """An optional file: parsed if present and readable, else empty (problems reported)."""
    if not path.exists():
        return {}
    doc = _load(rep, path)
    return parse(doc) if doc is not None else {}


def _yaml_files(folder: Path) -> Iterable[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.is_file()) if folder.is_dir() else []


def load_knowledge(
    root: Path, *, today: dt.date | None = None
) -> tuple[Knowledge | None, list[Problem]]:
    """Load and validate `root`; the Knowledge is None when any error was found."""
    rep = _Report(root)
    today = today or dt.date.today()
    if not root.is_dir():
        rep.error(0, f"knowledge folder not found: {root}")
        return None, rep.problems

    countries: dict[str, Country] = {}
    path = root / "countries.yaml"
    doc = _load(rep, path)
    if doc is not None:
        countries = _parse_countries(rep, doc, path)
    elif path.exists() is False:
        rep.error(0, "countries.yaml is missing")

    services: dict[str, Service] = {}
    for path in _yaml_files(root / "services"):
        doc = _load(rep, path)
        for service, line in _parse_services(rep, doc, path) if doc is not None else []:
            if service.id in services:
                rep.error(line, f"service '{service.id}': duplicate id")
            services[service.id] = service
            _check_service_refs(rep, service, line, countries)

    intents: dict[str, Intent] = {}
    intent_lines: dict[str, tuple[str, int, LineDict]] = {}
    faq_unreadable = False  # then references to intents are not checked (no cascades)
    for path in _yaml_files(root / "faq"):
        doc = _load(rep, path)
        faq_unreadable |= doc is None
        for node in _items(rep, doc, "intents", path) if doc is not None else []:
            intent = _parse_intent(rep, node, rep.path)
            if intent is None:
                continue
            if intent.id in intents:
                first = intent_lines[intent.id]
                rep.error(
                    node.line, f"intent '{intent.id}': duplicate id (also {first[0]}:{first[1]})"
                )
                continue
            intents[intent.id] = intent
            intent_lines[intent.id] = (rep.path, node.line, node)

    smalltalk: dict[str, tuple[str, ...]] = {}
    path = root / "smalltalk.yaml"
    if path.exists():
        doc = _load(rep, path)
        smalltalk = _parse_smalltalk(rep, doc) if doc is not None else {}

    tasks: dict[str, ChecklistTask] = {}
    task_lines: dict[str, tuple[str, int]] = {}
    for path in _yaml_files(root / "checklists"):
        doc = _load(rep, path)
        if doc is None:
            continue
        for task, line in parse_tasks(rep, doc, set(countries)):
            if task.id in tasks:
                first = task_lines[task.id]
                rep.error(line, f"task '{task.id}': duplicate id (also {first[0]}:{first[1]})")
                continue
            tasks[task.id] = task
            task_lines[task.id] = (rep.path, line)
    check_task_refs(rep, tasks, task_lines, None if faq_unreadable else set(intents))

    city_ids = {c.id for country in countries.values() for c in country.cities}
    teams: dict[str, Team] = _load_optional(
        rep,
        root / "providers.yaml",
        lambda doc: parse_teams(
            rep,
            _items(rep, doc, "teams", root / "providers.yaml"),
            countries=set(countries),
            cities=city_ids,
            topics=TOPICS,
        ),
    )
    events: dict[str, Event] = _load_optional(
        rep,
        root / "events.yaml",
        lambda doc: parse_events(
            rep,
            _items(rep, doc, "events", root / "events.yaml"),
            countries=set(countries),
            cities=city_ids,
        ),
    )
    safety: dict[str, tuple[str, ...]] = _load_optional(
        rep, root / "safety.yaml", lambda doc: parse_safety(rep, doc)
    )
    path = root / "mentoring.yaml"  # buddies and mentors (optional)
    doc = _load(rep, path) if path.exists() else None
    mentoring = parse_mentoring(rep, doc) if doc is not None else MentoringCatalog()

    pathways = load_pathways(  # guided flows such as /business (optional folder)
        rep,
        root / "pathways",
        lambda p: _load(rep, p),
        services=services,
        intents=None if faq_unreadable else intents,
        countries=countries,
        today=today,
    )

    for intent_id, (source, _line, node) in intent_lines.items():
        rep.path = source
        _check_intent_refs(rep, intents[intent_id], node, intents, services, countries, today)
    _check_paraphrase_collisions(rep, intents, intent_lines)

    has_errors = any(p.severity == "error" for p in rep.problems)
    if has_errors:
        return None, rep.problems
    knowledge = Knowledge(
        intents,
        services,
        countries,
        smalltalk,
        tasks,
        teams,
        safety,
        events,
        mentoring=mentoring,
        pathways=pathways,
    )
    return knowledge, rep.problems


def _check_service_refs(
    rep: _Report, service: Service, line: int, countries: dict[str, Country]
) -> None:
    for code in service.countries:
        if code not in countries:
            rep.error(line, f"service '{service.id}': unknown country '{code}'")
    known_cities = {c.id for country in countries.values() for c in country.cities}
    for city in service.cities:
        if city not in known_cities:
            rep.error(line, f"service '{service.id}': unknown city '{city}'")


def _check_intent_refs(
    rep: _Report,
    intent: Intent,
    node: LineDict,
    intents: dict[str, Intent],
    services: dict[str, Service],
    countries: dict[str, Country],
    today: dt.date,
) -> None:
    what = f"intent '{intent.id}'"
    for field, known, kind in (("services", services, "service"), ("related", intents, "intent")):
        for ref in getattr(intent, field):
            if ref not in known:
                rep.error(node.line_of(field), f"{what}: reference to missing {kind} '{ref}'")
    ans_node = node["answers"]
    for code in intent.answers:
        if code != DEFAULT_ANSWER and code not in countries:
            rep.error(ans_node.line_of(code), f"{what}: answer for unknown country '{code}'")
    missing = [c for c in countries if c not in intent.answers]
    if DEFAULT_ANSWER not in intent.answers and missing:
        rep.error(node.line_of("answers"), f"{what}: no 'default' answer and none for {missing}")
    claimed = [lang for lang in BOT_LANGUAGES if intent.paraphrases.get(lang)]
    for code, answer in intent.answers.items():
        line = ans_node.line_of(code) if isinstance(ans_node, LineDict) else node.line
        for lang in claimed:
            if lang not in answer.texts:
                rep.error(
                    line,
                    f"{what}: answer {code} has no '{lang}' text, "
                    f"but the intent has '{lang}' paraphrases",
                )
        for lang in BOT_LANGUAGES:
            if lang not in claimed and lang not in answer.texts:
                rep.warn(line, f"{what}: answer {code} has no '{lang}' text (English is sent)")
        if (today - answer.reviewed).days > STALE_AFTER_DAYS:
            rep.warn(line, f"{what}: answer {code} reviewed {answer.reviewed}, over a year ago")
        if answer.reviewed > today:
            rep.warn(
                line, f"{what}: answer {code} 'reviewed' date {answer.reviewed} is in the future"
            )
    if not intent.paraphrases:
        rep.error(node.line_of("paraphrases"), f"{what}: no paraphrases")


def _check_paraphrase_collisions(
    rep: _Report, intents: dict[str, Intent], lines: dict[str, tuple[str, int, LineDict]]
) -> None:
    from bot.matching.normalize import normalize

    owner: dict[str, str] = {}
    for intent in intents.values():
        for phrases in intent.paraphrases.values():
            for phrase in phrases:
                key = normalize(phrase)
                other = owner.setdefault(key, intent.id)
                if other != intent.id:
                    rep.path = lines[intent.id][0]
                    rep.warn(
                        lines[intent.id][1],
                        f"paraphrase '{phrase}' is claimed by '{other}' and '{intent.id}'",
                    )
