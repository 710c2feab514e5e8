"""Versioned feeds: an LDES feed publishes every version of a record, over many pages, and only the
newest version of each record counts (an archived one meaning the record is gone).

A format whose documents hold versions has `versions(doc)`; the reader gathers them over all the pages
of one feed, so an older version on an earlier page never overrides a newer one on a later page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from loket.catalog.schemas import ItemDraft, Problem


@dataclass(frozen=True)
class Snapshot:
    """One version of a record: what it is a version of, when it was made (a tie broken by the
    version's own name), and its drafts, none when it was archived."""

    of: str
    stamp: tuple[datetime, str]
    records: tuple[ItemDraft | Problem, ...]


def newest(records: Iterable[ItemDraft | Problem | Snapshot]) -> Iterator[ItemDraft | Problem]:
    """Drafts and problems as they come; of the snapshots, each record's newest, once all are read."""
    latest: dict[str, Snapshot] = {}
    for record in records:
        if not isinstance(record, Snapshot):
            yield record
        elif record.of not in latest or record.stamp > latest[record.of].stamp:
            latest[record.of] = record
    for of in sorted(latest):
        yield from latest[of].records
