"""Operations on their way out: how the API tells its clients, in every answer and in its document.

An operation named in DEPRECATED keeps working until its sunset. Until then each of its answers
carries `Deprecation` (RFC 9745: since when, `@<unix seconds>`), `Sunset` (RFC 8594: when it stops, an
HTTP date) and `Link`s to the notice that explains it (`rel="deprecation"`) and to what replaces it
(`rel="successor-version"`), and the OpenAPI document marks it `deprecated: true`. The policy (at least
MINIMUM_NOTICE between the two dates, how partners are told) is in docs/api-lifecycle.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime

from fastapi import FastAPI
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_NOTICE = timedelta(days=180)


@dataclass(frozen=True)
class Deprecated:
    """One operation (`method` and `path` as in the OpenAPI document), deprecated at `since` (aware),
    answering until `sunset`; `notice` explains why and how to move, `successor` is what replaces it."""

    method: str
    path: str
    since: datetime
    sunset: datetime
    notice: str
    successor: str | None = None

    def __post_init__(self) -> None:
        if self.sunset - self.since < MINIMUM_NOTICE:
            raise ValueError(f"{self.method} {self.path}: its sunset must be {MINIMUM_NOTICE.days} days on")

    def note(self) -> str:
        """What the document says of it."""
        replaced = f" Use {self.successor} instead." if self.successor else ""
        return f"Deprecated since {self.since.date()}; answers until {self.sunset.date()}.{replaced}"

    def headers(self) -> list[tuple[bytes, bytes]]:
        links = [f'<{self.notice}>; rel="deprecation"; type="text/html"']
        if self.successor:
            links.append(f'<{self.successor}>; rel="successor-version"')
        return [
            (b"deprecation", f"@{int(self.since.timestamp())}".encode()),
            (b"sunset", format_datetime(self.sunset, usegmt=True).encode()),
            (b"link", ", ".join(links).encode()),
        ]


# Nothing is deprecated yet. An entry: Deprecated("GET", "/api/v1/...", since, sunset, notice, successor).
DEPRECATED: tuple[Deprecated, ...] = ()


def apply(app: FastAPI, deprecated: Iterable[Deprecated]) -> None:
    """Marks each operation deprecated in the app's document (generated now, so that an entry naming
    no operation of the app stops it at once) and adds the headers to its answers."""
    entries = {(entry.method.upper(), entry.path): entry for entry in deprecated}
    if not entries:
        return
    generate = app.openapi

    def openapi() -> dict:
        document = generate()
        for (method, path), entry in entries.items():
            operation = document["paths"].get(path, {}).get(method.lower())
            if operation is None:
                raise ValueError(f"DEPRECATED names {method} {path}, which the app does not have")
            operation["deprecated"] = True
            if entry.note() not in operation.get("description", ""):
                operation["description"] = f"{operation.get('description', '')}\n\n{entry.note()}".strip()
        return document

    app.openapi = openapi
    app.openapi()
    app.add_middleware(DeprecationHeaders, entries=list(entries.values()))


class DeprecationHeaders:
    """Adds a deprecated operation's headers to each of its answers, errors included."""

    def __init__(self, app: ASGIApp, entries: list[Deprecated]) -> None:
        self.app = app
        # Matched against the request's path as the router matches it, whatever router holds the route.
        self.entries = [(entry, compile_path(entry.path)[0]) for entry in entries]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        entry = next(
            (e for e, path in self.entries if e.method.upper() == method and path.match(scope["path"])), None
        )
        if entry is None:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *entry.headers()]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
