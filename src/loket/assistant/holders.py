"""Who holds a conversation, as a request shows it: its token and the person logged in.

API clients (apps, the widget) get the token in the answer that starts a conversation and send it
back in the `Loket-Conversation-Token` header. A browser also gets it in an HttpOnly cookie (the
latest conversation it began), which holds the token, never the conversation's id, and is `__Host-`
bound to this host over HTTPS. Logging in or out drops the cookie, so a login never takes over a
conversation begun before it.
"""

from __future__ import annotations

from fastapi import Request, Response

from loket.assistant.schemas import Holder
from loket.cookies import host_only, is_secure
from loket.identity.access import signed_in

TOKEN_HEADER = "Loket-Conversation-Token"
COOKIE = "loket_conversation"
TOKEN_LENGTH = 43  # secrets.token_urlsafe(32)


def holder(request: Request) -> Holder:
    token = request.headers.get(TOKEN_HEADER) or request.cookies.get(host_only(request, COOKIE))
    user = signed_in(request)
    return Holder(token[:TOKEN_LENGTH] if token else None, user.person.id if user else None)


def keep_token(request: Request, response: Response, token: str | None) -> None:
    """Gives the browser the token of the conversation it just began (nothing when it continued one)."""
    if token:
        response.set_cookie(
            host_only(request, COOKIE),
            token,
            httponly=True,
            samesite="lax",
            secure=is_secure(request),
            path="/",
        )


def drop_token(request: Request, response: Response) -> None:
    response.delete_cookie(
        host_only(request, COOKIE), path="/", httponly=True, samesite="lax", secure=is_secure(request)
    )
