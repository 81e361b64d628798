"""Replaying conversation transcripts (conversations/*.yaml) through the core.

The format is documented in conversations/README.md. A transcript is a list of turns; each
turn is what the user does (`user` text or /command, or `press` a button by its label) and
what must be true of the bot's replies (`expect`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core.assistant import Assistant
from bot.core.replies import Button, Incoming, Reply
from bot.storage import Profile

EXPECT_KEYS = {"contains", "not_contains", "buttons", "no_buttons", "intent", "outcome", "group"}
OUTCOMES = {"answer", "suggest", "unknown", "chosen", "smalltalk", "none"}
USER_ID = 4242
PROVIDER_ID = 9090
GROUP = -100777  # the provider group of every team during replays


@dataclass
class Transcript:
    path: Path
    description: str
    turns: list[dict[str, Any]]
    profile: dict[str, Any] = field(default_factory=dict)
    language_code: str | None = None

    @property
    def intents(self) -> set[str]:
        return {t["expect"]["intent"] for t in self.turns if "intent" in t.get("expect", {})}


def load_transcript(path: Path) -> Transcript:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data.get("version") == 1, f"{path}: version must be 1"
    unknown = set(data) - {"version", "description", "profile", "language_code", "turns"}
    assert not unknown, f"{path}: unknown fields {unknown}"
    for index, turn in enumerate(data["turns"]):
        kinds = [k for k in ("user", "press", "provider", "provider_press") if k in turn]
        assert len(kinds) == 1, f"{path} turn {index}: one of user, press, provider, provider_press"
        assert set(turn.get("expect", {})) <= EXPECT_KEYS, f"{path} turn {index}: bad expect"
        outcome = turn.get("expect", {}).get("outcome")
        assert outcome in OUTCOMES | {None}, f"{path} turn {index}: bad outcome {outcome}"
    return Transcript(
        path,
        data.get("description", ""),
        data["turns"],
        data.get("profile") or {},
        data.get("language_code"),
    )


class FakeTelegram:
    """What the adapter does with tagged replies: give them message ids and report back."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.next_id = 1000
        self.posts: dict[int, int] = {}

    def deliver(self, replies: list[Reply]) -> list[Reply]:
        out = []
        for reply in replies:
            self.next_id += 1
            out.append(reply)
            if reply.tag:
                if reply.tag.startswith("tpost:"):
                    self.posts[int(reply.tag.split(":")[1])] = self.next_id
                follow = self.assistant.escalation.sent(
                    reply.tag, reply.chat_id or 0, self.next_id, None
                )
                out += self.deliver(follow)
        return out


def _provider_incoming(turn: dict[str, Any], buttons: list[Button], fake: FakeTelegram) -> Incoming:
    fake.next_id += 1
    if "provider_press" in turn:
        label = str(turn["provider_press"])
        data = next(b.data for b in buttons if label in b.label)
        return Incoming(PROVIDER_ID, "button", data, chat_id=GROUP, sender_name="Provider Pia")
    ticket = int(turn.get("ticket", 1))
    return Incoming(
        PROVIDER_ID,
        "text",
        str(turn["provider"]),
        chat_id=GROUP,
        message_id=fake.next_id,
        reply_to=fake.posts.get(ticket),
        sender_name="Provider Pia",
        source_key=f"m:{GROUP}:{fake.next_id}",
    )


def _incoming(turn: dict[str, Any], buttons: list[Button], language_code: str | None) -> Incoming:
    if "press" in turn:
        label = str(turn["press"])
        matching = [b for b in buttons if b.label == label or label in b.label]
        assert matching, f"no button {label!r} among {[b.label for b in buttons]}"
        return Incoming(USER_ID, "button", matching[0].data, language_code=language_code)
    text = str(turn["user"])
    if text.startswith("/"):
        name, _, args = text[1:].partition(" ")
        return Incoming(USER_ID, "command", name, args, language_code)
    return Incoming(USER_ID, "text", text, language_code=language_code)


def replay(transcript: Transcript, assistant: Assistant) -> None:
    """Run every turn; fail with the turn number and the replies when an expectation fails."""
    if transcript.profile:
        fields = dict(transcript.profile)
        for key in ("arrival_date", "departure_date"):
            if key in fields:
                fields[key] = dt.date.fromisoformat(str(fields[key]))
        profile = assistant.store.save_profile(Profile(user_id=USER_ID, **fields))
        assistant.replan(profile)  # as if onboarding had just finished
    fake = FakeTelegram(assistant)
    assistant.escalation.provider_chats = {team: GROUP for team in assistant.knowledge.teams}
    buttons: list[Button] = []
    group_buttons: list[Button] = []
    for number, turn in enumerate(transcript.turns, 1):
        asked_before = len(assistant.store.questions_of(USER_ID))
        if "provider" in turn or "provider_press" in turn:
            incoming = _provider_incoming(turn, group_buttons, fake)
        else:
            incoming = _incoming(turn, buttons, transcript.language_code)
        replies = fake.deliver(assistant.handle(incoming))
        mine = [r for r in replies if r.chat_id in (None, USER_ID)]
        group = [r for r in replies if r.chat_id == GROUP]
        buttons = [b for r in mine for row in r.buttons for b in row] or buttons
        group_buttons = [b for r in group for row in r.buttons for b in row] or group_buttons
        expect = dict(turn.get("expect", {}))
        group_expect = expect.pop("group", None)
        _check(expect, mine, assistant, asked_before, f"turn {number} {turn}")
        if group_expect is not None:
            _check(group_expect, group, assistant, asked_before, f"turn {number} (group)")


def _check(
    expect: dict[str, Any],
    replies: list[Reply],
    assistant: Assistant,
    asked_before: int,
    where: str,
) -> None:
    text = "\n".join(r.text for r in replies)
    labels = [b.label for r in replies for row in r.buttons for b in row]
    context = f"{where}\n--- replies:\n{text}\n--- buttons: {labels}"
    for fragment in expect.get("contains", []):
        assert str(fragment).lower() in text.lower(), f"missing {fragment!r}\n{context}"
    for fragment in expect.get("not_contains", []):
        assert str(fragment).lower() not in text.lower(), f"unexpected {fragment!r}\n{context}"
    for label in expect.get("buttons", []):
        assert any(str(label) in b for b in labels), f"no button {label!r}\n{context}"
    if expect.get("no_buttons"):
        assert not labels, f"unexpected buttons\n{context}"
    questions = assistant.store.questions_of(USER_ID)[asked_before:]
    outcome = expect.get("outcome")
    if outcome in ("smalltalk", "none"):
        assert not questions, f"expected no recorded question\n{context}"
    elif outcome:
        assert questions and questions[-1]["outcome"] == outcome, (
            f"outcome {questions[-1]['outcome'] if questions else None} != {outcome}\n{context}"
        )
    if "intent" in expect:
        assert questions, f"no question recorded\n{context}"
        row = questions[-1]
        got = row["intent"]
        if row["outcome"] == "suggest":
            got = None
        assert got == expect["intent"], (
            f"intent {got} ({row['outcome']}) != {expect['intent']}\n{context}"
        )
