"""What the proactive block keeps: the life events authentic sources sent, the facts taken from them,
the suggestions the rules made, and which agency may send which event. Who turned proactive use off is
a choice the consent block keeps."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loket.db import Base, JsonType, UtcDateTime


class EventRow(Base):
    """A CloudEvent as received: unique by its source and id (CloudEvents' own identity), so a resent
    event is recognised; `digest` tells a resend from another event under a used id."""

    __tablename__ = "proactive_events"
    __table_args__ = (UniqueConstraint("source", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(500))
    event_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(100))
    sender: Mapped[str] = mapped_column(String(100))  # the agency whose credentials sent it
    subject_kind: Mapped[str] = mapped_column(String(16))  # "person" or "company"
    subject_key: Mapped[str] = mapped_column(String(32), index=True)
    data: Mapped[dict] = mapped_column(JsonType)
    digest: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    evaluated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class FactRow(Base):
    """What loket knows of a person or company for the rules: one current value per fact, with the
    event it came from."""

    __tablename__ = "proactive_facts"
    __table_args__ = (UniqueConstraint("subject_kind", "subject_key", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_key: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[object] = mapped_column(JsonType)  # dates as ISO text
    event_id: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SuggestionRow(Base):
    """A rule's latest outcome for one person or company, with everything "why am I seeing this?"
    shows: the rule and its version, the parameter date, the event, the facts used and those missing."""

    __tablename__ = "proactive_suggestions"
    __table_args__ = (UniqueConstraint("subject_kind", "subject_key", "rule_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_key: Mapped[str] = mapped_column(String(32))
    rule_id: Mapped[str] = mapped_column(String(100))
    rule_version: Mapped[str] = mapped_column(String(32))
    service_id: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16))
    used: Mapped[dict] = mapped_column(JsonType)
    missing: Mapped[list] = mapped_column(JsonType)
    parameter_date: Mapped[date] = mapped_column(Date)
    event: Mapped[dict] = mapped_column(JsonType)  # the triggering event's type, source, id and time
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    dismissed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class EventSourceRow(Base):
    """An agency allowed to send one type of life event (`loket events allow`)."""

    __tablename__ = "proactive_event_sources"
    __table_args__ = (UniqueConstraint("agency", "type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(100))
