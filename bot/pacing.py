"""A steady sending schedule: at most `rate` messages a second, without drift or bursts.

Telegram answers 429 when a bot sends more than about 30 messages within a second. Sleeping
1/rate after each message falls behind (every late wake-up and every slow send is lost for
good), so a broadcast paced at 25/s ran at 24. Here each message gets a slot on a fixed grid
(the "virtual scheduling" form of the generic cell rate algorithm): a message may go up to
`tolerance` of an interval before its slot, so small delays are made up, but never more, so
any one-second window holds at most floor(rate + tolerance) + 1 messages (29 at 28/s). After a
late message the grid restarts from it: there is never a burst to catch up.
"""

from __future__ import annotations


class Pacer:
    """Slots for messages at `rate` per second; `wait(now)` books the next one."""

    def __init__(self, rate: float, *, tolerance: float = 0.5) -> None:
        if rate <= 0:
            raise ValueError("the rate must be positive")
        self.interval = 1.0 / rate
        self.tolerance = tolerance * self.interval
        self._due: float | None = None  # the slot of the next message

    def wait(self, now: float) -> float:
        """Seconds to wait (0 or more) before the next message may be sent; books its slot."""
        due = now if self._due is None else self._due
        send_at = max(now, due - self.tolerance)
        self._due = max(due, send_at) + self.interval
        return send_at - now

    def most_in_one_second(self) -> int:
        """The most messages this schedule lets into any one-second window."""
        return int((1.0 + self.tolerance) / self.interval + 1e-9) + 1
