"""Optional re-ranking of the first few hits, off by default (`LOKET_RERANKER`).

Fusion orders candidates by scores computed for each one alone; a re-ranker reads the question and
each candidate together, which tells near-duplicates apart better but costs far more per candidate.
So it only reorders the first `LOKET_RERANK_DEPTH` hits and never adds or drops one, nor changes
whether a hit is confident: it cannot make a weak match look strong. Implementations: a cross-encoder
from a local sentence-transformers model path (here), or the configured LLM (`loket.assistant.llm`,
which owns the chat client). Either keeps the fused order when it fails.
"""

from __future__ import annotations

from typing import Protocol

from loket.logging import get_logger
from loket.search.schemas import SearchHit

log = get_logger(__name__)


class Reranker(Protocol):
    name: str

    def rerank(self, query: str, hits: list[SearchHit]) -> list[SearchHit]:
        """The same hits, best first."""


def passage(hit: SearchHit, limit: int = 1000) -> str:
    """What a re-ranker reads of a hit: title, section heading and the section's start."""
    return f"{hit.item.title}. {hit.section.heading}. {' '.join(hit.section.text.split())[:limit]}"


def reorder(hits: list[SearchHit], order: list[int]) -> list[SearchHit]:
    """Hits in `order` (indexes, best first; repeats and strangers ignored), then any left out."""
    chosen = list(dict.fromkeys(i for i in order if 0 <= i < len(hits)))
    return [hits[i] for i in chosen] + [hit for i, hit in enumerate(hits) if i not in chosen]


class CrossEncoderReranker:
    """A cross-encoder from a local path (`cross-encoder:PATH`); needs sentence-transformers installed."""

    def __init__(self, path: str) -> None:
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as error:
            raise RuntimeError(
                "LOKET_RERANKER=cross-encoder needs `pip install sentence-transformers`"
            ) from error
        self.name = f"cross-encoder:{path}"
        self.model = CrossEncoder(path)

    def rerank(self, query: str, hits: list[SearchHit]) -> list[SearchHit]:
        try:
            scores = self.model.predict([(query, passage(hit)) for hit in hits])
        except Exception as error:  # a model that fails must not fail the search
            log.warning("search.rerank_failed", reranker=self.name, error=type(error).__name__)
            return hits
        return reorder(hits, sorted(range(len(hits)), key=lambda i: -float(scores[i])))
