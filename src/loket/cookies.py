"""The one rule for every cookie loket sets: `Secure` in production and whenever loket's public
address is https, whatever scheme a proxy in between speaks; in development, over HTTPS."""

from __future__ import annotations

from fastapi import Request

from loket.config import Settings
from loket.deps import component


def is_secure(request: Request) -> bool:
    settings = component(request, Settings)
    return settings.production or settings.https or request.url.scheme == "https"
