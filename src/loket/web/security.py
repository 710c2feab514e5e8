"""Security headers on every response, and CSRF protection for the pages' forms, bound to the session.

The Content Security Policy allows scripts and styles from loket itself only: no inline script, no
inline style, no eval. Only the widget route may be framed, by any site, because that is its purpose;
every other page refuses framing with both `frame-ancestors` and `X-Frame-Options`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loket import i18n
from loket.config import Settings
from loket.cookies import host_only, is_secure
from loket.deps import component
from loket.errors import LoketError
from loket.identity.access import signed_in
from loket.logging import get_logger
from loket.texts import REQUEST_TOO_LARGE

log = get_logger(__name__)
WIDGET_PAGE = "/widget"
WIDGET_SCRIPT = "/widget.js"
API_DOCS = "/api/docs"
CSRF_COOKIE = "loket_csrf"
CSRF_FIELD = "csrf_token"
# The report page shows its map from OpenStreetMap's tiles, and may ask for the device's location.
REPORT_PAGE = "/melden"
TILE_SERVER = "https://tile.openstreetmap.org"

_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'{forms}; base-uri 'none'; object-src 'none'; frame-ancestors {ancestors}"
)
PAGE_POLICY = _POLICY.format(ancestors="'none'", forms="")
WIDGET_POLICY = _POLICY.format(ancestors="*", forms="")
# FastAPI's Swagger UI for operators: an inline start script and its files from a CDN.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "frame-ancestors 'none'"
)
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def headers_for(path: str, https: bool, form_origin: str | None = None) -> dict[str, str]:
    """The security headers of one response, by route.

    `form_origin` is the identity provider's: the logout form is answered with a redirect there, and
    browsers hold redirects after a form post to `form-action` too.
    """
    headers = dict(COMMON)
    page_policy = _POLICY.format(ancestors="'none'", forms=f" {form_origin}") if form_origin else PAGE_POLICY
    if path == WIDGET_PAGE:
        headers["Content-Security-Policy"] = WIDGET_POLICY
        headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    elif path == WIDGET_SCRIPT:
        headers["Content-Security-Policy"] = PAGE_POLICY
        headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        headers["X-Frame-Options"] = "DENY"
    else:
        headers["Content-Security-Policy"] = DOCS_POLICY if path.startswith(API_DOCS) else page_policy
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        headers["X-Frame-Options"] = "DENY"
    if path == REPORT_PAGE:
        policy = headers["Content-Security-Policy"]
        headers["Content-Security-Policy"] = policy.replace("img-src 'self'", f"img-src 'self' {TILE_SERVER}")
        headers["Permissions-Policy"] = COMMON["Permissions-Policy"].replace(
            "geolocation=()", "geolocation=(self)"
        )
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


class SecurityHeaders:
    """Pure ASGI middleware, so streamed answers (server-sent events) pass through untouched."""

    def __init__(self, app: ASGIApp, form_origin: str | None = None, https: bool = False) -> None:
        """`https`: loket's public address is https, so HSTS goes out whatever a proxy forwards."""
        self.app = app
        self.form_origin = form_origin
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = headers_for(scope["path"], self.https or scope.get("scheme") == "https", self.form_origin)
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in added.items():
                    headers.setdefault(name, value)
                if static:
                    headers.setdefault("Cache-Control", "public, max-age=3600")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses a request body larger than `max_bytes` before it is read whole: at once when it says
    its length, else as soon as the chunks received pass it. Pure ASGI, as SecurityHeaders.

    A body found too long half-way is answered here; the app, told the client left, answers nothing
    more (its own answer is dropped).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        """`larger`: the limits of the paths that take more (a report's photos), by exact path."""
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        received = 0
        answered = refused = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and not answered:
                    refused = True
                    await self._refuse(scope, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def send_unless_refused(message: Message) -> None:
            nonlocal answered
            answered = True
            if not refused:
                await send(message)

        await self.app(scope, counted_receive, send_unless_refused)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        language = i18n.request_language(Request(scope))
        text = i18n.message(REQUEST_TOO_LARGE, language, kb=str(limit // 1024))
        log.warning("web.request_too_large", path=scope["path"])
        response = JSONResponse({"error": {"code": "request_too_large", "message": text}}, status_code=413)
        await response(scope, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


class CsrfFailed(LoketError):
    status_code = 403
    code = "csrf_failed"


def csrf_token(request: Request) -> str:
    """This browser's token for its session: the one in its cookie while it still fits the session,
    or a new one that `remember_csrf` will set."""
    token = request.cookies.get(host_only(request, CSRF_COOKIE), "")
    if _fits_session(request, token):
        return token
    if not hasattr(request.state, "new_csrf_token"):
        nonce = secrets.token_urlsafe(32)
        request.state.new_csrf_token = f"{nonce}.{_signature(request, nonce)}"
    return request.state.new_csrf_token


def remember_csrf(request: Request, response: Response) -> None:
    if token := getattr(request.state, "new_csrf_token", None):
        response.set_cookie(
            host_only(request, CSRF_COOKIE),
            token,
            httponly=True,
            samesite="strict",
            secure=is_secure(request),
            path="/",
        )


def check_csrf(request: Request, form: dict[str, str], message: str) -> None:
    """Signed double submit: the form's token must equal the cookie's, be signed with the server's
    secret for this very session, and the post must come from loket's own pages.

    The signature binds the token to the session, so a token taken from another session (or planted
    as a cookie by a neighbouring site, which `__Host-` prevents as well) is refused. Browsers set the
    Fetch Metadata header themselves; a post without it is taken as cross-site unless its `Origin` is
    loket's own (browsers from before Fetch Metadata send that). The Host header is not compared with
    Origin: proxies rewrite it.
    """
    cookie = request.cookies.get(host_only(request, CSRF_COOKIE), "")
    submitted = form.get(CSRF_FIELD, "")
    if not hmac.compare_digest(cookie.encode(), submitted.encode()) or not _fits_session(request, submitted):
        log.warning("web.csrf_refused", path=request.url.path, reason="token")
        raise CsrfFailed(message)
    if not _from_own_pages(request):
        log.warning("web.csrf_refused", path=request.url.path, reason="cross-site")
        raise CsrfFailed(message)


def _signature(request: Request, nonce: str) -> str:
    user = signed_in(request)
    bound = f"{nonce}.{user.token_hash if user else 'anonymous'}"
    digest = hmac.new(component(request, Settings).signing_key, bound.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _fits_session(request: Request, token: str) -> bool:
    nonce, _, signature = token.partition(".")
    return bool(nonce and signature) and hmac.compare_digest(signature, _signature(request, nonce))


def _from_own_pages(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin is not None and origin == _own_origin(request)


def _own_origin(request: Request) -> str:
    public = component(request, Settings).public_url
    address = urlsplit(public) if public else request.url
    return f"{address.scheme}://{address.netloc}"
