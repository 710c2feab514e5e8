"""The pages people read: the chat (the start page), search results, service pages with section anchors,
and the statements about the assistant, accessibility and privacy. Every GET is free of side effects."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from loket.assistant import holders
from loket.assistant.service import AssistantService
from loket.catalog.schemas import Audience, CatalogItem, ItemStatus
from loket.catalog.service import CatalogService, service_page_path
from loket.errors import NotFound
from loket.handoff.service import State
from loket.i18n import request_language
from loket.ratelimit import limited
from loket.search.schemas import SearchFilters, SearchHit
from loket.web.deps import AssistantDep, CatalogDep, HandoffDep, InsightDep, SearchDep, SettingsDep
from loket.web.evaluation import percent_text, published
from loket.web.render import href_for, render

router = APIRouter(include_in_schema=False)
SEARCH_LIMIT = 10


def audience_of(value: str | None) -> str | None:
    """An audience filter from a URL or form, ignored when it is not one we know."""
    return value if value in {str(audience) for audience in Audience} else None


@router.get("/", response_class=HTMLResponse)
def start(
    request: Request,
    assistant: AssistantDep,
    catalog: CatalogDep,
    handoff: HandoffDep,
    q: str | None = None,
    audience: str | None = None,
) -> Response:
    language = request_language(request)
    if q:
        # Asking stores a conversation, and a GET must not change anything: old links with ?q= search.
        return RedirectResponse(href_for(language)("/zoeken", q=q[:1000]), status_code=303)
    conversation_id, messages = stored_conversation(request, assistant, catalog)
    current = handoff.get(conversation_id) if conversation_id else None
    return render(
        request,
        "start.html",
        language,
        page="start",
        messages=messages,
        conversation_id=conversation_id,
        audience=audience_of(audience),
        handoff=current,
        place=handoff.place(current) if current and current.state is State.WAITING else None,
    )


def stored_conversation(
    request: Request, assistant: AssistantService, catalog: CatalogService
) -> tuple[str | None, list[dict]]:
    """The conversation this browser holds (its cookie), as stored: redacted where it was."""
    conversation = assistant.held_conversation(holders.holder(request))
    if conversation is None:
        return None, []
    messages = []
    for message in conversation.messages:
        citations = [{**c, "language": _page_language(catalog, c["url"])} for c in message.citations]
        messages.append({**asdict(message), "citations": citations})
    return conversation.id, messages


def _page_language(catalog: CatalogService, url: str) -> str | None:
    """The language of a cited loket service page, so its title gets the right `lang`."""
    if not url.startswith("/diensten/"):
        return None
    try:
        return catalog.get(url.split("/")[2].split("#")[0]).language
    except NotFound:
        return None


@router.get("/zoeken", response_class=HTMLResponse, dependencies=[limited("search")])
def search(request: Request, search_service: SearchDep, q: str = "", audience: str | None = None) -> Response:
    query = " ".join(q.split())[:1000]
    hits = search_service.search(query, SEARCH_LIMIT, SearchFilters(audience=audience_of(audience)))
    results = [
        {"item": hit.item, "section": hit.section, "snippet": hit.snippet, "url": _url(hit)} for hit in hits
    ]
    return render(
        request, "search.html", request_language(request), page="search", query=query, results=results
    )


def _url(hit: SearchHit) -> str:
    """loket's own service pages open at the matching section; other sources at their canonical URL."""
    own = hit.item.url == service_page_path(hit.item.id)
    return f"{hit.item.url}#{hit.section.anchor}" if own else hit.item.url


@router.get("/diensten/{item_id}", response_class=HTMLResponse)
def service_page(request: Request, item_id: str, catalog: CatalogDep) -> Response:
    language = request_language(request)
    item: CatalogItem = catalog.get(item_id)
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
def about(request: Request, catalog: CatalogDep, settings: SettingsDep, insight: InsightDep) -> Response:
    """What the assistant is and how well it works: the evaluation's figures as `loket eval` measured
    them, and live use counted from the stored answers at the time of reading (never typed in)."""
    language = request_language(request)
    report = insight.report()
    last_day = report.until - timedelta(days=1)
    sources = sorted(
        {source for (source, status), count in catalog.counts().items() if count and status == "active"}
    )
    return render(
        request,
        "about.html",
        language,
        page="about",
        composer="llm" if settings.llm_base_url else "extractive",
        items=catalog.revision()[0],
        sources=sources,
        evaluation=published(language),
        report=report,
        report_length=(report.until - report.since).days,
        report_questions=format_decimal(report.questions, locale=language),
        report_days=tuple(format_date(day, "long", locale=language) for day in (report.since, last_day)),
        report_shares={
            name: percent_text(value, language)
            for name, value in (
                ("answered", report.answered),
                ("handed_off", report.handed_off),
                ("sentences_right", report.review.sentences_right),
                ("citations_right", report.review.citations_right),
            )
        },
    )


@router.get("/toegankelijkheid", response_class=HTMLResponse)
def accessibility(request: Request) -> Response:
    return render(request, "accessibility.html", request_language(request), page="accessibility")


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request, settings: SettingsDep) -> Response:
    return render(
        request,
        "privacy.html",
        request_language(request),
        page="privacy",
        retention_days=settings.conversation_retention_days,
        composer="llm" if settings.llm_base_url else "extractive",
    )
