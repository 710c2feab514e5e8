"""The catalogue's tables: the current state of each item, and every version it has had."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loket.db import Base, JsonType, UtcDateTime


class CatalogItemRow(Base):
    __tablename__ = "catalog_items"
    __table_args__ = (UniqueConstraint("source", "source_id", "language", name="uq_catalog_items_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    source_id: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(35))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    sections: Mapped[list] = mapped_column(JsonType)
    audiences: Mapped[list] = mapped_column(JsonType)
    themes: Mapped[list] = mapped_column(JsonType)
    authority: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list] = mapped_column(JsonType)
    created: Mapped[datetime | None] = mapped_column(UtcDateTime)
    modified: Mapped[datetime | None] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    licence: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CatalogItemVersionRow(Base):
    __tablename__ = "catalog_item_versions"
    # The change feed's order (`repository.changes`): a page is read from the index, not sorted whole.
    __table_args__ = (Index("ix_catalog_item_versions_recorded", "recorded_at", "item_id", "version"),)

    item_id: Mapped[str] = mapped_column(ForeignKey("catalog_items.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict] = mapped_column(JsonType)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CatalogWithdrawalRow(Base):
    """An item's withdrawal, kept after the item returns (as a new version): the change feed lists it
    for good, so a harvester reading page by page never finds members moved."""

    __tablename__ = "catalog_withdrawals"
    __table_args__ = (Index("ix_catalog_withdrawals_at", "withdrawn_at", "item_id", "version"),)

    item_id: Mapped[str] = mapped_column(ForeignKey("catalog_items.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, doc="The version withdrawn.")
    withdrawn_at: Mapped[datetime] = mapped_column(UtcDateTime)
