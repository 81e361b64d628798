"""Faster knowledge loading gives exactly what the plain loading gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.knowledge import yamlload
from bot.knowledge.yamlload import KnowledgeFileError, LineDict, LineList, load_yaml
from tests.conftest import FIXTURE_KNOWLEDGE, ROOT, SHIPPED_KNOWLEDGE


def _with_lines(value: Any) -> Any:
    """The parsed value together with every line number it carries."""
    if isinstance(value, LineDict):
        items = tuple((k, value.line_of(k), _with_lines(v)) for k, v in value.items())
        return ("map", value.line, items)
    if isinstance(value, LineList):
        items = tuple((value.line_of(n), _with_lines(v)) for n, v in enumerate(value))
        return ("seq", value.line, items)
    return (type(value).__name__, value)


YAML_FILES = sorted(
    [
        *SHIPPED_KNOWLEDGE.rglob("*.yaml"),
        *FIXTURE_KNOWLEDGE.rglob("*.yaml"),
        *(ROOT / "conversations").glob("*.yaml"),
    ]
)


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_libyaml_parse_equals_the_pure_python_parse_with_lines(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    plain = yaml.load(text, Loader=yamlload._Loader)
    assert _with_lines(yamlload._parse(text)) == _with_lines(plain)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a: *missing\n", "found undefined alias 'missing'"),
        ("a: 1\n  b: 2\n", "mapping values are not allowed here"),
        ("topic: a\ntopic: b\n", "duplicate key 'topic' (first at line 1)"),
    ],
)
def test_broken_files_get_the_messages_of_the_pure_python_parser(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeFileError) as caught:
        load_yaml(path)
    assert reason in caught.value.reason
