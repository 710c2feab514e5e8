"""OpenTelemetry traces: off unless LOKET_OTEL_EXPORTER_OTLP_ENDPOINT names a collector (OTLP over HTTP).

On, each HTTP request is a server span named after its route template (the app factory hands the
provider to FastAPI's own telemetry), and beneath it a span for each stage of the answer pipeline
(`span`), each database statement and each outgoing HTTP call (LLM, embedder, OpenID provider,
harvest). Off, nothing is instrumented, the SDK is not even imported, and `span` hands out one shared
no-op: tracing off costs nothing.

Traces hold no personal data. Stages record their name and outcome, never a question or an answer;
statements are recorded as the driver gets them, with placeholders and without their values. And what
leaves the process is scrubbed first (`loket.tracing.sdk`): query values, raw paths (the route template
instead), exception messages and status descriptions are dropped, for a query string or a database
error's detail may hold what a person typed.

One configuration per process, the latest: `configure_tracing` keeps a TracerProvider of its own rather
than the global one (which can be set once only), so a second call (a test, another app) replaces the
first, and `stop_tracing` ends it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace import StatusCode

from loket import __version__
from loket.errors import LoketError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from sqlalchemy import Engine

    from loket.config import Settings

_NOT_TRACED = nullcontext(trace.INVALID_SPAN)


@dataclass
class _Tracing:
    provider: TracerProvider | None = None
    tracer: trace.Tracer | None = None
    stops: list = field(default_factory=list)  # what undoes the instrumentation, in order


_current = _Tracing()


def configure_tracing(
    settings: Settings, engine: Engine, *, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Traces for this process as `settings` say (the app factory and `loket worker` call it once), with
    `engine`'s statements among them; the provider, or None when tracing is off.

    `exporter` (tests) gets every span as it ends, instead of the OTLP collector in batches; it turns
    tracing on by itself."""
    stop_tracing()
    if exporter is None and not settings.otel_exporter_otlp_endpoint:
        return None
    from loket.tracing import sdk  # only now: the SDK and the exporter take a while to import

    provider, stops = sdk.start(settings, engine, exporter)
    _current.provider, _current.stops = provider, stops
    _current.tracer = provider.get_tracer("loket", __version__)
    return provider


def stop_tracing() -> None:
    """Exports what is still buffered and ends tracing: nothing stays instrumented."""
    stops, _current.stops = _current.stops, []
    _current.provider = _current.tracer = None
    for stop in stops:
        stop()


def flush() -> None:
    """Exports what the batch holds now (tests, before reading the collector)."""
    if _current.provider is not None:
        _current.provider.force_flush()


def span(name: str) -> AbstractContextManager[trace.Span]:
    """A span for a step of loket's own, a child of the current one. Set attributes only when
    `span.is_recording()`, and never anything a person typed. An exception that passes through gives
    the span its type (`error.type`), never its message, and an error status unless it is the client's
    (a LoketError below 500). Tracing off: one shared no-op, nothing else."""
    tracer = _current.tracer
    if tracer is None:
        return _NOT_TRACED
    return _recorded(tracer, name)


@contextmanager
def _recorded(tracer: trace.Tracer, name: str) -> Iterator[trace.Span]:
    with tracer.start_as_current_span(name, record_exception=False, set_status_on_exception=False) as current:
        try:
            yield current
        except Exception as error:
            current.set_attribute("error.type", type(error).__qualname__)
            if not (isinstance(error, LoketError) and error.status_code < 500):
                current.set_status(StatusCode.ERROR)
            raise


def current_trace_id() -> str | None:
    """The trace under way, as 32 hex digits (as logs and collectors show it); None outside one."""
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else None
