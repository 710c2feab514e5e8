"""The one rule for every cookie loket sets: `Secure` over HTTPS and always in production."""

from __future__ import annotations

from fastapi import Request

from loket.config import Settings
from loket.deps import component


def is_secure(request: Request) -> bool:
    """Also behind a proxy that says the request came over HTTPS."""
    return request.url.scheme == "https" or component(request, Settings).env == "production"
