"""The process's clock, with a test hook: `SOFTLANDING_CLOCK_FILE=<path>` sets the time.

When the variable is set, "now" is read from that file (an ISO datetime such as
`2026-11-25T10:00:00+00:00`; UTC when it has no offset) every time the bot asks for the time,
so an end-to-end test can move the bot's time while it runs (write a new file and rename it
over the old one, so that a half-written file is never read). Unset in production: UTC now.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from bot.storage import Clock, utc_now

log = logging.getLogger(__name__)


def process_clock() -> Clock:
    """`utc_now`, or the time in SOFTLANDING_CLOCK_FILE when that test hook is set."""
    name = os.environ.get("SOFTLANDING_CLOCK_FILE")
    if not name:
        return utc_now
    path = Path(name)
    log.warning("test hook: the clock is read from %s (SOFTLANDING_CLOCK_FILE)", path)

    def file_clock() -> dt.datetime:
        when = dt.datetime.fromisoformat(path.read_text(encoding="utf-8").strip())
        return when if when.tzinfo else when.replace(tzinfo=dt.UTC)

    return file_clock
