"""Server-rendered pages: the start page answers without JavaScript, service pages carry section anchors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from loket.deps import ServicesDep
from loket.errors import BadRequest
from loket.i18n import message, negotiate

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _language(request: Request, lang: str | None) -> str:
    accepted = request.headers.get("accept-language", "").split(",", 1)[0].split(";", 1)[0].strip()
    return negotiate(lang or accepted)


def _render(request: Request, template: str, language: str, **context) -> HTMLResponse:
    def t(key: str, **values: str) -> str:
        return message(key, language, **values)

    return templates.TemplateResponse(request, template, {"lang": language, "t": t, **context})


@router.get("/", response_class=HTMLResponse)
def start(
    request: Request,
    services: ServicesDep,
    q: Annotated[str | None, Query(max_length=2000)] = None,
    lang: str | None = None,
) -> HTMLResponse:
    language = _language(request, lang)
    answer, error = None, None
    if q:
        try:
            answer = services.assistant.ask(q, language)
        except BadRequest as problem:
            error = problem.message
    return _render(request, "start.html", language, question=q or "", answer=answer, error=error)


@router.get("/diensten/{item_id}", response_class=HTMLResponse)
def service_page(
    request: Request, item_id: str, services: ServicesDep, lang: str | None = None
) -> HTMLResponse:
    item = services.catalog.get(item_id)
    return _render(request, "service.html", _language(request, lang), item=item)
