"""What the reports block keeps: each report, and where its re-encoded photos are on disk."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loket.db import Base, UtcDateTime


class ReportRow(Base):
    __tablename__ = "reports_reports"
    # The nearby lookup's bounding box: one category, a latitude range, then longitude in the index.
    __table_args__ = (
        Index("ix_reports_reports_place", "category", "latitude", "longitude"),
        # An authority's queue: its open reports, oldest first.
        Index("ix_reports_reports_queue", "authority", "closed_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    category: Mapped[str] = mapped_column(String(50))
    authority: Mapped[str] = mapped_column(String(200), doc="Who handled the category when it came in.")
    description: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    person_id: Mapped[str | None] = mapped_column(String(36), index=True, doc="A logged-in reporter.")
    token_hash: Mapped[str | None] = mapped_column(String(64), doc="An anonymous reporter's token, hashed.")
    case_id: Mapped[str | None] = mapped_column(String(32), doc="The reporter's running case, if any.")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, doc="Handled: no longer a duplicate.")
    # As its authority handles it: the status it gave, its words to the reporter, and when.
    status: Mapped[str] = mapped_column(String(100), server_default="Ontvangen")
    status_details: Mapped[str] = mapped_column(Text, server_default="")
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    contact: Mapped[str | None] = mapped_column(String(200), doc="How an anonymous reporter may be reached.")


class ReportPhotoRow(Base):
    __tablename__ = "reports_photos"

    report_id: Mapped[str] = mapped_column(
        ForeignKey("reports_reports.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True, doc="1, 2, …: its place in the URL.")
    path: Mapped[str] = mapped_column(String(200), doc="Relative to the data folder.")
    size: Mapped[int] = mapped_column(Integer, doc="Bytes of the re-encoded JPEG.")


class ReportHandlerRow(Base):
    """A person an operator let work an authority's queue on the agent console (`loket reports
    handlers add`): the console's guard, beside the role `agent`."""

    __tablename__ = "reports_handlers"

    national_number: Mapped[str] = mapped_column(String(11), primary_key=True)
    authority: Mapped[str] = mapped_column(String(200), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)
