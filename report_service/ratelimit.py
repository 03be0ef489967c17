"""A token bucket per key (a client address), in the memory of one service process.

Verification is public and must answer while the database is busy with writes, so its limit
takes no database write: each serve process keeps its own buckets (with W workers a client gets
up to W times the rate). Identity checks are limited through the database instead (sessions.py).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

MAX_KEYS = 50_000  # buckets kept; the least recently used go first
VERIFY_PER_MINUTE = 300  # per client address and minute: a whole office behind one NAT address


class RateLimiter:
    def __init__(
        self,
        per_minute: float,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(1, int(per_minute)))
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> int | None:
        """None when the key may go on; else the seconds until it may (for Retry-After)."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = None
            else:
                self._buckets[key] = (tokens, now)
                wait = max(1, math.ceil((1.0 - tokens) / self.rate))
            while len(self._buckets) > MAX_KEYS:
                self._buckets.popitem(last=False)
        return wait
