"""Mijn loket as an installable app: the web app manifest, the offline page and the service worker.

The service worker (`static/js/sw.js`) shows push notifications and keeps an app shell: the static
files below and the offline page, precached under a cache name versioned by their content, so any
change to them brings a new worker and a fresh cache. Only what is listed here is ever cached: pages
and API answers go to the network, so nothing personal lands in a cache. All four at the site's root,
the worker so that its scope is the whole site.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from loket.i18n import LANGUAGES, plain, request_language
from loket.web.render import render, static_url
from loket.web.translations import direction

router = APIRouter(include_in_schema=False)
MANIFEST = "/manifest.webmanifest"
OFFLINE = "/offline"
WORKER = "/sw.js"
# The colours of loket.css: --accent (the header, the logo) and --bg.
THEME_COLOUR = "#0b4f9c"
BACKGROUND_COLOUR = "#ffffff"
ICONS = {"favicon.svg": "any", "icon-192.png": "192x192", "icon-512.png": "512x512"}
SHELL = ("loket.css", *ICONS, "js/pwa.js", "js/chat.js", "js/push.js")
# chat.js imports sse.js by its plain address, so that is the address the worker must answer.
IMPORTED = ("/static/js/sse.js",)
STATIC = Path(__file__).parent / "static"
# The pages' own description (base.html), so it is translated with them.
DESCRIPTION = (
    "Ask your question about public services and get a short answer with a link to the official source."
)


def offline_pages() -> list[str]:
    return [f"{OFFLINE}?{urlencode({'lang': language})}" for language in LANGUAGES]


@cache
def service_worker() -> str:
    """sw.js behind the list of what it may cache and a version drawn from their content and its own."""
    source = (STATIC / "js" / "sw.js").read_text(encoding="utf-8")
    assets = [static_url(path) for path in SHELL] + list(IMPORTED)
    digest = hashlib.sha256(source.encode())
    for path in (*SHELL, *(address.removeprefix("/static/") for address in IMPORTED)):
        digest.update((STATIC / path).read_bytes())
    # The offline page's template changes with the app too; its texts are in the version of loket.
    digest.update((Path(__file__).parent / "templates" / "offline.html").read_bytes())
    shell = {
        "cache": f"loket-shell-{digest.hexdigest()[:12]}",
        "assets": assets,
        "offline": dict(zip(LANGUAGES, offline_pages(), strict=True)),
    }
    return f"const SHELL = {json.dumps(shell)};\n{source}"


@router.get(WORKER)
def worker() -> Response:
    """Never cached long, so a new version reaches browsers at their next visit."""
    return Response(service_worker(), media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@router.get(MANIFEST)
def manifest(request: Request) -> Response:
    """In the language asked for (`?lang=`): the name, and the address the installed app opens."""
    language = request_language(request)
    name = plain(language, "My loket")
    body = {
        "id": "/",
        "name": name,
        "short_name": "loket",
        "description": plain(language, DESCRIPTION),
        "lang": language,
        "dir": direction(language),
        "start_url": f"/?{urlencode({'lang': language})}",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {
                "src": static_url(path),
                "sizes": sizes,
                "type": "image/svg+xml" if path.endswith(".svg") else "image/png",
                "purpose": "any",
            }
            for path, sizes in ICONS.items()
        ],
    }
    return JSONResponse(
        body,
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache", "Content-Language": language},
    )


@router.get(OFFLINE)
def offline(request: Request) -> Response:
    """What the app shows without a network. Never anyone's name: the worker keeps it for everyone
    who uses this browser, so it is rendered as for a visitor who is not logged in."""
    return render(request, "offline.html", request_language(request), page="offline", user=None)
