"""HTTP for harvesting: timeouts, retries with back-off, a polite pause between requests, and only what
the harvest policy allows (`loket.harvest`)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from loket import __version__
from loket.catalog.importers.document import Document
from loket.harvest import HarvestPolicy, Refused

_RETRYABLE = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 30.0


class FetchError(Exception):
    pass


class Fetcher:
    def __init__(
        self,
        policy: HarvestPolicy,
        timeout: float = 20.0,
        retries: int = 3,
        min_interval: float = 0.2,
        backoff: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`policy` says where it may fetch from and how much (`loket.harvest`); `clock` and `sleep` are
        the pause's: a test passes its own and moves time without waiting."""
        self._policy = policy
        self._client = policy.client({"User-Agent": f"loket/{__version__} (catalogue harvester)"}, timeout)
        self._retries = retries
        self._min_interval = min_interval
        self._backoff = backoff
        self._clock = clock
        self._sleep = sleep
        self._last_request = float("-inf")  # the first request never waits

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_exc) -> None:
        self._client.close()

    def get(self, url: str) -> Document:
        response = None
        for attempt in range(self._retries + 1):
            self._wait_politely()
            try:
                response, body = self._policy.get(self._client, url)
            except Refused as refused:
                raise FetchError(f"refused: {refused}") from refused
            except httpx.HTTPError as error:
                reason = _describe(error)
            else:
                if response.status_code < 400:
                    media_type = response.headers.get("content-type", "").split(";")[0].strip()
                    return Document(name=str(response.url), data=body, media_type=media_type)
                reason = f"HTTP {response.status_code}"
                if response.status_code not in _RETRYABLE:
                    break
            if attempt < self._retries:
                self._sleep(_retry_after(response) if reason == "HTTP 429" else self._backoff * 2**attempt)
        raise FetchError(f"could not fetch ({reason})")

    def _wait_politely(self) -> None:
        pause = self._min_interval - (self._clock() - self._last_request)
        if pause > 0:
            self._sleep(pause)
        self._last_request = self._clock()


def _retry_after(response: httpx.Response) -> float:
    """What a server asks for when it is rate limiting us, within reason."""
    value = response.headers.get("retry-after", "")
    return min(float(value), MAX_RETRY_AFTER) if value.isdigit() else 1.0


def _describe(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    if isinstance(error, httpx.ConnectError):
        return "cannot connect"
    return type(error).__name__
