"""Pathway files (knowledge/pathways/*.yaml): parsing and validation.

Every problem is reported with file, line and reason, like the rest of the knowledge: unknown
fields, texts missing a bot language, options without scores, scores for unknown dimensions,
thresholds no answer can reach, steps pointing at unknown services, intents, countries,
cities or dimensions, and a step's service that does not serve the step's country.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bot.knowledge.checklists import CONDITIONS
from bot.knowledge.fields import check_fields
from bot.knowledge.model import BOT_LANGUAGES, Country, Intent, Service
from bot.knowledge.pathway_model import (
    STEP_CONDITIONS,
    Dimension,
    Option,
    Pathway,
    Question,
    Step,
)
from bot.knowledge.yamlload import LineDict, LineList

# Ids that travel in callback data ("pw:<pathway>:a:<question>:<option>", at most 64 bytes).
MAX_SHORT_ID = 16
MAX_STEP_ID = 40
STALE_AFTER_DAYS = 365
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_URL = re.compile(r"^https://[^\s/$.?#][^\s]*$")


class _Refs:
    """What a pathway may point at, known once the rest of the knowledge is loaded."""

    def __init__(
        self,
        services: Mapping[str, Service],
        intents: Mapping[str, Intent] | None,
        countries: Mapping[str, Country],
    ) -> None:
        self.services = services
        self.intents = intents  # None: the FAQ did not load, so intents are not checked
        self.countries = countries
        self.city_country = {c.id: code for code, co in countries.items() for c in co.cities}


def load_pathways(
    rep: Any,
    folder: Path,
    load: Callable[[Path], Any],
    *,
    services: Mapping[str, Service],
    intents: Mapping[str, Intent] | None,
    countries: Mapping[str, Country],
    today: dt.date,
) -> dict[str, Pathway]:
    """Every pathway file of `folder` (one pathway per file), problems reported to `rep`."""
    refs = _Refs(services, intents, countries)
    found: dict[str, Pathway] = {}
    files = sorted(p for p in folder.glob("*.yaml") if p.is_file()) if folder.is_dir() else []
    for path in files:
        doc = load(path)
        if doc is None:
            continue
        pathway = _parse_file(rep, doc, refs, today)
        if pathway is None:
            continue
        if pathway.id in found:
            rep.error(
                1, f"pathway '{pathway.id}': duplicate id (also {found[pathway.id].source_file})"
            )
            continue
        found[pathway.id] = pathway
    return found


def _parse_file(rep: Any, doc: Any, refs: _Refs, today: dt.date) -> Pathway | None:
    if not isinstance(doc, LineDict):
        rep.error(1, "expected a mapping with 'version' and 'pathway'")
        return None
    if not check_fields(rep, doc, "pathway file", {"version", "pathway"}):
        return None
    if doc["version"] != 1:
        rep.error(doc.line_of("version"), "'version' must be 1")
    node = doc["pathway"]
    if not isinstance(node, LineDict):
        rep.error(doc.line_of("pathway"), "'pathway' must be a mapping")
        return None
    what = f"pathway '{node.get('id', '?')}'"
    optional = {"intro", "dimensions", "questions"}
    if not check_fields(rep, node, what, {"id", "title", "steps"}, optional):
        return None
    _check_id(rep, node, what, MAX_SHORT_ID)
    dimensions = _parse_dimensions(rep, node, what)
    questions = _parse_questions(rep, node, what, {d.id for d in dimensions})
    _check_thresholds(rep, node, dimensions, questions)
    steps = _parse_steps(rep, node, what, refs, {d.id for d in dimensions}, today)
    return Pathway(
        id=str(node["id"]),
        titles=_texts(rep, node["title"], node.line_of("title"), f"{what} title"),
        intros=_texts(rep, node["intro"], node.line_of("intro"), f"{what} intro")
        if "intro" in node
        else {},
        dimensions=tuple(dimensions),
        questions=tuple(questions),
        steps=tuple(steps),
        source_file=rep.path,
    )


# --- small checks -----------------------------------------------------------------------------


def _texts(rep: Any, node: Any, line: int, what: str) -> dict[str, str]:
    """Texts per language: every bot language is required (users read them as they are)."""
    if not isinstance(node, dict):
        rep.error(line, f"{what}: expected texts per language ({', '.join(BOT_LANGUAGES)})")
        return {}
    out: dict[str, str] = {}
    for lang, text in node.items():
        text_line = node.line_of(lang) if isinstance(node, LineDict) else line
        if lang not in BOT_LANGUAGES:
            rep.error(text_line, f"{what}: '{lang}' is not a bot language")
        elif not isinstance(text, str) or not text.strip():
            rep.error(text_line, f"{what}: text for '{lang}' is empty")
        else:
            out[lang] = text.strip()
    for lang in BOT_LANGUAGES:
        if lang not in node:
            rep.error(line, f"{what}: no '{lang}' text")
    return out


def _check_id(rep: Any, node: LineDict, what: str, longest: int) -> None:
    value = str(node.get("id", ""))
    if not _ID.match(value) or len(value) > longest:
        rep.error(
            node.line_of("id"),
            f"{what}: id must be lower-case words joined by '-', at most {longest} characters",
        )


def _list(rep: Any, node: LineDict, key: str, what: str) -> list[Any]:
    value = node.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        rep.error(node.line_of(key), f"{what}: '{key}' must be a list")
        return []
    return list(value)


def _mappings(rep: Any, node: LineDict, key: str, what: str) -> list[LineDict]:
    items = node.get(key)
    if items is None:
        return []
    if not isinstance(items, LineList):
        rep.error(node.line_of(key), f"{what}: '{key}' must be a list")
        return []
    good = []
    for index, item in enumerate(items):
        if isinstance(item, LineDict):
            good.append(item)
        else:
            rep.error(items.line_of(index), f"{what}: {key}[{index}] must be a mapping")
    return good


def _int(rep: Any, node: LineDict, key: str, what: str) -> int | None:
    value = node.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        rep.error(node.line_of(key), f"{what}: '{key}' must be a whole number")
        return None
    return value


# --- dimensions and questions -------------------------------------------------------------------


def _parse_dimensions(rep: Any, node: LineDict, what: str) -> list[Dimension]:
    out: list[Dimension] = []
    required = {"id", "name", "gap_at_most", "strength_at_least", "gap", "strength"}
    for item in _mappings(rep, node, "dimensions", what):
        dim_what = f"dimension '{item.get('id', '?')}'"
        if not check_fields(rep, item, dim_what, required):
            continue
        _check_id(rep, item, dim_what, MAX_SHORT_ID)
        gap_at = _int(rep, item, "gap_at_most", dim_what)
        strong_at = _int(rep, item, "strength_at_least", dim_what)
        if gap_at is None or strong_at is None:
            continue
        if gap_at >= strong_at:
            rep.error(
                item.line_of("strength_at_least"),
                f"{dim_what}: 'strength_at_least' must be above 'gap_at_most'",
            )
        if any(d.id == item["id"] for d in out):
            rep.error(item.line, f"{dim_what}: duplicate id")
            continue
        out.append(
            Dimension(
                id=str(item["id"]),
                names=_texts(rep, item["name"], item.line_of("name"), f"{dim_what} name"),
                gap_at_most=gap_at,
                strength_at_least=strong_at,
                gap_texts=_texts(rep, item["gap"], item.line_of("gap"), f"{dim_what} gap"),
                strength_texts=_texts(
                    rep, item["strength"], item.line_of("strength"), f"{dim_what} strength"
                ),
            )
        )
    return out


def _parse_questions(rep: Any, node: LineDict, what: str, dims: set[str]) -> list[Question]:
    out: list[Question] = []
    for item in _mappings(rep, node, "questions", what):
        q_what = f"question '{item.get('id', '?')}'"
        if not check_fields(rep, item, q_what, {"id", "text", "options"}):
            continue
        _check_id(rep, item, q_what, MAX_SHORT_ID)
        options = [
            _parse_option(rep, o, q_what, dims) for o in _mappings(rep, item, "options", q_what)
        ]
        options = [o for o in options if o is not None]
        if len(options) < 2:
            rep.error(item.line_of("options"), f"{q_what}: needs at least two options")
        ids = [o.id for o in options]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            rep.error(item.line_of("options"), f"{q_what}: duplicate option '{dup}'")
        if any(q.id == item["id"] for q in out):
            rep.error(item.line, f"{q_what}: duplicate id")
            continue
        out.append(
            Question(
                id=str(item["id"]),
                texts=_texts(rep, item["text"], item.line_of("text"), f"{q_what} text"),
                options=tuple(options),
            )
        )
    return out


def _parse_option(rep: Any, item: LineDict, q_what: str, dims: set[str]) -> Option | None:
    o_what = f"{q_what} option '{item.get('id', '?')}'"
    if not check_fields(rep, item, o_what, {"id", "label", "scores"}):
        return None
    _check_id(rep, item, o_what, MAX_SHORT_ID)
    scores: dict[str, int] = {}
    raw = item["scores"]
    if not isinstance(raw, LineDict) or not raw:
        rep.error(item.line_of("scores"), f"{o_what}: 'scores' must map dimensions to points")
    else:
        for dim, points in raw.items():
            if dim not in dims:
                rep.error(raw.line_of(dim), f"{o_what}: score for unknown dimension '{dim}'")
            elif not isinstance(points, int) or isinstance(points, bool):
                rep.error(raw.line_of(dim), f"{o_what}: points for '{dim}' must be a whole number")
            else:
                scores[str(dim)] = points
    return Option(
        id=str(item["id"]),
        labels=_texts(rep, item["label"], item.line_of("label"), f"{o_what} label"),
        scores=scores,
    )


def _check_thresholds(
    rep: Any, node: LineDict, dimensions: list[Dimension], questions: list[Question]
) -> None:
    """Every dimension is scored, and both its gap and its strength can be reached."""
    raw = node.get("dimensions")
    items = raw if isinstance(raw, list) else []
    lines = {d.get("id"): d.line for d in items if isinstance(d, LineDict)}
    for dim in dimensions:
        line = lines.get(dim.id, node.line)
        if not any(dim.id in o.scores for q in questions for o in q.options):
            rep.error(line, f"dimension '{dim.id}': no option scores it")
            continue
        most = sum(max(o.scores.get(dim.id, 0) for o in q.options) for q in questions)
        least = sum(min(o.scores.get(dim.id, 0) for o in q.options) for q in questions)
        if most < dim.strength_at_least:
            rep.error(
                line,
                f"dimension '{dim.id}': strength needs {dim.strength_at_least}, "
                f"but the answers give at most {most}",
            )
        if least > dim.gap_at_most:
            rep.error(
                line,
                f"dimension '{dim.id}': gap needs at most {dim.gap_at_most}, "
                f"but the answers give at least {least}",
            )


# --- steps --------------------------------------------------------------------------------------


def _parse_steps(
    rep: Any, node: LineDict, what: str, refs: _Refs, dims: set[str], today: dt.date
) -> list[Step]:
    out: list[Step] = []
    items = _mappings(rep, node, "steps", what)
    if not items:
        rep.error(node.line_of("steps"), f"{what}: needs at least one step")
    required = {"id", "title", "text", "reviewed"}
    optional = {"services", "intents", "sources", "when", "focus", "due"}
    for item in items:
        s_what = f"step '{item.get('id', '?')}'"
        if not check_fields(rep, item, s_what, required, optional):
            continue
        _check_id(rep, item, s_what, MAX_STEP_ID)
        step = Step(
            id=str(item["id"]),
            titles=_texts(rep, item["title"], item.line_of("title"), f"{s_what} title"),
            texts=_texts(rep, item["text"], item.line_of("text"), f"{s_what} text"),
            reviewed=_reviewed(rep, item, s_what, today),
            services=tuple(str(s) for s in _list(rep, item, "services", s_what)),
            intents=tuple(str(i) for i in _list(rep, item, "intents", s_what)),
            sources=tuple(str(s) for s in _list(rep, item, "sources", s_what)),
            when=_parse_when(rep, item, s_what, refs, dims),
            focus=tuple(str(f) for f in _list(rep, item, "focus", s_what)),
            due=_int(rep, item, "due", s_what) if "due" in item else None,
        )
        _check_step_refs(rep, item, step, s_what, refs, dims)
        if any(s.id == step.id for s in out):
            rep.error(item.line, f"{s_what}: duplicate id")
            continue
        out.append(step)
    return out


def _reviewed(rep: Any, item: LineDict, what: str, today: dt.date) -> dt.date:
    value = item["reviewed"]
    line = item.line_of("reviewed")
    if not isinstance(value, dt.date):
        rep.error(line, f"{what}: 'reviewed' is not a date (YYYY-MM-DD): {value!r}")
        return today
    if (today - value).days > STALE_AFTER_DAYS:
        rep.warn(line, f"{what}: reviewed {value}, over a year ago")
    if value > today:
        rep.warn(line, f"{what}: 'reviewed' date {value} is in the future")
    return value


def _parse_when(
    rep: Any, item: LineDict, what: str, refs: _Refs, dims: set[str]
) -> dict[str, tuple[str, ...]]:
    node = item.get("when")
    if node is None:
        return {}
    line = item.line_of("when")
    if not isinstance(node, LineDict):
        rep.error(line, f"{what}: 'when' must map conditions to values")
        return {}
    allowed: dict[str, set[str]] = {
        "country": set(refs.countries),
        "city": set(refs.city_country),
        "gap": dims,
        **{field: set(values) for field, values in CONDITIONS.items() if field != "children"},
    }
    out: dict[str, tuple[str, ...]] = {}
    for field, value in node.items():
        if field not in STEP_CONDITIONS:
            rep.error(
                node.line_of(field),
                f"{what}: unknown condition '{field}' (known: {', '.join(STEP_CONDITIONS)})",
            )
            continue
        values = tuple(str(v) for v in (value if isinstance(value, list) else [value]))
        for v in values:
            if v not in allowed[field]:
                rep.error(node.line_of(field), f"{what}: unknown {field} '{v}'")
        out[field] = values
    cities = out.get("city", ())
    countries = out.get("country", ())
    for city in cities:
        country = refs.city_country.get(city)
        if countries and country and country not in countries:
            rep.error(node.line_of("city"), f"{what}: city '{city}' is not in {list(countries)}")
    return out


def _check_step_refs(
    rep: Any, item: LineDict, step: Step, what: str, refs: _Refs, dims: set[str]
) -> None:
    if not step.services and not step.sources:
        rep.error(item.line, f"{what}: needs 'services' or 'sources' (where the facts come from)")
    countries = step.when.get("country", ())
    cities = step.when.get("city", ())
    for sid in step.services:
        service = refs.services.get(sid)
        line = item.line_of("services")
        if service is None:
            rep.error(line, f"{what}: unknown service '{sid}'")
        elif countries and not set(countries) & set(service.countries):
            rep.error(line, f"{what}: service '{sid}' is not in {list(countries)}")
        elif cities and service.cities and not set(cities) & set(service.cities):
            rep.error(line, f"{what}: service '{sid}' is not in {list(cities)}")
    if refs.intents is not None:
        for intent in step.intents:
            if intent not in refs.intents:
                rep.error(item.line_of("intents"), f"{what}: unknown intent '{intent}'")
    for dim in step.focus:
        if dim not in dims:
            rep.error(item.line_of("focus"), f"{what}: unknown dimension '{dim}' in 'focus'")
    for url in step.sources:
        if not _URL.match(url):
            rep.error(item.line_of("sources"), f"{what}: source '{url}' is not an https URL")
