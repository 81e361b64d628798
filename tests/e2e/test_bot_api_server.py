"""The local Bot API server itself: Telegram's answers and error shapes, as python-telegram-bot
sees them, long polling, and the people's side (messages, presses, replies in forum topics)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import warnings
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, RetryAfter

from tests.fake_bot_api import FakeBotAPI

pytestmark = pytest.mark.e2e

KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("✅ Done", callback_data="ck:t:1")]])


def _raw(api: FakeBotAPI, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    """One call with a JSON body, as any HTTP client could make it: (status, answer)."""
    request = urllib.request.Request(
        f"{api.base_url}123:TEST/{method}",
        json.dumps(params).encode(),
        {"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_errors_have_telegrams_shapes() -> None:
    with FakeBotAPI() as api:
        api.user(42).block()
        cases = {
            ("sendMessage", "empty"): {"chat_id": 7, "text": " "},
            ("sendMessage", "long"): {"chat_id": 7, "text": "x" * 4097},
            ("sendMessage", "data"): {
                "chat_id": 7,
                "text": "hi",
                "reply_markup": {"inline_keyboard": [[{"text": "b", "callback_data": "é" * 33}]]},
            },
            ("sendMessage", "blocked"): {"chat_id": 42, "text": "hi"},
            ("editMessageText", "missing"): {"chat_id": 7, "message_id": 5, "text": "hi"},
            ("answerCallbackQuery", "old"): {"callback_query_id": "nope"},
            ("createForumTopic", "no forum"): {"chat_id": -100, "name": "#1"},
            ("noSuchMethod", ""): {},
        }
        answers = {key: _raw(api, key[0], **params) for key, params in cases.items()}
        status, sent = _raw(api, "sendMessage", chat_id=7, text="hi")
        assert status == 200 and sent["result"]["text"] == "hi"
        not_modified = _raw(
            api, "editMessageText", chat_id=7, message_id=sent["result"]["message_id"], text="hi"
        )
        api.max_per_second = 1
        too_many = _raw(api, "sendMessage", chat_id=7, text="again")
        api.webhook = {"url": "https://example.org/hook"}
        conflict = _raw(api, "getUpdates")
    description = {key: answer["description"] for key, (_, answer) in answers.items()}
    assert description == {
        ("sendMessage", "empty"): "Bad Request: message text is empty",
        ("sendMessage", "long"): "Bad Request: message is too long",
        ("sendMessage", "data"): "Bad Request: BUTTON_DATA_INVALID",
        ("sendMessage", "blocked"): "Forbidden: bot was blocked by the user",
        ("editMessageText", "missing"): "Bad Request: message to edit not found",
        ("answerCallbackQuery", "old"): (
            "Bad Request: query is too old and response timeout expired or query ID is invalid"
        ),
        ("createForumTopic", "no forum"): "Bad Request: the chat is not a forum",
        ("noSuchMethod", ""): "Not Found",
    }
    assert {key: status for key, (status, _) in answers.items()} == {
        key: 403 if key[1] == "blocked" else 404 if key[1] == "" else 400 for key in cases
    }
    assert all(answer["ok"] is False for _, answer in answers.values())
    assert not_modified[0] == 400
    assert not_modified[1]["description"].startswith("Bad Request: message is not modified: ")
    assert too_many == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    assert conflict[0] == 409 and conflict[1]["description"].startswith("Conflict: ")


async def test_python_telegram_bot_gets_its_own_exceptions_and_real_messages() -> None:
    with FakeBotAPI() as api:
        ana = api.user(42)
        async with Bot("123:TEST", base_url=api.base_url) as bot:
            message = await bot.send_message(ana.id, "Pick one", reply_markup=KEYBOARD)
            assert isinstance(message, Message) and message.from_user.id == bot.id
            assert message.date.year >= 2026  # seconds, not milliseconds
            with pytest.raises(BadRequest, match="Message is not modified"):
                await bot.edit_message_text(
                    "Pick one", ana.id, message.message_id, reply_markup=KEYBOARD
                )
            edited = await bot.edit_message_text("Done!", ana.id, message.message_id)
            assert isinstance(edited, Message) and edited.text == "Done!"
            assert edited.reply_markup is None  # not sent again: removed, as in Telegram
            marked = await bot.edit_message_reply_markup(
                ana.id, message.message_id, reply_markup=KEYBOARD
            )
            assert isinstance(marked, Message) and marked.reply_markup == KEYBOARD
            with pytest.raises(BadRequest, match="Message is not modified"):
                await bot.edit_message_reply_markup(
                    ana.id, message.message_id, reply_markup=KEYBOARD
                )
            await bot.edit_message_reply_markup(ana.id, message.message_id)  # keyboard off
            extra = await bot.send_message(ana.id, "Oops")
            assert await bot.delete_message(ana.id, extra.message_id)
            with pytest.raises(BadRequest, match="Message to delete not found"):
                await bot.delete_message(ana.id, extra.message_id)
            with pytest.raises(BadRequest, match="Message text is empty"):
                await bot.send_message(ana.id, "")
            with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
                long_data = InlineKeyboardButton("x", callback_data="x" * 65)
                await bot.send_message(
                    ana.id, "hi", reply_markup=InlineKeyboardMarkup([[long_data]])
                )
            ana.block()
            with pytest.raises(Forbidden, match="blocked by the user"):
                await bot.send_message(ana.id, "hello?")
            api.max_per_second = 1
            with pytest.raises(RetryAfter), warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # PTB's notice on retry_after
                for text in ("one", "two"):  # two in one second
                    await bot.send_message(7, text)
    # what the person sees now: the edited text, without the keyboard that was not sent again
    assert [(m["text"], m.get("reply_markup")) for m in ana.messages()] == [("Done!", None)]


def test_long_polling_waits_for_an_update_and_offsets_confirm() -> None:
    with FakeBotAPI() as api:
        ana = api.user(42)
        answer: list[Any] = []
        poll = threading.Thread(target=lambda: answer.append(_raw(api, "getUpdates", timeout=60)))
        poll.start()
        api.wait_until(lambda: api.methods.count("getUpdates") == 1, 10)
        update_id = ana.send("/start")
        poll.join(timeout=10)  # woken by the update, long before its 60 s
        assert not poll.is_alive(), "the long poll did not wake up when the update arrived"
        status, body = answer[0]
        update = Update.de_json(body["result"][0], None)
        assert status == 200 and update.update_id == update_id
        assert update.message.text == "/start" and update.message.entities[0].type == "bot_command"
        assert _raw(api, "getUpdates", timeout=0)[1]["result"] != []  # not confirmed yet
        assert _raw(api, "getUpdates", offset=update_id + 1, timeout=0)[1]["result"] == []
        assert api.confirmed_offset == update_id + 1


async def test_people_press_buttons_and_reply_in_forum_topics() -> None:
    with FakeBotAPI() as api:
        ana = api.user(42, username="ana")
        pia = api.user(500, first_name="Pia")
        group = api.group(-1001, forum=True)
        async with Bot("123:TEST", base_url=api.base_url) as bot:
            await bot.send_message(ana.id, "Pick one", reply_markup=KEYBOARD)
            press_id = ana.press("Done")  # by part of the label
            press = Update.de_json(api.updates[-1], bot)
            assert press.update_id == press_id and press.callback_query.data == "ck:t:1"
            assert press.callback_query.chat_instance and press.callback_query.message.text
            assert await bot.answer_callback_query(press.callback_query.id)
            with pytest.raises(BadRequest, match="Query is too old"):
                await bot.answer_callback_query(press.callback_query.id)
            topic = await bot.create_forum_topic(group.id, "#1 a question")
            post = await bot.send_message(
                group.id, "🆕 Ticket #1", message_thread_id=topic.message_thread_id
            )
            assert post.is_topic_message and post.message_thread_id == topic.message_thread_id
            group.reply(pia, post.message_id, "We can help.")
            reply = Update.de_json(api.updates[-1], bot).message
            assert reply.reply_to_message.message_id == post.message_id
            assert reply.message_thread_id == topic.message_thread_id and reply.is_topic_message
            group.send(pia, "And one more thing.", thread_id=topic.message_thread_id)
            more = Update.de_json(api.updates[-1], bot).message
            assert more.is_topic_message and more.message_thread_id == topic.message_thread_id
            assert more.reply_to_message.forum_topic_created.name == "#1 a question"
            document = await bot.send_document(
                ana.id, b'{"a": 1}', filename="data.json", caption="Your data"
            )
            assert document.document.file_name == "data.json"
            photo = await bot.send_photo(group.id, PNG, caption="Chart")
            assert photo.photo[-1].width == 1
        assert api.files[document.document.file_id] == ("data.json", b'{"a": 1}')
        assert ana.messages()[-1]["caption"] == "Your data"


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8ffff3f0005fe02fea7d6a4f20000000049454e44ae426082"
)


def test_a_finished_long_poll_leaves_nothing_waiting() -> None:
    api = FakeBotAPI()
    with api:
        done = threading.Event()
        threading.Thread(
            target=lambda: (_raw(api, "getUpdates", timeout=60), done.set()), daemon=True
        ).start()
        api.wait_until(lambda: "getUpdates" in api.methods, 10)
    assert done.wait(10), "closing the server did not end a held long poll"
