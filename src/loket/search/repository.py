"""Reads and writes of the search tables; only the search service calls these."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from loket.search.chunking import Chunk
from loket.search.models import SearchChunkRow, SearchIndexStateRow, SearchVectorRow


def indexed_items(session: Session) -> dict[str, str]:
    """Item id to the content hash it was indexed at."""
    return dict(session.execute(select(SearchChunkRow.item_id, SearchChunkRow.item_hash).distinct()).all())


def delete_items(session: Session, item_ids: list[str]) -> None:
    for start in range(0, len(item_ids), 500):
        session.execute(
            delete(SearchChunkRow).where(SearchChunkRow.item_id.in_(item_ids[start : start + 500]))
        )


def add_chunks(session: Session, chunks: Iterable[Chunk]) -> None:
    session.add_all(
        SearchChunkRow(
            id=c.id,
            item_id=c.item_id,
            item_hash=c.item_hash,
            position=c.position,
            kind=c.kind,
            anchor=c.anchor,
            heading=c.heading,
            text=c.text,
            text_hash=c.text_hash,
        )
        for c in chunks
    )


def chunks(session: Session) -> list[Chunk]:
    rows = session.scalars(select(SearchChunkRow).order_by(SearchChunkRow.item_id, SearchChunkRow.position))
    return [
        Chunk(r.id, r.item_id, r.item_hash, r.position, r.kind, r.anchor, r.heading, r.text) for r in rows
    ]


def texts_without_vectors(session: Session, embedder: str) -> list[tuple[str, str, str]]:
    """(text hash, kind, text) of every chunk text that has no vector from this embedder yet."""
    have = select(SearchVectorRow.text_hash).where(SearchVectorRow.embedder == embedder)
    rows = session.execute(
        select(SearchChunkRow.text_hash, func.min(SearchChunkRow.kind), func.min(SearchChunkRow.text))
        .where(SearchChunkRow.text_hash.not_in(have))
        .group_by(SearchChunkRow.text_hash)
        .order_by(SearchChunkRow.text_hash)
    )
    return [tuple(row) for row in rows]


def add_vectors(session: Session, embedder: str, text_hashes: list[str], vectors: np.ndarray) -> None:
    session.add_all(
        SearchVectorRow(embedder=embedder, text_hash=text_hash, vector=vector)
        for text_hash, vector in zip(text_hashes, vectors, strict=True)
    )


def vectors(session: Session, embedder: str) -> dict[str, np.ndarray]:
    """The vectors of the current chunks' texts."""
    current = select(SearchChunkRow.text_hash).distinct()
    rows = session.execute(
        select(SearchVectorRow.text_hash, SearchVectorRow.vector).where(
            SearchVectorRow.embedder == embedder, SearchVectorRow.text_hash.in_(current)
        )
    )
    return dict(rows.all())


def index_revision(session: Session, embedder: str) -> str | None:
    return session.scalar(
        select(SearchIndexStateRow.revision).where(SearchIndexStateRow.embedder == embedder)
    )


def mark_synced(session: Session, embedder: str, now: datetime) -> str:
    """A new revision for the index of `embedder`, which every replica rebuilds from; the revision."""
    revision = uuid.uuid4().hex
    row = session.get(SearchIndexStateRow, embedder)
    if row is None:
        session.add(SearchIndexStateRow(embedder=embedder, revision=revision, synced_at=now))
    else:
        row.revision, row.synced_at = revision, now
    return revision
