"""The terminal chat: the same core as Telegram, buttons shown numbered."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import replace
from typing import TextIO

from bot.core.assistant import Assistant
from bot.core.replies import Button, Incoming, Reply

TERMINAL_USER_ID = 1


def print_replies(replies: Iterable[Reply], out: TextIO) -> list[Button]:
    """Print replies; return the buttons in the order they were numbered."""
    buttons: list[Button] = []
    for reply in replies:
        print(reply.text, file=out)
        if reply.document is not None:
            print(reply.document.content.decode("utf-8"), file=out)
        for row in reply.buttons:
            labels = []
            for button in row:
                buttons.append(button)
                labels.append(f"[{len(buttons)}] {button.label}")
            print("   ".join(labels), file=out)
        print(file=out)
    return buttons


def to_incoming(line: str, buttons: list[Button], user_id: int) -> Incoming:
    """A typed line as the core sees it: a command, a button number, or text."""
    stripped = line.strip()
    if stripped.isdigit() and 1 <= int(stripped) <= len(buttons):
        return Incoming(user_id, "button", buttons[int(stripped) - 1].data)
    if stripped.startswith("/") and len(stripped) > 1:
        name, _, args = stripped[1:].partition(" ")
        return Incoming(user_id, "command", name.split("@")[0], args.strip())
    return Incoming(user_id, "text", line)


def run_chat(
    assistant: Assistant,
    *,
    country: str | None = None,
    lang: str | None = None,
    user_id: int = TERMINAL_USER_ID,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> int:
    """Chat until end of input. --country/--lang set the profile and skip onboarding."""
    profile = assistant.profile_of(user_id, lang)
    interactive = stdin.isatty()
    buttons: list[Button] = []
    if country or lang:
        changes = {"onboarding_step": None, "editing": False}
        if country:
            changes |= {"country": country.upper()}
            if profile.country != country.upper():
                changes |= {"city": None}
        if lang:
            changes |= {"lang": lang}
        profile = assistant.store.save_profile(replace(profile, **changes))
    elif profile.onboarding_step is None and profile.country is None:
        buttons = print_replies(assistant.handle(Incoming(user_id, "command", "start")), stdout)
    if interactive:
        # Like opening the app: today's checklist reminder, if something is due.
        for _, _, reply in assistant.due_digests(assistant.clock()):
            buttons = print_replies([reply], stdout)
        print("(type a question, a button number, /help, or Ctrl-D to quit)\n", file=stdout)
    while True:
        if interactive:
            print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        incoming = to_incoming(line.rstrip("\n"), buttons, user_id)
        buttons = print_replies(assistant.handle(incoming), stdout) or buttons
    return 0
