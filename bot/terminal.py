"""The terminal chat: the same core as Telegram, buttons shown numbered.

For demos one person can play both sides: `/as provider` turns the terminal into a member of
the provider group (`/open` lists tickets, `/reply 12 text` answers ticket 12, numbers press the
group's buttons); `/as user` switches back.
"""

from __future__ import annotations

import itertools
import sys
import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import TextIO

from bot.core.assistant import Assistant
from bot.core.replies import Button, Incoming, Reply

TERMINAL_USER_ID = 1
TERMINAL_PROVIDER_ID = 2
TERMINAL_GROUP = -1000000000001  # the provider group of the offline demo


class Terminal:
    """Prints replies, numbers buttons, and plays the Telegram side for tagged messages."""

    def __init__(
        self, assistant: Assistant, out: TextIO, user_id: int, *, username: str = ""
    ) -> None:
        self.assistant = assistant
        self.out = out
        self.user_id = user_id
        self.username = username  # the "Telegram username" a buddy gets after both accept
        self.mode = "user"
        self.buttons: list[Button] = []
        self._ids = itertools.count(1)
        self._posts: dict[int, int] = {}  # ticket id -> its post's message id in the group

    def show(self, replies: Iterable[Reply], *, chat_id: int | None = None) -> None:
        numbered: list[Button] = []
        for reply in replies:
            target = reply.chat_id if reply.chat_id is not None else chat_id
            mine = target == self._my_chat() or target is None
            if not mine:
                who = "the provider group" if target == TERMINAL_GROUP else f"user {target}"
                print(f"── to {who} ──", file=self.out)
            print(reply.text, file=self.out)
            for fragment, url in reply.links:  # Telegram shows these as links
                print(f"   ({fragment}: {url})", file=self.out)
            if reply.document is not None:
                print(reply.document.content.decode("utf-8"), file=self.out)
            if reply.photo is not None:
                print(
                    f"(a chart: {len(reply.photo.content)} bytes of PNG; "
                    "`softlanding stats --chart FILE` saves it)",
                    file=self.out,
                )
            for row in reply.buttons:
                labels = []
                for button in row:
                    if mine:
                        numbered.append(button)
                        labels.append(f"[{len(numbered)}] {button.label}")
                    else:
                        labels.append(f"[{button.label}]")
                print("   ".join(labels), file=self.out)
            print(file=self.out)
            message_id = next(self._ids)
            if reply.tag:
                self.show(
                    self.assistant.sent(reply.tag, target or 0, message_id, None),
                    chat_id=target,
                )
                if reply.tag.startswith("tpost:"):
                    self._posts[int(reply.tag.split(":")[1])] = message_id
        if numbered:
            self.buttons = numbered

    def _my_chat(self) -> int:
        return TERMINAL_GROUP if self.mode == "provider" else self.user_id

    def line(self, raw: str) -> None:
        stripped = raw.strip()
        if stripped in ("/as provider", "/as user"):
            self.mode = stripped.split()[1]
            print(f"(you are now the {self.mode})\n", file=self.out)
            if self.mode == "provider":
                self.show(self.assistant.handle(self._group("command", "open")))
            return
        if self.mode == "provider":
            self.show(self.assistant.handle(self._provider_input(stripped)), chat_id=TERMINAL_GROUP)
            return
        self.show(
            self.assistant.handle(
                to_incoming(raw, self.buttons, self.user_id, username=self.username)
            ),
            chat_id=self.user_id,
        )

    def _group(self, kind: str, text: str, **fields: object) -> Incoming:
        return Incoming(
            TERMINAL_PROVIDER_ID,
            kind,
            text,
            chat_id=TERMINAL_GROUP,
            sender_name="Demo provider",
            message_id=next(self._ids),
            **fields,
        )

    def _provider_input(self, stripped: str) -> Incoming:
        if stripped.isdigit() and 1 <= int(stripped) <= len(self.buttons):
            return self._group("button", self.buttons[int(stripped) - 1].data)
        if stripped.startswith("/reply "):
            _, raw_id, *words = stripped.split(" ")
            if raw_id.lstrip("#").isdigit():
                post = self._posts.get(int(raw_id.lstrip("#")))
                post = post or self._post_of(int(raw_id.lstrip("#")))
                return self._group("text", " ".join(words), reply_to=post)
        if stripped.startswith("/"):
            return self._group("command", stripped[1:].split()[0])
        return self._group("text", stripped)

    def _post_of(self, ticket_id: int) -> int | None:
        ticket = self.assistant.escalation.tickets.get(ticket_id)
        return ticket["post_message_id"] if ticket else None


def to_incoming(line: str, buttons: list[Button], user_id: int, *, username: str = "") -> Incoming:
    """A typed line as the core sees it: a command, a button number, or text."""
    stripped = line.strip()
    if stripped.isdigit() and 1 <= int(stripped) <= len(buttons):
        return Incoming(
            user_id,
            "button",
            buttons[int(stripped) - 1].data,
            source_key=f"terminal:{uuid.uuid4().hex}",  # each press is a new "update"
            username=username,
        )
    if stripped.startswith("/") and len(stripped) > 1:
        name, _, args = stripped[1:].partition(" ")
        return Incoming(user_id, "command", name.split("@")[0], args.strip(), username=username)
    return Incoming(user_id, "text", line, username=username)


def run_chat(
    assistant: Assistant,
    *,
    country: str | None = None,
    lang: str | None = None,
    user_id: int = TERMINAL_USER_ID,
    username: str = "",
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> int:
    """Chat until end of input. --country/--lang set the profile and skip onboarding."""
    profile = assistant.profile_of(user_id, lang)
    interactive = stdin.isatty()
    terminal = Terminal(assistant, stdout, user_id, username=username)
    if country or lang:
        changes: dict[str, object] = {"onboarding_step": None, "editing": False}
        if country:
            changes |= {"country": country.upper()}
            if profile.country != country.upper():
                changes |= {"city": None}
        if lang:
            changes |= {"lang": lang}
        updated = assistant.store.save_profile(replace(profile, **changes))
        if updated.country != profile.country:
            assistant.replan(updated)
    elif profile.onboarding_step is None and profile.country is None:
        terminal.show(assistant.handle(Incoming(user_id, "command", "start")))
    if interactive:
        # Like opening the app: today's checklist reminder, if something is due.
        terminal.show(reply for _, _, reply in assistant.due_digests(assistant.clock()))
        print(
            "(type a question, a button number, /help, /as provider, or Ctrl-D to quit)\n",
            file=stdout,
        )
    while True:
        if interactive:
            print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            break
        if line.strip():
            terminal.line(line.rstrip("\n"))
    return 0
