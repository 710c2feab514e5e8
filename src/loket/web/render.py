"""Renders a page in one language: the templates get gettext, links that keep the language, the
language switch and this browser's CSRF token."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from loket.config import Settings
from loket.deps import component
from loket.i18n import LANGUAGES, translations
from loket.identity.access import signed_in
from loket.web.security import csrf_token, remember_csrf
from loket.web.translations import NATIVE_NAMES, direction, gettext

HERE = Path(__file__).parent
environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
# `{% trans %}` and `_()` call the per-request `gettext` the context carries, with keyword values.
environment.newstyle_gettext = True  # type: ignore[attr-defined]
templates = Jinja2Templates(env=environment)


def dir_attribute(language: str, within: str = "ltr") -> Markup:
    """` dir="rtl"` (or ltr) where text runs the other way than its surroundings; nothing otherwise."""
    wanted = direction(language)
    return Markup(f' dir="{wanted}"') if wanted != within else Markup("")


def phone_link(number: str) -> Markup:
    """A number people can tap on a phone to call."""
    dial = "".join(c for c in number if c.isdigit() or c == "+")
    return Markup('<a href="tel:{}">{}</a>').format(dial, number)


@cache
def static_url(path: str) -> str:
    """A static file's URL with its content hash, so browsers may cache it and still see changes."""
    digest = hashlib.sha256((HERE / "static" / path).read_bytes()).hexdigest()[:12]
    return f"/static/{path}?v={digest}"


def href_for(language: str):
    """Links within loket keep the interface language; links elsewhere are left alone."""

    def href(url: str, **query: str | None) -> str:
        if not url.startswith("/") or url.startswith("//"):
            return url
        path, _, fragment = url.partition("#")
        path, _, existing = path.partition("?")
        params = dict(parse_qsl(existing))
        params.update({name: value for name, value in query.items() if value})
        params["lang"] = language
        return f"{path}?{urlencode(params)}" + (f"#{fragment}" if fragment else "")

    return href


def _route_path(request: Request) -> str:
    """This page's path as its route builds it, never the raw request path: a request for
    `//evil.example` (no route, a 404 page) must not turn into a link to another site."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "path_format"):
        return "/"
    return route.path_format.format(
        **{name: quote(str(value)) for name, value in request.path_params.items()}
    )


def _switch(request: Request, language: str) -> list[dict]:
    """The same page in each interface language."""
    links = []
    for code in LANGUAGES:
        query = dict(request.query_params)
        query["lang"] = code
        links.append(
            {
                "code": code,
                "name": NATIVE_NAMES[code],
                "href": f"{_route_path(request)}?{urlencode(query)}",
                "current": code == language,
            }
        )
    return links


def _ngettext(language: str):
    catalogue = translations(language)

    def translate(singular: str, plural: str, number: int, **values: object) -> Markup:
        return Markup(catalogue.ngettext(singular, plural, number)) % {"num": number, **values}

    return translate


def render(
    request: Request, template: str, language: str, *, status_code: int = 200, **context
) -> HTMLResponse:
    settings = component(request, Settings)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "lang": language,
            "dir": direction(language),
            "direction": direction,
            "dir_attr": dir_attribute,
            "gettext": gettext(language),
            "ngettext": _ngettext(language),
            "href": href_for(language),
            "static": static_url,
            "languages": _switch(request, language),
            "csrf_token": csrf_token(request),
            "user": signed_in(request),
            # This page with its language, to come back to after logging in or switching profile.
            "here": href_for(language)(
                _route_path(request) + (f"?{request.url.query}" if request.url.query else "")
            ),
            "login_offered": settings.demo_login or bool(settings.oidc_issuer),
            "demo": settings.demo,
            "infoline": settings.infoline,
            "phone": phone_link(settings.infoline),
            "emergency": settings.emergency_number,
            **context,
        },
        status_code=status_code,
    )
    remember_csrf(request, response)
    # Pages carry this browser's token and perhaps its conversation: never cached, never shared.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response
