"""Checklist templates: parsing and validation (unknown intents, cycles, bad conditions)."""

from __future__ import annotations

import re
from typing import Any

from bot.knowledge.model import ANY_COUNTRY, ChecklistTask
from bot.knowledge.yamlload import LineDict

# The profile fields a task may be conditioned on, and their allowed values.
CONDITIONS: dict[str, frozenset[str]] = {
    "stage": frozenset({"planning", "arrived", "leaving"}),
    "citizenship": frozenset({"eu", "other"}),
    "purpose": frozenset({"work", "study", "family", "business", "protection"}),
    "children": frozenset({"true", "false"}),
}
ANCHORS = frozenset({"arrival", "departure"})
MAX_TASK_ID = 40  # callback data "ck:untick:<id>" must stay within Telegram's 64 bytes
_TASK_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def parse_tasks(rep: Any, doc: Any, countries: set[str]) -> list[tuple[ChecklistTask, int]]:
    """Tasks of one template file with their lines; problems go to `rep` (a loader _Report)."""
    if not isinstance(doc, LineDict):
        rep.error(1, "expected a mapping with 'version', 'country' and 'tasks'")
        return []
    for key in doc:
        if key not in ("version", "country", "tasks"):
            rep.error(doc.line_of(key), f"unknown field '{key}' (allowed: version, country, tasks)")
    if doc.get("version") != 1:
        rep.error(doc.line_of("version"), "'version' must be 1")
    country = str(doc.get("country", ""))
    if country != ANY_COUNTRY and country not in countries:
        rep.error(doc.line_of("country"), f"unknown country '{country}'")
    tasks = doc.get("tasks")
    if not isinstance(tasks, list):
        rep.error(doc.line_of("tasks"), "'tasks' must be a list")
        return []
    out = []
    for node in tasks:
        task = _parse_task(rep, node, country)
        if task is not None:
            out.append((task, node.line))
    return out


def _texts(rep: Any, node: Any, line: int, what: str) -> dict[str, str]:
    if not isinstance(node, dict) or not isinstance(node.get("en"), str):
        rep.error(line, f"{what}: needs texts per language, at least 'en'")
        return {}
    return {str(k): str(v).strip() for k, v in node.items()}


def _parse_task(rep: Any, node: Any, country: str) -> ChecklistTask | None:
    if not isinstance(node, LineDict):
        rep.error(getattr(node, "line", 0), "a task must be a mapping")
        return None
    task_id = str(node.get("id", ""))
    what = f"task '{task_id}'"
    allowed = {"id", "intent", "title", "description", "due", "from", "after", "when"}
    for key in node:
        if key not in allowed:
            rep.error(node.line_of(key), f"{what}: unknown field '{key}'")
    for key in ("id", "title", "due"):
        if key not in node:
            rep.error(node.line, f"{what}: missing field '{key}'")
            return None
    if not _TASK_ID.match(task_id) or len(task_id) > MAX_TASK_ID:
        rep.error(
            node.line_of("id"),
            f"{what}: id must be lower-case words joined by '-', at most {MAX_TASK_ID} characters",
        )
    if not isinstance(node["due"], int) or isinstance(node["due"], bool):
        rep.error(node.line_of("due"), f"{what}: 'due' must be a whole number of days")
        return None
    anchor = str(node.get("from", "arrival"))
    if anchor not in ANCHORS:
        rep.error(node.line_of("from"), f"{what}: 'from' must be arrival or departure")
    after = node.get("after") or []
    if not isinstance(after, list):
        rep.error(node.line_of("after"), f"{what}: 'after' must be a list of task ids")
        after = []
    return ChecklistTask(
        id=task_id,
        country=country,
        intent=str(node["intent"]) if node.get("intent") else None,
        titles=_texts(rep, node["title"], node.line_of("title"), f"{what} title"),
        descriptions=_texts(
            rep,
            node.get("description") or {"en": ""},
            node.line_of("description"),
            f"{what} description",
        ),
        due=node["due"],
        anchor=anchor,
        after=tuple(str(a) for a in after),
        when=_parse_when(rep, node.get("when"), node.line_of("when"), what),
    )


def _parse_when(rep: Any, node: Any, line: int, what: str) -> dict[str, tuple[str, ...]]:
    if node is None:
        return {}
    if not isinstance(node, dict):
        rep.error(line, f"{what}: 'when' must map profile fields to values")
        return {}
    out = {}
    for field, value in node.items():
        if field not in CONDITIONS:
            rep.error(
                line,
                f"{what}: condition on unknown profile field '{field}' "
                f"(known: {', '.join(CONDITIONS)})",
            )
            continue
        values = value if isinstance(value, list) else [value]
        normal = tuple(str(v).lower() for v in values)
        for v in normal:
            if v not in CONDITIONS[field]:
                rep.error(
                    line,
                    f"{what}: '{v}' is not a value of '{field}' "
                    f"({', '.join(sorted(CONDITIONS[field]))})",
                )
        out[field] = normal
    return out


def check_task_refs(
    rep: Any,
    tasks: dict[str, ChecklistTask],
    lines: dict[str, tuple[str, int]],
    intents: set[str] | None,
) -> None:
    """Unknown intents and prerequisites, prerequisites across countries, and cycles."""
    for task in tasks.values():
        rep.path, line = lines[task.id]
        if task.intent and intents is not None and task.intent not in intents:
            rep.error(line, f"task '{task.id}': unknown intent '{task.intent}'")
        for prerequisite in task.after:
            other = tasks.get(prerequisite)
            if other is None:
                rep.error(line, f"task '{task.id}': unknown prerequisite '{prerequisite}'")
            elif other.country not in (task.country, ANY_COUNTRY):
                rep.error(
                    line,
                    f"task '{task.id}': prerequisite '{prerequisite}' is for "
                    f"{other.country}, not {task.country}",
                )
    for cycle in _cycles(tasks):
        rep.path, line = lines[cycle[0]]
        rep.error(line, "prerequisites form a cycle: " + " -> ".join([*cycle, cycle[0]]))


def _cycles(tasks: dict[str, ChecklistTask]) -> list[list[str]]:
    """One representative path per cycle in the `after` graph (iterative DFS)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    found: list[list[str]] = []
    for root in sorted(tasks):
        if state.get(root):
            continue
        path: list[str] = []
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            node, index = stack.pop()
            if index == 0:
                state[node] = 1
                path.append(node)
            children = [c for c in tasks[node].after if c in tasks]
            if index < len(children):
                stack.append((node, index + 1))
                child = children[index]
                if state.get(child) == 1:
                    found.append(path[path.index(child) :])
                elif not state.get(child):
                    stack.append((child, 0))
            else:
                state[node] = 2
                path.pop()
    return found
