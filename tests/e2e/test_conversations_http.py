"""Every transcript in conversations/ replayed through the real bot process over HTTP.

The same files and expectation checks as tests/test_conversations.py (tests/transcripts.py), but
each turn is a Telegram update served by long polling to `softlanding run`, and the replies are
what the local Bot API server received: messages sent and edited in the person's chat, with
their inline buttons and text links, and messages in the provider group.

Speed: transcripts that touch only their own user's rows share one bot process, each with its
own user id, all at once (the turns of one transcript in order). A transcript that numbers
something for everyone (tickets, volunteers, matches), acts as several people or talks to
providers gets a bot process of its own, so that its "#1" is #1 and its people have the ids
it expects; which ones do is found by replaying them through the core first. Every process has
its profiles stored before it starts, the replays' clock (tests/conftest.py NOW) through
SOFTLANDING_CLOCK_FILE, every provider team in one group, and today's reminders already
claimed, so that no daily reminder lands in the middle of a conversation.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from bot.core.assistant import Assistant
from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.replies import Button, Reply
from bot.storage import Store, open_database
from tests.conftest import NOW, ROOT
from tests.e2e.harness import RunningBot
from tests.fake_bot_api import FakeBotAPI, Json, TelegramGroup, TelegramUser
from tests.transcripts import (
    ADMIN_ID,
    GROUP,
    PEOPLE,
    PROVIDER_ID,
    Transcript,
    check_replies,
    load_transcript,
    replay,
    seed_people,
    seed_profile,
)

pytestmark = pytest.mark.e2e

TRANSCRIPTS = sorted((ROOT / "conversations").glob("*.yaml"))
# What this replay knows how to drive; anything else fails the transcript with a clear message.
TURN_KEYS = {"user", "press", "provider", "provider_press", "ticket", "as", "expect"}
EXPECT_KEYS = {"contains", "not_contains", "buttons", "no_buttons", "intent", "outcome", "group"}
TRANSCRIPT_FIELDS = {"path", "description", "turns", "profile", "language_code", "username"}
TRANSCRIPT_FIELDS |= {"people"}
# Tables whose rows belong to one user: transcripts writing only these can share a process.
PER_USER_TABLES = {"_migrations", "users", "questions", "feedback", "tasks", "digests"}
SHARED_FIRST_USER = 600_000


def unsupported(transcript: Transcript) -> list[str]:
    """What in the transcript this replay cannot drive over HTTP (empty: all of it)."""
    problems = []
    for field in dataclasses.fields(transcript):
        if field.name in TRANSCRIPT_FIELDS:
            continue
        unset = (
            field.default_factory()
            if field.default_factory is not dataclasses.MISSING
            else field.default
        )
        if getattr(transcript, field.name) != unset:
            problems.append(f"the transcript field {field.name!r}")
    for number, turn in enumerate(transcript.turns, 1):
        for key in sorted(set(turn) - TURN_KEYS):
            problems.append(f"turn {number}: {key!r}")
        for key in sorted(set(turn.get("expect", {})) - EXPECT_KEYS - set(PEOPLE)):
            problems.append(f"turn {number}: expect {key!r}")
    return problems


def needs_own_bot(transcript: Transcript, holder: KnowledgeHolder) -> bool:
    """True if the transcript cannot share a bot process with others (see the docstring)."""
    turns = transcript.turns
    if transcript.people or any(
        "as" in t or "provider" in t or "provider_press" in t for t in turns
    ):
        return True
    store = Store(open_database(":memory:"), clock=lambda: NOW)
    try:
        replay(transcript, Assistant(holder, store, clock=lambda: NOW))
    except Exception:  # it fails there too; alone, its failure here is its own
        return True
    written = {name for name in store.db.table_names() if store.db[name].count}
    return not written <= PER_USER_TABLES


@dataclasses.dataclass
class Case:
    transcript: Transcript
    ids: dict[str, int]  # role -> Telegram user id in this replay


@dataclasses.dataclass
class Shard:
    """One bot process and the transcripts it serves."""

    cases: list[Case]
    api: FakeBotAPI
    bot: RunningBot
    group: TelegramGroup
    own: bool


def _store(bot: RunningBot) -> Store:
    """The bot's database, read-only, for what the transcripts expect to be recorded."""
    conn = sqlite3.connect(f"file:{bot.db}?mode=ro", uri=True, check_same_thread=False)
    return Store(sqlite_utils.Database(conn))


