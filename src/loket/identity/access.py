"""Who a request comes from, and what it may do: the session cookie and the role checks on routes.

The session cookie is HttpOnly and SameSite=Lax (Strict would drop it on the way back from the
identity provider). It authenticates a state-changing API call only when that call is JSON: browsers
cannot send JSON to another site without a CORS preflight, which loket grants to no one. HTML forms
carry a CSRF token instead (`loket.web.security`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from loket.config import Settings
from loket.cookies import is_secure
from loket.deps import component
from loket.i18n import message, request_language
from loket.identity.assurance import require_full_login
from loket.identity.schemas import Forbidden, NotLoggedIn, Role, SignedIn
from loket.identity.service import IdentityService
from loket.identity.texts import NOT_LOGGED_IN, ROLE_REQUIRED
from loket.texts import JSON_REQUIRED

SESSION_COOKIE = "loket_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def signed_in(request: Request) -> SignedIn | None:
    """This request's login, looked up once per request."""
    if not hasattr(request.state, "signed_in"):
        token = request.cookies.get(SESSION_COOKIE)
        request.state.signed_in = component(request, IdentityService).sessions.signed_in(token)
    return request.state.signed_in


def require_signed_in(request: Request) -> SignedIn:
    user = signed_in(request)
    if user is None:
        raise NotLoggedIn(message(NOT_LOGGED_IN, request_language(request)))
    if request.method not in SAFE_METHODS and request.url.path.startswith("/api/") and not is_json(request):
        raise Forbidden(message(JSON_REQUIRED, request_language(request)))
    return user


def is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


def require_role(role: Role):
    """A route dependency: the person must hold `role` (every logged-in person holds `citizen`)."""

    def check(user: Annotated[SignedIn, Depends(require_signed_in)], request: Request) -> SignedIn:
        if not user.has(role):
            raise Forbidden(message(ROLE_REQUIRED, request_language(request), role=role.value))
        return user

    return check


SignedInDep = Annotated[SignedIn, Depends(require_signed_in)]


def require_fresh_login(request: Request) -> None:
    """An app-wide dependency: on the paths of `LOKET_FRESH_LOGIN_PATHS`, a session a passkey opened
    is asked for the full login (a page says so with a link to it; the API answers 403)."""
    prefixes = tuple(component(request, Settings).fresh_login_paths.split())
    if prefixes and request.url.path.startswith(prefixes) and (user := signed_in(request)):
        require_full_login(user, request_language(request))


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = component(request, Settings)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_max_age,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=is_secure(request), path="/")
