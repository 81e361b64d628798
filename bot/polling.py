"""Long polling that loses nothing: every update is journalled in SQLite before it is confirmed.

python-telegram-bot's own polling confirms a batch (by asking for the next offset) before the
handlers have run, so a kill -9 at the wrong moment drops updates. Here the fetch-and-confirm
step is ours: a batch is written to the journal in one transaction, and only then is the next
`getUpdates` (which confirms it) sent. On start, journalled updates that were never processed
to the end are processed first. Processing is idempotent by update id (see `telegram_app`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal

from telegram import Update
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.faults import fault_point
from bot.storage import Store

log = logging.getLogger(__name__)
POLL_TIMEOUT = 25  # seconds Telegram holds a getUpdates open
MAX_BACKOFF = 30.0


async def replay_unfinished(application: Application, store: Store) -> int:
    """Process what a crash left journalled but unprocessed; return how many."""
    pending = store.unfinished_updates()
    for _, payload in pending:
        await application.process_update(Update.de_json(json.loads(payload), application.bot))
    if pending:
        log.info("replayed %d journalled updates after a restart", len(pending))
    return len(pending)


async def fetch_batch(application: Application, store: Store, offset: int | None) -> list[Update]:
    updates = await application.bot.get_updates(
        offset=offset, timeout=POLL_TIMEOUT, allowed_updates=Update.ALL_TYPES
    )
    if updates:
        store.journal_updates(
            [
                (
                    u.update_id,
                    u.effective_user.id if u.effective_user else None,
                    json.dumps(u.to_dict()),
                )
                for u in updates
            ]
        )
        fault_point("after-journal")
    return list(updates)


async def poll(application: Application, store: Store, stop: asyncio.Event) -> None:
    """Fetch, journal, process; until `stop` is set (in-flight updates finish first)."""
    await application.bot.delete_webhook()
    await replay_unfinished(application, store)
    offset = store.next_offset()
    backoff = 1.0
    while not stop.is_set():
        fetch = asyncio.ensure_future(fetch_batch(application, store, offset))
        stopping = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if fetch not in done:
            fetch.cancel()  # nothing fetched is lost: unconfirmed updates come again
            break
        stopping.cancel()
        try:
            updates = fetch.result()
        except RetryAfter as exc:
            wait = exc.retry_after  # seconds; a timedelta in later python-telegram-bot versions
            await asyncio.sleep(wait.total_seconds() if hasattr(wait, "total_seconds") else wait)
            continue
        except (NetworkError, TimedOut) as exc:
            log.warning("getUpdates failed (%s); retrying in %.0f s", exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(MAX_BACKOFF, backoff * 2)
            continue
        backoff = 1.0
        for update in updates:
            await application.process_update(update)
            offset = update.update_id + 1


class JournallingQueue(asyncio.Queue):
    """The application's update queue that journals each update before accepting it.

    In webhook mode python-telegram-bot answers Telegram's POST only after `put` returns, so
    Telegram is told "received" only once the update is in SQLite.
    """

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            user = item.effective_user
            self.store.journal_updates(
                [(item.update_id, user.id if user else None, json.dumps(item.to_dict()))]
            )
            fault_point("after-journal")
        await super().put(item)


def run_journalled_polling(application: Application, store: Store) -> None:
    """Run the application with `poll` until SIGTERM or SIGINT."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with application:
            if application.post_init:
                await application.post_init(application)
            await application.start()
            try:
                await poll(application, store, stop)
            finally:
                await application.stop()
        log.info("stopped cleanly")

    asyncio.run(main())
