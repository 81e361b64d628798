"""Per-user flood control: a sliding window of recent messages per user, kept in memory."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class FloodGate:
    """Allows `limit` updates per `window` seconds per user; says "slow down" once per burst.

    Other users are unaffected: each user has their own window. Memory stays bounded because
    a user's window is dropped as soon as it is empty.
    """

    def __init__(
        self, limit: int = 20, window: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def check(self, user_id: int) -> tuple[bool, bool]:
        """(allowed, warn): warn is True for the first refused update of a burst."""
        now = self.clock()
        recent = self._seen.setdefault(user_id, deque())
        while recent and now - recent[0] > self.window:
            recent.popleft()
        if len(recent) < self.limit:
            recent.append(now)
            self._warned.pop(user_id, None)
            return True, False
        warn = now - self._warned.get(user_id, -1e18) > self.window
        if warn:
            self._warned[user_id] = now
        return False, warn

    def forget_idle(self) -> None:
        now = self.clock()
        for user_id in [u for u, d in self._seen.items() if not d or now - d[-1] > self.window]:
            self._seen.pop(user_id, None)
            self._warned.pop(user_id, None)
