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
    """A message to send. By default to the chat the user wrote in; `chat_id` sends it
    elsewhere (a provider group, or the user when a provider writes)."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = field(default_factory=tuple)
    document: Document | None = None
    photo: Document | None = None  # an image sent with `text` as its caption
    chat_id: int | None = None
    thread_id: int | None = None  # forum topic in the target chat
    reply_to: int | None = None  # message id in the target chat to reply to
    edit_message_id: int | None = None  # edit this message instead of sending a new one
    new_topic: str | None = None  # create a forum topic with this name and post in it
    tag: str | None = None  # the adapter reports the sent message id back with this tag
    # (fragment of `text`, URL): the adapter makes the fragment a link (e.g. tg://user?id=..)
    links: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Incoming:
    """One thing a user did: typed text, a command, a button press, or sent media."""

    user_id: int
    kind: Literal["text", "command", "button", "media", "edit"]
    text: str = ""  # message text, command name (without '/'), or callback data
    args: str = ""  # command arguments
    language_code: str | None = None  # the client's language, a hint for new users
    chat_id: int | None = None  # a group's id; None for the user's private chat
    message_id: int | None = None
    reply_to: int | None = None  # the message this one replies to (in groups)
    reply_to_text: str = ""  # that message's text, when it is one of the bot's own
    thread_id: int | None = None
    sender_name: str = ""  # shown to providers only when the user agrees
    source_key: str = ""  # stable id of the update (for idempotent processing)
    username: str = ""  # Telegram @username without '@'; shared only by consent (buddies)


def rows(buttons: list[Button], per_row: int = 2) -> tuple[tuple[Button, ...], ...]:
    """Lay buttons out in rows of `per_row`."""
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))
