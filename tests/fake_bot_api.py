"""A minimal Bot API server on 127.0.0.1 for process-level smoke tests (stdlib only).

It answers the methods `softlanding run` calls at start-up and in a simple conversation:
getMe, deleteWebhook, setMyCommands, getUpdates (serving queued updates, confirming by offset)
and sendMessage (recorded). Everything else answers `true`.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

BOT = {
    "id": 999,
    "is_bot": True,
    "first_name": "Soft Landing",
    "username": "softlanding_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


_TooMany = object()  # marker: answer 429 Too Many Requests


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        return None  # a client killed mid-request (the crash tests do that on purpose)


class FakeBotAPI:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.sent_times: list[float] = []
        self.max_per_second: int | None = None  # enforce Telegram's limit with 429s
        self.rejected = 0
        self.methods: list[str] = []
        self.lock = threading.Lock()
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/bot"

    def __enter__(self) -> FakeBotAPI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def push_text(self, update_id: int, user_id: int, text: str) -> None:
        message = {
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
        with self.lock:
            self.updates.append({"update_id": update_id, "message": message})

    def push(self, update: dict[str, Any]) -> None:
        with self.lock:
            self.updates.append(update)

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return [p for p in self.sent if int(p["chat_id"]) == chat_id]

    def wait_until(self, check: Any, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"timed out; sent so far: {self.sent}")

    def wait_for_sent(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.sent) >= count:
                    return list(self.sent)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} messages, got {self.sent}")

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        with self.lock:
            self.methods.append(method)
            if method == "getMe":
                return BOT
            if method == "getUpdates":
                offset = int(params.get("offset") or 0)
                if offset:  # confirms (forgets) everything before it, as Telegram does
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                limit = int(params.get("limit") or 100)
                return self.updates[:limit]
            if method == "sendMessage" and self.max_per_second is not None:
                now = time.monotonic()
                recent = [t for t in self.sent_times[-self.max_per_second :] if now - t < 1.0]
                if len(recent) >= self.max_per_second:
                    self.rejected += 1
                    return _TooMany
            if method == "sendMessage":
                self.sent_times.append(time.monotonic())
                message_id = 1001 + len(self.sent)
                chat_id = int(params["chat_id"])
                self.sent.append(params | {"message_id": message_id})
                return {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                    "from": BOT,
                    "text": params.get("text", ""),
                }
        return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                ctype = self.headers.get("Content-Type", "")
                if "json" in ctype and raw:
                    params = json.loads(raw)
                else:
                    params = {k: v[0] for k, v in parse_qs(raw).items()}
                for key, value in list(params.items()):
                    if isinstance(value, str) and value[:1] in "[{":
                        with contextlib.suppress(json.JSONDecodeError):
                            params[key] = json.loads(value)
                method = self.path.rsplit("/", 1)[-1]
                if method == "getUpdates" and not api.updates:
                    time.sleep(0.2)  # a short long-poll
                result = api._answer(method, params)
                status = 200
                if result is _TooMany:
                    status = 429
                    body = json.dumps(
                        {
                            "ok": False,
                            "error_code": 429,
                            "description": "Too Many Requests: retry after 1",
                            "parameters": {"retry_after": 1},
                        }
                    ).encode()
                else:
                    body = json.dumps({"ok": True, "result": result}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return None

        return Handler


def bot_env(api: FakeBotAPI, database: Path, **extra: str) -> dict[str, str]:
    """The environment of a `softlanding run` process that talks to `api`."""
    return dict(
        os.environ,
        TELEGRAM_BOT_TOKEN="123:TEST",
        TELEGRAM_API_URL=api.base_url,
        DATABASE_PATH=str(database),
        **extra,
    )


def start_bot(env: dict[str, str], cwd: Path, *args: str, output: bool = False) -> subprocess.Popen:
    """`softlanding run [args]` as a child process (its output captured only if asked)."""
    sink = subprocess.PIPE if output else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", *args],
        env=env,
        cwd=cwd,
        stdout=sink,
        stderr=subprocess.STDOUT if output else sink,
        text=output,
    )
