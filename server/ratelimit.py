"""Per-connection token buckets, and strikes that turn sustained abuse into close 4008."""

from __future__ import annotations

import time
from collections import deque


class TokenBucket:
    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self, cost: float = 1.0) -> bool:
        """Spend ``cost`` tokens if there are that many (a message, or a frame's bytes)."""
        self._refill()
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False

    def charge(self, cost: float) -> None:
        """Take ``cost`` more tokens for work already done (a reply whose cost was known only
        once built), into debt if need be: the next messages wait until it is paid back. The
        debt is bounded by one burst, so one huge reply cannot silence a client for long."""
        self._refill()
        self.tokens = max(-self.burst, self.tokens - cost)

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now


class Strikes:
    """Counts refusals in a sliding window; ``add`` is true once the limit is reached."""

    __slots__ = ("limit", "times", "window")

    def __init__(self, limit: int, window: float = 10.0) -> None:
        self.limit = limit
        self.window = window
        self.times: deque[float] | None = None  # made at the first refusal: most sockets have none

    def add(self) -> bool:
        now = time.monotonic()
        if self.times is None:
            self.times = deque()
        self.times.append(now)
        while self.times and self.times[0] < now - self.window:
            self.times.popleft()
        return len(self.times) >= self.limit
