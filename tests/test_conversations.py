"""Every transcript in conversations/ replayed through the core on the shipped knowledge."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.assistant import COMMANDS, Assistant
from bot.core.knowledge_holder import KnowledgeHolder
from bot.i18n import LANGUAGES, t
from bot.storage import Store, open_database
from tests.conftest import CATALOG, NOW, ROOT
from tests.transcripts import load_transcript, replay

TRANSCRIPTS = sorted((ROOT / "conversations").glob("*.yaml"))


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript(path: Path, shipped_holder: KnowledgeHolder) -> None:
    assistant = Assistant(
        shipped_holder, Store(open_database(":memory:"), clock=lambda: NOW), clock=lambda: NOW
    )
    replay(load_transcript(path), assistant)


def test_every_catalog_intent_appears_in_some_transcript() -> None:
    import yaml

    catalog = {i["id"] for i in yaml.safe_load(CATALOG.read_text())["intents"]}
    covered = set().union(*(load_transcript(p).intents for p in TRANSCRIPTS))
    assert sorted(catalog - covered) == []


def test_every_country_and_language_has_a_transcript_question() -> None:
    seen = set()
    for path in TRANSCRIPTS:
        transcript = load_transcript(path)
        lang = transcript.profile.get("lang")
        country = transcript.profile.get("country")
        if lang and country and transcript.intents:
            seen.add((country, lang))
    assert {(c, lang) for c in ("FI", "SE", "EE", "LV") for lang in LANGUAGES} <= seen


def test_every_command_is_in_help_and_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for lang in LANGUAGES:
        help_text = t(lang, "help")
        for command in COMMANDS:
            assert f"/{command}" in help_text, (lang, command)
    for command in COMMANDS:
        assert re.search(rf"`/{command}`", readme), command
