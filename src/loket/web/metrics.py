"""Prometheus figures for each app: request counts and durations by route, never by raw path."""

from __future__ import annotations

import time

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "loket_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.duration = Histogram(
            "loket_http_request_duration_seconds", "HTTP request duration", ["route"], registry=self.registry
        )

    async def middleware(self, request: Request, call_next) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        self.requests.labels(request.method, route, str(response.status_code)).inc()
        self.duration.labels(route).observe(time.perf_counter() - started)
        return response

    def render(self) -> bytes:
        return generate_latest(self.registry)
