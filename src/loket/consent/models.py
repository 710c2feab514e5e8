"""The consent block's tables: the tamper-evident log's leaves and checkpoints, which the database
keeps append-only (migration 0015's triggers refuse UPDATE and DELETE), and its head; people's choices
for optional uses of their data; holds that keep an access record from view for a while."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
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


class ChoiceRow(Base):
    """A person's or organisation's choice for an optional use of their data: granted or withdrawn,
    with its scope and, for a grant, until when. Never changed: a new choice is a new row, so the
    history shows when each was made (`loket.consent.choices`)."""

    __tablename__ = "consent_choices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(String(16))  # person (national number), company, login
    subject_key: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(32))  # a purpose of the processing register
    scope: Mapped[str] = mapped_column(String(128))
    granted: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    by: Mapped[str] = mapped_column(String(64))  # the person who made it, or loket

    __table_args__ = (Index("ix_consent_choices_subject", "subject_kind", "subject_key", "purpose"),)


class HoldRow(Base):
    """An access record kept from its subject's view until a date, for a reason (an investigation that
    telling would harm), or until disclosed earlier. The record itself stays in the log, unchanged."""

    __tablename__ = "consent_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_seq: Mapped[int] = mapped_column(Integer, unique=True)  # the access record's place in the log
    until: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    disclosed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
