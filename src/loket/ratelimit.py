"""Rate limits with the `limits` library, reported in the IETF `RateLimit-*` headers.

The client is the connection's address, or the one a trusted proxy names (LOKET_TRUSTED_PROXIES).
Counters live where LOKET_RATE_LIMIT_STORAGE says: this process's memory (`memory://`, right for one
app server) or a Redis that all replicas share, so that together they enforce one limit.

When the shared store cannot be reached, loket keeps answering and counts in this process's memory
instead. A public service should not turn everyone away because its limiter's store is down, and
limits that still hold per replica (at most one limit's worth per replica) keep a flood in check.
The outage is logged once (`ratelimit.store_unavailable`), its end too (`ratelimit.store_back`); in
between the store is tried again every RETRY_SECONDS rather than on every request, so a dead store
slows down one request now and then, not all of them.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Depends, Request, Response
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from loket import clock
from loket.deps import component
from loket.errors import LoketError
from loket.i18n import N_, message, request_language
from loket.logging import get_logger

log = get_logger(__name__)
RETRY_SECONDS = 5.0
# A store beside the app answers in a millisecond; one that takes this long counts as unreachable.
STORE_TIMEOUT_SECONDS = 0.5

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
class Quota:
    """A client's own limit, counted under `key` at `rate` (a `limits` rate such as 600/minute): a
    partner's (`loket.partners.access` puts it on the request), instead of the per-address limits."""

    key: str
    rate: str


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
    def __init__(self, storage: str = "memory://", /, **limits: str) -> None:
        """Named limits such as `client="30/minute"`, counted in `storage` (a `limits` storage URI);
        each key is counted per scope separately."""
        self.items: dict[str, RateLimitItem] = {name: parse(text) for name, text in limits.items()}
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.shared: MovingWindowRateLimiter | None = None
        if not storage.startswith("memory://"):
            store = storage_from_string(
                storage,
                wrap_exceptions=True,
                socket_timeout=STORE_TIMEOUT_SECONDS,
                socket_connect_timeout=STORE_TIMEOUT_SECONDS,
            )
            self.shared = MovingWindowRateLimiter(store)
        self.retry_seconds = RETRY_SECONDS
        self._store_down = False
        self._retry_at = datetime.min.replace(tzinfo=UTC)
        self._state = threading.Lock()

    def hit(self, quota: Quota | None = None, **keys: str | None) -> Verdict:
        """Counts one request against every named limit whose key is given, and the client's own
        `quota`; the tightest one answers. At least one must be given."""
        counted = [(self.items[name], name, key) for name, key in keys.items() if key is not None]
        if quota:
            counted.append((_rate(quota.rate), "quota", quota.key))
        if self.shared and clock.now() >= self._retry_at:
            try:
                verdict = self._count(self.shared, counted)
            except StorageError as error:
                self._store_unavailable(error)
            else:
                self._store_reachable()
                return verdict
        return self._count(self.local, counted)

    def _count(
        self, limiter: MovingWindowRateLimiter, counted: list[tuple[RateLimitItem, str, str]]
    ) -> Verdict:
        verdicts = []
        for item, name, key in counted:
            allowed = limiter.hit(item, name, key)
            stats = limiter.get_window_stats(item, name, key)
            reset = max(0, math.ceil(stats.reset_time - time.time()))
            verdicts.append(Verdict(allowed, item.amount, stats.remaining, reset))
        return min(verdicts, key=lambda v: (v.allowed, v.remaining))

    def _store_unavailable(self, error: StorageError) -> None:
        with self._state:
            self._retry_at = clock.now() + timedelta(seconds=self.retry_seconds)
            if self._store_down:
                return
            self._store_down = True
        # The error's kind only: its text may hold a key, and the keys are clients' addresses.
        log.warning(
            "ratelimit.store_unavailable",
            error=type(error.storage_error).__name__,
            counting="per process",
            retry_seconds=self.retry_seconds,
        )

    def _store_reachable(self) -> None:
        with self._state:
            if not self._store_down:
                return
            self._store_down = False
        # A warning like the outage's start: whoever is told of the outage is told of its end.
        log.warning("ratelimit.store_back")


def client_of(request: Request) -> str | None:
    """The address a request is counted by; None for a partner, whose own quota counts instead."""
    if quota_of(request):
        return None
    return request.client.host if request.client else "unknown"


def quota_of(request: Request) -> Quota | None:
    return getattr(request.state, "quota", None)


def valid_rate(text: str) -> bool:
    """Whether `text` is a rate `limits` reads, such as 600/minute: what a `Quota` must have."""
    try:
        _rate(text)
    except ValueError:
        return False
    return True


@functools.cache
def _rate(text: str) -> RateLimitItem:
    return parse(text)


def limited(name: str):
    """A route dependency: the request counts against the client's limit `name`; past it, a 429 in the
    person's language with `Retry-After`."""

    def check(request: Request, response: Response) -> None:
        verdict = component(request, RateLimits).hit(quota_of(request), **{name: client_of(request)})
        if not verdict.allowed:
            text = message(TOO_MANY_REQUESTS, request_language(request), seconds=str(verdict.reset_seconds))
            raise TooManyRequests(text, verdict.headers())
        response.headers.update(verdict.headers())

    return Depends(check)
