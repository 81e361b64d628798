"""The knowledge cache: used only when nothing it depends on changed, never an error."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from bot import prewarm
from bot.core import knowledge_cache
from bot.core.knowledge_holder import KnowledgeError, KnowledgeHolder
from tests.conftest import FIXTURE_KNOWLEDGE

QUESTIONS = ("how do I open a bank account?", "henkilotunnus", "can I bring my dog", "kela")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, target)
    return target


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "bot.db.knowledge-cache"


def _answers(holder: KnowledgeHolder) -> list[object]:
    return [holder.current.matcher.match(q) for q in QUESTIONS]


def _a_faq_file(folder: Path) -> Path:
    return folder / "faq" / "basics.yaml"


ORIGINAL = "how do i get a personal identity code"
EDITED = "how do i get a personal identity card"  # the same length


def _paraphrases(holder: KnowledgeHolder) -> tuple[str, ...]:
    return holder.current.knowledge.intents["personal-id-number"].paraphrases["en"]


def test_a_second_start_reads_the_cache_and_matches_the_same(folder: Path, cache: Path) -> None:
    first = KnowledgeHolder(folder, cache_file=cache)
    warnings = first.reload()
    assert not first.from_cache and cache.exists()
    second = KnowledgeHolder(folder, cache_file=cache)
    assert second.reload() == warnings
    assert second.from_cache
    assert second.current.knowledge == first.current.knowledge
    assert _answers(second) == _answers(KnowledgeHolder(folder))
    assert oct(cache.stat().st_mode & 0o777) == "0o600"


def test_a_changed_file_is_a_miss_even_with_the_same_size_and_time(
    folder: Path, cache: Path
) -> None:
    KnowledgeHolder(folder, cache_file=cache).reload()
    path = _a_faq_file(folder)
    stat = path.stat()
    text = path.read_text(encoding="utf-8")
    changed = text.replace(ORIGINAL, EDITED)
    assert len(changed) == len(text) and changed != text
    path.write_text(changed, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    holder = KnowledgeHolder(folder, cache_file=cache)
    holder.reload()
    assert not holder.from_cache and EDITED in _paraphrases(holder)


def test_an_added_file_or_another_day_or_other_code_is_a_miss(
    folder: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    KnowledgeHolder(folder, cache_file=cache).reload()
    key = knowledge_cache.cache_key(folder)
    assert knowledge_cache.cache_key(folder, dt.date.today() + dt.timedelta(days=1)) != key
    (folder / "notes.txt").write_text("a new file", encoding="utf-8")
    assert knowledge_cache.cache_key(folder) != key
    (folder / "notes.txt").unlink()
    assert knowledge_cache.cache_key(folder) == key
    monkeypatch.setattr(knowledge_cache, "PACKAGE", FIXTURE_KNOWLEDGE)  # other "code"
    assert knowledge_cache.cache_key(folder) != key


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data[:-10] + b"0123456789",  # payload changed: checksum differs
        lambda data: b"not a cache at all",
    ],
    ids=["truncated", "altered", "foreign"],
)
def test_a_damaged_cache_is_a_miss_and_is_rewritten(folder: Path, cache: Path, damage) -> None:
    KnowledgeHolder(folder, cache_file=cache).reload()
    cache.write_bytes(damage(cache.read_bytes()))
    holder = KnowledgeHolder(folder, cache_file=cache)
    holder.reload()
    assert not holder.from_cache
    assert _answers(holder) == _answers(KnowledgeHolder(folder))
    again = KnowledgeHolder(folder, cache_file=cache)
    again.reload()
    assert again.from_cache


def test_an_unwritable_cache_place_only_costs_time(folder: Path, tmp_path: Path) -> None:
    holder = KnowledgeHolder(folder, cache_file=tmp_path / "missing-folder" / "cache")
    holder.reload()
    assert _answers(holder) == _answers(KnowledgeHolder(folder))


def test_broken_knowledge_is_never_cached_and_an_old_cache_is_not_used(
    folder: Path, cache: Path
) -> None:
    KnowledgeHolder(folder, cache_file=cache).reload()
    before = cache.read_bytes()
    _a_faq_file(folder).write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeError):
        KnowledgeHolder(folder, cache_file=cache).reload()
    assert cache.read_bytes() == before


def test_reload_after_an_edit_serves_the_edit(folder: Path, cache: Path) -> None:
    holder = KnowledgeHolder(folder, cache_file=cache)
    holder.reload()
    assert ORIGINAL in _paraphrases(holder)
    path = _a_faq_file(folder)
    path.write_text(path.read_text(encoding="utf-8").replace(ORIGINAL, EDITED), encoding="utf-8")
    holder.reload()
    assert not holder.from_cache
    assert EDITED in _paraphrases(holder) and ORIGINAL not in _paraphrases(holder)
    restarted = KnowledgeHolder(folder, cache_file=cache)
    restarted.reload()
    assert restarted.from_cache and EDITED in _paraphrases(restarted)


def test_a_deferred_write_happens_on_save_and_only_for_unchanged_files(
    folder: Path, cache: Path
) -> None:
    holder = KnowledgeHolder(folder, cache_file=cache)
    holder.reload(defer_cache=True)  # what `softlanding run` does: the start is not delayed
    assert not cache.exists()
    holder.save_cache()
    restarted = KnowledgeHolder(folder, cache_file=cache)
    restarted.reload()
    assert restarted.from_cache

    cache.unlink()
    edited = KnowledgeHolder(folder, cache_file=cache)
    edited.reload(defer_cache=True)
    path = _a_faq_file(folder)  # an admin edits a file before the cache is written
    path.write_text(path.read_text(encoding="utf-8").replace(ORIGINAL, EDITED), encoding="utf-8")
    edited.save_cache()
    assert not cache.exists()  # it would describe files that no longer say that


def test_a_forked_child_warms_the_cache_that_the_start_then_reads(
    folder: Path, cache: Path
) -> None:
    pid = prewarm.start(folder, cache)
    if len(os.sched_getaffinity(0)) < 2:
        assert pid is None  # one core: nothing to gain, the parent loads the files
        return
    assert pid is not None
    prewarm.wait(pid)
    holder = KnowledgeHolder(folder, cache_file=cache)
    holder.reload()
    assert holder.from_cache
    assert _answers(holder) == _answers(KnowledgeHolder(folder))


def test_a_child_that_finds_broken_knowledge_writes_nothing_and_the_start_names_the_line(
    folder: Path, cache: Path
) -> None:
    _a_faq_file(folder).write_text("id: [unclosed\n", encoding="utf-8")
    prewarm.wait(prewarm.start(folder, cache))
    assert not cache.exists()
    with pytest.raises(KnowledgeError) as raised:
        KnowledgeHolder(folder, cache_file=cache).reload()
    assert "basics.yaml:2: error: YAML syntax" in str(raised.value.problems[0])


def test_no_child_without_a_cache_file(folder: Path) -> None:
    assert prewarm.start(folder, None) is None
