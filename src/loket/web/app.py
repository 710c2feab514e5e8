"""The app factory: builds the services for one configuration and mounts every block's routes.

Nothing connects to the database until a request needs it; `loket serve` migrates first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Match
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from loket import __version__
from loket.assistant import routes as assistant_routes
from loket.cases import routes as cases_routes
from loket.catalog import routes as catalog_routes
from loket.config import Settings
from loket.consent import routes as consent_routes
from loket.deps import component, provide
from loket.errors import LoketError
from loket.handoff import routes as handoff_routes
from loket.i18n import plain, request_language
from loket.identity import routes as identity_routes
from loket.identity.access import require_fresh_login
from loket.identity.schemas import StrongerLoginNeeded
from loket.logging import get_logger
from loket.messages import routes as messages_routes
from loket.partners import routes as partners_routes
from loket.proactive import routes as proactive_routes
from loket.ratelimit import RateLimits
from loket.reports import routes as reports_routes
from loket.reports.tokens import REPORTS_PATH
from loket.search import routes as search_routes
from loket.services import Sandbox, Services
from loket.tracing import configure_tracing
from loket.web import (
    account,
    balie,
    cases,
    chat,
    deprecation,
    export,
    gaps,
    handoff,
    health,
    insight,
    messages,
    my_data,
    pages,
    partners,
    proactive,
    pwa,
    report_queue,
    reports,
    review,
    widget,
)
from loket.web.metrics import Metrics
from loket.web.observability import REQUEST_ID_HEADER, RequestIds, request_id, telemetry
from loket.web.render import render
from loket.web.security import REPORT_PAGE, BodyLimit, SecurityHeaders, headers_for

HERE = Path(__file__).parent
log = get_logger(__name__)
# Paths that answer machines: their errors stay JSON. Everything else is a page for people.
MACHINE_PATHS = (
    "/api/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/auth/demo-persons",
    "/.well-known/",
    "/oauth/",
    "/v1/",
    "/id/",
    "/ldes/",
)
STOP_SECONDS = 5  # how long a stop waits for the index follower
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")  # what an Allow header may name
# Every error is {"error": {"code", "message"}}, a request that fails validation too (`_validation_error`).
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The app for `settings`, or around `services` already built (and warmed up) by `loket serve`."""
    services = services or Services.build(settings or Settings())
    settings = services.settings
    # Interactive API docs only off production: there the OpenAPI document says it all.
    docs_url = None if settings.production else "/api/docs"
    # Off (no LOKET_OTEL_EXPORTER_OTLP_ENDPOINT): no provider, and FastAPI's telemetry is off too.
    tracing = telemetry(configure_tracing(settings, services.db.engine))
    app = FastAPI(
        title="loket",
        version=__version__,
        docs_url=docs_url,
        redoc_url=None,
        telemetry=tracing,
        lifespan=_following_the_index,
        dependencies=[Depends(require_fresh_login)],
    )
    app.state.services = services
    app.state.sandbox = Sandbox(settings)
    metrics = app.state.metrics = Metrics(services.jobs)
    # The assistant's figures reach the metrics as they happen (loket.assistant.observers says why).
    services.assistant.conversations.observers.append(metrics)
    services.handoff.observers.append(metrics)
    limits = RateLimits(
        settings.rate_limit_storage,
        client=settings.rate_limit_client,
        conversation=settings.rate_limit_conversation,
        search=settings.rate_limit_search,
        feedback=settings.rate_limit_feedback,
        reports=settings.rate_limit_reports,
        auth=settings.rate_limit_auth,
        verify=settings.rate_limit_verify,
        continuation=settings.rate_limit_continuation,
    )
    provide(app, *services.parts(), limits)
    app.middleware("http")(metrics.middleware)
    # A report's photos are larger than anything else sent: its own limit, a little above all of them.
    photos = settings.report_photo_max_count * settings.report_photo_max_mb * 2**20 + 64 * 1024
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_request_kb * 1024,
        larger={REPORTS_PATH: photos, REPORT_PAGE: photos},
    )
    # Server-sent events are never compressed (Starlette leaves text/event-stream alone).
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(SecurityHeaders, form_origin=_origin(settings.oidc_issuer), https=settings.https)
    # Around all of the above: whatever they log carries the request's id.
    app.add_middleware(RequestIds)
    if settings.proxies:
        # Outermost, so limits, metrics and logs see the client the trusted proxy names.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.proxies)
    app.add_exception_handler(LoketError, _loket_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)
    app.include_router(health.router)
    app.include_router(search_routes.router)
    app.include_router(catalog_routes.router)
    app.include_router(assistant_routes.router)
    app.include_router(assistant_routes.compatible)
    app.include_router(identity_routes.router)
    app.include_router(cases_routes.router)
    app.include_router(messages_routes.router)
    app.include_router(handoff_routes.router)
    app.include_router(proactive_routes.router)
    app.include_router(consent_routes.router)
    app.include_router(partners_routes.router)
    app.include_router(reports_routes.router)
    app.include_router(export.router)
    app.include_router(pages.router)
    app.include_router(chat.router)
    app.include_router(widget.router)
    app.include_router(account.router)
    app.include_router(cases.router)
    app.include_router(messages.router)
    # Before the console's own routes, whose /balie/{conversation_id} would take /balie/meldingen.
    app.include_router(report_queue.router)
    app.include_router(balie.router)
    app.include_router(handoff.router)
    app.include_router(proactive.router)
    app.include_router(my_data.router)
    app.include_router(insight.router)
    app.include_router(review.router)
    app.include_router(gaps.router)
    app.include_router(partners.router)
    app.include_router(pwa.router)
    app.include_router(reports.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.openapi = _with_loket_errors(app.openapi)
    deprecation.apply(app, deprecation.DEPRECATED)
    return app


def _with_loket_errors(generate: Callable[[], dict]) -> Callable[[], dict]:
    """FastAPI documents every 422 as its own `{"detail": [...]}`; loket answers them with its error."""

    def openapi() -> dict:
        document = generate()
        schemas = document.get("components", {}).get("schemas", {})
        if "ValidationError" in schemas:
            schemas["HTTPValidationError"] = ERROR_SCHEMA
            del schemas["ValidationError"]
        return document

    return openapi


@contextlib.asynccontextmanager
async def _following_the_index(app: FastAPI) -> AsyncIterator[None]:
    """While the server runs, it swaps in each new index a sync (in any process) announces."""
    follower = asyncio.create_task(app.state.services.search.follow_revisions())
    yield
    follower.cancel()
    # A stop never waits for it for long (Python 3.11's wait_for can lose a cancellation).
    if not (await asyncio.wait({follower}, timeout=STOP_SECONDS))[0]:
        log.warning("search.follow_not_stopped")


def _origin(url: str | None) -> str | None:
    """scheme://host:port of a URL, as a Content Security Policy source."""
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _for_people(request: Request) -> bool:
    """Pages get error pages; machine paths, and JSON sent anywhere (the demo login's), get JSON."""
    json_sent = request.headers.get("content-type", "").startswith("application/json")
    return not request.url.path.startswith(MACHINE_PATHS) and not json_sent


def _error_page(request: Request, status: int, text: str, title: str | None = None) -> Response:
    language = request_language(request)
    title = title or plain(language, "Sorry, that did not work")
    return render(request, "error.html", language, status_code=status, title=title, text=text)


async def _loket_error(request: Request, error: LoketError) -> Response:
    if _for_people(request):
        if error.status_code == 404:
            return _not_found(request)
        if isinstance(error, StrongerLoginNeeded):
            return account.stronger_login(request, error.message)
        response = _error_page(request, error.status_code, error.message)
    else:
        body = {"error": {"code": error.code, "message": error.message}}
        response = JSONResponse(body, status_code=error.status_code)
    response.headers.update(getattr(error, "headers", {}))  # Retry-After, for one
    return response


def _not_found(request: Request) -> Response:
    language = request_language(request)
    text = plain(language, "The page you are looking for does not exist (any more). Check the address.")
    return _error_page(request, 404, text, plain(language, "Page not found"))


async def _http_error(request: Request, error: HTTPException) -> Response:
    if isinstance(error.__cause__, UnicodeDecodeError):
        # FastAPI's 400 for a JSON body that is not UTF-8: as invalid as JSON that does not parse.
        problem = {"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error: not UTF-8"}
        return await _validation_error(request, RequestValidationError([problem]))
    if error.status_code == 405 and "Allow" in (error.headers or {}):
        # Starlette's Allow names the methods of the path's first route only; RFC 9110 wants them all.
        error = HTTPException(405, error.detail, headers={"Allow": _allowed(request)})
    if not _for_people(request):
        return await http_exception_handler(request, error)
    if error.status_code == 404:
        return _not_found(request)
    text = plain(request_language(request), "This address cannot be used like this.")
    response = _error_page(request, error.status_code, text)
    response.headers.update(error.headers or {})
    return response


def _allowed(request: Request) -> str:
    """Every method some route of the request's path answers (each asked as the router would)."""
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    )


