"""Broadcasts: composing, segments, admin rights, pacing, no duplicates, resume, blocked users;
/news opt-out and /events."""

from __future__ import annotations

from telegram.ext import CallbackContext

from bot import broadcasts
from bot.core.assistant import Assistant
from bot.core.replies import Incoming
from bot.storage import Profile, Store
from bot.telegram_app import send_broadcasts

ADMIN = 1


def test_parse_filters_and_texts_per_language() -> None:
    draft = broadcasts.parse(
        "country=FI,se stage=arrived\nen: Closed on Friday.\nSecond line\nru: Закрыто в пятницу."
    )
    assert draft.segment == {"country": ("FI", "SE"), "stage": ("arrived",)}
    assert draft.texts == {"en": "Closed on Friday.\nSecond line", "ru": "Закрыто в пятницу."}
    assert draft.errors == ()
    assert broadcasts.parse("colour=red\nen: x").errors
    assert broadcasts.parse("country=FI").errors  # no text
    assert broadcasts.parse("country=FI\nru: только по-русски").errors  # English is the fallback


def users(store: Store) -> None:
    rows = [
        (10, "en", "FI", "arrived", True),
        (11, "ru", "FI", "arrived", True),
        (12, "uk", "FI", "planning", True),
        (13, "en", "SE", "arrived", True),
        (14, "en", "FI", "arrived", False),  # opted out with /news off
    ]
    for user_id, lang, country, stage, news in rows:
        store.save_profile(
            Profile(user_id=user_id, lang=lang, country=country, stage=stage, news=news)
        )


def test_segment_selection(store: Store) -> None:
    users(store)
    assert broadcasts.recipients(store, {"country": ("FI",)}) == [10, 11, 12]
    assert broadcasts.recipients(store, {"country": ("FI",), "stage": ("arrived",)}) == [10, 11]
    assert broadcasts.recipients(store, {"lang": ("en",)}) == [10, 13]
    store.mark_inactive(13)
    assert broadcasts.recipients(store, {}) == [10, 11, 12]


def test_only_admins_compose_and_confirm(store: Store) -> None:
    from bot.core.knowledge_holder import KnowledgeHolder
    from tests.conftest import FIXTURE_KNOWLEDGE, NOW

    assistant = Assistant(
        KnowledgeHolder(FIXTURE_KNOWLEDGE), store, clock=lambda: NOW, admin_ids=frozenset({ADMIN})
    )
    users(store)
    refused = assistant.handle(Incoming(10, "command", "broadcast", "country=FI\nen: Hi"))[0]
    assert "only admins" in refused.text
    preview = assistant.handle(Incoming(ADMIN, "command", "broadcast", "country=FI\nen: Hi"))[0]
    assert "Broadcast #1 to 3 users (country=FI)" in preview.text and "[en] Hi" in preview.text
    assert [b.data for row in preview.buttons for b in row] == ["bc:go:1", "bc:no:1"]
    assert "only admins" in assistant.handle(Incoming(10, "button", "bc:go:1"))[0].text
    assert assistant.broadcasts.get(1)["status"] == "draft"
    started = assistant.handle(Incoming(ADMIN, "button", "bc:go:1"))[0]
    assert "Sending broadcast #1 to 3 users" in started.text
    assert "out of date" in assistant.handle(Incoming(ADMIN, "button", "bc:go:1"))[0].text
    usage = assistant.handle(Incoming(ADMIN, "command", "broadcast", ""))[0]
    assert "country=FI stage=arrived" in usage.text


