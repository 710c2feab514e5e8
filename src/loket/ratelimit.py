"""Rate limits with the `limits` library, reported in the IETF `RateLimit-*` headers.

The client is the connection's address, or the one a trusted proxy names (LOKET_TRUSTED_PROXIES).
Counters live in this process's memory: with several app servers each counts its own share, which
is why the limits are per server. A shared store (Redis, memcached) is one `storage_from_string` away.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from loket.deps import component
from loket.errors import LoketError
from loket.i18n import N_, message, request_language

TOO_MANY_REQUESTS = N_(
    "You are asking many questions in a short time. Wait %(seconds)s seconds and try again."
)


class TooManyRequests(LoketError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, text: str, headers: dict[str, str]) -> None:
        super().__init__(text)
        self.headers = headers


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


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limited(name: str):
    """A route dependency: the request counts against the client's limit `name`; past it, a 429 in the
    person's language with `Retry-After`."""

    def check(request: Request) -> None:
        verdict = component(request, RateLimits).hit(**{name: client_of(request)})
        if not verdict.allowed:
            text = message(TOO_MANY_REQUESTS, request_language(request), seconds=str(verdict.reset_seconds))
            raise TooManyRequests(text, verdict.headers())

    return Depends(check)
