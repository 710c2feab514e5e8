from __future__ import annotations

from dataclasses import dataclass

from loket.catalog.schemas import CatalogItem, Section


@dataclass(frozen=True)
class SearchFilters:
    audience: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class SearchHit:
    """An item with the section that matched it best."""

    item: CatalogItem
    section: Section
    score: float

    @property
    def snippet(self) -> str:
        text = " ".join(self.section.text.split())
        return text if len(text) <= 240 else text[:237].rsplit(" ", 1)[0] + " …"
