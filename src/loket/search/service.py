"""Hybrid search over the catalogue: the Python API other blocks use.

The index lives in the database (chunks and their vectors, so embeddings survive restarts and are
shared by every app server) and in memory (BM25 and the vector matrix, rebuilt when a sync has
finished). `sync` brings the stored index in line with the catalogue and embeds only new texts; it
runs as a job (a catalogue change queues it) or in the command that changed the catalogue, never in
a search request. A finished sync writes a new revision and announces it on the event bus; every app
server follows those announcements (`follow_revisions`: LISTEN/NOTIFY on PostgreSQL, polling on
SQLite) and swaps in the rebuilt index whole, so no search waits for a rebuild.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache

import anyio.to_thread
import numpy as np
from sqlalchemy.exc import IntegrityError

from loket import clock
from loket.catalog.schemas import CatalogItem, Section
from loket.catalog.service import CatalogService
from loket.db import Database
from loket.events import EventBus
from loket.logging import get_logger
from loket.personal_data import redacted
from loket.search import repository
from loket.search.analysis import primary_language
from loket.search.chunking import TITLE, chunk_item
from loket.search.embedders import Embedder
from loket.search.index import SearchIndex, Weights
from loket.search.rerank import Reranker
from loket.search.schemas import SearchFilters, SearchHit, SyncReport
from loket.search.synonyms import Synonyms

EMBED_BATCH = 32
# Below this fused score the best match is too weak to answer from; set on the evaluation sets
# (see docs/adr/0004-search.md), so that out-of-scope questions are told "I don't know". A question
# in another language than the item's scores lower for the same fit (the embeddings cross languages
# at a cost, BM25 not at all), so when the question's language is known the bar depends on it.
CONFIDENT_SCORE = 0.85
CONFIDENT_SAME_LANGUAGE = 0.87
CONFIDENT_OTHER_LANGUAGE = 0.83
# The event stream a finished sync announces its new revision on.
INDEX_STREAM = "search:index"
FOLLOW_RETRY_SECONDS = 5.0
log = get_logger(__name__)


class SearchService:
    def __init__(
        self,
        db: Database,
        catalog: CatalogService,
        embedder: Embedder,
        synonyms: Synonyms,
        weights: Weights | None = None,
        reranker: Reranker | None = None,
        rerank_depth: int = 5,
        events: EventBus | None = None,
    ) -> None:
        self.db = db
        self.events = events or EventBus(db)
        self.reranker = reranker
        self.rerank_depth = rerank_depth
        self.catalog = catalog
        self.embedder = embedder
        self.synonyms = synonyms
        self.weights = weights or Weights()
        # A conversation's follow-ups and the assistant's scope check ask for the same vectors again.
        self._query_vectors = lru_cache(maxsize=512)(self._embed_query)
        self._index: SearchIndex | None = None
        self._revision: object = None
        self._lock = threading.Lock()
        self._following = False

    def search(
        self,
        query: str,
        limit: int = 10,
        filters: SearchFilters | None = None,
        weights: Weights | None = None,
        language: str | None = None,
    ) -> list[SearchHit]:
        """`language` is the query's, when known: it sets how high a score must be to be `confident`."""
        index = self.current_index()
        if not len(index) or not query.strip():
            return []
        expansions = self.synonyms.expansions(query)
        vector = self.query_vector(query) if (weights or self.weights).dense else None
        scores = index.score(query, vector, expansions, weights or self.weights)
        allowed = _allowed(index, filters or SearchFilters(), clock.now())
        depth = max(limit, self.rerank_depth) if self.reranker else limit
        ranked = [n for n in np.argsort(-scores.fused, kind="stable") if allowed[n]][:depth]
        hits = [
            SearchHit(
                item=index.items[n],
                section=_section(index, int(scores.best_chunk[n])),
                score=round(float(scores.fused[n]), 4),
                confident=bool(scores.fused[n] >= _confidence_bar(language, index.items[n])),
            )
            for n in ranked
        ]
        if self.reranker and len(hits) > 1:
            head = self.reranker.rerank(query, hits[: self.rerank_depth])
            hits = head + hits[self.rerank_depth :]
        return hits[:limit]

    def query_vector(self, query: str) -> np.ndarray:
        return self._query_vectors(query)

    def _embed_query(self, query: str) -> np.ndarray:
        """Redacted first: the embedder may be a remote service, and a search box gets identifiers too."""
        return self.embedder.embed_queries([redacted(query)])[0]

    def current_index(self) -> SearchIndex:
        """The in-memory index as the last complete sync left it; a request never syncs or embeds.

        In an app server `follow_revisions` keeps it current. A process that does not follow (a
        command, a test) notices a newer sync by its revision, one primary-key read per search. One
        thread rebuilds while the others go on searching the index they have; the new one replaces it
        whole.
        """
        if self._index is not None and (self._following or self._stored_revision() == self._revision):
            return self._index
        return self._rebuilt(wait=self._index is None)

    async def follow_revisions(self) -> None:
        """Rebuilds the index in the background whenever a sync, in any process, announces a new
        revision: for as long as the app server runs. Should following fail (the database away for a
        while), searches read the revision themselves until it is back."""
        # A server that stops does not wait for a rebuild: the thread is left to finish on its own.
        in_thread = functools.partial(anyio.to_thread.run_sync, abandon_on_cancel=True)
        while True:
            try:
                after = await in_thread(self.events.latest_id, INDEX_STREAM)
                # What was synced before `after` is read here; what comes later is announced.
                await in_thread(self._rebuilt, True)
                self._following = True
                async with contextlib.aclosing(self.events.subscribe(INDEX_STREAM, after)) as revisions:
                    async for _ in revisions:
                        await in_thread(self._rebuilt, True)
            except Exception as error:  # any failure: fall back to reading the revision, try again
                log.warning("search.follow_lost", error=type(error).__name__, retry_in=FOLLOW_RETRY_SECONDS)
            finally:
                self._following = False
            await asyncio.sleep(FOLLOW_RETRY_SECONDS)

    @property
    def following(self) -> bool:
        """Whether `follow_revisions` keeps the index current (for tests and readiness)."""
        return self._following

    @property
    def revision(self) -> object:
        """The revision of the index in memory (None before one is built), read without a search."""
        return self._revision

    def _rebuilt(self, wait: bool) -> SearchIndex:
        """The index for the stored revision, rebuilt if it is not that one's; without `wait`, the
        index there is while another thread rebuilds."""
        if not self._lock.acquire(blocking=wait):
            return self._index  # another thread is rebuilding
        try:
            # Read again under the lock: a thread that read it before another rebuilt would rebuild
            # once more and label the new index with the old revision.
            revision = self._stored_revision()
            if self._index is None or revision != self._revision:
                items = self.catalog.active_items()
                with self.db.session() as session:
                    chunks = repository.chunks(session)
                    vectors = repository.vectors(session, self.embedder.name)
                self._index = SearchIndex(items, chunks, vectors)
                self._revision = revision
            return self._index
        finally:
            self._lock.release()

    def _stored_revision(self) -> str | None:
        with self.db.session() as session:
            return repository.index_revision(session, self.embedder.name)

    def sync(self, on_progress: Callable[[int, int], None] | None = None) -> SyncReport:
        """Index new and changed items, drop withdrawn ones, embed texts that have no vector yet.

        Each batch of vectors is committed on its own, so an interrupted sync resumes where it stopped.
        """
        return self._sync(self.catalog.active_items(), on_progress)

    def _sync(
        self, active: list[CatalogItem], on_progress: Callable[[int, int], None] | None = None
    ) -> SyncReport:
        report = SyncReport()
        items = {item.id: item for item in active}
        try:
            with self.db.session() as session:
                indexed = repository.indexed_items(session)
                stale = [
                    item_id
                    for item_id, digest in indexed.items()
                    if item_id not in items or items[item_id].content_hash != digest
                ]
                fresh = [item for item in items.values() if indexed.get(item.id) != item.content_hash]
                repository.delete_items(session, stale)
                repository.add_chunks(session, (chunk for item in fresh for chunk in chunk_item(item)))
                report.items_removed = len(set(stale) - items.keys())
                report.items_indexed = len(fresh)
            with self.db.session() as session:
                missing = repository.texts_without_vectors(session, self.embedder.name)
            for start in range(0, len(missing), EMBED_BATCH):
                batch = missing[start : start + EMBED_BATCH]
                vectors = self._embed_texts(batch)
                with self.db.session() as session:
                    repository.add_vectors(session, self.embedder.name, [h for h, _, _ in batch], vectors)
                report.chunks_embedded += len(batch)
                if on_progress:
                    on_progress(report.chunks_embedded, len(missing))
        except IntegrityError:
            log.info("search.sync_raced", reason="another process indexed the same items")
            return report  # the other one marks the index when it is done
        changed = report.items_indexed or report.items_removed or report.chunks_embedded
        try:
            with self.db.session() as session:
                if changed or repository.index_revision(session, self.embedder.name) is None:
                    revision = repository.mark_synced(session, self.embedder.name, clock.now())
                    self.events.publish(session, INDEX_STREAM, "revised", {"revision": revision})
        except IntegrityError:
            log.info("search.sync_raced", reason="another process marked its sync at the same moment")
        if changed:
            log.info("search.synced", **vars(report))
            # This process searches too (an index stands, or the app's follower is building its
            # first from what was stored before): it reads its own sync at once.
            if self._index is not None or self._lock.locked():
                self._rebuilt(wait=True)
        return report

    def _embed_texts(self, batch: list[tuple[str, str, str]]) -> np.ndarray:
        """Titles are embedded in the query form: they are questions, and meet questions."""
        titles = [n for n, (_, kind, _) in enumerate(batch) if kind == TITLE]
        passages = [n for n, (_, kind, _) in enumerate(batch) if kind != TITLE]
        vectors: dict[int, np.ndarray] = {}
        for numbers, embed in (
            (titles, self.embedder.embed_queries),
            (passages, self.embedder.embed_passages),
        ):
            if numbers:
                vectors.update(zip(numbers, embed([batch[n][2] for n in numbers]), strict=True))
        return np.stack([vectors[n] for n in range(len(batch))])


