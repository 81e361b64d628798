"""Broadcast pacing against a local Bot API server that enforces Telegram's 30 messages/second.

Usage:  python bench/broadcast.py [--users 5000]

The real python-telegram-bot Application (HTTP through httpx, the AIORateLimiter, the bot's
own pacing) sends one broadcast to `--users` users through tests/fake_bot_api.py, which answers
429 when more than 30 messages arrive within one second. Prints the achieved rate, the largest
number of messages the server saw in any one-second window, and how many 429s it answered.
Says whether the target of issue #8 (27 messages a second or more, no 429) is met; exits 1
if a message was not sent or a 429 came back.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram.ext import CallbackContext

from bot import broadcasts
from bot.config import Settings
from bot.core.assistant import Assistant
from bot.core.knowledge_holder import KnowledgeHolder
from bot.storage import Store, open_database
from bot.telegram_app import build_application, send_broadcasts
from tests.fake_bot_api import FakeBotAPI

TARGET = 27.0  # messages per second, sustained


def busiest_second(times: list[float]) -> int:
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def run(users: int) -> int:
    db = Path(tempfile.mkdtemp(prefix="broadcast-")) / "b.db"
    store = Store(open_database(db))
    with store.db.conn:
        store.db["users"].insert_all(
            ({"id": 10_000 + i, "lang": "en", "active": 1, "news": 1} for i in range(users)),
            pk="id",
        )
    with FakeBotAPI() as api:
        api.max_per_second = 30
        settings = Settings(bot_token="123:BENCH", api_url=api.base_url)
        assistant = Assistant(
            KnowledgeHolder(Path(__file__).resolve().parent.parent / "knowledge"),
            store,
            admin_ids=frozenset({1}),
        )
        application = build_application(settings, assistant, updater=False)
        async with application:
            item = assistant.broadcasts.create(1, broadcasts.parse("\nen: Hello from the bench"))
            assistant.broadcasts.confirm(item["id"])
            started = time.monotonic()
            await send_broadcasts(CallbackContext(application))
            elapsed = time.monotonic() - started
        times = [
            t for t, p in zip(api.sent_times, api.sent, strict=True) if int(p["chat_id"]) >= 10_000
        ]
        counts = assistant.broadcasts.counts(item["id"])
    print(
        f"users {users}: sent {counts.get('sent', 0)}, failed {counts.get('failed', 0)}, "
        f"in {elapsed:.1f} s"
    )
    rate = len(times) / (times[-1] - times[0])
    print(
        f"achieved rate: {rate:.1f} messages per second (BROADCAST_RATE {settings.broadcast_rate})"
    )
    print(f"largest number in any one-second window: {busiest_second(times)}")
    print(f"429 answers from the server: {api.rejected}")
    met = rate >= TARGET and api.rejected == 0
    print(f"target (>= {TARGET:.0f} per second, no 429): {'met' if met else 'NOT met'}")
    return 0 if counts.get("sent", 0) == users and api.rejected == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    return asyncio.run(run(parser.parse_args(argv).users))


if __name__ == "__main__":
    raise SystemExit(main())
