"""The catalogue's Python API: ingest drafts idempotently, version changes, withdraw what a source dropped.

Other blocks read the catalogue only through these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from itertools import islice
from pathlib import Path
from uuid import UUID

from loket import clock
from loket.catalog import importers, repository
from loket.catalog.importers.fetch import Fetcher
from loket.catalog.schemas import CatalogItem, IngestReport, ItemDraft, ItemStatus, ItemVersion, Problem
from loket.db import Database
from loket.errors import NotFound
from loket.harvest import HarvestPolicy
from loket.jobs import SYNC_INDEX, Jobs
from loket.logging import get_logger

DEMO_CATALOGUE = Path(__file__).parent / "demo"
DEMO_SOURCE = "loket-demo"
BATCH_SIZE = 200
log = get_logger(__name__)


def service_page_path(item_id: str) -> str:
    """Where loket itself shows an item; the URL of items whose source has no web page of its own."""
    return f"/diensten/{item_id}"


class CatalogService:
    def __init__(self, db: Database, harvest: HarvestPolicy | None = None, jobs: Jobs | None = None) -> None:
        """`harvest` is where URL ingestion may fetch from (default: the first URL's host, if public).
        `jobs`: where a change queues the search index's sync (none: whoever ingests syncs, as a
        benchmark does)."""
        self.db = db
        self.harvest = harvest or HarvestPolicy()
        self.jobs = jobs

    def ingest_location(
        self,
        location: str,
        fmt: str = "auto",
        *,
        source: str | None = None,
        full_sync: bool = False,
        fetcher: Fetcher | None = None,
        on_progress: Callable[[IngestReport], None] | None = None,
    ) -> IngestReport:
        records = importers.read(location, fmt, fetcher, self.harvest)
        if source:
            records = (r if isinstance(r, Problem) else replace(r, source=source) for r in records)
        return self.ingest(records, full_sync=full_sync, on_progress=on_progress)

    def ingest(
        self,
        records: Iterable[ItemDraft | Problem],
        *,
        full_sync: bool = False,
        on_progress: Callable[[IngestReport], None] | None = None,
    ) -> IngestReport:
        """Store drafts in batches, one transaction each: a crash loses at most the batch in flight.

        Unchanged drafts cost one hash and one lookup. With `full_sync`, items of the sources seen
        that were not in this run are withdrawn, but only when everything was read without problems:
        a broken file must not withdraw the services it failed to deliver.
        """
        report = IngestReport()
        seen: dict[str, str] = {}  # item id -> content hash, per run
        sources: set[str] = set()
        iterator = iter(records)
        while batch := list(islice(iterator, BATCH_SIZE)):
            drafts = []
            for record in batch:
                if isinstance(record, Problem):
                    report.problems.append(record)
                elif reason := repository.too_long(record):
                    where = f"{record.source[:64]}/{record.source_id[:100]} ({record.language[:35]})"
                    report.problems.append(Problem(where, f"not stored: {reason}"))
                elif record.item_id in seen:
                    if seen[record.item_id] != record.content_hash:
                        where = f"{record.source}/{record.source_id} ({record.language})"
                        report.problems.append(
                            Problem(where, "appears twice with different content; kept the first")
                        )
                else:
                    seen[record.item_id] = record.content_hash
                    sources.add(record.source)
                    drafts.append(record)
            self._store(drafts, report)
            if on_progress:
                on_progress(report)
        if full_sync and sources:
            if report.problems:
                report.problems.append(
                    Problem(
                        ", ".join(sorted(sources)),
                        "full sync: nothing withdrawn because of the problems above",
                    )
                )
            else:
                with self.db.session() as session:
                    now = clock.now()
                    for source in sorted(sources):
                        report.withdrawn += repository.withdraw_missing(session, source, set(seen), now)
                    self._changed(session, report.withdrawn)
        log.info(
            "catalog.ingested",
            sources=sorted(sources),
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            withdrawn=report.withdrawn,
            problems=len(report.problems),
        )
        return report

    def _store(self, drafts: list[ItemDraft], report: IngestReport) -> None:
        if not drafts:
            return
        now = clock.now()
        with self.db.session() as session:
            stored = repository.stored_state(session, (d.item_id for d in drafts))
            for draft in drafts:
                row = stored.get(draft.item_id)
                url = draft.url or service_page_path(draft.item_id)
                if row is None:
                    repository.insert(session, draft, url, now)
                    report.created += 1
                elif (row.content_hash, row.status, row.url) != (draft.content_hash, ItemStatus.ACTIVE, url):
                    repository.replace(session, row, draft, url, now)
                    report.updated += 1
                else:
                    report.unchanged += 1
            self._changed(session, report.created + report.updated)

    def _changed(self, session, changes: int) -> None:
        """A change queues the index's sync with itself: one waiting sync covers any number of them."""
        if changes and self.jobs:
            self.jobs.enqueue(session, SYNC_INDEX, lock=SYNC_INDEX)

    def load_demo_if_empty(self) -> IngestReport | None:
        if self.revision()[0]:
            return None
        return self.ingest_location(str(DEMO_CATALOGUE), "markdown", source=DEMO_SOURCE)

    def get(self, item_id: str) -> CatalogItem:
        with self.db.session() as session:
            item = repository.get(session, item_id)
        if item is None:
            raise NotFound(f"no catalogue item {item_id}")
        return item

    def active_items(self) -> list[CatalogItem]:
        """Items that may be shown now: active and not past their end date."""
        with self.db.session() as session:
            return repository.active(session, clock.now())

    def find(self, source_id: str, language: str) -> CatalogItem | None:
        """An active item by its record id at the source (as rules name the service they lead to), in
        `language` when there is such a version, else in Dutch, else any."""
        with self.db.session() as session:
            items = repository.active_by_source_id(session, source_id, clock.now())
        rank = {language: 0, "nl": 1}
        return min(items, key=lambda item: (rank.get(item.language, 2), item.id), default=None)

    def versions(self, item_id: str) -> list[dict]:
        with self.db.session() as session:
            return [
                {"version": v.version, "content_hash": v.content_hash, "content": v.content}
                for v in repository.versions(session, item_id)
            ]

    def shown_version(self, item_id: str) -> ItemVersion:
        """The current version of an item that may be shown now (`active_items`); NotFound for any other
        id, one that is no item's included."""
        if not _is_uuid(item_id):
            raise NotFound(f"no catalogue item {item_id[:100]!r}")
        with self.db.session() as session:
            version = repository.shown_version(session, item_id, clock.now())
        if version is None:
            raise NotFound(f"no catalogue item {item_id} to show")
        return version

    def changes(self, offset: int, limit: int) -> list[ItemVersion]:
        """Every version and every withdrawal in the order they happened: `limit` from the `offset`th on.

        A withdrawal stays listed when the item returns, as a new version."""
        with self.db.session() as session:
            return repository.changes(session, offset, limit)

    def languages_and_licences(self) -> tuple[set[str], set[str]]:
        """The languages and licences of the items that may be shown now."""
        with self.db.session() as session:
            return repository.shown_languages_and_licences(session, clock.now())

    def revision(self) -> tuple[int, datetime | None]:
        with self.db.session() as session:
            return repository.revision(session)

    def counts(self) -> dict[tuple[str, str], int]:
        """Items per (source, status)."""
        with self.db.session() as session:
            return repository.counts_by_source(session)


def _is_uuid(text: str) -> bool:
    """Item ids are UUIDs; anything else (a NUL byte, say, which PostgreSQL refuses) is never looked up."""
    try:
        return str(UUID(text)) == text
    except ValueError:
        return False
