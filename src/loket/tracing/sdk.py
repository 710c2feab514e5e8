"""The OpenTelemetry SDK's side of `loket.tracing`, imported only when tracing is on: the provider, its
sampler, the exporter behind the scrubber, and the instrumentation of httpx and the database engine."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy import __version__ as sqlalchemy_instrumentation
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import SpanKind, Status
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import Engine

from loket import __version__
from loket.config import Settings
from loket.logging import get_logger

log = get_logger(__name__)
TRACES_PATH = "/v1/traces"
REDACTED = "REDACTED"
# Attributes holding a URL or a query string, whose values may be what a person typed.
URL_ATTRIBUTES = ("url.full", "http.url", "http.target")
QUERY_ATTRIBUTES = ("url.query",)
# A query parameter's name is kept when it looks like one (`q`, `lang`); anything else is redacted too.
PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,31}")


def start(
    settings: Settings, engine: Engine, exporter: SpanExporter | None
) -> tuple[TracerProvider, list[Callable[[], None]]]:
    """A provider exporting to `exporter` at once, else to the settings' collector in batches, with
    httpx and `engine` instrumented; and what undoes it all, in order."""
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: settings.otel_service_name, SERVICE_VERSION: __version__})
    )
    # The sampler the SDK chose (OTEL_TRACES_SAMPLER; by default parent-based, always on), less the
    # statements and calls that belong to no request or stage: health probes, scrapes, start-up.
    provider.sampler = NoOrphanCalls(provider.sampler)
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(Scrubbed(exporter)))
        log.info("tracing.started", exporter=type(exporter).__name__)
    else:
        url = traces_url(settings.otel_exporter_otlp_endpoint or "")
        provider.add_span_processor(BatchSpanProcessor(Scrubbed(OTLPSpanExporter(endpoint=url))))
        where = urlsplit(url)  # without whatever credentials the URL may hold
        port = f":{where.port}" if where.port else ""
        log.info("tracing.started", exporter="otlp", collector=f"{where.scheme}://{where.hostname}{port}")
    if "OTEL_PROPAGATORS" not in os.environ:
        # W3C trace context only: no caller's baggage travels on to the LLM or the OpenID provider.
        propagate.set_global_textmap(TraceContextTextMapPropagator())
    httpx = HTTPXClientInstrumentor()  # one instance per process: instrumenting patches httpx's transports
    httpx.instrument(tracer_provider=provider)
    # The engine's own events, rather than SQLAlchemyInstrumentor, which would also patch create_engine
    # and Engine.connect for every engine of the process, for good.
    EngineTracer(
        provider.get_tracer("opentelemetry.instrumentation.sqlalchemy", sqlalchemy_instrumentation),
        engine,
        NoOpMeterProvider().get_meter("loket").create_up_down_counter("db.client.connections.usage"),
    )
    return provider, [httpx.uninstrument, EngineTracer.remove_all_event_listeners, provider.shutdown]


def traces_url(endpoint: str) -> str:
    """The collector's base URL (as OTEL_EXPORTER_OTLP_ENDPOINT has it) made its traces URL."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


class NoOrphanCalls(Sampler):
    """Drops a database statement or outgoing call that would start a trace of its own; everything else
    as `sampler` decides."""

    def __init__(self, sampler: Sampler) -> None:
        self.sampler = sampler

    def should_sample(
        self, parent_context, trace_id, name, kind=None, attributes=None, links=None, trace_state=None
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT and not trace.get_current_span(parent_context).get_span_context().is_valid:
            return SamplingResult(Decision.DROP)
        return self.sampler.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"NoOrphanCalls{{{self.sampler.get_description()}}}"


class Scrubbed(SpanExporter):
    """Hands spans on to `exporter` without what may be personal data: query values (and names that do
    not look like names), raw paths, exception messages and stack traces, status descriptions."""

    def __init__(self, exporter: SpanExporter) -> None:
        self.exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.exporter.export([scrubbed(span) for span in spans])

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)


def scrubbed(span: ReadableSpan) -> ReadableSpan:
    attributes = dict(span.attributes or {})
    for key in URL_ATTRIBUTES:
        if key in attributes:
            attributes[key] = _url(str(attributes[key]))
    for key in QUERY_ATTRIBUTES:
        if key in attributes:
            attributes[key] = _query(str(attributes[key]))
    if "url.path" in attributes:  # as requested: the route template instead, or nothing
        if route := attributes.get("http.route"):
            attributes["url.path"] = route
        else:
            del attributes["url.path"]
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=[_event(event) for event in span.events],
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code),  # without its description, often an error's message
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _event(event: Event) -> Event:
    """Figures, and an exception's type; no text (an exception's message, and its stack trace that ends
    in it)."""
    kept = {
        key: value
        for key, value in (event.attributes or {}).items()
        if key == "exception.type" or isinstance(value, int | float | bool)
    }
    return Event(event.name, kept, event.timestamp)


def _url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    return urlunsplit((parts.scheme, parts.netloc, parts.path, _query(parts.query), ""))


def _query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(name if PARAMETER_NAME.fullmatch(name) else REDACTED, REDACTED) for name, _ in pairs])
