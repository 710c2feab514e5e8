from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from loket.catalog.schemas import Audience
from loket.deps import ServicesDep
from loket.search.schemas import SearchFilters, SearchHit

router = APIRouter(prefix="/api/v1", tags=["search"])


class SearchResult(BaseModel):
    id: str
    source_id: str
    url: str
    title: str
    snippet: str
    score: float
    language: str
    audience: list[str]
    section: str
    anchor: str
    confident: bool

    @classmethod
    def of(cls, hit: SearchHit) -> SearchResult:
        item = hit.item
        return cls(
            id=item.id,
            source_id=item.source_id,
            url=item.url,
            title=item.title,
            snippet=hit.snippet,
            score=hit.score,
            language=item.language,
            audience=[str(a) for a in item.audiences],
            section=hit.section.heading,
            anchor=hit.section.anchor,
            confident=hit.confident,
        )


class SearchResponse(BaseModel):
    results: list[SearchResult]


@router.get("/search", response_model=SearchResponse)
def search(
    services: ServicesDep,
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
    hits = services.search.search(q, limit, filters)
    return SearchResponse(results=[SearchResult.of(hit) for hit in hits])
