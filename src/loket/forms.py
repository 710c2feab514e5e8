"""Reading a URL-encoded form body, for the pages and for OAuth2's token endpoint alike: its size is
counted while it arrives, so an oversized body is refused before it is all in memory."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import Request

from loket.errors import BadRequest
from loket.i18n import plain

URL_ENCODED = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 16_384  # the pages' forms


class FormTooLong(Exception):
    """The body went past its limit; it was not read further."""


def is_url_encoded(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == URL_ENCODED


async def form_pairs(request: Request, max_bytes: int, max_fields: int) -> list[tuple[str, str]]:
    """The body's fields in order, a field sent twice kept twice. FormTooLong past `max_bytes`;
    ValueError (parse_qsl's) past `max_fields`."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise FormTooLong
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=max_fields)


async def read_form(request: Request, language: str, fields: int = 20) -> dict[str, str]:
    """The fields a page posts (`fields`: as many as the form has at most); none when the body is not
    URL-encoded, which its CSRF check then refuses."""
    if not is_url_encoded(request):
        return {}
    try:
        return dict(await form_pairs(request, MAX_FORM_BYTES, fields))
    except FormTooLong:
        raise BadRequest(plain(language, "The form is too long.")) from None
