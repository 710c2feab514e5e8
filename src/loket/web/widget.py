"""The embeddable widget: `/widget.js` (one script tag on an agency's site) opens `/widget` in an iframe.

The iframe isolates the chat from the host page's scripts and styles, and the loader needs nothing
the host's Content Security Policy would have to relax beyond allowing loket's origin for the script
and the frame: no inline script or style, no eval. The host chooses the audience, the language and
the colour with `data-` attributes.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from loket.i18n import LANGUAGES, plain, request_language
from loket.web.pages import audience_of
from loket.web.render import render, templates

router = APIRouter(include_in_schema=False)
COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with the host's colour, so buttons stay readable."""
    hex_digits = background[1:] if len(background) == 7 else "".join(c * 2 for c in background[1:])

    def channel(value: int) -> float:
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(int(hex_digits[i : i + 2], 16)) for i in (0, 2, 4))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"


@router.get("/widget", response_class=HTMLResponse)
def widget(request: Request, audience: str | None = None, color: str | None = None) -> Response:
    accent = color if color and COLOUR.match(color) else None
    return render(
        request,
        "widget.html",
        request_language(request),
        audience=audience_of(audience),
        accent=accent,
        accent_text=text_colour(accent) if accent else None,
    )


@router.get("/widget.js")
def widget_script() -> Response:
    labels = {
        code: {
            "open": plain(code, "Ask a question"),
            "close": plain(code, "Close the assistant"),
            "title": plain(code, "Digital assistant"),
        }
        for code in LANGUAGES
    }
    script = templates.get_template("widget.js").render(labels=labels)
    return Response(script, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})
