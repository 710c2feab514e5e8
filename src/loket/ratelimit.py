"""Rate limits with the `limits` library, reported in the IETF `RateLimit-*` headers.

Counters live in this process's memory: with several app servers each counts its own share, which
is why the limits are per server. A shared store (Redis, memcached) is one `storage_from_string` away.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


class RateLimits:
    def __init__(self, **limits: str) -> None:
        """Named limits such as `client="30/minute"`; each key is counted per scope separately."""
        self.items: dict[str, RateLimitItem] = {name: parse(text) for name, text in limits.items()}
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, **keys: str | None) -> Verdict:
        """Counts one request against every named limit whose key is given; the tightest one answers."""
        verdicts = []
        for name, key in keys.items():
            if key is None:
                continue
            item = self.items[name]
            allowed = self.limiter.hit(item, name, key)
            stats = self.limiter.get_window_stats(item, name, key)
            reset = max(0, math.ceil(stats.reset_time - time.time()))
            verdicts.append(Verdict(allowed, item.amount, stats.remaining, reset))
        return min(verdicts, key=lambda v: (v.allowed, v.remaining))
