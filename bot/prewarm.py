"""Warm the knowledge cache in a forked child while `softlanding run` imports the Telegram stack.

Without a valid cache (the first start after a knowledge edit, an upgrade or a new day) the
bot spends about 0.35 s parsing, validating and indexing the knowledge, and about as long
importing python-telegram-bot, httpx and the rest. Both are CPU-bound Python, so in one process
they add up; with a second core, a child process does the first while the parent does the
second, and the parent then reads the result from the cache (about 35 ms). On a restart the
child finds the cache valid and exits at once.

The child only ever writes the cache file (atomically, and only for knowledge without errors);
whatever goes wrong in it costs time, never correctness: the parent then loads the files
itself and reports their errors as usual.
"""

from __future__ import annotations

import gc
import logging
import os
import resource
import signal
import time
from pathlib import Path

log = logging.getLogger(__name__)
WAIT_SECONDS = 60.0  # a child that takes longer is stopped; the parent loads the files itself


def start(folder: Path, cache_file: Path | None) -> int | None:
    """Fork the warming child; its pid, or None where it would not help (no cache file, no
    fork, one core)."""
    if cache_file is None or not hasattr(os, "fork") or len(os.sched_getaffinity(0)) < 2:
        return None
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:  # the child: no logging (the parent logs the load), no output, no cleanup handlers
        logging.disable(logging.CRITICAL)
        gc.disable()
        from bot.core import knowledge_cache
        from bot.core.knowledge_holder import KnowledgeHolder

        if not knowledge_cache.holds(cache_file, knowledge_cache.cache_key(folder)):
            KnowledgeHolder(folder, cache_file=cache_file).reload()
        code = 0
    finally:
        os._exit(code)


def wait(pid: int | None) -> None:
    """Wait for the child to finish (stopping it after WAIT_SECONDS)."""
    if pid is None:
        return
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            log.debug("knowledge warming child: exit %s, peak %.0f MiB", status >> 8, peak)
            return
        time.sleep(0.002)
    log.warning("knowledge warming child still busy after %.0f s; stopped", WAIT_SECONDS)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
