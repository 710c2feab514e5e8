"""The tamper-evident log's tables: its leaves and checkpoints, which the database keeps append-only
(migration 0015's triggers refuse UPDATE and DELETE), and its head."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loket.db import Base, JsonType, UtcDateTime


class LeafRow(Base):
    """One entry's hash, at its place in the log (0, 1, 2, … without gaps)."""

    __tablename__ = "consent_log_leaves"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))  # hex SHA-256(0x00 || the entry's content)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class HeadRow(Base):
    """The log's size and its compact range (the roots of the perfect subtrees it is made of, largest
    first): what an append needs, locked by the appender so that places are handed out in order."""

    __tablename__ = "consent_log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(Integer)
    compact_range: Mapped[list] = mapped_column(JsonType)  # [[height, hex hash], …]


class CheckpointRow(Base):
    """A signed checkpoint: the signed note as published."""

    __tablename__ = "consent_log_checkpoints"

    size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
