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
EXPECT_KEYS |= {"user", "volunteer", "admin"}  # what another person received in this turn
OUTCOMES = {"answer", "suggest", "unknown", "chosen", "smalltalk", "none"}
USER_ID = 4242
PROVIDER_ID = 9090
GROUP = -100777  # the provider group of every team during replays
# People a turn can act as (`as:`); the user is the default. The admin is in ADMIN_IDS.
PEOPLE = {"user": USER_ID, "volunteer": 5151, "admin": 7070}
ADMIN_ID = PEOPLE["admin"]


@dataclass
class Transcript:
    path: Path
    description: str
    turns: list[dict[str, Any]]
    profile: dict[str, Any] = field(default_factory=dict)
    language_code: str | None = None
    username: str = ""  # the user's Telegram username
    people: dict[str, dict[str, Any]] = field(default_factory=dict)  # volunteer, admin

    @property
    def intents(self) -> set[str]:
        return {t["expect"]["intent"] for t in self.turns if "intent" in t.get("expect", {})}


def load_transcript(path: Path) -> Transcript:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data.get("version") == 1, f"{path}: version must be 1"
    unknown = set(data) - {"version", "description", "profile", "language_code", "turns"}
    unknown -= {"username", "people"}
    assert set(data.get("people") or {}) <= set(PEOPLE) - {"user"}, f"{path}: bad people"
    assert not unknown, f"{path}: unknown fields {unknown}"
    for index, turn in enumerate(data["turns"]):
        kinds = [k for k in ("user", "press", "provider", "provider_press") if k in turn]
        assert len(kinds) == 1, f"{path} turn {index}: one of user, press, provider, provider_press"
        assert set(turn.get("expect", {})) <= EXPECT_KEYS, f"{path} turn {index}: bad expect"
        assert turn.get("as", "user") in PEOPLE, f"{path} turn {index}: bad 'as'"
        outcome = turn.get("expect", {}).get("outcome")
        assert outcome in OUTCOMES | {None}, f"{path} turn {index}: bad outcome {outcome}"
    return Transcript(
        path,
        data.get("description", ""),
        data["turns"],
        data.get("profile") or {},
        data.get("language_code"),
        str(data.get("username") or ""),
        data.get("people") or {},
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
                follow = self.assistant.sent(reply.tag, reply.chat_id or 0, self.next_id, None)
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


def _incoming(
    turn: dict[str, Any],
    buttons: list[Button],
    language_code: str | None,
    *,
    user_id: int = USER_ID,
    username: str = "",
) -> Incoming:
    if "press" in turn:
        label = str(turn["press"])
        matching = [b for b in buttons if b.label == label or label in b.label]
        assert matching, f"no button {label!r} among {[b.label for b in buttons]}"
        data = matching[0].data
        return Incoming(user_id, "button", data, language_code=language_code, username=username)
    text = str(turn["user"])
    if text.startswith("/"):
        name, _, args = text[1:].partition(" ")
        return Incoming(user_id, "command", name, args, language_code, username=username)
    return Incoming(user_id, "text", text, language_code=language_code, username=username)


def actor(transcript: Transcript, turn: dict[str, Any]) -> tuple[int, str]:
    """Who does this turn (`as:`, default the user): their user id and Telegram username."""
    role = turn.get("as", "user")
    if role == "user":
        return USER_ID, transcript.username
    return PEOPLE[role], str(transcript.people.get(role, {}).get("username") or "")


def _sent_to(replies: list[Reply], person: int, actor_id: int) -> list[Reply]:
    """The replies `person` receives: addressed to them, or to the chat of whoever acted."""
    return [r for r in replies if r.chat_id == person or (r.chat_id is None and person == actor_id)]


def seed_people(transcript: Transcript, assistant: Assistant) -> None:
    """Store the other people's profiles; the admin becomes an admin of the assistant."""
    for role, person in transcript.people.items():
        fields = dict(person.get("profile") or {"lang": "en"})
        assistant.store.save_profile(Profile(user_id=PEOPLE[role], **fields))
    assistant.admin_ids = assistant.admin_ids | {ADMIN_ID}


def seed_profile(transcript: Transcript, assistant: Assistant, user_id: int = USER_ID) -> None:
    """Store the transcript's profile, if it has one, as if onboarding had just finished."""
    if transcript.profile:
        fields = dict(transcript.profile)
        for key in ("arrival_date", "departure_date"):
            if key in fields:
                fields[key] = dt.date.fromisoformat(str(fields[key]))
        profile = assistant.store.save_profile(Profile(user_id=user_id, **fields))
        assistant.replan(profile)


def replay(transcript: Transcript, assistant: Assistant) -> None:
    """Run every turn; fail with the turn number and the replies when an expectation fails."""
    seed_profile(transcript, assistant)
    seed_people(transcript, assistant)
    fake = FakeTelegram(assistant)
    assistant.escalation.provider_chats = {team: GROUP for team in assistant.knowledge.teams}
    buttons: dict[int, list[Button]] = {}  # each person's last buttons
    group_buttons: list[Button] = []
    for number, turn in enumerate(transcript.turns, 1):
        asked_before = len(assistant.store.questions_of(USER_ID))
        who, username = actor(transcript, turn)
        if "provider" in turn or "provider_press" in turn:
            incoming = _provider_incoming(turn, group_buttons, fake)
        else:
            mine = buttons.get(who, [])
            lang = transcript.language_code if who == USER_ID else None
            incoming = _incoming(turn, mine, lang, user_id=who, username=username)
        replies = fake.deliver(assistant.handle(incoming))
        received = {person: _sent_to(replies, person, who) for person in PEOPLE.values()}
        group = [r for r in replies if r.chat_id == GROUP]
        for person, got in received.items():
            buttons[person] = [b for r in got for row in r.buttons for b in row] or buttons.get(
                person, []
            )
        group_buttons = [b for r in group for row in r.buttons for b in row] or group_buttons
        expect = dict(turn.get("expect", {}))
        group_expect = expect.pop("group", None)
        others = {role: expect.pop(role) for role in PEOPLE if role in expect}
        _check(expect, received[who], assistant, asked_before, f"turn {number} {turn}")
        if group_expect is not None:
            _check(group_expect, group, assistant, asked_before, f"turn {number} (group)")
        for role, other_expect in others.items():
            where = f"turn {number} (to the {role})"
            _check(other_expect, received[PEOPLE[role]], assistant, asked_before, where)


def _check(
    expect: dict[str, Any],
    replies: list[Reply],
    assistant: Assistant,
    asked_before: int,
    where: str,
) -> None:
    check_replies(expect, replies, assistant.store.questions_of(USER_ID)[asked_before:], where)


def check_replies(
    expect: dict[str, Any], replies: list[Reply], questions: list[dict[str, Any]], where: str
) -> None:
    """One turn's expectations against its replies and the questions it recorded."""
    # link targets count as text: a tg://user?id= link reveals as much as an @username
    text = "\n".join(" ".join([r.text, *(url for _, url in r.links)]) for r in replies)
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