def _replies(messages: list[Json]) -> list[Reply]:
    """Telegram messages as the core's replies (text or caption, buttons, text links)."""
    replies = []
    for message in messages:
        text = message.get("text") or message.get("caption") or ""
        units = text.encode("utf-16-le")
        links = tuple(
            (units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le"), e["url"])
            for e in message.get("entities") or []
            if e["type"] == "text_link"
        )
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        buttons = tuple(
            tuple(Button(b["text"], b.get("callback_data", "")) for b in row) for row in rows
        )
        replies.append(Reply(text, buttons, links=links))
    return replies


def _with_buttons(messages: list[Json]) -> list[Json]:
    return [m for m in messages if (m.get("reply_markup") or {}).get("inline_keyboard")]


def replay_over_http(case: Case, shard: Shard) -> None:
    """Every turn as a Telegram update; the checks of tests/transcripts.py on what arrived."""
    store = _store(shard.bot)
    try:
        _replay(case, shard, store)
    finally:
        store.db.conn.close()


def _replay(case: Case, shard: Shard, store: Store) -> None:
    transcript, api, bot, group = case.transcript, shard.api, shard.bot, shard.group
    name = transcript.path.name
    problems = unsupported(transcript)
    assert not problems, (
        f"{name} uses what tests/e2e/test_conversations_http.py cannot drive over HTTP yet: "
        f"{', '.join(problems)}; teach it there"
    )
    people: dict[str, TelegramUser] = {}
    for role, user_id in case.ids.items():
        about = transcript.people.get(role, {}) if role != "user" else {}
        username = transcript.username if role == "user" else about.get("username")
        people[role] = api.user(
            user_id,
            first_name=role.capitalize(),
            username=username or None,
            language_code=transcript.language_code if role == "user" else None,
        )
    provider = api.user(PROVIDER_ID, first_name="Provider", last_name="Pia")
    chats = {p.id for p in people.values()} | ({group.id} if shard.own else set())
    bot.wait_ready()  # several processes may be starting on a few cores
    with_buttons: dict[str, list[Json]] = {}
    group_buttons: list[Json] = []
    for number, turn in enumerate(transcript.turns, 1):
        where = f"{name} turn {number} {turn} (over HTTP)"
        asked_before = len(store.questions_of(case.ids["user"]))
        role = str(turn.get("as", "user"))
        person = people[role]
        mark, refused_before = api.mark(), len(api.errors)
        if "provider_press" in turn:
            label = str(turn["provider_press"])
            update = group.press(provider, label, among=group_buttons)
        elif "provider" in turn:
            ticket = int(turn.get("ticket", 1))
            row = store.db.execute(
                "SELECT post_message_id FROM tickets WHERE id = ?", [ticket]
            ).fetchone()
            assert row and row[0], f"{where}: ticket {ticket} has no post in the group"
            update = group.reply(provider, row[0], str(turn["provider"]))
        elif "press" in turn:
            update = person.press(str(turn["press"]), among=with_buttons.get(role, []))
        else:
            update = person.send(str(turn["user"]))
        bot.wait_processed(update)
        received = {r: api.activity(p.id, mark) for r, p in people.items()}
        in_group = api.activity(group.id, mark)
        for r, messages in received.items():
            with_buttons[r] = _with_buttons(messages) or with_buttons.get(r, [])
        group_buttons = _with_buttons(in_group) or group_buttons
        refused = [e for e in api.errors[refused_before:] if e.get("chat_id") in chats]
        assert not refused, f"{where}: Telegram refused what the bot sent: {refused}"
        if "press" in turn or "provider_press" in turn:
            assert api.answer_to(update) is not None, f"{where}: the press left a spinner"
        questions = store.questions_of(case.ids["user"])[asked_before:]
        expect = dict(turn.get("expect", {}))
        group_expect = expect.pop("group", None)
        others = {r: expect.pop(r) for r in PEOPLE if r in expect}
        check_replies(expect, _replies(received[role]), questions, where)
        if group_expect is not None:
            check_replies(group_expect, _replies(in_group), questions, f"{where} (group)")
        for other, other_expect in others.items():
            check_replies(
                other_expect, _replies(received[other]), questions, f"{where} (to the {other})"
            )


def _seed(shard_db: Path, holder: KnowledgeHolder, cases: list[Case], own: bool) -> None:
    store = Store(open_database(shard_db), clock=lambda: NOW)
    assistant = Assistant(holder, store, clock=lambda: NOW)
    for case in cases:
        seed_profile(case.transcript, assistant, case.ids["user"])
        if own:
            seed_people(case.transcript, assistant)
        for user_id in case.ids.values():
            # NOW is the same day in every country's time zone; claimed = already sent
            store.claim_digest(user_id, NOW.date())
    store.db.conn.close()


@contextlib.contextmanager
def _shard(
    folder: Path, holder: KnowledgeHolder, cases: list[Case], *, own: bool
) -> Iterator[Shard]:
    folder.mkdir(parents=True)
    _seed(folder / "bot.db", holder, cases, own)
    teams = holder.current.knowledge.teams.values()
    env = {team.chat_id_env: str(GROUP) for team in teams}
    env |= {"ADMIN_IDS": str(ADMIN_ID), "FLOOD_LIMIT": "1000"}
    with FakeBotAPI() as api, RunningBot(api, folder, **env) as bot:
        yield Shard(cases, api, bot, api.group(GROUP, title="Providers"), own)


def _run(case: Case, shard: Shard, results: dict[str, str]) -> None:
    try:
        replay_over_http(case, shard)
    except AssertionError as exc:
        results[case.transcript.path.stem] = str(exc)
    except Exception:
        results[case.transcript.path.stem] = traceback.format_exc()
    else:
        results[case.transcript.path.stem] = ""


@pytest.fixture(scope="module")
def failures(
    request: pytest.FixtureRequest,
    shipped_holder: KnowledgeHolder,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    """Replay the selected transcripts at once; each one's failure message ("" if it passed)."""
    selected = {
        item.callspec.params["path"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    }
    transcripts = [load_transcript(path) for path in TRANSCRIPTS if path in selected]
    shared: list[Case] = []
    own: list[list[Case]] = []
    for index, transcript in enumerate(transcripts):
        if needs_own_bot(transcript, shipped_holder):
            own.append([Case(transcript, dict(PEOPLE))])
        else:
            shared.append(Case(transcript, {"user": SHARED_FIRST_USER + index}))
    results: dict[str, str] = {}
    folder = tmp_path_factory.mktemp("conversations")
    with contextlib.ExitStack() as stack:
        shards = [
            stack.enter_context(_shard(folder / f"bot{n}", shipped_holder, cases, own=n > 0))
            for n, cases in enumerate([shared, *own])
            if cases
        ]
        threads = [
            threading.Thread(target=_run, args=(case, shard, results), daemon=True)
            for shard in shards
            for case in shard.cases
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for shard in shards:  # all stop at once
            shard.bot.terminate()
    return results


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript_over_http(path: Path, failures: dict[str, str]) -> None:
    assert path.stem in failures, f"{path.name} was not replayed"
    if failures[path.stem]:
        pytest.fail(failures[path.stem], pytrace=False)


def test_a_turn_it_cannot_drive_fails_loudly() -> None:
    transcript = Transcript(
        ROOT / "conversations" / "example.yaml",
        "",
        [{"user": "hi"}, {"shout": "HI", "expect": {"neighbour": {}}}],
    )
    assert unsupported(transcript) == ["turn 2: 'shout'", "turn 2: expect 'neighbour'"]
    assert unsupported(dataclasses.replace(transcript, turns=[{"user": "hi"}])) == []
