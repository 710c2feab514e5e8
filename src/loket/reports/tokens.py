"""An anonymous reporter's token as their browser keeps it: an HttpOnly cookie scoped to the report's
own path, so it shows that report's photos and nothing else of anyone's. The API and the page set it
alike."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request, Response

from loket.cookies import is_secure

REPORTS_PATH = "/api/v1/reports"
TOKEN_COOKIE = "loket_report"
TOKEN_COOKIE_DAYS = 90


def remember_token(request: Request, response: Response, report_id: str, token: str) -> None:
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        max_age=int(timedelta(days=TOKEN_COOKIE_DAYS).total_seconds()),
        path=f"{REPORTS_PATH}/{report_id}/",
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
    )
