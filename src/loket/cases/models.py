"""What the cases block keeps: cases, their subjects and status timeline, and the agencies that send them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loket.db import Base, JsonType, UtcDateTime


class CaseRow(Base):
    """A case with its current status copied from the latest timeline entry, for fast lists."""

    __tablename__ = "cases_cases"
    __table_args__ = (UniqueConstraint("source", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    number: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(200))
    product: Mapped[str | None] = mapped_column(String(100))
    contact: Mapped[dict] = mapped_column(JsonType)
    link: Mapped[str | None] = mapped_column(Text)
    confidential: Mapped[bool] = mapped_column(Boolean)
    hidden: Mapped[bool] = mapped_column(Boolean)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    status_code: Mapped[str] = mapped_column(String(200))
    status_phase: Mapped[str] = mapped_column(Text)
    status_details: Mapped[str] = mapped_column(Text)
    action_needed: Mapped[bool] = mapped_column(Boolean)
    action: Mapped[str] = mapped_column(Text)
    status_at: Mapped[datetime] = mapped_column(UtcDateTime)
    described_at: Mapped[datetime] = mapped_column(UtcDateTime)  # of the draft whose description is kept
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CaseSubjectRow(Base):
    """Who a case is about; a person's or company's list of cases is read through the key's index."""

    __tablename__ = "cases_subjects"
    __table_args__ = (Index("ix_cases_subjects_type_key", "type", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases_cases.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(32))


class CaseStatusRow(Base):
    """One step of a case's timeline. Statuses are only ever added, never changed."""

    __tablename__ = "cases_statuses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases_cases.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)
    action_needed: Mapped[bool] = mapped_column(Boolean)
    action: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AgencyRow(Base):
    """A back office allowed to write the cases of one source. Only the token's hash is kept."""

    __tablename__ = "cases_agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    source: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
