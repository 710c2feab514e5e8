"""The pages people read: the chat (the start page), search results, service pages with section anchors,
and the statements about the assistant, accessibility and privacy. Every GET is free of side effects."""

from __future__ import annotations

from dataclasses import asdict

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from loket.catalog.schemas import Audience, CatalogItem, ItemStatus
from loket.catalog.service import service_page_path
from loket.deps import ServicesDep
from loket.errors import NotFound
from loket.search.schemas import SearchFilters, SearchHit
from loket.services import Services
from loket.web.evaluation import published
from loket.web.render import href_for, language_of, render

router = APIRouter(include_in_schema=False)
CONVERSATION_COOKIE = "loket_conversation"
SEARCH_LIMIT = 10


def audience_of(value: str | None) -> str | None:
    """An audience filter from a URL or form, ignored when it is not one we know."""
    return value if value in {str(audience) for audience in Audience} else None


@router.get("/", response_class=HTMLResponse)
def start(
    request: Request, services: ServicesDep, q: str | None = None, audience: str | None = None
) -> Response:
    language = language_of(request)
    if q:
        # Asking stores a conversation, and a GET must not change anything: old links with ?q= search.
        return RedirectResponse(href_for(language)("/zoeken", q=q[:1000]), status_code=303)
    conversation_id, messages = stored_conversation(request, services)
    return render(
        request,
        "start.html",
        language,
        page="start",
        messages=messages,
        conversation_id=conversation_id,
        audience=audience_of(audience),
    )


def stored_conversation(request: Request, services: Services) -> tuple[str | None, list[dict]]:
    """The conversation of a browser without JavaScript (its cookie), as stored: redacted where it was."""
    conversation_id = request.cookies.get(CONVERSATION_COOKIE)
    if not conversation_id:
        return None, []
    try:
        conversation = services.assistant.conversation(conversation_id[:36])
    except NotFound:
        return None, []
    messages = []
    for message in conversation.messages:
        citations = [{**c, "language": _page_language(services, c["url"])} for c in message.citations]
        messages.append({**asdict(message), "citations": citations})
    return conversation.id, messages


def _page_language(services: Services, url: str) -> str | None:
    """The language of a cited loket service page, so its title gets the right `lang`."""
    if not url.startswith("/diensten/"):
        return None
    try:
        return services.catalog.get(url.split("/")[2].split("#")[0]).language
    except NotFound:
        return None


@router.get("/zoeken", response_class=HTMLResponse)
def search(request: Request, services: ServicesDep, q: str = "", audience: str | None = None) -> Response:
    query = " ".join(q.split())[:1000]
    hits = services.search.search(query, SEARCH_LIMIT, SearchFilters(audience=audience_of(audience)))
    results = [
        {"item": hit.item, "section": hit.section, "snippet": hit.snippet, "url": _url(hit)} for hit in hits
    ]
    return render(request, "search.html", language_of(request), page="search", query=query, results=results)


def _url(hit: SearchHit) -> str:
    """loket's own service pages open at the matching section; other sources at their canonical URL."""
    own = hit.item.url == service_page_path(hit.item.id)
    return f"{hit.item.url}#{hit.section.anchor}" if own else hit.item.url


@router.get("/diensten/{item_id}", response_class=HTMLResponse)
def service_page(request: Request, item_id: str, services: ServicesDep) -> Response:
    language = language_of(request)
    item: CatalogItem = services.catalog.get(item_id)
    updated = item.modified or item.updated_at
    return render(
        request,
        "service.html",
        language,
        item=item,
        withdrawn=item.status == ItemStatus.WITHDRAWN,
        external=item.url.startswith(("http://", "https://")),
        source_name=item.source,
        language_name=language_name(item.language, language),
        updated=updated,
        updated_text=format_date(updated, "long", locale=language),
    )


def language_name(code: str, in_language: str) -> str:
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name(in_language) or code
    except (ValueError, UnknownLocaleError):
        return code


@router.get("/over-deze-assistent", response_class=HTMLResponse)
def about(request: Request, services: ServicesDep) -> Response:
    language = language_of(request)
    sources = sorted(
        {
            source
            for (source, status), count in services.catalog.counts().items()
            if count and status == "active"
        }
    )
    return render(
        request,
        "about.html",
        language,
        page="about",
        composer="llm" if services.settings.llm_base_url else "extractive",
        items=services.catalog.revision()[0],
        sources=sources,
        evaluation=published(language),
    )


@router.get("/toegankelijkheid", response_class=HTMLResponse)
def accessibility(request: Request) -> Response:
    return render(request, "accessibility.html", language_of(request), page="accessibility")


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request, services: ServicesDep) -> Response:
    settings = services.settings
    return render(
        request,
        "privacy.html",
        language_of(request),
        page="privacy",
        retention_days=settings.conversation_retention_days,
        composer="llm" if settings.llm_base_url else "extractive",
    )