def _confidence_bar(language: str | None, item: CatalogItem) -> float:
    if language is None:
        return CONFIDENT_SCORE
    same = primary_language(language) == primary_language(item.language)
    return CONFIDENT_SAME_LANGUAGE if same else CONFIDENT_OTHER_LANGUAGE


def _allowed(index: SearchIndex, filters: SearchFilters, now: datetime) -> np.ndarray:
    valid = index.valid_until > now.timestamp()  # items can expire after the index was built
    if filters == SearchFilters():
        return valid

    def ok(item: CatalogItem) -> bool:
        if filters.language and primary_language(item.language) != primary_language(filters.language):
            return False
        if filters.audience and item.audiences and filters.audience not in item.audiences:
            return False
        if filters.source and item.source != filters.source:
            return False
        if filters.authority and filters.authority.lower() not in item.authority.lower():
            return False
        return not filters.theme or filters.theme.lower() in (theme.lower() for theme in item.themes)

    return valid & np.array([ok(item) for item in index.items], dtype=bool)


def _section(index: SearchIndex, chunk_number: int) -> Section:
    chunk = index.chunks[chunk_number]
    item = index.items[int(index.chunk_item[chunk_number])]
    return next(
        (s for s in item.sections if s.anchor == chunk.anchor),
        item.sections[0]
        if item.sections
        else Section(heading=item.title, text=item.summary, anchor=chunk.anchor or "top"),
    )
