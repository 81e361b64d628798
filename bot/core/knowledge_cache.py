"""A file cache of the loaded, validated and indexed knowledge, so that a restart skips the work.

Parsing and validating the YAML and building the match index take about 0.4 s of a 1 s
start; reading them back from this cache takes about 0.04 s. The cache is keyed by a hash of
everything the result depends on: the name and content of every file in the knowledge folder,
today's date (stale-review warnings depend on it), the bot's own source code, the Python
version, the YAML parser and the stemmers' output. Any change is a miss: a fresh load, whose
result replaces the cache file. A missing, unreadable, corrupt or foreign file is a miss too,
never an error. Only knowledge without errors is cached.

The file is a Python pickle, read only after its key and a SHA-256 of its content match; like
the database beside it, it must be writable only by the bot's user.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import os
import pickle
import sys
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO

import snowballstemmer
import yaml

from bot.knowledge.loader import Problem
from bot.knowledge.model import Knowledge
from bot.matching.index import MatchIndex

log = logging.getLogger(__name__)
MAGIC = b"softlanding-knowledge-cache 1\n"
PACKAGE = Path(__file__).resolve().parent.parent  # bot/
# Stemmed on every key: another stemmer version that stems differently gives another key.
STEM_PROBES = {
    "english": ("registering", "accounts", "insurance", "residence", "kelan"),
    "russian": ("квартиру", "получить", "регистрация", "страховки", "личный"),
    "arabic": ("الحساب", "المصرفي", "الإقامة"),
}

Cached = tuple[Knowledge, list[Problem], MatchIndex]


def cache_key(folder: Path, today: dt.date | None = None) -> str:
    """A hash of everything a fresh load of `folder` depends on."""
    digest = hashlib.sha256(MAGIC)
    for part in _environment(today or dt.date.today()):
        digest.update(part.encode() + b"\0")
    for root, label in ((folder, "knowledge"), (PACKAGE, "code")):
        for path in _files(root, label):
            digest.update(f"{label}:{path.relative_to(root).as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _environment(today: dt.date) -> list[str]:
    stems = [
        snowballstemmer.stemmer(language).stemWord(word)
        for language, words in STEM_PROBES.items()
        for word in words
    ]
    libyaml = getattr(yaml, "__with_libyaml__", False)
    return [today.isoformat(), sys.version, f"yaml {yaml.__version__} {libyaml}", *stems]


def _files(root: Path, label: str) -> list[Path]:
    """Every file that can change the result: all of the knowledge, the package's .py files."""
    pattern = "*.py" if label == "code" else "*"
    return sorted(p for p in root.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts)


def read(path: Path, key: str) -> Cached | None:
    """The cached knowledge for `key`, or None (missing, another key, corrupt)."""
    try:
        with path.open("rb") as handle:
            stored_key, checksum = _header(handle)
            payload = handle.read()
    except OSError:
        return None
    if stored_key != key:
        return None
    if checksum != hashlib.sha256(payload).hexdigest():
        log.warning("knowledge cache %s is damaged; loading the files instead", path)
        return None
    try:
        knowledge, problems, index = pickle.loads(payload)  # trusted: see the module docstring
    except Exception:
        log.warning("knowledge cache %s cannot be read; loading the files instead", path)
        return None
    return knowledge, problems, index


def holds(path: Path, key: str) -> bool:
    """Whether the cache file was written for `key`: its header only, without the checksum
    and unpickling that `read` does (bot/prewarm.py checks this before it builds one)."""
    try:
        with path.open("rb") as handle:
            return _header(handle)[0] == key
    except OSError:
        return False


def _header(handle: BinaryIO) -> tuple[str, str]:
    """The key and the payload's checksum at the start of a cache file ("" if it is not one)."""
    header = handle.read(len(MAGIC) + 2 * 65)
    if not header.startswith(MAGIC):
        return "", ""
    key, _, checksum = header[len(MAGIC) :].decode("ascii", "replace").partition("\n")
    return key, checksum.strip()


def write(path: Path, key: str, cached: Cached) -> None:
    """Replace the cache file atomically (a failure is logged, never raised)."""
    buffer = io.BytesIO()
    try:
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(cached)
        payload = buffer.getvalue()
        header = MAGIC + f"{key}\n{hashlib.sha256(payload).hexdigest()}\n".encode()
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(header + payload)
        os.replace(temporary, path)
    except Exception as exc:
        log.warning("knowledge cache %s not written: %s", path, exc)


def _readonly(mapping: dict[Any, Any]) -> MappingProxyType:
    return MappingProxyType(mapping)


class _Pickler(pickle.Pickler):
    """Pickles the knowledge's read-only mappings (MappingProxyType) as what they wrap."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is MappingProxyType:
            return _readonly, (dict(obj),)
        return NotImplemented
