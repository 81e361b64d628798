"""Escalation: routing, the full ticket lifecycle through the real Application, authorisation,
restart, duplicate updates, blocked users, safety, edits, forum topics and housekeeping."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from bot.config import Settings
from bot.core.assistant import Assistant
from bot.core.escalation import route, safety_signal
from bot.core.knowledge_holder import KnowledgeHolder
from bot.knowledge.model import Team
from bot.knowledge.suggestions import suggestions_yaml
from bot.storage import Profile, Store, open_database
from bot.telegram_app import build_application
from bot.tickets_store import TicketStore
from tests.conftest import NOW, SHIPPED_KNOWLEDGE
from tests.telegram_recorder import RecordingRequest, callback_update, message_update

FI_GROUP = -1001
FALLBACK_GROUP = -1009
USER = 42
PROVIDER = 500


def team(team_id: str, **fields: Any) -> Team:
    base = {
        "names": {"en": team_id},
        "countries": (),
        "cities": (),
        "topics": (),
        "languages": ("en",),
    }
    return Team(id=team_id, **(base | fields))


# --- routing --------------------------------------------------------------------------------


def test_routing_prefers_city_then_topic_then_language_with_a_fallback() -> None:
    teams = [
        team("fi", countries=("FI",)),
        team("fi-ru", countries=("FI",), languages=("ru",)),
        team("helsinki", countries=("FI",), cities=("helsinki",)),
        team("business", topics=("business",)),
        team("rest", fallback=True),
    ]

    def pick(**profile: Any) -> str:
        topic = profile.pop("topic", None)
        return route(teams, Profile(user_id=1, **profile), topic).id

    assert pick(country="FI", city="helsinki", lang="en") == "helsinki"
    assert pick(country="FI", city="turku", lang="ru") == "fi-ru"
    assert pick(country="FI", city="turku", lang="en") == "fi"
    assert pick(country="EE", topic="business") == "business"
    assert pick(country="EE", topic="housing") == "rest"
    assert route([team("fi", countries=("FI",))], Profile(user_id=1, country="SE"), None) is None


def test_safety_signals_in_three_languages(shipped_holder: KnowledgeHolder) -> None:
    knowledge = shipped_holder.current.knowledge
    assert safety_signal(knowledge, "my husband beats me every week") == "violence"
    assert safety_signal(knowledge, "я не хочу жить") == "self-harm"
    assert safety_signal(knowledge, "Він б'є мене") == "violence"
    assert safety_signal(knowledge, "how do I open a bank account") is None


# --- through the real Application -----------------------------------------------------------


class Harness:
    """The real Application over a SQLite file, Telegram calls recorded."""

    def __init__(self, db_path: Path, recorder: RecordingRequest | None = None) -> None:
        self.db_path = db_path
        self.calls = recorder or RecordingRequest()
        self.store = Store(open_database(db_path), clock=lambda: NOW)
        holder = KnowledgeHolder(SHIPPED_KNOWLEDGE)
        self.assistant = Assistant(
            holder,
            self.store,
            clock=lambda: NOW,
            provider_chats={"fi-advisers": FI_GROUP, "fallback": FALLBACK_GROUP},
        )
        settings = Settings(bot_token="123:TEST", api_url="http://127.0.0.1:9/bot")
        self.app: Application = build_application(
            settings, self.assistant, updater=False, request=self.calls
        )
        self.next_update = 1000

    async def __aenter__(self) -> Harness:
        await self.app.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.shutdown()
        self.store.db.close()

    async def feed(self, payload: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(payload, self.app.bot))

    def uid(self) -> int:
        self.next_update += 1
        return self.next_update

    async def user_says(self, text: str) -> None:
        await self.feed(message_update(self.uid(), USER, text))

    async def user_presses(self, data: str, user: int = USER) -> None:
        await self.feed(callback_update(self.uid(), user, data))

    async def provider_presses(self, data: str, chat: int = FI_GROUP) -> None:
        await self.feed(callback_update(self.uid(), PROVIDER, data, chat_id=chat))

    async def provider_replies(self, text: str, reply_to: int, message_id: int) -> None:
        await self.feed(
            message_update(
                self.uid(),
                PROVIDER,
                text,
                chat_type="supergroup",
                chat_id=FI_GROUP,
                reply_to=reply_to,
                message_id=message_id,
            )
        )

    def sent_to(self, chat: int) -> list[dict[str, Any]]:
        return [p for p in self.calls.sent() if p["chat_id"] == chat]

    def buttons(self, params: dict[str, Any]) -> list[str]:
        markup = params.get("reply_markup") or {"inline_keyboard": []}
        return [b["callback_data"] for row in markup["inline_keyboard"] for b in row]

    def ticket(self, ticket_id: int = 1) -> dict[str, Any]:
        return TicketStore(self.store).get(ticket_id)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    async with Harness(tmp_path / "bot.db") as harness:
        harness.store.save_profile(
            Profile(user_id=USER, lang="en", country="FI", city="turku", stage="arrived")
        )
        yield harness


async def open_ticket(bot: Harness, question: str = "can my cat join a Finnish sauna club?") -> int:
    await bot.user_says(question)
    unknown = bot.sent_to(USER)[-1]
    ask = next(d for d in bot.buttons(unknown) if d.startswith("esc:q:"))
    await bot.user_presses(ask)
    consent = bot.sent_to(USER)[-1]
    assert question in consent["text"] and "esc:send" in bot.buttons(consent)
    await bot.user_presses("esc:send")
    return bot.sent_to(FI_GROUP)[-1]["message_id"]


async def test_full_ticket_lifecycle(bot: Harness) -> None:
    post_id = await open_ticket(bot)
    confirmation = bot.sent_to(USER)[-1]["text"]
    assert "ticket #1" in confirmation and "48 hours" in confirmation
    post = bot.sent_to(FI_GROUP)[-1]
    assert (
        "Ticket #1" in post["text"] and "Finland · Turku · arrived · language: en" in post["text"]
    )
    assert "Ana" not in post["text"]  # no name without consent
    assert {"tg:claim:1", "tg:close:1", "tg:spam:1"} <= set(bot.buttons(post))

    await bot.provider_presses("tg:claim:1")
    assert "claimed by Ana" in bot.sent_to(FI_GROUP)[-1]["text"]
    assert bot.ticket()["status"] == "claimed"

    await bot.provider_replies("Ask your city's sports office.", reply_to=post_id, message_id=9001)
    relay = bot.sent_to(USER)[-1]
    assert "Soft Landing advisers (Finland) (ticket #1)" in relay["text"]
    assert "Ask your city's sports office." in relay["text"]
    assert {"tk:ok:1", "tk:fu:1", "tk:bad:1"} <= set(bot.buttons(relay))
    assert "Delivered to the user" in bot.sent_to(FI_GROUP)[-1]["text"]

    await bot.user_presses("tk:fu:1")
    await bot.user_says("Which office exactly?")
    assert "Add this message to ticket #1" in bot.sent_to(USER)[-1]["text"]  # no auto-answer
    await bot.user_presses("tk:add")
    follow = bot.sent_to(FI_GROUP)[-1]
    assert "the user adds" in follow["text"] and "Which office exactly?" in follow["text"]
    assert follow["reply_parameters"]["message_id"] == post_id

    await bot.provider_replies(
        "The one on Aurakatu.", reply_to=follow["message_id"], message_id=9002
    )
    assert "The one on Aurakatu." in bot.sent_to(USER)[-1]["text"]

    await bot.user_presses("tk:ok:1")
    assert bot.ticket()["status"] == "closed" and bot.ticket()["rating"] == 1
    assert "solved it" in bot.sent_to(FI_GROUP)[-1]["text"]
    messages = TicketStore(bot.store).messages(1)
    assert [(m["direction"], m["status"]) for m in messages] == [
        ("provider", "delivered"),
        ("user", "pending"),
        ("provider", "delivered"),
    ]


async def test_leaving_a_ticket_goes_back_to_the_bot(bot: Harness) -> None:
    await open_ticket(bot)
    await bot.user_says("how do I open a bank account?")
    await bot.user_presses("tk:bot")
    texts = [p["text"] for p in bot.sent_to(USER)[-2:]]
    assert "back to the bot" in texts[0] and "bank account" in texts[1].lower()
    assert bot.store.get_profile(USER).active_ticket is None
    assert bot.ticket()["status"] == "open"


async def test_name_is_shared_only_when_the_user_chooses(bot: Harness) -> None:
    await bot.user_says("/human")
    await bot.user_says("where can I rent a canoe with my kids?")
    await bot.user_presses("esc:name")
    assert "from: Ana (@ana)" in bot.sent_to(FI_GROUP)[-1]["text"]


async def test_only_providers_can_claim_answer_or_close(bot: Harness) -> None:
    post_id = await open_ticket(bot)
    await bot.user_presses("tg:close:1")  # a forged group button from a private chat
    assert "out of date" in bot.sent_to(USER)[-1]["text"]
    await bot.provider_presses("tg:claim:1", chat=-5555)  # a group that is not a provider group
    assert bot.ticket()["status"] == "open"
    await bot.feed(
        message_update(
            bot.uid(),
            777,
            "I am not a provider",
            chat_type="supergroup",
            chat_id=-5555,
            reply_to=post_id,
            message_id=1,
        )
    )
    assert TicketStore(bot.store).messages(1) == []
    await bot.user_presses("tk:ok:1", user=43)  # another user's ticket
    assert bot.ticket()["status"] == "open" and bot.ticket()["rating"] is None


async def test_provider_reply_after_a_restart_reaches_the_user(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    async with Harness(path) as first:
        first.store.save_profile(Profile(user_id=USER, lang="ru", country="FI"))
        post_id = await open_ticket(first)
        last_update = first.next_update
    async with Harness(path) as second:  # a new process on the same database
        second.next_update = last_update  # Telegram's update ids keep growing
        await second.provider_replies("Ответ после перезапуска", reply_to=post_id, message_id=9100)
        relay = second.sent_to(USER)[-1]
        assert "заявка №1" in relay["text"] and "Ответ после перезапуска" in relay["text"]


async def test_the_same_update_twice_creates_one_ticket_and_one_message(bot: Harness) -> None:
    await bot.user_says("can my cat join a Finnish sauna club?")
    ask = next(d for d in bot.buttons(bot.sent_to(USER)[-1]) if d.startswith("esc:q:"))
    await bot.user_presses(ask)
    send = callback_update(bot.uid(), USER, "esc:send")
    await bot.feed(send)
    await bot.feed(send)  # Telegram redelivers after a crash
    assert len(TicketStore(bot.store).of_user(USER)) == 1
    post_id = bot.sent_to(FI_GROUP)[-1]["message_id"]
    reply = message_update(
        bot.uid(),
        PROVIDER,
        "Answer",
        chat_type="supergroup",
        chat_id=FI_GROUP,
        reply_to=post_id,
        message_id=9200,
    )
    await bot.feed(reply)
    await bot.feed(reply)
    assert len(TicketStore(bot.store).messages(1)) == 1
    assert len([p for p in bot.sent_to(USER) if "Answer" in p["text"]]) == 1


async def test_blocked_user_is_reported_to_the_group(bot: Harness) -> None:
    post_id = await open_ticket(bot)
    bot.calls.blocked.add(USER)
    await bot.provider_replies("Here is the answer", reply_to=post_id, message_id=9300)
    assert "Not delivered (#1): the user has blocked the bot" in bot.sent_to(FI_GROUP)[-1]["text"]
    assert TicketStore(bot.store).messages(1)[0]["status"] == "failed"


async def test_provider_edit_is_relayed_as_an_edit(bot: Harness) -> None:
    post_id = await open_ticket(bot)
    await bot.provider_replies("Ask the sports ofice.", reply_to=post_id, message_id=9400)
    relayed_id = bot.sent_to(USER)[-1]["message_id"]
    await bot.feed(
        message_update(
            bot.uid(),
            PROVIDER,
            "Ask the sports office.",
            chat_type="supergroup",
            chat_id=FI_GROUP,
            message_id=9400,
            edited=True,
        )
    )
    name, params = bot.calls.calls[-1]
    assert name == "editMessageText" and params["message_id"] == relayed_id
    assert params["chat_id"] == USER and "sports office." in params["text"]


async def test_danger_gets_help_lines_first_and_an_urgent_ticket(bot: Harness) -> None:
    await bot.user_says("my husband beats me, can someone help me find a new flat quickly?")
    texts = [p["text"] for p in bot.sent_to(USER)]
    assert texts[0].startswith("If you or someone else is in danger, call 112 now")
    assert "Help lines in Finland:" in texts[0] and "116117" in texts[0]
    assert len(texts) == 2  # then the usual answer / suggestions
    await bot.user_says("/human")
    await bot.user_says("my husband beats me and I need a safe place")
    assert bot.sent_to(USER)[-2]["text"].startswith("If you or someone else is in danger")
    await bot.user_presses("esc:send")
    assert bot.ticket()["urgent"] == 1
    assert "URGENT (safety signal: violence)" in bot.sent_to(FI_GROUP)[-1]["text"]


async def test_forum_groups_get_one_topic_per_ticket(tmp_path: Path) -> None:
    forum_knowledge = tmp_path / "knowledge"
    import shutil

    shutil.copytree(SHIPPED_KNOWLEDGE, forum_knowledge)
    providers = forum_knowledge / "providers.yaml"
    providers.write_text(
        providers.read_text().replace(
            "chat_id_env: PROVIDER_CHAT_FI\n", "chat_id_env: PROVIDER_CHAT_FI\n    forum: true\n"
        )
    )
    async with Harness(tmp_path / "bot.db") as bot:
        bot.assistant.holder = KnowledgeHolder(forum_knowledge)
        bot.assistant.escalation.holder = bot.assistant.holder
        bot.store.save_profile(Profile(user_id=USER, lang="en", country="FI"))
        await open_ticket(bot)
        assert [n for n, _ in bot.calls.calls].count("createForumTopic") == 1
        assert bot.sent_to(FI_GROUP)[-1]["message_thread_id"] == 77
        assert bot.ticket()["thread_id"] == 77
        # A provider writing in the topic (without replying) answers the ticket.
        await bot.feed(
            message_update(
                bot.uid(),
                PROVIDER,
                "Answer in the topic",
                chat_type="supergroup",
                chat_id=FI_GROUP,
                message_id=9500,
            )
        )
        payload = message_update(
            bot.uid(),
            PROVIDER,
            "Answer in the topic 2",
            chat_type="supergroup",
            chat_id=FI_GROUP,
            message_id=9501,
        )
        payload["message"] |= {"message_thread_id": 77, "is_topic_message": True}
        await bot.feed(payload)
        assert "Answer in the topic 2" in bot.sent_to(USER)[-1]["text"]


async def test_open_list_reannounce_and_stale_close(bot: Harness) -> None:
    await open_ticket(bot)
    await bot.feed(
        message_update(bot.uid(), PROVIDER, "/open", chat_type="supergroup", chat_id=FI_GROUP)
    )
    assert "#1 · 0 h · open · unclaimed" in bot.sent_to(FI_GROUP)[-1]["text"]
    escalation = bot.assistant.escalation
    later = NOW + dt.timedelta(hours=5)
    notices = escalation.maintenance(later)
    assert [r.text for r in notices] == ["⏰ #1 is still unclaimed after 5 hours."]
    assert escalation.maintenance(later + dt.timedelta(hours=1)) == []
    stale = escalation.maintenance(NOW + dt.timedelta(days=15))
    assert any("closed because it had no activity" in r.text and r.chat_id == USER for r in stale)
    assert bot.ticket()["status"] == "closed"


async def test_tickets_list_close_and_cancel(bot: Harness) -> None:
    await open_ticket(bot)
    await bot.user_says("/tickets")
    listing = bot.sent_to(USER)[-1]
    assert "#1 · waiting for an adviser" in listing["text"]
    assert "tk:cancel:1" in bot.buttons(listing)
    await bot.user_presses("tk:cancel:1")
    assert bot.ticket()["status"] == "cancelled"
    assert "cancelled the ticket" in bot.sent_to(FI_GROUP)[-1]["text"]


async def test_suggest_as_faq_prints_a_draft_intent(bot: Harness) -> None:
    post_id = await open_ticket(bot)
    await bot.provider_replies("Sauna clubs rarely accept cats.", reply_to=post_id, message_id=9600)
    await bot.provider_presses("tg:faq:1")
    assert "saved as an FAQ suggestion" in bot.sent_to(FI_GROUP)[-1]["text"]
    text = suggestions_yaml(TicketStore(bot.store).suggestions(), today=dt.date(2026, 11, 25))
    assert "id: suggested-1" in text and "Sauna clubs rarely accept cats." in text
    assert "can my cat join a Finnish sauna club?" in text


async def test_forget_erases_ticket_messages_and_tells_the_providers(bot: Harness) -> None:
    post_id = await open_ticket(bot)
    await bot.provider_replies("An answer", reply_to=post_id, message_id=9700)
    await bot.user_says("/forget")
    await bot.user_presses("fg:yes")
    assert "erased their data" in bot.sent_to(FI_GROUP)[-1]["text"]
    ticket = bot.ticket()
    assert ticket["status"] == "erased" and ticket["user_id"] is None and ticket["question"] == ""
    assert TicketStore(bot.store).messages(1) == []
    for table, column in (("users", "id"), ("questions", "user_id"), ("tickets", "user_id")):
        assert (
            bot.store.db.execute(
                f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", [USER]
            ).fetchone()[0]
            == 0
        )
    await bot.provider_replies("Another answer", reply_to=post_id, message_id=9701)
    assert "the user erased their data" in bot.sent_to(FI_GROUP)[-1]["text"]


def core_with_user(tmp_path: Path, now: dt.datetime = NOW) -> Assistant:
    """The core alone (no Telegram), with the Finnish team connected and one Finnish user;
    called again on the same folder, the core of a restarted process."""
    store = Store(open_database(tmp_path / "bot.db"), clock=lambda: now)
    store.save_profile(Profile(user_id=USER, lang="en", country="FI"))
    return Assistant(
        KnowledgeHolder(SHIPPED_KNOWLEDGE),
        store,
        clock=lambda: now,
        provider_chats={"fi-advisers": FI_GROUP},
    )


def ticket_never_posted(assistant: Assistant, key: str) -> dict:
    """A ticket stored by a process that died before posting it to the providers."""
    ticket, _ = assistant.escalation.tickets.create(
        source_key=key,
        user_id=USER,
        team_id="fi-advisers",
        chat_id=FI_GROUP,
        urgent=0,
        question="Where to buy skis?",
        lang="en",
        country="FI",
    )
    return ticket


def test_housekeeping_sends_what_a_crash_left_unsent(tmp_path: Path) -> None:
    assistant = core_with_user(tmp_path)
    tickets = assistant.escalation.tickets
    # The process died after the ticket insert, before the post to the providers ...
    ticket = ticket_never_posted(assistant, "c:1")
    later = NOW + dt.timedelta(minutes=5)
    (post,) = assistant.escalation.maintenance(later)
    assert post.chat_id == FI_GROUP and "Where to buy skis?" in post.text and post.tag == "tpost:1"
    assistant.escalation.sent(post.tag, FI_GROUP, 555, None)
    # ... and after a provider's reply was stored, before it was relayed to the user.
    tickets.add_message(
        ticket["id"],
        source_key="m:x",
        direction="provider",
        text="At Stadium.",
        source_chat_id=FI_GROUP,
        source_message_id=556,
    )
    relays = [r for r in assistant.escalation.maintenance(later) if r.chat_id == USER]
    assert len(relays) == 1 and "At Stadium." in relays[0].text
    assistant.escalation.sent(relays[0].tag, USER, 77, None)
    assert [r for r in assistant.escalation.maintenance(later) if r.chat_id == USER] == []


def test_after_a_restart_what_the_last_process_left_unsent_goes_at_once(tmp_path: Path) -> None:
    before = core_with_user(tmp_path)
    ticket_never_posted(before, "c:2")
    seconds_later = NOW + dt.timedelta(seconds=10)
    assert before.escalation.maintenance(seconds_later) == []  # maybe still in flight
    restarted = core_with_user(tmp_path, seconds_later)
    (post,) = restarted.escalation.maintenance(seconds_later)  # not a minute later
    assert post.chat_id == FI_GROUP and "Where to buy skis?" in post.text


async def test_long_overdue_task_asks_a_person_in_one_tap(bot: Harness) -> None:
    profile = bot.store.get_profile(USER)
    bot.store.save_profile(Profile(**(profile.__dict__ | {"arrival_date": dt.date(2026, 10, 1)})))
    bot.assistant.replan(bot.store.get_profile(USER))
    overdue = next(r for r in bot.store.tasks_of(USER) if r["due_date"] < "2026-11-15")
    await bot.user_presses(f"ck:o:{overdue['task_id']}")
    card = bot.sent_to(USER)[-1]
    assert f"esc:t:{overdue['task_id']}" in bot.buttons(card)
    await bot.user_presses(f"esc:t:{overdue['task_id']}")
    consent = bot.sent_to(USER)[-1]
    assert "I need help with this task from my checklist" in consent["text"]
    await bot.user_presses("esc:send")
    assert "I need help with this task" in bot.sent_to(FI_GROUP)[-1]["text"]


def test_user_notices_are_kept_until_sent(tmp_path: Path) -> None:
    assistant = core_with_user(tmp_path)
    escalation = assistant.escalation
    escalation.tickets.create(
        source_key="c:9",
        user_id=USER,
        team_id="fi-advisers",
        chat_id=FI_GROUP,
        urgent=0,
        question="Q?",
        lang="en",
        country="FI",
    )
    escalation.sent("tpost:1", FI_GROUP, 600, None)
    from bot.core.replies import Incoming

    replies = escalation.group_button(Incoming(PROVIDER, "button", "tg:close:1", chat_id=FI_GROUP))
    notice = next(r for r in replies if r.chat_id == USER)
    assert "closed ticket #1" in notice.text and notice.tag.startswith("notice:")
    # the process died before the notice went out: housekeeping sends it again
    later = NOW + dt.timedelta(minutes=5)
    again = [r for r in escalation.maintenance(later) if r.chat_id == USER]
    assert [r.text for r in again] == [notice.text]
    escalation.sent(again[0].tag, USER, 601, None)
    assert [r for r in escalation.maintenance(later) if r.chat_id == USER] == []
