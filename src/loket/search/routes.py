from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from loket.catalog.schemas import Audience
from loket.deps import provided
from loket.partners.access import PARTNER_ERRORS, scoped
from loket.partners.schemas import Scope
from loket.ratelimit import limited
from loket.search.schemas import SearchFilters, SearchResponse, SearchResult
from loket.search.service import SearchService

router = APIRouter(prefix="/api/v1", tags=["search"])
SearchDep = Annotated[SearchService, provided(SearchService)]


@router.get(
    "/search",
    response_model=SearchResponse,
    responses=PARTNER_ERRORS,
    dependencies=[scoped(Scope.SEARCH), limited("search")],
)
def search(
    service: SearchDep,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="What the person is looking for.")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    audience: Audience | None = None,
    lang: Annotated[
        str | None,
        Query(
            max_length=35,
            pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
            description="Only content in this language (`nl`, `fr-BE`).",
        ),
    ] = None,
    source: Annotated[str | None, Query(max_length=64, description="Only content from this source.")] = None,
    authority: Annotated[
        str | None, Query(max_length=200, description="Only services of an authority whose name holds this.")
    ] = None,
    theme: Annotated[str | None, Query(max_length=200, description="Only services with this theme.")] = None,
) -> SearchResponse:
    filters = SearchFilters(audience=audience, language=lang, source=source, authority=authority, theme=theme)
    hits = service.search(q, limit, filters)
    return SearchResponse(results=[SearchResult.of(hit) for hit in hits])
