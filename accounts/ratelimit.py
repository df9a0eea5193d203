"""Per-token request rate limit: a sliding window kept in this process.

Each worker process counts on its own, so with N workers a token may make up to N times the
limit in the worst case; the limit protects the service from a runaway client, it is not
billing. ``TOKEN_RATE_LIMIT`` is "<requests>/<seconds>", e.g. "600/60"; "0" turns it off.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque


class SlidingWindowLimiter:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_setting(cls, setting: str) -> SlidingWindowLimiter | None:
        if not setting or setting.strip() == "0":
            return None
        count, _, seconds = setting.partition("/")
        return cls(int(count), float(seconds or 60))

    def hit(self, key: str, now: float | None = None) -> float | None:
        """Count a request; None when allowed, else the seconds until one is allowed again."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(hits[0] + self.window - now, 0.001)
            hits.append(now)
            return None


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
