"""The current knowledge and its matcher, swapped as one unit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge.loader import Problem, load_knowledge
from bot.knowledge.model import Knowledge
from bot.matching.index import MatchIndex
from bot.matching.matcher import Matcher

log = logging.getLogger(__name__)


class KnowledgeError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"{len(errors)} error(s) in the knowledge")
        self.problems = errors


@dataclass(frozen=True)
class Loaded:
    knowledge: Knowledge
    matcher: Matcher


class KnowledgeHolder:
    """Holds the last good knowledge; `reload` replaces it only when the new one is valid."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._current: Loaded | None = None

    @property
    def current(self) -> Loaded:
        if self._current is None:
            self.reload()
        assert self._current is not None
        return self._current

    def fingerprint(self) -> tuple[tuple[str, float], ...]:
        """Names and modification times of the knowledge files (to notice edits)."""
        return tuple(sorted((str(p), p.stat().st_mtime) for p in self.folder.rglob("*.yaml")))

    def reload(self) -> list[Problem]:
        """Load the folder; on errors raise KnowledgeError and keep serving the old one."""
        knowledge, problems = load_knowledge(self.folder)
        if knowledge is None:
            raise KnowledgeError(problems)
        self._current = Loaded(knowledge, Matcher(MatchIndex(knowledge)))  # one assignment
        log.info(
            "knowledge loaded: %d intents, %d services, %d countries",
            len(knowledge.intents),
            len(knowledge.services),
            len(knowledge.countries),
        )
        return problems
