"""What the core gives back: text plus buttons, independent of Telegram."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # callback data, at most 64 bytes (checked in tests)


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = field(default_factory=tuple)
    document: Document | None = None


@dataclass(frozen=True)
class Incoming:
    """One thing a user did: typed text, a command, a button press, or sent media."""

    user_id: int
    kind: Literal["text", "command", "button", "media"]
    text: str = ""  # message text, command name (without '/'), or callback data
    args: str = ""  # command arguments
    language_code: str | None = None  # the client's language, a hint for new users


def rows(buttons: list[Button], per_row: int = 2) -> tuple[tuple[Button, ...], ...]:
    """Lay buttons out in rows of `per_row`."""
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))
