"""Shared helpers for the bench scripts: labelled sets and the shipped knowledge."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DEFAULT_SET = BENCH_DIR / "sample-questions.yaml"
NOT_IN_SCOPE = ("OUT_OF_SCOPE", "SMALLTALK")
Server = TypeVar("Server")


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


def without_nagle(api: Server) -> Server:
    """Answer with TCP_NODELAY, as Telegram's servers do, on the local Bot API server.

    tests/fake_bot_api.py is the standard library's HTTP server with keep-alive: it writes the
    headers and the body of an answer in two sends, and with Nagle's algorithm on, the body
    waits for the client's delayed ACK, about 40 ms on Linux. That caps any bot at about 22
    requests a second on one connection, whatever the bot does, so the benches switch it off
    (the standard `disable_nagle_algorithm` switch of socketserver's stream handlers).
    """
    handler = getattr(getattr(api, "server", None), "RequestHandlerClass", None)
    if handler is not None:
        handler.disable_nagle_algorithm = True
    return api
