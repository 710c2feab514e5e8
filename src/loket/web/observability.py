"""Request ids in every log line and on every response, and FastAPI's own telemetry for the server spans.

A request keeps the `X-Request-ID` it came with when that is a plain token (8 to 64 letters, digits,
`.`, `_` or `-`: a proxy's or a client's), else gets a new one. It goes back in the response's
`X-Request-ID` header and into structlog's context for the request's whole duration, so every log line
of the request carries `request_id`, from the pipeline's to the database's.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

import structlog
from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

REQUEST_ID_HEADER = "X-Request-ID"
WELL_FORMED = re.compile(rb"[A-Za-z0-9._-]{8,64}")
SCOPE_KEY = "loket.request_id"
# Probes, scrapes and static files make no trace worth keeping; their statements go with them.
UNTRACED = ("/healthz", "/readyz", "/metrics")


class RequestIds:
    """Pure ASGI middleware, as SecurityHeaders: streamed answers pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = scope[SCOPE_KEY] = _incoming(scope) or uuid.uuid4().hex
        server_span = trace.get_current_span()
        if server_span.is_recording():
            server_span.set_attribute("loket.request_id", request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.reset_contextvars(**bound)


def request_id(scope: Scope) -> str | None:
    """The request's id, for what answers outside the middleware (the server error handler)."""
    return scope.get(SCOPE_KEY)


def _incoming(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            return value.decode("ascii") if WELL_FORMED.fullmatch(value) else None
    return None


def telemetry(provider: TracerProvider | None) -> TelemetryConfig:
    """FastAPI's telemetry: a server span per request, named after its route template, to `provider`;
    no spans at all without one. Never FastAPI's metrics (loket's are Prometheus') nor its logs (they
    would hold exception messages), whatever global providers the process may have."""
    config: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "auto_configure": False}
    if provider is None:
        return config
    return config | {
        "tracing": True,
        "tracer_provider": provider,
        "operation_spans": False,  # dependencies, endpoint, serialisation: noise next to the stages
        "exclude": _untraced,
    }


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    path = scope.get("path", "")
    return path in UNTRACED or path.startswith("/static/")
