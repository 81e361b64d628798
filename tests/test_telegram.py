"""The real python-telegram-bot Application, fed real Update payloads, calls recorded."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from bot.storage import Profile, Store
from bot.telegram_app import split_text
from tests.telegram_recorder import callback_update, message_update


async def feed(application: Application, payload: dict[str, Any]) -> None:
    await application.process_update(Update.de_json(payload, application.bot))


async def test_start_sends_welcome_and_language_buttons(app_and_calls) -> None:
    application, calls = app_and_calls
    await feed(application, message_update(1, 42, "/start", language_code="ru"))
    sent = calls.sent()
    assert "Привет! Я Soft Landing" in sent[0]["text"]
    buttons = [
        b["callback_data"] for row in sent[1]["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert buttons == ["ob:lang:en", "ob:lang:ru", "ob:lang:uk"]
    assert all(params["chat_id"] == 42 for params in sent)


async def test_question_gets_answer_with_buttons_and_feedback_press_is_answered(
    app_and_calls, store: Store
) -> None:
    application, calls = app_and_calls
    store.save_profile(Profile(user_id=42, lang="en", country="FI"))
    await feed(application, message_update(2, 42, "how do I open a bank account?"))
    answer = calls.sent()[-1]
    assert "Bank account" in answer["text"] and "Source:" in answer["text"]
    datas = [b["callback_data"] for row in answer["reply_markup"]["inline_keyboard"] for b in row]
    assert "fb:up:1" in datas
    await feed(application, callback_update(3, 42, "fb:up:1"))
    assert [name for name, _ in calls.calls][-2:] == ["answerCallbackQuery", "sendMessage"]
    assert "Thanks for the feedback" in calls.sent()[-1]["text"]
    assert store.feedback_of(42)[0]["value"] == 1


async def test_group_messages_are_ignored(app_and_calls) -> None:
    application, calls = app_and_calls
    await feed(
        application, message_update(4, 42, "how do I open a bank account?", chat_type="group")
    )
    assert calls.sent() == []


async def test_photo_gets_a_polite_text_only_note(app_and_calls, store: Store) -> None:
    application, calls = app_and_calls
    store.save_profile(Profile(user_id=42, lang="uk"))
    payload = message_update(5, 42, "x")
    del payload["message"]["text"]
    payload["message"]["photo"] = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
    await feed(application, payload)
    assert "лише текстові" in calls.sent()[-1]["text"]


async def test_export_is_sent_as_a_json_document(app_and_calls, store: Store) -> None:
    application, calls = app_and_calls
    store.save_profile(Profile(user_id=42, lang="en", country="FI"))
    await feed(application, message_update(6, 42, "/export"))
    assert calls.sent("sendDocument"), calls.calls


def test_long_text_is_split_at_line_breaks_within_telegrams_limit() -> None:
    text = "\n".join(f"line {i} " + "x" * 80 for i in range(200))
    parts = split_text(text)
    assert len(parts) > 1
    assert all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text


async def test_reminder_job_sends_digests_and_marks_blocked_users_inactive(
    app_and_calls, store
) -> None:
    import datetime as dt

    from telegram.ext import CallbackContext

    from bot.telegram_app import send_reminders

    application, calls = app_and_calls
    assistant = application.bot_data["assistant"]
    for user in (42, 43):
        profile = store.save_profile(
            Profile(user_id=user, lang="en", country="FI", arrival_date=dt.date(2026, 11, 20))
        )
        assistant.replan(profile)
    calls.blocked.add(43)
    await send_reminders(CallbackContext(application))
    sent = [p for p in calls.sent() if p["chat_id"] == 42]
    assert len(sent) == 1 and "Reminder from your checklist" in sent[0]["text"]
    assert store.get_profile(43).active is False
    await send_reminders(CallbackContext(application))  # same day: nothing again
    assert len([p for p in calls.sent() if p["chat_id"] == 42]) == 1


async def test_network_errors_are_retried_and_bad_requests_are_not(monkeypatch) -> None:
    from telegram.error import BadRequest, NetworkError

    from bot import telegram_app

    async def no_sleep(_: float) -> None:
        return None

    monkeypatch.setattr(telegram_app.asyncio, "sleep", no_sleep)
    attempts = []

    async def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise NetworkError("connection reset")
        return "sent"

    assert await telegram_app._with_retries(flaky) == "sent"
    assert len(attempts) == 3

    async def refused():
        attempts.append(1)
        raise BadRequest("message is too long")

    attempts.clear()
    with pytest.raises(BadRequest):
        await telegram_app._with_retries(refused)
    assert len(attempts) == 1


async def test_retry_after_from_telegram_is_honoured(app_and_calls, store: Store) -> None:
    import time

    application, calls = app_and_calls
    store.save_profile(Profile(user_id=42, lang="en", country="FI"))
    calls.rate_limited = 1
    started = time.monotonic()
    await feed(application, message_update(30, 42, "/help"))
    attempts = [name for name, params in calls.calls if name == "sendMessage"]
    assert len(attempts) == 2  # refused with 429, then sent after waiting
    assert time.monotonic() - started >= 1.0
    assert "/checklist" in calls.sent()[-1]["text"]


async def test_stats_are_sent_as_text_and_chart(app_and_calls, store: Store) -> None:
    application, calls = app_and_calls
    assistant = application.bot_data["assistant"]
    assistant.admin_ids = frozenset({42})
    store.save_profile(Profile(user_id=42, lang="en", country="FI"))
    for n in range(40):  # enough unanswered questions for a text longer than a caption
        store.record_question(
            42,
            f"question number {n} about something quite unusual {n * 7}",
            lang="en",
            country="FI",
            outcome="unknown",
            intent=None,
            score=1,
        )
    await feed(application, message_update(40, 42, "/stats"))
    photos = calls.sent("sendPhoto")
    assert len(photos) == 1
    texts = [p.get("caption") or "" for p in photos] + [p["text"] for p in calls.sent()]
    assert any("Soft Landing statistics" in text for text in texts)
    assert all(len(p.get("caption") or "") <= 1024 for p in photos)
