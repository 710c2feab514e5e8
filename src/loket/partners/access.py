"""Which partner a request comes from, and whether its token lets it use this API.

A route that partners may use declares `scoped(Scope.X)`. Without an `Authorization` header the request
is anonymous, as before, and counted per address. With a partner's bearer token it must carry the
scope (else 403), is counted against the client's own quota instead (`loket.ratelimit.Quota`), and a
sandbox client's request is answered by the sandbox (`loket.partners.sandbox`), never by the real
catalogue or the real records.
"""

from __future__ import annotations

from fastapi import Depends, Request

from loket.deps import component
from loket.i18n import message, request_language
from loket.partners.schemas import Grant, InsufficientScope, InvalidToken, SandboxNotReady, Scope
from loket.partners.service import TOKEN_PREFIX, PartnerService
from loket.partners.texts import INSUFFICIENT_SCOPE, INVALID_TOKEN, QUOTA_REACHED, SANDBOX_NOT_READY
from loket.ratelimit import Quota, RateLimits, TooManyRequests

PARTNER_ERRORS = {
    401: {"description": "A bearer token that is no valid partner token (POST /oauth/token gives one)."},
    403: {"description": "The partner's token lacks this API's scope."},
    503: {
        "description": "A sandbox client's first requests, while the sandbox is prepared: see Retry-After."
    },
}


def bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


PARTNER_CHANNEL = "partner"  # the figures' channel of what partners' apps ask


def partner(request: Request) -> Grant | None:
    """The grant of the request's partner token, looked up once per request; None without a token."""
    if not hasattr(request.state, "partner"):
        token = bearer(request)
        request.state.partner = component(request, PartnerService).grant(token) if token else None
    return request.state.partner


def scoped(scope: Scope):
    """A route dependency: anonymous, or a partner whose token has `scope`.

    A bearer value that is no partner token at all is anonymous: OpenAI clients always send an API
    key, and one left at a placeholder must not lock an unchanged client out of an open API."""

    def check(request: Request) -> Grant | None:
        if not _partner_token(request):
            return None
        grant = require_scope(request, scope)
        request.state.quota = Quota(f"partner:{grant.client.id}", grant.client.quota)
        if grant.client.sandbox:
            request.state.components = request.app.state.sandbox.components(request.app.state.components)
            if request.state.components is None:
                raise SandboxNotReady(message(SANDBOX_NOT_READY, request_language(request)))
        return grant

    return Depends(check)


def from_partner(request: Request) -> bool:
    """Whether a partner's app sent the request, by a valid partner token (for the figures)."""
    return _partner_token(request) and partner(request) is not None


def _partner_token(request: Request) -> bool:
    token = bearer(request)
    return token is not None and token.startswith(TOKEN_PREFIX)


def counted(request: Request, grant: Grant) -> None:
    """Counts a request against the partner's quota where no other limit of the route counts it."""
    verdict = component(request, RateLimits).hit(Quota(f"partner:{grant.client.id}", grant.client.quota))
    if not verdict.allowed:
        text = message(QUOTA_REACHED, request_language(request), seconds=str(verdict.reset_seconds))
        raise TooManyRequests(text, verdict.headers())


def require_scope(request: Request, scope: Scope) -> Grant:
    """The request's partner grant, which must hold `scope`: else 401 (no partner token) or 403."""
    grant = partner(request)
    language = request_language(request)
    if grant is None:
        raise InvalidToken(message(INVALID_TOKEN, language))
    if scope not in grant.scopes:
        raise InsufficientScope(message(INSUFFICIENT_SCOPE, language, scope=scope.value), scope)
    return grant
