"""Prometheus figures for each app: request counts and durations by route, never by raw path, the job
queue as this replica sees it (shared on PostgreSQL, its own on SQLite), and the assistant's figures.

The assistant's figures come from the assistant itself: the app factory registers `Metrics` as an
observer of the conversation store and the hand-off service (loket.assistant.observers says why
there), so every stored answer is counted once, whichever channel asked it, and this block is the
only one that knows Prometheus. Every label has a bounded set of values (a status, a route, a channel,
an interface language or `other`, whose traffic): never free text or an id, for the number of series
and for personal data.
"""

from __future__ import annotations

import time

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from loket.assistant.observers import Answered
from loket.assistant.routing import Route
from loket.assistant.service import RATINGS
from loket.handoff.service import CONTACT_FORM_OFFERED, QUEUED
from loket.i18n import LANGUAGES
from loket.jobs import Jobs

CHANNELS = ("web", "widget", "api")
ROUTES = frozenset(Route)
# From a rule's milliseconds to an LLM's seconds.
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
TOKEN_KINDS = ("prompt", "completion")


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
        self.answers = Counter(
            "loket_answers",
            "Answers stored, by status, route, channel, language and traffic (people, staff, test)",
            ["status", "route", "channel", "language", "traffic"],
            registry=self.registry,
        )
        self.stages = Histogram(
            "loket_answer_stage_duration_seconds",
            "Time each pipeline stage took for a stored answer",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=self.registry,
        )
        self.feedback = Counter(
            "loket_feedback", "Ratings given on answers", ["rating"], registry=self.registry
        )
        self.handoffs = Counter(
            "loket_handoffs_requested",
            "Requests for a human: queued, or out of office hours offered the contact form",
            ["outcome"],
            registry=self.registry,
        )
        self.tokens = Counter(
            "loket_llm_tokens", "Tokens of the LLM that wrote answers", ["kind"], registry=self.registry
        )
        self.cost = Counter(
            "loket_llm_cost",
            "What the LLM that wrote answers cost, in the prices' currency",
            registry=self.registry,
        )
        # Series with few values exist from the start, so a dashboard shows 0 rather than no data.
        for rating in RATINGS:
            self.feedback.labels(rating)
        for outcome in (QUEUED, CONTACT_FORM_OFFERED):
            self.handoffs.labels(outcome)
        for kind in TOKEN_KINDS:
            self.tokens.labels(kind)

    async def middleware(self, request: Request, call_next) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        self.requests.labels(request.method, route, str(response.status_code)).inc()
        self.duration.labels(route).observe(time.perf_counter() - started)
        return response

    def render(self) -> bytes:
        return generate_latest(self.registry)

    # The observer of the assistant and the hand-offs

    def answered(self, answer: Answered) -> None:
        route = answer.route if answer.route in ROUTES else "other" if answer.route else "none"
        channel = answer.channel if answer.channel in CHANNELS else "other"
        language = answer.language if answer.language in LANGUAGES else "other"
        self.answers.labels(answer.status, route, channel, language, answer.traffic).inc()
        for stage, seconds in answer.stages.items():
            self.stages.labels(stage).observe(seconds)
        if answer.prompt_tokens is not None:
            self.tokens.labels("prompt").inc(answer.prompt_tokens)
        if answer.completion_tokens is not None:
            self.tokens.labels("completion").inc(answer.completion_tokens)
        if answer.cost:
            self.cost.inc(answer.cost)

    def rated(self, rating: str) -> None:
        self.feedback.labels(rating if rating in RATINGS else "other").inc()

    def handoff_requested(self, outcome: str) -> None:
        self.handoffs.labels(outcome).inc()


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
