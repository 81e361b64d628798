"""A python-telegram-bot request class that records calls instead of reaching Telegram.

It sits at the lowest seam (BaseRequest.do_request), so everything above it, including
serialisation, the rate limiter and the Bot methods, is the real code.
"""

from __future__ import annotations

import json
import time
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_USER = {"id": 999, "is_bot": True, "first_name": "Soft Landing", "username": "softlanding_bot"}


class RecordingRequest(BaseRequest):
    """Answers every Bot API call with a plausible result and keeps (method, params)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._message_id = 100
        self.blocked: set[int] = set()  # chat ids that blocked the bot (403)
        self.results: list[Any] = []
        self.times: list[float] = []  # when each call arrived (for pacing checks)
        self.rate_limited = 0  # answer this many sendMessage calls with 429 first

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = {}
        if request_data is not None:
            for key, value in request_data.json_parameters.items():
                try:
                    params[key] = json.loads(value)
                except json.JSONDecodeError:
                    params[key] = value
        self.calls.append((name, params))
        self.times.append(time.monotonic())
        self.results.append(None)
        if name == "sendMessage" and self.rate_limited > 0:
            self.rate_limited -= 1
            body = {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }
            return 429, json.dumps(body).encode()
        if params.get("chat_id") in self.blocked:
            body = {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was blocked by the user",
            }
            return 403, json.dumps(body).encode()
        result = self._result(name, params)
        self.results[-1] = result
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name in ("sendMessage", "sendDocument", "editMessageText"):
            if name != "editMessageText":
                self._message_id += 1
            chat_id = params.get("chat_id", 0)
            message = {
                "message_id": params.get("message_id", self._message_id),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
            if params.get("message_thread_id"):
                message |= {
                    "message_thread_id": params["message_thread_id"],
                    "is_topic_message": True,
                }
            return message
        if name == "createForumTopic":
            return {"message_thread_id": 77, "name": params.get("name", ""), "icon_color": 7322096}
        return True

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        """Parameters of each successful call of `method`, with the sent message's id."""
        out = []
        for (name, params), result in zip(self.calls, self.results, strict=True):
            if name == method and result is not None:
                extra = {"message_id": result["message_id"]} if isinstance(result, dict) else {}
                out.append(params | extra)
        return out


def message_update(
    update_id: int,
    user_id: int,
    text: str,
    *,
    chat_type: str = "private",
    language_code: str = "en",
    chat_id: int | None = None,
    reply_to: int | None = None,
    message_id: int | None = None,
    edited: bool = False,
    reply_to_text: str = "…",
) -> dict[str, Any]:
    chat = {"id": chat_id or (user_id if chat_type == "private" else -100123), "type": chat_type}
    if chat_type != "private":
        chat["title"] = "Some group"
    message: dict[str, Any] = {
        "message_id": message_id or update_id,
        "date": int(time.time()),
        "chat": chat,
        "from": {
            "id": user_id,
            "is_bot": False,
            "first_name": "Ana",
            "language_code": language_code,
        },
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    if reply_to is not None:
        message["reply_to_message"] = {
            "message_id": reply_to,
            "date": int(time.time()),
            "chat": chat,
            "from": BOT_USER,
            "text": reply_to_text,
        }
    if edited:
        message["edit_date"] = int(time.time())
        return {"update_id": update_id, "edited_message": message}
    return {"update_id": update_id, "message": message}


def callback_update(
    update_id: int, user_id: int, data: str, *, chat_id: int | None = None
) -> dict[str, Any]:
    chat = (
        {"id": chat_id, "type": "supergroup", "title": "Providers"}
        if chat_id
        else {"id": user_id, "type": "private"}
    )
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb{update_id}",
            "from": {"id": user_id, "is_bot": False, "first_name": "Ana", "username": "ana"},
            "chat_instance": "42",
            "data": data,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": chat,
                "from": BOT_USER,
                "text": "…",
            },
        },
    }
