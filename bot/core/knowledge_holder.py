"""The current knowledge and its matcher, swapped as one unit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from bot.core import knowledge_cache
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
    """Holds the last good knowledge; `reload` replaces it only when the new one is valid.

    With a `cache_file`, a load whose inputs are unchanged is read from it (see
    bot/core/knowledge_cache.py); `softlanding run` keeps it beside the database.
    """

    def __init__(self, folder: Path, *, cache_file: Path | None = None) -> None:
        self.folder = folder
        self.cache_file = cache_file
        self.from_cache = False  # whether the current knowledge came from the cache
        self._current: Loaded | None = None
        self._unsaved: tuple[str, knowledge_cache.Cached] | None = None  # see save_cache

    @property
    def current(self) -> Loaded:
        if self._current is None:
            self.reload()
        assert self._current is not None
        return self._current

    def fingerprint(self) -> tuple[tuple[str, float], ...]:
        """Names and modification times of the knowledge files (to notice edits)."""
        return tuple(sorted((str(p), p.stat().st_mtime) for p in self.folder.rglob("*.yaml")))

    def reload(self, *, defer_cache: bool = False) -> list[Problem]:
        """Load the folder; on errors raise KnowledgeError and keep serving the old one.

        With `defer_cache`, a fresh load is written to the cache only by `save_cache` (the
        bot calls it once it serves: writing takes ~50 ms of a first start)."""
        knowledge, problems, index = self._cached() or self._load(defer_cache)
        self._current = Loaded(knowledge, Matcher(index))  # one assignment
        log.info(
            "knowledge loaded%s: %d intents, %d services, %d countries",
            " from the cache" if self.from_cache else "",
            len(knowledge.intents),
            len(knowledge.services),
            len(knowledge.countries),
        )
        return problems

    def _load(self, defer_cache: bool = False) -> knowledge_cache.Cached:
        """Parse, validate and index the folder (and cache the result if asked to)."""
        key = knowledge_cache.cache_key(self.folder) if self.cache_file else ""
        knowledge, problems = load_knowledge(self.folder)
        if knowledge is None:
            raise KnowledgeError(problems)
        loaded = (knowledge, problems, MatchIndex(knowledge))
        self.from_cache = False
        self._unsaved = (key, loaded) if self.cache_file else None
        if not defer_cache:
            self.save_cache()
        return loaded

    def save_cache(self) -> None:
        """Write the last fresh load to the cache file, unless a knowledge file changed since
        it was read (the key must describe the content) or it is already written."""
        unsaved, self._unsaved = self._unsaved, None
        if unsaved is None or self.cache_file is None:
            return
        key, loaded = unsaved
        if knowledge_cache.cache_key(self.folder) == key:
            knowledge_cache.write(self.cache_file, key, loaded)

    def _cached(self) -> knowledge_cache.Cached | None:
        if self.cache_file is None:
            return None
        cached = knowledge_cache.read(self.cache_file, knowledge_cache.cache_key(self.folder))
        self.from_cache = cached is not None
        return cached
