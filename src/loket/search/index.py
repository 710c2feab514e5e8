"""The in-memory retrieval index: BM25 over chunk terms and a matrix of chunk vectors, one per process.

Dense scores an item by its title (embedded as a question) and its best passage, half each: titles
match how people ask, passages match what they ask about. Lexical takes the item's best chunk. Fusion
trusts the dense side and adds the lexical side in proportion to how much of the question it
recognises: a question in another language than the content gets (almost) nothing from BM25, so BM25
cannot drag it down. The weights were chosen on the evaluation sets (docs/adr/0004-search.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import bm25s
import numpy as np

from loket.catalog.schemas import CatalogItem
from loket.search.analysis import Analyzer, primary_language, words
from loket.search.chunking import PASSAGE, Chunk


@dataclass(frozen=True)
class Weights:
    """How the retrievers are combined; `loket eval retrieval` compares settings of these."""

    dense: float = 1.0
    lexical: float = 0.04
    title_share: float = 0.5


@dataclass(frozen=True)
class ItemScores:
    """Per item (aligned with `SearchIndex.items`): the fused score and the passage to cite."""

    fused: np.ndarray
    best_chunk: np.ndarray


class SearchIndex:
    def __init__(self, items: list[CatalogItem], chunks: list[Chunk], vectors: dict[str, np.ndarray]) -> None:
        by_id = {item.id: item for item in items}
        # An item's chunks side by side, in item order, so per-item maxima are one `reduceat`.
        self.chunks = sorted(
            (chunk for chunk in chunks if chunk.item_id in by_id and chunk.text_hash in vectors),
            key=lambda chunk: (chunk.item_id, chunk.position),
        )
        self.items = sorted(
            {by_id[chunk.item_id].id: by_id[chunk.item_id] for chunk in self.chunks}.values(),
            key=lambda item: item.id,
        )
        position = {item.id: n for n, item in enumerate(self.items)}
        self.chunk_item = np.array([position[chunk.item_id] for chunk in self.chunks], dtype=np.int64)
        self.item_start = np.searchsorted(self.chunk_item, np.arange(len(self.items)))
        self.valid_until = np.array(
            [item.valid_until.timestamp() if item.valid_until else np.inf for item in self.items]
        )
        self.is_passage = np.array([chunk.kind == PASSAGE for chunk in self.chunks], dtype=bool)
        self.languages = sorted({primary_language(item.language) for item in self.items})
        self.analyzer = Analyzer(word for chunk in self.chunks for word in words(chunk.text))
        self.matrix = (
            np.stack([vectors[chunk.text_hash] for chunk in self.chunks]).astype(np.float32)
            if self.chunks
            else np.zeros((0, 1), dtype=np.float32)
        )
        self.bm25 = bm25s.BM25()
        corpus = [self.analyzer.terms(chunk.text, by_id[chunk.item_id].language) for chunk in self.chunks]
        self.vocabulary = {term for terms in corpus for term in terms}
        if self.chunks:
            self.bm25.index(corpus, show_progress=False)

    def __len__(self) -> int:
        return len(self.items)

    def score(
        self, query: str, query_vector: np.ndarray | None, expansions: list[str], weights: Weights
    ) -> ItemScores:
        count = len(self.items)
        dense_chunks = (
            self.matrix @ query_vector
            if query_vector is not None and self.chunks
            else np.zeros(len(self.chunks))
        )
        own_terms = self.analyzer.query_terms(query, self.languages)
        wanted = sorted(set(own_terms) | set(self.analyzer.query_terms(" ".join(expansions), self.languages)))
        known = [term for term in wanted if term in self.vocabulary]
        lexical_chunks = self.bm25.get_scores(known) if known and self.chunks else np.zeros(len(self.chunks))
        coverage = sum(term in self.vocabulary for term in own_terms) / len(own_terms) if own_terms else 0.0

        title = self._max_per_item(dense_chunks, ~self.is_passage)
        passage = self._max_per_item(dense_chunks, self.is_passage)
        dense = weights.title_share * title + (1 - weights.title_share) * np.where(
            passage > 0, passage, title
        )
        lexical = self._max_per_item(lexical_chunks)
        top = lexical.max() if count else 0.0
        lexical_share = lexical / top if top > 0 else lexical
        fused = weights.dense * dense + weights.lexical * coverage * lexical_share

        # The passage to cite: the best passage of each item by both retrievers together.
        passage_score = np.where(
            self.is_passage, dense_chunks + (lexical_chunks / top if top > 0 else 0), -np.inf
        )
        best_chunk = np.full(count, -1, dtype=np.int64)
        order = np.argsort(passage_score)  # ascending: later (better) chunks overwrite earlier ones
        best_chunk[self.chunk_item[order]] = order
        return ItemScores(fused, best_chunk)

    def _max_per_item(self, chunk_scores: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
        """Each item's best chunk score (0 for an item without such chunks)."""
        if not self.chunks:
            return np.zeros(0)
        if among is not None:
            chunk_scores = np.where(among, chunk_scores, -np.inf)
        best = np.maximum.reduceat(chunk_scores, self.item_start)
        return np.where(np.isfinite(best), best, 0.0)
