"""`softlanding run` as a real process, talking HTTP to a local Bot API server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.fake_bot_api import FakeBotAPI


def test_run_answers_over_http_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    with FakeBotAPI() as api:
        env = dict(
            os.environ,
            TELEGRAM_BOT_TOKEN="123:TEST",
            TELEGRAM_API_URL=api.base_url,
            DATABASE_PATH=str(tmp_path / "bot.db"),
            LOG_LEVEL="INFO",
        )
        api.push_text(1, 42, "/start")
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            sent = api.wait_for_sent(2)
            assert "I'm Soft Landing" in sent[0]["text"] and int(sent[0]["chat_id"]) == 42
            api.push_text(2, 42, "/help")
            sent = api.wait_for_sent(3)
            assert "/checklist" in sent[2]["text"]
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output
        assert "Soft Landing starting: mode=polling" in output
        assert "setMyCommands" in api.methods and "getMe" in api.methods


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, payload: dict, secret: str | None) -> int:
    import json
    import urllib.error
    import urllib.request

    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, json.dumps(payload).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_webhook_mode_checks_the_secret_token(tmp_path: Path) -> None:
    import time

    from tests.telegram_recorder import message_update

    port = _free_port()
    with FakeBotAPI() as api:
        env = dict(
            os.environ,
            TELEGRAM_BOT_TOKEN="123:TEST",
            TELEGRAM_API_URL=api.base_url,
            DATABASE_PATH=str(tmp_path / "bot.db"),
            WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(port),
            WEBHOOK_PATH="hook",
            WEBHOOK_SECRET="s3cret-token",
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--webhook"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
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
    import time

    from tests.telegram_recorder import message_update

    port = _free_port()
    with FakeBotAPI() as api:
        env = dict(
            os.environ,
            TELEGRAM_BOT_TOKEN="123:TEST",
            TELEGRAM_API_URL=api.base_url,
            DATABASE_PATH=str(tmp_path / "bot.db"),
            WEBHOOK_PORT=str(port),
            WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
            WEBHOOK_SECRET="s3cret",
            SOFTLANDING_FAULT="after-journal",
            SOFTLANDING_FAULT_ONCE=str(tmp_path / "crashed"),
        )
        command = [sys.executable, "-m", "bot", "run", "--webhook"]
        first = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        url = f"http://127.0.0.1:{port}/telegram"
        deadline = time.monotonic() + 20
        while first.poll() is None and time.monotonic() < deadline:
            try:
                _post(url, message_update(1, 42, "/help"), "s3cret")
            except OSError:  # not listening yet, or the process died mid-request
                time.sleep(0.2)
        assert first.wait(timeout=10) == 137  # died after the journal write, before answering
        assert api.sent == []
        second = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            sent = api.wait_for_sent(1)
            assert "/checklist" in sent[0]["text"]
        finally:
            second.terminate()
            second.wait(timeout=30)
