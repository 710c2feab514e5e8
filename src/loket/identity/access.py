"""Who a request comes from, and what it may do: the session cookie and the role checks on routes.

The session cookie is HttpOnly and SameSite=Lax (Strict would drop it on the way back from the
identity provider). It authenticates a state-changing API call only when that call is JSON: browsers
cannot send JSON to another site without a CORS preflight, which loket grants to no one. HTML forms
carry a CSRF token instead (`loket.web.security`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from loket.i18n import message
from loket.identity.service import Forbidden, NotLoggedIn, Role, SignedIn
from loket.web.security import is_secure
from loket.web.translations import choose

SESSION_COOKIE = "loket_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def language(request: Request) -> str:
    return choose(request.query_params.get("lang"), request.headers.get("accept-language"))


def signed_in(request: Request) -> SignedIn | None:
    """This request's login, looked up once per request."""
    if not hasattr(request.state, "signed_in"):
        token = request.cookies.get(SESSION_COOKIE)
        request.state.signed_in = request.app.state.services.identity.signed_in(token)
    return request.state.signed_in


def require_signed_in(request: Request) -> SignedIn:
    user = signed_in(request)
    if user is None:
        raise NotLoggedIn(message("not_logged_in", language(request)))
    if request.method not in SAFE_METHODS and request.url.path.startswith("/api/") and not is_json(request):
        raise Forbidden(message("json_required", language(request)))
    return user


def is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


def require_role(role: Role):
    """A route dependency: the person must hold `role` (every logged-in person holds `citizen`)."""

    def check(user: Annotated[SignedIn, Depends(require_signed_in)], request: Request) -> SignedIn:
        if not user.has(role):
            raise Forbidden(message("role_required", language(request), role=role.value))
        return user

    return check


SignedInDep = Annotated[SignedIn, Depends(require_signed_in)]


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = request.app.state.services.settings
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
