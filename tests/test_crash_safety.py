"""Kill the bot at each step of an escalation; after a restart nothing is lost or doubled."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.fake_bot_api import FakeBotAPI, bot_env, start_bot
from tests.telegram_recorder import callback_update, message_update

GROUP = -1009
USER = 42
PROVIDER = 500


class BotProcess:
    """`softlanding run`, restarted whenever it dies (as a supervisor would)."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.crashes = 0
        self.process = self._start()

    def _start(self) -> subprocess.Popen:
        return start_bot(self.env, self.cwd)

    def keep_alive(self) -> None:
        if self.process.poll() is not None:
            assert self.process.returncode == 137, self.process.returncode
            self.crashes += 1
            self.process = self._start()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _wait(api: FakeBotAPI, bot: BotProcess, check, timeout: float = 40.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bot.keep_alive()
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out; sent: {api.sent}")


@pytest.mark.parametrize(
    "point",
    [
        "after-journal",
        "after-ticket-insert",
        "after-group-post",
        "after-provider-reply",
        "after-relay",
    ],
)
def test_a_crash_at_any_step_of_an_escalation_loses_and_doubles_nothing(
    point: str, tmp_path: Path
) -> None:
    db = tmp_path / "bot.db"
    with FakeBotAPI() as api:
        env = bot_env(
            api,
            db,
            PROVIDER_CHAT_DEFAULT=str(GROUP),
            REMINDER_INTERVAL_SECONDS="2",
            SOFTLANDING_FAULT=point,
            SOFTLANDING_FAULT_ONCE=str(tmp_path / "crashed"),
        )
        bot = BotProcess(env, tmp_path)
        try:
            api.push(message_update(1, USER, "/human"))
            api.push(message_update(2, USER, "Where can my kids learn ice hockey?"))
            _wait(api, bot, lambda: any("ice hockey" in p["text"] for p in api.sent_to(USER)))
            api.push(callback_update(3, USER, "esc:send"))
            post = _wait(
                api, bot, lambda: [p for p in api.sent_to(GROUP) if "Ticket #1" in p["text"]]
            )
            api.push(
                message_update(
                    4,
                    PROVIDER,
                    "The city sports office lists clubs.",
                    chat_type="supergroup",
                    chat_id=GROUP,
                    reply_to=post[0]["message_id"],
                    message_id=5000,
                    reply_to_text=post[0]["text"],
                )
            )
            _wait(api, bot, lambda: any("sports office" in p["text"] for p in api.sent_to(USER)))
            _wait(api, bot, lambda: any("Delivered" in p["text"] for p in api.sent_to(GROUP)))
        finally:
            bot.stop()
        assert bot.crashes == 1, f"the fault at {point} never fired"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 1
        messages = conn.execute("SELECT direction, status FROM ticket_messages").fetchall()
        assert messages == [("provider", "delivered")]
        unfinished = conn.execute(
            "SELECT COUNT(*) FROM journal WHERE update_id NOT IN "
            "(SELECT update_id FROM processed_updates)"
        ).fetchone()[0]
        assert unfinished == 0
