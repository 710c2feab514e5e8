"""One error base class that knows its HTTP status, so the web layer renders every error the same way."""

from __future__ import annotations


class LoketError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(LoketError):
    status_code = 400
    code = "bad_request"


class NotFound(LoketError):
    status_code = 404
    code = "not_found"


class TooLarge(LoketError):
    """A request body over a route's limit: refused before it is read further."""

    status_code = 413
    code = "too_large"
