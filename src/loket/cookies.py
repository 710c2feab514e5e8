"""The rules for every cookie loket sets: `Secure` in production and whenever loket's public address
is https, whatever scheme a proxy in between speaks; in development, over HTTPS. A secure cookie that
must stay on this host gets the `__Host-` prefix, which browsers refuse to set from a subdomain or
without `Secure`, so no neighbouring site can plant one."""

from __future__ import annotations

from fastapi import Request

from loket.config import Settings
from loket.deps import component


def is_secure(request: Request) -> bool:
    settings = component(request, Settings)
    return settings.production or settings.https or request.url.scheme == "https"


def host_only(request: Request, name: str) -> str:
    """`__Host-` needs `Secure`, which a browser refuses over plain HTTP (local development)."""
    return f"__Host-{name}" if is_secure(request) else name
