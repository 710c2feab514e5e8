"""The partners block's public types: scopes, registered clients and the grants their tokens carry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from loket.errors import LoketError


class Scope(StrEnum):
    """One per API a partner may use; the write scopes act for an agency (`loket agencies add`)."""

    SEARCH = "search"
    ASK = "ask"
    CASES_WRITE = "cases:write"
    MESSAGES_WRITE = "messages:write"
    EVENTS_WRITE = "events:write"


WRITE_SCOPES = frozenset({Scope.CASES_WRITE, Scope.MESSAGES_WRITE, Scope.EVENTS_WRITE})


@dataclass(frozen=True)
class Client:
    id: str
    name: str
    scopes: tuple[Scope, ...]
    quota: str
    sandbox: bool
    agency: str | None
    created_at: datetime
    revoked: bool


@dataclass(frozen=True)
class Registered:
    """A new client and its secret, shown this once: only the secret's hash is kept."""

    client: Client
    secret: str


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scopes: tuple[Scope, ...]


@dataclass(frozen=True)
class Grant:
    """What a valid access token allows: its client, and the scopes asked for when it was issued."""

    client: Client
    scopes: frozenset[Scope]


class OAuthError(LoketError):
    """An error of the token endpoint, answered in RFC 6749 §5.2's form (`error`, `error_description`)."""

    status_code = 400

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code


class InvalidClient(OAuthError):
    status_code = 401

    def __init__(self, description: str) -> None:
        super().__init__("invalid_client", description)


class InvalidToken(LoketError):
    """A bearer token that is no partner's (RFC 6750 §3.1)."""

    status_code = 401
    code = "invalid_token"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class SandboxNotReady(LoketError):
    status_code = 503
    code = "sandbox_not_ready"
    RETRY_SECONDS = 30

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(self.RETRY_SECONDS)}


class InsufficientScope(LoketError):
    status_code = 403
    code = "insufficient_scope"

    def __init__(self, message: str, scope: Scope) -> None:
        super().__init__(message)
        self.headers = {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'}
