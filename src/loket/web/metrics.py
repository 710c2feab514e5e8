"""Prometheus figures for each app: request counts and durations by route, never by raw path, and the
job queue as this replica sees it (shared on PostgreSQL, its own on SQLite)."""

from __future__ import annotations

import time

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from loket.jobs import Jobs


class Metrics:
    def __init__(self, jobs: Jobs) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_JobFigures(jobs))
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


class _JobFigures:
    """Read at each scrape: queued (`todo`), running (`doing`), `failed`…, and the oldest wait."""

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs

    def collect(self):
        counts, oldest = self.jobs.figures()
        by_status = GaugeMetricFamily("loket_jobs", "Jobs by status", labels=["status"])
        for status in ("todo", "doing", "succeeded", "failed", "cancelled", "aborted"):
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        yield GaugeMetricFamily(
            "loket_jobs_oldest_waiting_seconds", "How long the oldest job due has waited", value=oldest or 0
        )
