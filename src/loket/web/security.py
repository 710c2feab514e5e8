"""Security headers on every response, and CSRF protection for the pages' forms.

The Content Security Policy allows scripts and styles from loket itself only: no inline script, no
inline style, no eval. Only the widget route may be framed, by any site, because that is its purpose;
every other page refuses framing with both `frame-ancestors` and `X-Frame-Options`.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loket.cookies import is_secure
from loket.errors import LoketError
from loket.logging import get_logger

log = get_logger(__name__)
WIDGET_PAGE = "/widget"
WIDGET_SCRIPT = "/widget.js"
API_DOCS = "/api/docs"
CSRF_COOKIE = "loket_csrf"
CSRF_FIELD = "csrf_token"

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


class CsrfFailed(LoketError):
    status_code = 403
    code = "csrf_failed"


def csrf_token(request: Request) -> str:
    """This browser's token: the one in its cookie, or a new one that `remember_csrf` will set."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if len(token) == 43 and token.replace("-", "").replace("_", "").isalnum():
        return token
    if not hasattr(request.state, "new_csrf_token"):
        request.state.new_csrf_token = secrets.token_urlsafe(32)
    return request.state.new_csrf_token


def remember_csrf(request: Request, response: Response) -> None:
    if token := getattr(request.state, "new_csrf_token", None):
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="strict", secure=is_secure(request), path="/"
        )


def check_csrf(request: Request, form: dict[str, str], message: str) -> None:
    """Double-submit check: the form's token must equal the cookie's, and the post must come from us.

    The cookie is `SameSite=Strict` and `HttpOnly`, so another site can neither send nor read it; the
    Fetch Metadata header, which browsers set themselves, refuses cross-site posts as well. (The Host
    header is not compared with Origin: proxies rewrite it.)
    """
    cookie = request.cookies.get(CSRF_COOKIE, "")
    submitted = form.get(CSRF_FIELD, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), submitted.encode()):
        log.warning("web.csrf_refused", path=request.url.path, reason="token")
        raise CsrfFailed(message)
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        log.warning("web.csrf_refused", path=request.url.path, reason="cross-site")
        raise CsrfFailed(message)
