"""Every odd kind of update is handled without an exception reaching the user."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from bot.storage import Profile, Store
from tests.telegram_recorder import callback_update, message_update


@pytest.fixture
async def app(app_and_calls, store: Store):
    store.save_profile(Profile(user_id=42, lang="en", country="FI"))
    return app_and_calls


async def feed(application, payload: dict[str, Any]) -> None:
    await application.process_update(Update.de_json(payload, application.bot))


def errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("🙂🙂🙂", "don't know the answer"),
        ("   \n\t  ", "empty"),
        ("\u202eمرحبا كيف أفتح حسابا مصرفيا\u202c", ""),
        ("bank\x00\x07 account\x1b[31m?", "bank account"),
        ("x" * 4096, ""),
        ("/task", "/task 2026-12-01"),
        ("/task yesterday?", "/task 2026-12-01"),
        ("/doesnotexist now", "don't know that command"),
        ("/start@softlanding_bot", "Which language"),
    ],
)
async def test_odd_messages_get_a_polite_answer(app, caplog, text: str, expected: str) -> None:
    application, calls = app
    await feed(application, message_update(7, 42, text))
    sent = calls.sent()
    assert sent, "the user got no answer"
    assert all(0 < len(p["text"]) <= 4096 for p in sent)
    assert expected.lower() in "\n".join(p["text"] for p in sent).lower()
    assert errors(caplog) == []


@pytest.mark.parametrize(
    "data",
    [
        "",
        "x" * 64,
        "ob:",
        "ob:lang:",
        "ob:lang:zz",
        "fb:up:99999999",
        "fb:up:-1",
        "ck:t:../../etc",
        "tk:ok:1",
        "tg:claim:1",
        "esc:q:abc",
        "rm:h:25",
        "ans:nope:FI",
        "v1|legacy|42",
        "ask:",
    ],
)
async def test_forged_stale_or_old_callback_data_changes_nothing(app, caplog, data: str) -> None:
    application, calls = app
    store: Store = application.bot_data["assistant"].store
    before = store.get_profile(42)
    seen = len(calls.calls)
    await feed(application, callback_update(8, 42, data))
    assert calls.calls[seen][0] == "answerCallbackQuery"
    answer = "\n".join(p["text"] for p in calls.sent()[-2:])
    assert "out of date" in answer or "has changed" in answer
    assert store.get_profile(42) == before
    assert errors(caplog) == []


async def test_edits_channel_posts_and_unknown_update_kinds_are_ignored_quietly(
    app, caplog
) -> None:
    application, calls = app
    await feed(application, message_update(9, 42, "how do I open a bank account?", edited=True))
    channel = message_update(10, 42, "news", chat_type="channel", chat_id=-1007)
    channel["channel_post"] = channel.pop("message")
    del channel["channel_post"]["from"]
    await feed(application, channel)
    inline = {
        "id": "q1",
        "from": {"id": 42, "is_bot": False, "first_name": "Ana"},
        "query": "bank",
        "offset": "",
    }
    await feed(application, {"update_id": 11, "inline_query": inline})
    assert calls.sent() == []
    assert errors(caplog) == []