async def test_sending_is_paced_once_per_user_in_their_language(app_and_calls, store) -> None:
    application, calls = app_and_calls
    assistant: Assistant = application.bot_data["assistant"]
    assistant.admin_ids = frozenset({ADMIN})
    for user_id in range(100, 145):
        store.save_profile(Profile(user_id=user_id, lang="ru" if user_id % 2 else "en"))
    calls.blocked.add(101)
    draft = broadcasts.parse("\nen: Hello newcomers\nru: Привет")
    item = assistant.broadcasts.create(ADMIN, draft)
    assistant.broadcasts.confirm(item["id"])
    await send_broadcasts(CallbackContext(application))
    sent = [(p["chat_id"], p["text"]) for p in calls.sent() if p["chat_id"] >= 100]
    assert len(sent) == 44 and len({c for c, _ in sent}) == 44  # 45 users, one blocked
    assert (102, "Hello newcomers") in sent and (103, "Привет") in sent
    times = [
        t
        for (name, p), t in zip(calls.calls, calls.times, strict=True)
        if name == "sendMessage" and p.get("chat_id", 0) >= 100
    ]
    busiest = max(sum(1 for u in times if s <= u < s + 1.0) for s in times)
    assert busiest <= 30  # Telegram's ~30 messages a second
    assert store.get_profile(101).active is False
    counts = assistant.broadcasts.counts(item["id"])
    assert counts == {"sent": 44, "blocked": 1}
    report = [p["text"] for p in calls.sent() if p["chat_id"] == ADMIN]
    assert any("finished: 44 sent, 1 blocked the bot" in text for text in report)
    await send_broadcasts(CallbackContext(application))  # nothing is sent twice
    assert len([p for p in calls.sent() if p["chat_id"] >= 100]) == 44


async def test_a_broadcast_resumes_after_a_crash_without_duplicates(app_and_calls, store) -> None:
    application, calls = app_and_calls
    assistant: Assistant = application.bot_data["assistant"]
    for user_id in range(200, 210):
        store.save_profile(Profile(user_id=user_id, lang="en"))
    item = assistant.broadcasts.create(ADMIN, broadcasts.parse("\nen: News"))
    assistant.broadcasts.confirm(item["id"])
    # The previous process sent to the first three and died while sending to the fourth.
    claimed = assistant.broadcasts.claim(item["id"], limit=4)
    for user_id, _ in claimed[:3]:
        assistant.broadcasts.mark(item["id"], user_id, "sent")
    await send_broadcasts(CallbackContext(application))  # the restarted process resumes
    got = sorted(p["chat_id"] for p in calls.sent() if p["chat_id"] >= 200)
    assert got == list(range(204, 210))
    counts = assistant.broadcasts.counts(item["id"])
    assert counts == {"sent": 9, "sending": 1}  # the in-flight one is reported, not resent
    assert assistant.broadcasts.get(item["id"])["status"] == "done"


def test_news_opt_out_and_events(assistant: Assistant, store: Store) -> None:
    store.save_profile(Profile(user_id=7, lang="en", country="EE", city="tartu"))
    assert "no news" in assistant.handle(Incoming(7, "command", "news", "off"))[0].text
    assert store.get_profile(7).news is False
    assert "You get news" in assistant.handle(Incoming(7, "command", "news", "on"))[0].text
    events = assistant.handle(Incoming(7, "command", "events"))[0].text
    assert "10 December 2026, Tartu: Newcomers' meetup" in events
    assert "Last year's fair" not in events and "Info evening in Finland" not in events
    store.save_profile(Profile(user_id=8, lang="ru", country="SE"))
    assert "пока нет" in assistant.handle(Incoming(8, "command", "events"))[0].text


def test_admin_broadcasts_an_event(assistant: Assistant, store: Store) -> None:
    assistant.admin_ids = frozenset({ADMIN})
    store.save_profile(Profile(user_id=20, lang="ru", country="EE", city="tartu"))
    preview = assistant.handle(
        Incoming(ADMIN, "command", "broadcast", "event=tartu-meetup country=EE")
    )[0]
    assert "Broadcast #1 to 1 users (country=EE)" in preview.text
    assert "[ru] Встреча новоприбывших — 10 декабря 2026 https://www.tartu.ee/en" in preview.text
