"""`softlanding run` as a real process, talking HTTP to a local Bot API server."""

from __future__ import annotations

import json
import signal
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.fake_bot_api import FakeBotAPI, bot_env, start_bot
from tests.telegram_recorder import message_update


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, payload: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, json.dumps(payload).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _webhook_env(api: FakeBotAPI, tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    return bot_env(
        api,
        tmp_path / "bot.db",
        WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        WEBHOOK_PORT=str(port),
        WEBHOOK_PATH="hook",
        WEBHOOK_SECRET="s3cret-token",
        **extra,
    )


def test_run_answers_over_http_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    with FakeBotAPI() as api:
        api.push_text(1, 42, "/start")
        process = start_bot(
            bot_env(api, tmp_path / "bot.db", LOG_LEVEL="INFO"), tmp_path, output=True
        )
        try:
            sent = api.wait_for_sent(2)
            assert "I'm Soft Landing" in sent[0]["text"] and int(sent[0]["chat_id"]) == 42
            api.push_text(2, 42, "/help")
            sent = api.wait_for_sent(3)
            assert "/checklist" in sent[2]["text"]
            cache = tmp_path / "bot.db.knowledge-cache"  # written once it serves, for a restart
            deadline = time.monotonic() + 20
            while not cache.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert cache.exists()
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output
        assert "Soft Landing starting: mode=polling" in output
        assert "setMyCommands" in api.methods and "getMe" in api.methods


def test_webhook_mode_checks_the_secret_token(tmp_path: Path) -> None:
    port = _free_port()
    with FakeBotAPI() as api:
        process = start_bot(_webhook_env(api, tmp_path, port), tmp_path, "--webhook", output=True)
        url = f"http://127.0.0.1:{port}/hook"
        try:
            deadline = time.monotonic() + 20
            status = 0
            while time.monotonic() < deadline and not status:
                try:
                    status = _post(url, message_update(1, 42, "/help"), "wrong")
                except OSError:  # not listening yet
                    time.sleep(0.2)
            assert status == 403
            assert _post(url, message_update(2, 42, "/help"), None) == 403
            assert _post(url, message_update(3, 42, "/help"), "s3cret-token") == 200
            sent = api.wait_for_sent(1)
            assert len(sent) == 1 and "/checklist" in sent[0]["text"]
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
        assert "mode=webhook" in output
        assert "setWebhook" in api.methods


def test_webhook_update_is_journalled_before_telegram_gets_its_answer(tmp_path: Path) -> None:
    port = _free_port()
    with FakeBotAPI() as api:
        env = _webhook_env(
            api,
            tmp_path,
            port,
            SOFTLANDING_FAULT="after-journal",
            SOFTLANDING_FAULT_ONCE=str(tmp_path / "crashed"),
        )
        first = start_bot(env, tmp_path, "--webhook")
        url = f"http://127.0.0.1:{port}/hook"
        deadline = time.monotonic() + 20
        while first.poll() is None and time.monotonic() < deadline:
            try:
                _post(url, message_update(1, 42, "/help"), "s3cret-token")
            except OSError:  # not listening yet, or the process died mid-request
                time.sleep(0.2)
        assert first.wait(timeout=10) == 137  # died after the journal write, before answering
        assert api.sent == []
        second = start_bot(env, tmp_path, "--webhook")
        try:
            sent = api.wait_for_sent(1)
            assert "/checklist" in sent[0]["text"]
        finally:
            second.terminate()
            second.wait(timeout=30)
