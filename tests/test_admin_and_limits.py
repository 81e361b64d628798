"""Admin reload, flood control, retention and admin alerts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from telegram import Update
from telegram.ext import CallbackContext

from bot.core.assistant import Assistant
from bot.core.flood import FloodGate
from bot.core.knowledge_holder import KnowledgeHolder
from bot.core.replies import Incoming
from bot.storage import Profile, Store
from bot.telegram_app import alert_admins
from tests.conftest import FIXTURE_KNOWLEDGE, NOW
from tests.telegram_recorder import message_update

ADMIN = 1


def make(store: Store, folder: Path) -> Assistant:
    return Assistant(
        KnowledgeHolder(folder), store, clock=lambda: NOW, admin_ids=frozenset({ADMIN})
    )


def test_reload_swaps_in_valid_knowledge_and_replans(store: Store, knowledge_dir: Path) -> None:
    assistant = make(store, knowledge_dir)
    profile = store.save_profile(
        Profile(user_id=7, lang="en", country="FI", arrival_date=dt.date(2026, 11, 20))
    )
    assistant.replan(profile)
    assistant.handle(Incoming(7, "button", "ck:t:fi-id-code"))
    path = knowledge_dir / "checklists" / "fi.yaml"
    path.write_text(path.read_text().replace("due: 14\n", "due: 21\n"))
    reply = assistant.handle(Incoming(ADMIN, "command", "reload"))[0]
    assert "Knowledge reloaded" in reply.text and "Checklists of 1 users re-planned" in reply.text
    tasks = {r["task_id"]: r for r in store.tasks_of(7)}
    assert tasks["fi-bank"]["due_date"] == "2026-12-11"
    assert tasks["fi-id-code"]["status"] == "done"


def test_broken_reload_keeps_the_last_good_knowledge(store: Store, knowledge_dir: Path) -> None:
    assistant = make(store, knowledge_dir)
    assistant.holder.reload()  # the bot loads its knowledge at start-up
    store.save_profile(Profile(user_id=7, lang="en", country="FI"))
    faq = knowledge_dir / "faq" / "basics.yaml"
    faq.write_text(faq.read_text().replace("topic: money", "topic: [oops"))
    reply = assistant.handle(Incoming(ADMIN, "command", "reload"))[0]
    assert "previous version" in reply.text and "basics.yaml:" in reply.text
    answer = assistant.handle(Incoming(7, "text", "how do I open a bank account?"))[0]
    assert "EU law gives residents a basic account" in answer.text


def test_reload_is_refused_politely_to_everyone_else(store: Store) -> None:
    folder = FIXTURE_KNOWLEDGE
    assistant = make(store, folder)
    store.save_profile(Profile(user_id=7, lang="ru"))
    before = assistant.holder.current
    reply = assistant.handle(Incoming(7, "command", "reload"))[0]
    assert "только администраторы" in reply.text
    assert assistant.holder.current is before


def test_flood_gate_slows_one_user_with_one_note_and_spares_others() -> None:
    now = [0.0]
    gate = FloodGate(limit=5, window=10, clock=lambda: now[0])
    results = [gate.check(1) for _ in range(8)]
    assert [allowed for allowed, _ in results] == [True] * 5 + [False] * 3
    assert [warn for _, warn in results].count(True) == 1
    assert gate.check(2) == (True, False)
    now[0] = 11.0
    assert gate.check(1) == (True, False)


async def test_flooding_user_gets_one_polite_note_through_the_application(
    app_and_calls, store: Store
) -> None:
    application, calls = app_and_calls
    application.bot_data["flood"] = FloodGate(limit=3, window=60)
    store.save_profile(Profile(user_id=42, lang="en", country="FI"))
    for update_id in range(1, 11):
        await application.process_update(
            Update.de_json(message_update(update_id, 42, "hello"), application.bot)
        )
    texts = [p["text"] for p in calls.sent() if p["chat_id"] == 42]
    assert texts.count(next(t for t in texts if "very fast" in t)) == 1
    assert len(texts) == 4
    await application.process_update(Update.de_json(message_update(11, 43, "hi"), application.bot))
    assert any(p["chat_id"] == 43 for p in calls.sent())


def test_retention_blanks_old_texts_and_keeps_the_figures(tmp_path: Path) -> None:
    from bot.storage import open_database

    clock = [NOW - dt.timedelta(days=400)]
    store = Store(open_database(tmp_path / "r.db"), clock=lambda: clock[0])
    store.record_question(
        7,
        "my old question",
        lang="en",
        country="FI",
        outcome="answer",
        intent="bank-account",
        score=80.0,
    )
    clock[0] = NOW
    store.record_question(
        7, "a new question", lang="en", country="FI", outcome="unknown", intent=None, score=10.0
    )
    assert store.apply_retention(365) == 1
    rows = store.questions_of(7)
    assert [r["text"] for r in rows] == ["", "a new question"]
    assert rows[0]["intent"] == "bank-account"


async def test_admins_are_alerted_once_a_minute_without_user_data(app_and_calls) -> None:
    application, calls = app_and_calls
    assistant = application.bot_data["assistant"]
    assistant.admin_ids = frozenset({1, 2})
    context = CallbackContext(application)
    await alert_admins(context, ValueError("secret user text"))
    await alert_admins(context, ValueError("again"))
    notes = calls.sent()
    assert sorted(p["chat_id"] for p in notes) == [1, 2]
    assert all("ValueError" in p["text"] and "secret" not in p["text"] for p in notes)


async def test_watched_knowledge_reloads_on_change_and_keeps_the_old_on_errors(
    app_and_calls, knowledge_dir: Path
) -> None:
    import os

    from bot.telegram_app import watch_knowledge

    application, calls = app_and_calls
    assistant = application.bot_data["assistant"]
    assistant.holder = KnowledgeHolder(knowledge_dir)
    assistant.holder.reload()
    assistant.admin_ids = frozenset({ADMIN})
    context = CallbackContext(application)
    await watch_knowledge(context)  # first look: remembers the files
    faq = knowledge_dir / "faq" / "basics.yaml"
    faq.write_text(faq.read_text().replace("Bring your passport", "Bring your ID"))
    os.utime(faq, (1e9, 2e9))
    await watch_knowledge(context)
    answer = assistant.handle(Incoming(7, "text", "how do I open a bank account?"))
    assert "Bring your ID" in answer[0].text
    assert "Knowledge reloaded" in calls.sent()[-1]["text"]
    faq.write_text(faq.read_text().replace("topic: money", "topic: [broken"))
    os.utime(faq, (1e9, 3e9))
    await watch_knowledge(context)
    assert "previous version" in calls.sent()[-1]["text"]
    answer = assistant.handle(Incoming(7, "text", "how do I open a bank account?"))
    assert "Bring your ID" in answer[0].text
