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
