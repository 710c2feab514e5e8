"""The search index: chunks of catalogue items, one vector per chunk text and embedder, and the mark of
the last complete sync per embedder."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loket.db import Base, UtcDateTime, VectorType


class SearchChunkRow(Base):
    __tablename__ = "search_chunks"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(36), index=True)
    item_hash: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    anchor: Mapped[str] = mapped_column(String(100))
    heading: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64), index=True)


class SearchVectorRow(Base):
    """Keyed by the text, not the chunk: the same text is embedded once, and kept when an item comes back."""

    __tablename__ = "search_vectors"

    embedder: Mapped[str] = mapped_column(String(200), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector = mapped_column(VectorType, nullable=False)


class SearchIndexStateRow(Base):
    """Written when a sync has finished, never before: replicas rebuild their in-memory index when its
    `revision` changes, so none takes a sync half-way for the whole."""

    __tablename__ = "search_index_state"

    embedder: Mapped[str] = mapped_column(String(200), primary_key=True)
    revision: Mapped[str] = mapped_column(String(32))
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)
