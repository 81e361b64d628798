"""A local Bot API server on 127.0.0.1 for tests and benches (stdlib only).

Bot side: the methods `softlanding run` calls, answered as Telegram answers them: getMe,
getUpdates (real long polling: held open up to `timeout` seconds and woken at once when an
update arrives; `offset` confirms), sendMessage, editMessageText, editMessageReplyMarkup,
answerCallbackQuery, deleteMessage, sendDocument and sendPhoto (multipart), setMyCommands,
setWebhook / deleteWebhook / getWebhookInfo (with a webhook set, pending updates are POSTed to
it with the secret token, as Telegram does), createForumTopic. Errors have Telegram's shapes:
400 "Bad Request: message text is empty" / "message is too long" / "BUTTON_DATA_INVALID" /
"message is not modified: ...", 403 "Forbidden: bot was blocked by the user", 429 with
`parameters.retry_after` above `max_per_second`, 404 for a method it does not know. Messages
are stored as real Message objects (message_id, date in seconds, chat, from, text,
reply_markup); edits change them.

User side: `api.user(id)` is a person in a private chat with the bot and `api.group(chat_id)`
a supergroup (a forum if asked) the bot is in: they send texts and commands, press inline
buttons by their label, reply to the bot's messages, and read what the bot sent or edited.
`wait_confirmed(update_id)` waits until the bot asked for updates past that one; the journalled
polling of `softlanding run` does that only after it has processed the batch, so by then the
bot's replies are here.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

Json = dict[str, Any]
T = TypeVar("T")

BOT = {
    "id": 999,
    "is_bot": True,
    "first_name": "Soft Landing",
    "username": "softlanding_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
BOT_USER = {k: BOT[k] for k in ("id", "is_bot", "first_name", "username")}  # as in messages

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes
SENDING = frozenset({"sendMessage", "sendPhoto", "sendDocument"})  # counted by max_per_second
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
# Form-encoded requests carry every value as text; these are numbers, flags or JSON.
INT_PARAMS = frozenset(
    {"chat_id", "message_id", "message_thread_id", "offset", "limit", "timeout", "icon_color"}
    | {"reply_to_message_id", "max_connections", "cache_time"}
)
BOOL_PARAMS = frozenset(
    {"disable_notification", "protect_content", "show_alert", "drop_pending_updates"}
    | {"allow_sending_without_reply", "disable_web_page_preview", "has_spoiler"}
)
JSON_PARAMS = frozenset(
    {"reply_markup", "reply_parameters", "allowed_updates", "commands", "scope", "entities"}
    | {"caption_entities", "link_preview_options"}
)
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


class BotAPIError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional parameters."""

    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> Json:
        body: Json = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(reason: str) -> BotAPIError:
    return BotAPIError(400, f"Bad Request: {reason}")


def _decode(params: dict[str, Any]) -> Json:
    """Typed values from a form-encoded request (JSON bodies are typed already)."""
    out: Json = {}
    for key, value in params.items():
        if isinstance(value, str):
            if key in INT_PARAMS:
                value = int(value) if value.lstrip("-").isdigit() else value  # or "@name"
            elif key in BOOL_PARAMS:
                value = value.lower() == "true"
            elif key in JSON_PARAMS:
                try:
                    value = json.loads(value)
                except json.JSONDecodeError as exc:
                    raise _bad(f"can't parse {key} JSON object") from exc
        out[key] = value
    return out


def _parse_body(content_type: str, raw: bytes) -> tuple[Json, dict[str, tuple[str, bytes]]]:
    """Parameters and uploaded files (name -> (filename, content)) of one request."""
    files: dict[str, tuple[str, bytes]] = {}
    if content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + raw)
        params: Json = {}
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition"))
            payload = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is not None:
                files[name] = (filename, payload)
            else:
                params[name] = payload.decode()
        return _decode(params), files
    if "json" in content_type:
        return (json.loads(raw) if raw else {}), files
    form = parse_qs(raw.decode(), keep_blank_values=True)
    return _decode({k: v[0] for k, v in form.items()}), files


