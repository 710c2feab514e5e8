"""Lexical search over section-level chunks: BM25 on Snowball stems, best section per item.

A deliberately simple first retriever; the index is rebuilt in memory whenever the catalogue's
revision changes, so it works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import bm25s
import numpy as np

from loket.catalog.schemas import CatalogItem, Section
from loket.catalog.service import CatalogService
from loket.search.analysis import primary_language, query_terms, terms
from loket.search.schemas import SearchFilters, SearchHit


@dataclass(frozen=True)
class _Chunk:
    item: CatalogItem
    section: Section


class _Index:
    def __init__(self, items: list[CatalogItem]) -> None:
        self.chunks = [_Chunk(item, section) for item in items for section in item.sections]
        self.languages = sorted({primary_language(item.language) for item in items})
        self.bm25 = bm25s.BM25()
        if self.chunks:
            self.bm25.index([_chunk_terms(chunk) for chunk in self.chunks], show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        wanted = query_terms(query, self.languages)
        if not self.chunks or not wanted:
            return np.zeros(len(self.chunks))
        return self.bm25.get_scores(wanted)


def _chunk_terms(chunk: _Chunk) -> list[str]:
    """The title counts three times and the heading twice: they say what a section is about."""
    item = chunk.item
    text = " ".join([item.title] * 3 + [chunk.section.heading] * 2 + [*item.keywords, chunk.section.text])
    return terms(text, item.language)


class SearchService:
    def __init__(self, catalog: CatalogService) -> None:
        self.catalog = catalog
        self._index: _Index | None = None
        self._revision: object = None
        self._lock = threading.Lock()

    def search(self, query: str, limit: int = 10, filters: SearchFilters | None = None) -> list[SearchHit]:
        index = self._current_index()
        scores = index.scores(query)
        filters = filters or SearchFilters()
        now = datetime.now(UTC)
        best: dict[str, SearchHit] = {}
        for position in np.argsort(-scores):
            score = float(scores[position])
            if score <= 0 or len(best) >= limit:
                break
            chunk = index.chunks[position]
            if chunk.item.id not in best and _matches(chunk.item, filters, now):
                best[chunk.item.id] = SearchHit(chunk.item, chunk.section, round(score, 4))
        return list(best.values())

    def _current_index(self) -> _Index:
        revision = self.catalog.revision()
        with self._lock:
            if self._index is None or revision != self._revision:
                self._index = _Index(self.catalog.active_items())
                self._revision = revision
            return self._index


def _matches(item: CatalogItem, filters: SearchFilters, now: datetime) -> bool:
    if item.valid_until and item.valid_until <= now:  # expired since the index was built
        return False
    if filters.language and primary_language(item.language) != primary_language(filters.language):
        return False
    # An item without audiences is for everyone.
    return not filters.audience or not item.audiences or filters.audience in item.audiences
