"""Observability (issue 16): request ids in every log line and response, and OpenTelemetry traces of each
request, pipeline stage, database statement and outgoing call, exported over OTLP/HTTP when configured,
never holding what a person typed. SQLite only: the database plays no part.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from fastapi.testclient import TestClient
from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from pydantic import ValidationError

from loket import tracing
from loket.config import Settings
from loket.errors import BadRequest
from loket.logging import configure as configure_logging
from loket.tracing import configure_tracing, stop_tracing
from loket.tracing.sdk import scrubbed
from loket.web.app import create_app
from tests.test_assistant_pipeline import ALL_STAGES
from tests.web_support import demo_settings, load_demo

STAGES = ALL_STAGES  # the order brief §5 lists them
QUESTION = "Mijn identiteitskaart is gestolen. Wat moet ik doen?"
NUMBER = "85.07.30-033.28"
WITH_NUMBER = f"Wanneer vervalt de eID van {NUMBER}?"
SEARCHED = "hondenbelasting Jozef Vermeulen"
HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(autouse=True)
def _tracing_ends_with_each_test() -> Iterator[None]:
    yield
    stop_tracing()


# --- a real OTLP/HTTP collector, and a plain server for outgoing calls ---------------------------------


@dataclass
class Recorder:
    """A local HTTP server: records POST /v1/traces (OTLP protobuf) and every GET with its headers."""

    bodies: list[bytes] = field(default_factory=list)
    gets: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def spans(self) -> list[Exported]:
        found = []
        for body in self.bodies:
            request = ExportTraceServiceRequest.FromString(body)
            for resource in request.resource_spans:
                service = {a.key: _value(a.value) for a in resource.resource.attributes}["service.name"]
                for scope in resource.scope_spans:
                    found += [Exported.of(span, service) for span in scope.spans]
        return found


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if self.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path != "/v1/traces":
                self.send_error(404)
                return
            recorder.bodies.append(body)
            self._answer(ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf")

        def do_GET(self):
            recorder.gets.append((self.path, {name.lower(): value for name, value in self.headers.items()}))
            self._answer(b"ok", "text/plain")

        def _answer(self, body: bytes, kind: str):
            self.send_response(200)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    recorder.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=recorder.server.serve_forever, daemon=True)
    thread.start()
    yield recorder
    recorder.server.shutdown()
    thread.join(timeout=5)
    recorder.server.server_close()


@dataclass
class Exported:
    name: str
    kind: int
    service: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict
    status: str
    events: list

    @classmethod
    def of(cls, span: OtlpSpan, service: str) -> Exported:
        return cls(
            name=span.name,
            kind=span.kind,
            service=service,
            trace_id=span.trace_id.hex(),
            span_id=span.span_id.hex(),
            parent_id=span.parent_span_id.hex(),
            attributes={a.key: _value(a.value) for a in span.attributes},
            status=span.status.message,
            events=[(e.name, {a.key: _value(a.value) for a in e.attributes}) for e in span.events],
        )

    def texts(self) -> list[str]:
        """Every text the span carries."""
        texts = [self.name, self.status, *map(str, self.attributes), *map(str, self.attributes.values())]
        for name, attributes in self.events:
            texts += [name, *map(str, attributes.values())]
        return texts


def _value(value):
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    return getattr(value, kind) if kind else None


@contextmanager
def _baggage(**entries: str) -> Iterator[None]:
    context = None
    for name, value in entries.items():
        context = baggage.set_baggage(name, value, context)
    token = otel_context.attach(context)
    try:
        yield
    finally:
        otel_context.detach(token)


def _logs(captured) -> list[dict]:
    return [json.loads(line) for line in captured.err.splitlines() if line.startswith("{")]


# --- an app with tracing on, exporting to the collector ------------------------------------------------


def test_an_answer_is_traced_to_the_collector_without_what_was_typed(
    sqlite_template, tmp_path, recorder, capsys
):
    settings = demo_settings(sqlite_template, tmp_path, otel_exporter_otlp_endpoint=recorder.url)
    app = create_app(settings)
    load_demo(app)
    configure_logging("INFO")
    capsys.readouterr()
    with TestClient(app) as client:
        answered = client.post("/api/v1/ask", json={"question": QUESTION, "language": "nl"})
        refused = client.post("/api/v1/ask", json={"question": WITH_NUMBER, "language": "nl"})
        searched = client.get("/api/v1/search", params={"q": SEARCHED, "limit": 3})
        client.get("/healthz")
        client.get("/readyz")
    tracing.flush()
    logs = _logs(capsys.readouterr())
    app.state.services.db.dispose()
    assert answered.json()["status"] == "answered" and refused.json()["status"] == "refused_personal_data"
    assert searched.status_code == 200
    spans = recorder.spans()
    assert {span.service for span in spans} == {"loket"}

    # The answer's trace: the request, each stage beneath it, the statements beneath those.
    trace_id = answered.json()["trace_id"]
    assert HEX32.fullmatch(trace_id)
    in_trace = [span for span in spans if span.trace_id == trace_id]
    (server,) = [span for span in in_trace if span.kind == OtlpSpan.SpanKind.SPAN_KIND_SERVER]
    assert server.name == "POST /api/v1/ask"
    assert server.attributes["http.route"] == "/api/v1/ask"
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["loket.request_id"] == answered.headers["x-request-id"]
    stages = [span for span in in_trace if "loket.stage" in span.attributes]
    assert [span.name for span in stages] == STAGES
    assert all(span.parent_id == server.span_id for span in stages)
    outcomes = {span.name: span.attributes["loket.outcome"] for span in stages}
    assert outcomes["retrieve"] == "found" and outcomes["output_checks"] == "grounded"
    assert stages[0].attributes["loket.characters"] == len(QUESTION)
    statements = [span for span in in_trace if "db.statement" in span.attributes]
    assert all(span.kind == OtlpSpan.SpanKind.SPAN_KIND_CLIENT for span in statements)
    assert all(span.attributes["db.system"] == "sqlite" for span in statements)
    retrieve = stages[STAGES.index("retrieve")]
    assert any(span.parent_id == retrieve.span_id for span in statements), "the search's reads, in its stage"
    stored = [
        span for span in statements if span.attributes["db.statement"].startswith("INSERT INTO assistant_")
    ]
    assert stored and all("?" in span.attributes["db.statement"] for span in stored), (
        "placeholders, no values"
    )
    assert {span.span_id for span in in_trace} >= {span.parent_id for span in in_trace if span != server}

    # The refused question: its stages stop at personal data, which names the kind only.
    refused_trace = [span for span in spans if span.trace_id == refused.json()["trace_id"]]
    outcomes = {
        span.name: span.attributes["loket.outcome"]
        for span in refused_trace
        if "loket.stage" in span.attributes
    }
    assert list(outcomes) == STAGES[:4] and outcomes["personal_data"].startswith("refused: ")

    # The search: route template, no query values.
    (search,) = [span for span in spans if span.name == "GET /api/v1/search"]
    assert search.attributes["url.query"] == "q=REDACTED&limit=REDACTED"
    assert search.attributes["url.path"] == "/api/v1/search"
    # Probes make no traces, nor do their statements.
    assert not [span for span in spans if "healthz" in span.name or "readyz" in span.name]
    assert all(span.parent_id for span in spans if span.kind == OtlpSpan.SpanKind.SPAN_KIND_CLIENT)

    # Nothing typed, anywhere: not in names, attributes, events or statuses, nor in the bytes sent.
    typed = [QUESTION, NUMBER, "85073003328", "Jozef", "Vermeulen", "hondenbelasting", "gestolen"]
    for span in spans:
        for text in span.texts():
            assert not any(part.lower() in text.lower() for part in typed), (span.name, text)
    for body in recorder.bodies:
        assert not any(part.encode() in body for part in typed)

    # Logs: each line of a request carries its id and its trace.
    (answer_log,) = [
        line for line in logs if line["event"] == "assistant.answered" and line["trace_id"] == trace_id
    ]
    assert answer_log["request_id"] == answered.headers["x-request-id"]
    assert answer_log["span_id"] in {span.span_id for span in in_trace}


def test_a_trace_from_the_caller_is_continued(sqlite_template, tmp_path, recorder):
    settings = demo_settings(sqlite_template, tmp_path, otel_exporter_otlp_endpoint=recorder.url + "/")
    app = create_app(settings)
    load_demo(app)
    caller_trace = "0af7651916cd43dd8448eb211c80319c"
    with TestClient(app) as client:
        answer = client.post(
            "/api/v1/ask",
            json={"question": QUESTION},
            headers={"traceparent": f"00-{caller_trace}-b7ad6b7169203331-01", "baggage": "user=jan"},
        ).json()
    tracing.flush()
    app.state.services.db.dispose()
    assert answer["trace_id"] == caller_trace
    (server,) = [span for span in recorder.spans() if span.name == "POST /api/v1/ask"]
    assert (server.trace_id, server.parent_id) == (caller_trace, "b7ad6b7169203331")


# --- the SDK's in-memory exporter, through configure_tracing's test hook --------------------------------


@pytest.fixture(scope="module")
def site(sqlite_template, tmp_path_factory) -> Iterator[TestClient]:
    """Tracing off, as by default."""
    app = create_app(demo_settings(sqlite_template, tmp_path_factory.mktemp("tracing")))
    load_demo(app)

    async def boom() -> None:
        raise RuntimeError("Jozef Vermeulen broke it")

    app.add_api_route("/api/v1/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.services.db.dispose()


def test_statements_are_spans_with_placeholders_only(site):
    services = site.app.state.services
    memory = InMemorySpanExporter()
    configure_tracing(services.settings, services.db.engine, exporter=memory)
    with tracing.span("test") as outer:
        answer = services.assistant.ask(WITH_NUMBER, "nl")
        services.assistant.ask(QUESTION, "nl", conversation_id=answer.conversation_id)
    spans = memory.get_finished_spans()
    assert answer.trace_id == f"{outer.get_span_context().trace_id:032x}"
    statements = [span for span in spans if span.kind is SpanKind.CLIENT]
    inserts = [span for span in statements if span.attributes["db.statement"].startswith("INSERT INTO")]
    assert len(inserts) >= 2 and all("?" in span.attributes["db.statement"] for span in inserts)
    values = [str(value) for span in spans for value in span.attributes.values()]
    assert not [
        value for value in values if any(typed in value for typed in (NUMBER, "85073003328", "gestolen"))
    ]
    # Statements outside any request or stage are no trace of their own.
    memory.clear()
    services.assistant.switch()
    assert memory.get_finished_spans() == ()


def test_outgoing_calls_are_spans_without_query_values_and_pass_the_trace_on(site, recorder):
    memory = InMemorySpanExporter()
    services = site.app.state.services
    configure_tracing(services.settings, services.db.engine, exporter=memory)
    httpx.get(recorder.url + "/orphan")  # belongs to nothing: no span
    with tracing.span("harvest") as outer, _baggage(user="jan"):
        httpx.get(recorder.url + "/zoeken?q=Jozef+Vermeulen&85073003328")
    (call,) = [span for span in memory.get_finished_spans() if span.kind is SpanKind.CLIENT]
    assert call.name == "GET" and call.parent.span_id == outer.get_span_context().span_id
    # httpx's instrumentation keeps the older HTTP conventions unless OTEL_SEMCONV_STABILITY_OPT_IN=http
    url = call.attributes.get("url.full") or call.attributes["http.url"]
    assert url == f"{recorder.url}/zoeken?q=REDACTED&REDACTED=REDACTED"
    assert 200 in (call.attributes.get("http.response.status_code"), call.attributes.get("http.status_code"))
    path, headers = recorder.gets[-1]
    assert (
        path.startswith("/zoeken") and headers["traceparent"].split("-")[1] == f"{call.context.trace_id:032x}"
    )
    assert "baggage" not in headers, "W3C trace context only"
    stop_tracing()
    httpx.get(recorder.url + "/after")
    assert "traceparent" not in recorder.gets[-1][1], "stopped: httpx is no longer instrumented"


def test_configure_tracing_can_be_called_again(site):
    services = site.app.state.services
    first, second = InMemorySpanExporter(), InMemorySpanExporter()
    configure_tracing(services.settings, services.db.engine, exporter=first)
    services.assistant.ask(QUESTION)
    configure_tracing(services.settings, services.db.engine, exporter=second)
    services.assistant.ask(QUESTION)
    for exporter in (first, second):
        assert [
            span.name for span in exporter.get_finished_spans() if span.kind is SpanKind.INTERNAL
        ] == STAGES
    counts = len(first.get_finished_spans()), len(second.get_finished_spans())
    configure_tracing(services.settings, services.db.engine)  # no endpoint: off
    services.assistant.ask(QUESTION)
    assert (len(first.get_finished_spans()), len(second.get_finished_spans())) == counts


def test_a_stage_that_fails_says_what_failed_but_not_its_message(site):
    services = site.app.state.services
    memory = InMemorySpanExporter()
    configure_tracing(services.settings, services.db.engine, exporter=memory)
    with pytest.raises(BadRequest):
        services.assistant.ask("   ")
    (checks,) = memory.get_finished_spans()
    assert checks.name == "input_checks" and checks.attributes["error.type"] == "BadRequest"
    assert checks.status.status_code is StatusCode.UNSET, "the client's error, not the server's"
    assert checks.events == ()


def test_the_scrubber_drops_messages_raw_paths_and_query_values():
    span = ReadableSpan(
        "GET",
        attributes={
            "url.path": "/bestaat/Jozef",
            "url.query": "q=Jozef&lang=nl&jozef@example.be",
            "url.full": "https://idp.example/cb?code=secret#x",
            "db.statement": "SELECT * FROM t WHERE a = ?",
        },
        events=[Event("exception", {"exception.type": "E", "exception.message": "Jozef", "n": 1})],
        status=Status(StatusCode.ERROR, "DETAIL: Key (rrn)=(85073003328) already exists"),
    )
    clean = scrubbed(span)
    assert dict(clean.attributes) == {
        "url.query": "q=REDACTED&lang=REDACTED&REDACTED=REDACTED",
        "url.full": "https://idp.example/cb?code=REDACTED",
        "db.statement": "SELECT * FROM t WHERE a = ?",
    }
    assert dict(clean.events[0].attributes) == {"exception.type": "E", "n": 1}
    assert clean.status.status_code is StatusCode.ERROR and clean.status.description is None


# --- request ids, and tracing off by default ------------------------------------------------------------


def test_every_request_gets_an_id_in_its_response_and_log_lines(site, capsys):
    configure_logging("INFO")
    capsys.readouterr()
    response = site.post("/api/v1/ask", json={"question": QUESTION})
    logs = _logs(capsys.readouterr())
    request_id = response.headers["x-request-id"]
    assert HEX32.fullmatch(request_id)
    assert logs and all(line["request_id"] == request_id for line in logs)
    assert "assistant.answered" in [line["event"] for line in logs]
    assert not any("trace_id" in line and line["trace_id"] != response.json()["trace_id"] for line in logs)
    assert not any("span_id" in line for line in logs), "tracing off: no spans"

    ids = {
        site.get(path).headers["x-request-id"]
        for path in ("/", "/healthz", "/bestaat-niet", "/static/loket.css")
    }
    assert len(ids) == 4 and all(HEX32.fullmatch(identifier) for identifier in ids)
    with site.stream(
        "POST", "/api/v1/ask", json={"question": QUESTION}, headers={"Accept": "text/event-stream"}
    ) as stream:
        assert HEX32.fullmatch(stream.headers["x-request-id"])
        assert "event: " in "".join(stream.iter_text())


@pytest.mark.parametrize("incoming", ["abc-123_45.XYZ", "a" * 64, "0af7651916cd43dd8448eb211c80319c"])
def test_a_well_formed_incoming_request_id_is_kept(site, incoming):
    assert site.get("/healthz", headers={"X-Request-ID": incoming}).headers["x-request-id"] == incoming


@pytest.mark.parametrize(
    "incoming", ["short", "a" * 65, "has space in it", '"}{"x":1', "ümlaut-0123".encode("latin-1"), ""]
)
def test_any_other_incoming_request_id_is_replaced(site, incoming):
    given = site.get("/healthz", headers={"X-Request-ID": incoming}).headers["x-request-id"]
    assert HEX32.fullmatch(given) and given != incoming


def test_a_server_error_still_carries_the_request_id(site, capsys):
    configure_logging("INFO")
    capsys.readouterr()
    response = site.get("/api/v1/boom", headers={"X-Request-ID": "support-case-0042"})
    assert response.status_code == 500 and response.headers["x-request-id"] == "support-case-0042"
    (error,) = [line for line in _logs(capsys.readouterr()) if line["event"] == "web.server_error"]
    assert error["request_id"] == "support-case-0042"


def test_tracing_is_off_by_default_and_exports_nothing(site, recorder):
    assert Settings(_env_file=None).otel_exporter_otlp_endpoint is None
    services = site.app.state.services
    assert not site.app._native_telemetry.enabled(), "FastAPI's own telemetry is off too"
    assert tracing.span("anything") is tracing.span("else"), "one shared no-op"
    caller_trace = "0af7651916cd43dd8448eb211c80319c"
    answer = site.post(
        "/api/v1/ask",
        json={"question": QUESTION},
        headers={"traceparent": f"00-{caller_trace}-b7ad6b7169203331-01"},
    ).json()
    assert answer["status"] == "answered" and answer["trace_id"] != caller_trace
    httpx.get(recorder.url + "/plain")
    assert "traceparent" not in recorder.gets[-1][1]
    assert not hasattr(httpx.HTTPTransport.handle_request, "__wrapped__")
    assert not services.db.engine.dispatch.before_cursor_execute
    assert recorder.bodies == []


def test_the_collector_must_be_an_http_url():
    with pytest.raises(ValidationError, match="otel_exporter_otlp_endpoint"):
        Settings(otel_exporter_otlp_endpoint="otel-collector:4318", _env_file=None)
    assert (
        Settings(otel_exporter_otlp_endpoint="https://otel.example", _env_file=None).otel_service_name
        == "loket"
    )
