"""What search takes and gives: filters, hits, and their JSON for the API and `loket search --json`."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from loket.catalog.schemas import CatalogItem, Section


@dataclass(frozen=True)
class SearchFilters:
    """Everything given must match; an item without audiences is for everyone."""

    audience: str | None = None
    language: str | None = None
    source: str | None = None
    authority: str | None = None
    theme: str | None = None


@dataclass(frozen=True)
class SearchHit:
    """An item with the section that matched it best, and whether the match is good enough to answer from."""

    item: CatalogItem
    section: Section
    score: float
    confident: bool = True

    @property
    def snippet(self) -> str:
        text = " ".join(self.section.text.split())
        return text if len(text) <= 240 else text[:237].rsplit(" ", 1)[0] + " …"


@dataclass
class SyncReport:
    items_indexed: int = 0
    items_removed: int = 0
    chunks_embedded: int = 0


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
