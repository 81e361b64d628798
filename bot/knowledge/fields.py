"""Checks shared by every knowledge file: the file's own fields and its list of mappings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.knowledge.yamlload import LineDict, LineList

SCHEMA_VERSION = 1


def check_fields(
    rep: Any, node: LineDict, what: str, required: set[str], optional: set[str] = frozenset()
) -> bool:
    ok = True
    for key in node:
        if key not in required and key not in optional:
            allowed = ", ".join(sorted(required | set(optional)))
            rep.error(node.line_of(key), f"{what}: unknown field '{key}' (allowed: {allowed})")
    for key in sorted(required - set(node)):
        rep.error(node.line, f"{what}: missing field '{key}'")
        ok = False
    return ok


def items(rep: Any, doc: Any, key: str, path: Path) -> list[LineDict]:
    if not isinstance(doc, LineDict):
        rep.error(1, f"expected a mapping with 'version' and '{key}'")
        return []
    check_fields(rep, doc, path.name, {"version", key})
    if doc.get("version") != SCHEMA_VERSION:
        rep.error(doc.line_of("version"), f"'version' must be {SCHEMA_VERSION}")
    items = doc[key] if doc.get(key) is not None else LineList()
    if not isinstance(items, LineList):
        rep.error(doc.line_of(key), f"'{key}' must be a list")
        return []
    good = []
    for index, item in enumerate(items):
        if isinstance(item, LineDict):
            good.append(item)
        else:
            rep.error(items.line_of(index), f"{key}[{index}] must be a mapping")
    return good