async def _validation_error(request: Request, error: RequestValidationError) -> Response:
    if _for_people(request):
        text = plain(request_language(request), "This address cannot be used like this.")
        return _error_page(request, 400, text)
    problems = [f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in error.errors()]
    return JSONResponse({"error": {"code": "bad_request", "message": "; ".join(problems)}}, status_code=422)


async def _server_error(request: Request, error: Exception) -> Response:
    """Outside every middleware (Starlette calls it last), so it adds the security headers and the
    request's id itself."""
    identifier = request_id(request.scope)
    log.error("web.server_error", path=request.url.path, error=type(error).__name__, request_id=identifier)
    settings = component(request, Settings)
    if _for_people(request):
        language = request_language(request)
        text = plain(
            language,
            "Something went wrong on our side. Please try again later, or call %(number)s.",
            number=settings.infoline,
        )
        response = _error_page(request, 500, text, plain(language, "Sorry, something went wrong"))
    else:
        message = "internal error"
        response = JSONResponse({"error": {"code": "internal_error", "message": message}}, status_code=500)
    https = settings.https or request.url.scheme == "https"
    response.headers.update(headers_for(request.url.path, https, _origin(settings.oidc_issuer)))
    if identifier:
        response.headers[REQUEST_ID_HEADER] = identifier
    return response