def _buttons(message: Json) -> list[Json]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def _png_size(content: bytes) -> tuple[int, int]:
    if content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) >= 24:
        return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    return 1, 1


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        return None  # a client killed mid-request (the crash tests do that on purpose)


class FakeBotAPI:
    """The Bot API of one bot on 127.0.0.1 (a context manager), and the people who use it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)  # notified on every change
        self.version = 0
        self.updates: list[Json] = []  # not confirmed yet
        self.confirmed_offset = 0  # the highest `offset` the bot has asked for
        self.sent: list[Json] = []  # successful sendMessage calls: parameters + message_id
        self.sent_times: list[float] = []  # when each of `sent` arrived (monotonic)
        self.max_per_second: int | None = None  # enforce Telegram's limit with 429s
        self.rejected = 0  # 429 answers given
        self.methods: list[str] = []  # every method called, in order
        self.errors: list[Json] = []  # error answers: method, chat_id, status, description
        self.chats: dict[int, Json] = {}
        self.messages: dict[tuple[int, int], Json] = {}  # (chat id, message id) -> Message now
        self.events: list[tuple[str, Json]] = []  # ("sent" | "edited" | "deleted", Message)
        self.callback_answers: dict[str, Json | None] = {}  # query id -> answer (None: not yet)
        self.presses: dict[int, str] = {}  # update id -> callback query id, of people's presses
        self.blocked: set[int] = set()  # users who blocked the bot (403 on sends to them)
        self.commands: dict[str, list[Json]] = {}  # language code ("" default) -> menu
        self.webhook: Json | None = None  # setWebhook parameters while a webhook is set
        self.webhook_posts: list[tuple[int, int]] = []  # (update id, HTTP status of the bot)
        self.files: dict[str, tuple[str, bytes]] = {}  # file id -> (file name, content)
        self._send_times: list[float] = []
        self._topics: dict[int, set[int]] = {}
        self._next_message_id = 1001
        self._next_update_id = 1
        self._ids = itertools.count(1)
        self._closing = False
        self._webhook_thread: threading.Thread | None = None
        self._methods: dict[str, Callable[[Json, dict[str, tuple[str, bytes]]], Any]] = {
            "getMe": lambda p, f: BOT,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": lambda p, f: self.commands.get(p.get("language_code") or "", []),
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._webhook_info,
            "createForumTopic": self._create_forum_topic,
        }
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )  # shutdown() waits for the next poll

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/bot"

    def __enter__(self) -> FakeBotAPI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self.changed:
            self._closing = True  # held long polls return now
            self._notify()
        self.server.shutdown()
        self.server.server_close()

    def _notify(self) -> None:
        self.version += 1
        self.changed.notify_all()

    # --- updates in -------------------------------------------------------------------------

    def push(self, update: Json) -> None:
        """Queue a raw update (the bot gets it by long polling, or on its webhook)."""
        with self.changed:
            for part in update.values():
                if isinstance(part, dict):
                    chat = part.get("chat") or (part.get("message") or {}).get("chat")
                    if chat and chat["id"] not in self.chats:
                        self.chats[chat["id"]] = dict(chat)
            if "callback_query" in update:  # the bot may answer it
                self.callback_answers.setdefault(update["callback_query"]["id"], None)
            self.updates.append(update)
            self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
            self._notify()

    def push_text(self, update_id: int, user_id: int, text: str) -> None:
        """A private message from user `user_id` ("Ana") as a raw update."""
        message: Json = {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Ana", "language_code": "en"},
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        self.push({"update_id": update_id, "message": message})

    def _push_new(self, kind: str, payload: Json) -> int:
        with self.changed:
            update_id = self._next_update_id
            self.push({"update_id": update_id, kind: payload})
            return update_id

    def _get_updates(self, params: Json) -> list[Json]:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(int(params.get("limit") or 100), 100))
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        with self.changed:
            if self.webhook is not None:
                raise BotAPIError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if offset > 0:  # confirms (forgets) every update before it, as Telegram does
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                if offset > self.confirmed_offset:
                    self.confirmed_offset = offset
                    self._notify()
            while not self.updates and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.changed.wait(remaining)
            return copy.deepcopy(self.updates[:limit])

    # --- the bot's methods ------------------------------------------------------------------

    def call(self, method: str, params: Json, files: dict[str, tuple[str, bytes]]) -> Any:
        """The result of one Bot API call; raises BotAPIError for an error answer."""
        with self.lock:
            self.methods.append(method)
        try:
            if method == "getUpdates":
                return self._get_updates(params)
            handler = self._methods.get(method)
            if handler is None:
                raise BotAPIError(404, "Not Found")
            with self.changed:
                result = handler(params, files)
                self._notify()
                return copy.deepcopy(result)
        except BotAPIError as exc:
            with self.changed:
                self.errors.append(
                    {
                        "method": method,
                        "chat_id": params.get("chat_id"),
                        "status": exc.code,
                        "description": exc.description,
                    }
                )
                self._notify()
            raise

    def _chat(self, params: Json) -> Json:
        """The chat a method is aimed at; 403 if it is a user who blocked the bot."""
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise _bad("chat not found")
        if chat_id in self.blocked:
            raise BotAPIError(403, "Forbidden: bot was blocked by the user")
        if chat_id not in self.chats:  # users the server has not seen (seeded in a database)
            kind = "private" if chat_id > 0 else "supergroup"
            self.chats[chat_id] = {"id": chat_id, "type": kind}
        return self.chats[chat_id]

    @staticmethod
    def _text(params: Json, key: str = "text") -> str:
        text = params.get(key)
        if not isinstance(text, str) or not text.strip():
            raise _bad("message text is empty")
        if len(text) > TEXT_LIMIT:
            raise _bad("message is too long")
        return text

    @staticmethod
    def _markup(params: Json) -> Json | None:
        markup = params.get("reply_markup")
        if not markup:
            return None
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list):
            return markup  # reply keyboards are not checked
        for row in rows:
            for button in row:
                if not str(button.get("text", "")).strip():
                    raise _bad("text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                    raise _bad("BUTTON_DATA_INVALID")
        return markup if any(rows) else None

    def _rate_limit(self) -> None:
        if self.max_per_second is None:
            return
        now = time.monotonic()
        recent = [t for t in self._send_times[-self.max_per_second :] if now - t < 1.0]
        if len(recent) >= self.max_per_second:
            self.rejected += 1
            raise BotAPIError(429, "Too Many Requests: retry after 1", retry_after=1)

    def _new_message(self, chat: Json, sender: Json, **content: Any) -> Json:
        message_id = self._next_message_id
        self._next_message_id += 1
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": dict(chat),
            "from": dict(sender),
        }
        message.update({k: v for k, v in content.items() if v is not None})
        self.messages[(chat["id"], message_id)] = message
        return message

    def _place(self, chat: Json, params: Json) -> Json:
        """Thread and reply fields of a message the bot sends, checked as Telegram does."""
        fields: Json = {}
        thread = params.get("message_thread_id")
        if thread and chat.get("is_forum"):
            if thread not in self._topics.get(chat["id"], set()):
                raise _bad("message thread not found")
            fields |= {"message_thread_id": thread, "is_topic_message": True}
        reply = params.get("reply_parameters") or (
            {"message_id": params["reply_to_message_id"]}
            if params.get("reply_to_message_id")
            else None
        )
        if reply:
            target = self.messages.get((chat["id"], int(reply["message_id"])))
            if target is not None:
                fields["reply_to_message"] = {
                    k: v for k, v in target.items() if k != "reply_to_message"
                }
            elif not reply.get("allow_sending_without_reply"):
                raise _bad("message to be replied not found")
        return fields

    def _record(self, kind: str, message: Json) -> None:
        self.events.append((kind, copy.deepcopy(message)))

    def _send_message(self, params: Json, files: dict[str, tuple[str, bytes]]) -> Json:
        chat = self._chat(params)
        text = self._text(params)
        markup = self._markup(params)
        place = self._place(chat, params)
        self._rate_limit()
        entities = params.get("entities") or None
        message = self._new_message(
            chat, BOT_USER, text=text, entities=entities, reply_markup=markup, **place
        )
        now = time.monotonic()
        self._send_times.append(now)
        self.sent.append(params | {"message_id": message["message_id"]})
        self.sent_times.append(now)
        self._record("sent", message)
        return message

    def _send_file(self, params: Json, files: dict[str, tuple[str, bytes]], field: str) -> Json:
        chat = self._chat(params)
        caption = params.get("caption")
        if caption is not None and len(caption) > CAPTION_LIMIT:
            raise _bad("message caption is too long")
        if field not in files:
            raise _bad(f"there is no {field} in the request")
        filename, content = files[field]
        if not content:
            raise _bad("file must be non-empty")
        markup = self._markup(params)
        place = self._place(chat, params)
        self._rate_limit()
        self._send_times.append(time.monotonic())
        number = next(self._ids)
        file_id = f"{field}-{number}"
        self.files[file_id] = (filename, content)
        about = {"file_id": file_id, "file_unique_id": f"u{number}", "file_size": len(content)}
        if field == "photo":
            width, height = _png_size(content)
            media: Any = [about | {"width": width, "height": height}]
        else:
            media = about | {"file_name": filename}
        message = self._new_message(
            chat,
            BOT_USER,
            caption=caption,
            caption_entities=params.get("caption_entities") or None,
            reply_markup=markup,
            **{field: media},
            **place,
        )
        self._record("sent", message)
        return message

    def _send_document(self, params: Json, files: dict[str, tuple[str, bytes]]) -> Json:
        return self._send_file(params, files, "document")

    def _send_photo(self, params: Json, files: dict[str, tuple[str, bytes]]) -> Json:
        return self._send_file(params, files, "photo")

    def _own_message(self, params: Json, action: str) -> Json:
        chat = self._chat(params)
        message = self.messages.get((chat["id"], int(params.get("message_id") or 0)))
        if message is None:
            raise _bad(f"message to {action} not found")
        if message["from"]["id"] != BOT["id"] and action == "edit":
            raise _bad("message can't be edited")
        return message

    def _edit_message_text(self, params: Json, files: dict[str, tuple[str, bytes]]) -> Json:
        message = self._own_message(params, "edit")
        text = self._text(params)
        markup = self._markup(params)  # none given: the keyboard goes, as in Telegram
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        entities = params.get("entities") or None
        if (message["text"], message.get("entities"), message.get("reply_markup")) == (
            text,
            entities,
            markup,
        ):
            raise _bad(NOT_MODIFIED)
        return self._edited(message, text=text, entities=entities, reply_markup=markup)

    def _edit_message_reply_markup(self, params: Json, files: dict[str, tuple[str, bytes]]) -> Json:
        message = self._own_message(params, "edit")
        markup = self._markup(params)
        if message.get("reply_markup") == markup:
            raise _bad(NOT_MODIFIED)
        return self._edited(message, reply_markup=markup)

    def _edited(self, message: Json, **changes: Any) -> Json:
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(time.time())
        self._record("edited", message)
        return message

    def _delete_message(self, params: Json, files: dict[str, tuple[str, bytes]]) -> bool:
        message = self._own_message(params, "delete")
        del self.messages[(message["chat"]["id"], message["message_id"])]
        self._record("deleted", message)
        return True

    def _answer_callback_query(self, params: Json, files: dict[str, tuple[str, bytes]]) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if self.callback_answers.get(query_id, {}) is not None:  # unknown or answered
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        self.callback_answers[query_id] = {
            "text": params.get("text"),
            "show_alert": bool(params.get("show_alert")),
        }
        return True

    def _set_my_commands(self, params: Json, files: dict[str, tuple[str, bytes]]) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            if not _COMMAND.match(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
        self.commands[params.get("language_code") or ""] = commands
        return True

    def _set_webhook(self, params: Json, files: dict[str, tuple[str, bytes]]) -> bool:
        if not params.get("url"):
            return self._delete_webhook(params, files)
        if params.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = dict(params)
        if self._webhook_thread is None:
            self._webhook_thread = threading.Thread(target=self._deliver, daemon=True)
            self._webhook_thread.start()
        return True

    def _delete_webhook(self, params: Json, files: dict[str, tuple[str, bytes]]) -> bool:
        if params.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = None
        return True

    def _webhook_info(self, params: Json, files: dict[str, tuple[str, bytes]]) -> Json:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }

    def _create_forum_topic(self, params: Json, files: dict[str, tuple[str, bytes]]) -> Json:
        chat = self._chat(params)
        if not chat.get("is_forum"):
            raise _bad("the chat is not a forum")
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise _bad("TOPIC_NAME_INVALID")
        topic = {"name": name, "icon_color": int(params.get("icon_color") or 7322096)}
        created = self._new_message(chat, BOT_USER, forum_topic_created=topic)
        thread = created["message_id"]
        created |= {"message_thread_id": thread, "is_topic_message": True}
        self._topics.setdefault(chat["id"], set()).add(thread)
        return {"message_thread_id": thread, **topic}

    def _deliver(self) -> None:
        """With a webhook set, POST pending updates to it one by one, as Telegram does;
        an update counts as delivered when the bot answers 200, else it is tried again."""
        while True:
            with self.changed:
                while not self._closing and not (self.webhook and self.updates):
                    self.changed.wait()
                if self._closing:
                    return
                update, hook = self.updates[0], dict(self.webhook or {})
            headers = {"Content-Type": "application/json"}
            if hook.get("secret_token"):
                headers[SECRET_HEADER] = str(hook["secret_token"])
            request = urllib.request.Request(str(hook["url"]), json.dumps(update).encode(), headers)
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 0  # not listening (yet)
            with self.changed:
                self.webhook_posts.append((update["update_id"], status))
                if status == 200 and self.updates and self.updates[0] is update:
                    self.updates.pop(0)
                    self.confirmed_offset = max(self.confirmed_offset, update["update_id"] + 1)
                self._notify()
                if status != 200:
                    self.changed.wait(0.2)  # Telegram tries again a little later

    # --- people -----------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        *,
        first_name: str = "Ana",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> TelegramUser:
        """A person with a private chat with the bot."""
        person = TelegramUser(self, user_id, first_name, last_name, username, language_code)
        with self.changed:
            chat = {"id": user_id, "type": "private", "first_name": first_name}
            if username:
                chat["username"] = username
            self.chats[user_id] = chat
        return person

    def group(
        self, chat_id: int, *, title: str = "Providers", forum: bool = False
    ) -> TelegramGroup:
        """A supergroup the bot is a member (admin) of; a forum with topics if `forum`."""
        with self.changed:
            chat: Json = {"id": chat_id, "type": "supergroup", "title": title}
            if forum:
                chat["is_forum"] = True
            self.chats[chat_id] = chat
        return TelegramGroup(self, chat_id)

    def write(
        self,
        sender: TelegramUser,
        chat_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> int:
        """`sender` writes `text` in the chat (a reply if `reply_to`; in a forum topic if
        `thread_id`, or if the message replied to is in one); the update id."""
        with self.changed:
            chat = self.chats[chat_id]
            place: Json = {}
            if reply_to is None and thread_id and chat.get("is_forum"):
                reply_to = thread_id  # Telegram: a topic message replies to the topic's start
            if reply_to is not None:
                target = self.messages.get((chat_id, reply_to))
                assert target is not None, f"no message {reply_to} in chat {chat_id} to reply to"
                place["reply_to_message"] = {
                    k: v for k, v in target.items() if k != "reply_to_message"
                }
                thread_id = thread_id or target.get("message_thread_id")
            if thread_id and chat.get("is_forum"):
                place |= {"message_thread_id": thread_id, "is_topic_message": True}
            entities = None
            if text.startswith("/"):
                length = len(text.split()[0]) if text.split() else 1
                entities = [{"type": "bot_command", "offset": 0, "length": length}]
            message = self._new_message(
                chat, sender.as_json(), text=text, entities=entities, **place
            )
            return self._push_new("message", copy.deepcopy(message))

    def edit(self, sender: TelegramUser, chat_id: int, message_id: int, text: str) -> int:
        """`sender` edits one of their messages; the bot gets an edited_message update."""
        with self.changed:
            message = self.messages[(chat_id, message_id)]
            assert message["from"]["id"] == sender.id, "people edit only their own messages"
            message |= {"text": text, "edit_date": int(time.time())}
            return self._push_new("edited_message", copy.deepcopy(message))

    def press(
        self,
        sender: TelegramUser,
        chat_id: int,
        label: str,
        *,
        among: list[Json] | None = None,
    ) -> int:
        """`sender` presses the inline button labelled `label` (exactly, else containing it)
        on the latest message of the bot in the chat that has one; or the first such button
        of the messages `among`, in order. The update id of the callback query."""
        with self.changed:
            candidates = among if among is not None else list(reversed(self.bot_messages(chat_id)))
            found = None
            for message in candidates:
                buttons = _buttons(message)
                loose = [b for b in buttons if label in b["text"]]
                exact = [b for b in loose if b["text"] == label]
                pick = loose if among is not None else exact or loose
                if pick:
                    found = (message, pick[0])
                    break
            if found is None:
                seen = [b["text"] for m in candidates for b in _buttons(m)]
                raise AssertionError(f"no button {label!r} in chat {chat_id}; buttons: {seen}")
            message, button = found
            if "callback_data" not in button:
                raise AssertionError(f"button {button['text']!r} is not a callback button")
            current = self.messages.get((chat_id, message["message_id"]))
            if current is None:
                raise AssertionError(f"the message with {label!r} was deleted")
            query_id = f"q{next(self._ids)}"
            query = {
                "id": query_id,
                "from": sender.as_json(),
                "chat_instance": f"ci{chat_id}",
                "message": copy.deepcopy(current),
                "data": button["callback_data"],
            }
            update_id = self._push_new("callback_query", query)
            self.presses[update_id] = query_id
            return update_id

    def answer_to(self, update_id: int) -> Json | None:
        """How the bot answered the press of that update (None: not at all, a spinner)."""
        with self.lock:
            return self.callback_answers.get(self.presses.get(update_id, ""))

    def bot_messages(self, chat_id: int) -> list[Json]:
        """The bot's messages in a chat as they are now (edits applied), oldest first."""
        return self.messages_from(BOT["id"], chat_id)

    def messages_from(self, sender_id: int, chat_id: int) -> list[Json]:
        """What someone (a person, or the bot) has written in a chat, as it reads now."""
        with self.lock:
            return [
                copy.deepcopy(m)
                for (chat, _), m in sorted(self.messages.items())
                if chat == chat_id and m["from"]["id"] == sender_id
            ]

    def mark(self) -> int:
        """A point in time to read the bot's activity from (see `activity`)."""
        with self.lock:
            return len(self.events)

    def activity(self, chat_id: int, since: int = 0) -> list[Json]:
        """Messages the bot sent or edited in a chat after `since`, as they were then."""
        with self.lock:
            return [
                copy.deepcopy(m)
                for kind, m in self.events[since:]
                if kind in ("sent", "edited") and m["chat"]["id"] == chat_id
            ]

    def wait_confirmed(self, update_id: int, timeout: float = 30.0) -> None:
        """Wait until the bot has asked for updates after `update_id` (confirming it)."""
        self.wait_until(lambda: self.confirmed_offset > update_id, timeout)

    # --- waiting ----------------------------------------------------------------------------

    def wait_until(self, check: Callable[[], T], timeout: float = 30.0) -> T:
        """`check()` once it is true (re-checked on every change); AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                version = self.version
            result = check()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; sent so far: {self.sent}; errors: {self.errors}")
            with self.changed:
                # Woken by a change here, or every 0.2 s for checks that look elsewhere.
                self.changed.wait_for(lambda v=version: self.version != v, min(remaining, 0.2))

    def wait_for_sent(self, count: int, timeout: float = 20.0) -> list[Json]:
        """All sendMessage parameters once there are at least `count`."""

        def enough() -> list[Json]:
            with self.lock:
                return list(self.sent) if len(self.sent) >= count else []

        try:
            return self.wait_until(enough, timeout)
        except AssertionError:
            raise AssertionError(f"expected {count} messages, got {self.sent}") from None

    def sent_to(self, chat_id: int) -> list[Json]:
        with self.lock:
            return [p for p in self.sent if int(p["chat_id"]) == chat_id]

    # --- HTTP -------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Telegram's server
            # One write per answer, sent at once (headers and body in separate small writes
            # would wait for the client's delayed ACK on a kept-alive connection: 40 ms).
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                self._answer(self.headers.get("Content-Type", ""), raw)

            def do_GET(self) -> None:
                query = urlsplit(self.path).query.encode()
                self._answer("application/x-www-form-urlencoded", query)

            def _answer(self, content_type: str, raw: bytes) -> None:
                path = urlsplit(self.path).path
                status, body = 404, BotAPIError(404, "Not Found").body()
                if path.startswith("/bot") and path.count("/") == 2:
                    method = path.rsplit("/", 1)[-1]
                    try:
                        params, files = _parse_body(content_type, raw)
                        status, body = 200, {"ok": True, "result": api.call(method, params, files)}
                    except BotAPIError as exc:
                        status, body = exc.code, exc.body()
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return None

        return Handler


class TelegramUser:
    """A person in Telegram: writes to the bot in their private chat and presses its buttons."""

    def __init__(
        self,
        api: FakeBotAPI,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> None:
        self.api = api
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code

    def as_json(self) -> Json:
        user: Json = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                user[key] = getattr(self, key)
        return user

    def send(self, text: str) -> int:
        """A text or /command to the bot; the update id."""
        return self.api.write(self, self.id, text)

    def press(self, label: str, *, among: list[Json] | None = None) -> int:
        return self.api.press(self, self.id, label, among=among)

    def messages(self) -> list[Json]:
        """What the bot has written in this chat (as it reads now)."""
        return self.api.bot_messages(self.id)

    def block(self) -> None:
        """The user blocks the bot: sending to them is refused with 403."""
        with self.api.changed:
            self.api.blocked.add(self.id)


class TelegramGroup:
    """A supergroup the bot is in: members write, reply to the bot and press its buttons."""

    def __init__(self, api: FakeBotAPI, chat_id: int) -> None:
        self.api = api
        self.id = chat_id

    def send(self, member: TelegramUser, text: str, *, thread_id: int | None = None) -> int:
        return self.api.write(member, self.id, text, thread_id=thread_id)

    def reply(self, member: TelegramUser, message_id: int, text: str) -> int:
        """`member` replies to a message (in its forum topic, if any)."""
        return self.api.write(member, self.id, text, reply_to=message_id)

    def edit(self, member: TelegramUser, message_id: int, text: str) -> int:
        return self.api.edit(member, self.id, message_id, text)

    def press(self, member: TelegramUser, label: str, *, among: list[Json] | None = None) -> int:
        return self.api.press(member, self.id, label, among=among)

    def messages(self) -> list[Json]:
        return self.api.bot_messages(self.id)


def bot_env(api: FakeBotAPI, database: Path, **extra: str) -> dict[str, str]:
    """The environment of a `softlanding run` process that talks to `api`."""
    return dict(
        os.environ,
        TELEGRAM_BOT_TOKEN="123:TEST",
        TELEGRAM_API_URL=api.base_url,
        DATABASE_PATH=str(database),
        **extra,
    )


def start_bot(
    env: dict[str, str], cwd: Path, *args: str, output: bool = False, log: Path | None = None
) -> subprocess.Popen:
    """`softlanding run [args]` as a child process; its output captured if asked (`output`:
    a pipe the caller must read; `log`: a file), else dropped."""
    if log is not None:
        with log.open("ab") as sink:  # the child keeps its own copy of the descriptor
            return subprocess.Popen(
                [sys.executable, "-m", "bot", "run", *args],
                env=env,
                cwd=cwd,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
    sink = subprocess.PIPE if output else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", *args],
        env=env,
        cwd=cwd,
        stdout=sink,
        stderr=subprocess.STDOUT if output else sink,
        text=output,
    )
