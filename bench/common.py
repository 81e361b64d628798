"""Shared helpers for the bench scripts: labelled sets and the shipped knowledge."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DEFAULT_SET = BENCH_DIR / "sample-questions.yaml"
NOT_IN_SCOPE = ("OUT_OF_SCOPE", "SMALLTALK")


@dataclass(frozen=True)
class Item:
    q: str
    lang: str
    country: str
    expect: str
    also: tuple[str, ...] = ()

    @property
    def in_scope(self) -> bool:
        return self.expect not in NOT_IN_SCOPE


def load_set(path: Path) -> list[Item]:
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    return [
        Item(
            str(r["q"]),
            str(r.get("lang", "")),
            str(r.get("country", "")),
            str(r["expect"]),
            tuple(r.get("also") or ()),
        )
        for r in raw
    ]
