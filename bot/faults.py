"""Fault injection for crash tests: `SOFTLANDING_FAULT=<point>` kills the process at that point.

The process exits as abruptly as SIGKILL would (`os._exit`), once: the first time the point is
reached it creates the file named by `SOFTLANDING_FAULT_ONCE` (if given) and later runs pass.
Unset in production, each call is one dictionary lookup.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

POINTS = frozenset(
    {
        "after-journal",
        "after-ticket-insert",
        "after-group-post",
        "after-provider-reply",
        "after-relay",
        "after-match-request",  # mentoring: the newcomer accepted, the request is stored
        "after-match-active",  # mentoring: the volunteer accepted, the contact is stored
    }
)


def fault_point(name: str) -> None:
    if os.environ.get("SOFTLANDING_FAULT") != name:
        return
    marker = os.environ.get("SOFTLANDING_FAULT_ONCE")
    if marker:
        path = Path(marker)
        if path.exists():
            return
        path.write_text(name)
    log.critical("fault injection: dying at %s", name)
    logging.shutdown()
    os._exit(137)
