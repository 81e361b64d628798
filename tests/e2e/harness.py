"""`softlanding run` as a child process against the local Bot API server, driven turn by turn.

A turn is one thing a person does (a message, a button press); it is over when the bot has
processed the update (it asked Telegram for the updates after it, which the journalled polling
does only once the batch is handled), and its result is what the bot sent or edited meanwhile
in the chat that is looked at.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.core.assistant import Assistant
from bot.core.knowledge_holder import KnowledgeHolder
from bot.storage import Profile, Store, open_database
from tests.conftest import NOW
from tests.fake_bot_api import FakeBotAPI, Json, TelegramGroup, TelegramUser, bot_env, start_bot

TURN_TIMEOUT = 30.0  # seconds; generous for a loaded 2-core CI machine


class RunningBot:
    """One `softlanding run` with its own database, clock file (SOFTLANDING_CLOCK_FILE) and
    log, in `folder`; extra keyword arguments are environment variables."""

    def __init__(
        self,
        api: FakeBotAPI,
        folder: Path,
        *args: str,
        now: dt.datetime = NOW,
        **env: str,
    ) -> None:
        self.api = api
        self.folder = folder
        self.db = folder / "bot.db"
        self.clock_file = folder / "clock.txt"
        self.log = folder / "bot.log"
        self.args = args
        self.set_clock(now)
        self.env = bot_env(
            api,
            self.db,
            SOFTLANDING_CLOCK_FILE=str(self.clock_file),
            LOG_LEVEL="INFO",
            **env,
        )
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> RunningBot:
        self.process = start_bot(self.env, self.folder, *self.args, log=self.log)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def terminate(self) -> None:
        """Ask the bot to stop (SIGTERM, as a supervisor does) without waiting for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> int | None:
        """Stop the bot (SIGTERM, then wait); the exit code."""
        if self.process is None:
            return None
        self.terminate()
        if self.process.poll() is None:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def set_clock(self, when: dt.datetime) -> None:
        """Move the bot's time (the file is replaced whole, never read half-written)."""
        draft = self.clock_file.with_suffix(".new")
        draft.write_text(when.isoformat(), encoding="utf-8")
        os.replace(draft, self.clock_file)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Until the bot polls for updates (or has set its webhook): it has started."""
        self.wait_for(
            lambda: "getUpdates" in self.api.methods or self.api.webhook is not None,
            "the bot starting",
            timeout,
        )

    def wait_processed(self, update_id: int) -> None:
        try:
            self.api.wait_confirmed(update_id, TURN_TIMEOUT)
        except AssertionError:
            code = self.process.poll() if self.process else None
            raise AssertionError(
                f"the bot did not process update {update_id} (exit code {code}); "
                f"its log ends:\n{self.log_tail()}"
            ) from None

    def wait_for(self, check: Callable[[], Any], what: str, timeout: float = TURN_TIMEOUT) -> Any:
        """`check()` once true; fails with `what` and the bot's log."""
        try:
            return self.api.wait_until(check, timeout)
        except AssertionError:
            raise AssertionError(f"never happened: {what}; log:\n{self.log_tail()}") from None

    def turn(self, chat_id: int, act: Callable[[], int]) -> list[Json]:
        """Do `act` (it returns the update id); what the bot sent or edited in the chat."""
        mark = self.api.mark()
        update_id = act()
        self.wait_processed(update_id)
        return self.api.activity(chat_id, mark)

    def say(self, person: TelegramUser, text: str) -> list[Json]:
        return self.turn(person.id, lambda: person.send(text))

    def press(self, person: TelegramUser, label: str) -> list[Json]:
        """Press a button in the person's chat; the press must be answered (no spinner)."""
        mark = self.api.mark()
        update_id = person.press(label)
        self.wait_processed(update_id)
        assert self.api.answer_to(update_id) is not None, f"{label!r} left a spinner"
        return self.api.activity(person.id, mark)

    def in_group(self, group: TelegramGroup, act: Callable[[], int]) -> list[Json]:
        return self.turn(group.id, act)


def text_of(messages: list[Json]) -> str:
    """What the person reads: the texts (or captions) of the messages, one after another."""
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)


def labels(messages: list[Json]) -> list[str]:
    """The labels of the inline buttons under the messages."""
    return [
        button["text"]
        for m in messages
        for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in row
    ]


def missing_buttons(messages: list[Json], *parts: str) -> list[str]:
    """The `parts` that no button label contains (labels often start with an emoji)."""
    found = labels(messages)
    return [part for part in parts if not any(part in label for label in found)]


def seed_profiles(
    database: Path, holder: KnowledgeHolder, profiles: list[Profile], *, now: dt.datetime = NOW
) -> None:
    """Store profiles (and plan their checklists) before the bot starts, as if these people
    had finished onboarding at `now`."""
    store = Store(open_database(database), clock=lambda: now)
    assistant = Assistant(holder, store, clock=lambda: now)
    for profile in profiles:
        assistant.replan(store.save_profile(profile))
    store.db.conn.close()
