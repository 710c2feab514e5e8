"""What the insight block keeps: content owners' reviews of answers, a verdict per sentence and per
citation. Only verdicts and the reviewer's reason: the answer's text stays with the assistant (and goes
with it when the conversation is purged), so the figures outlive the text. And the content gaps: clusters
of unanswered questions (by message id), content owners' marks on them, the questions' vectors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loket.db import Base, JsonType, UtcDateTime, VectorType


class ReviewRow(Base):
    __tablename__ = "insight_reviews"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), index=True)  # the assistant's answer
    reviewer: Mapped[str] = mapped_column(String(64))  # the content owner's person id
    reviewed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    language: Mapped[str] = mapped_column(String(16))  # the answer's
    sentences: Mapped[list] = mapped_column(JsonType)  # true (right) or false (wrong), one per sentence
    citations: Mapped[list] = mapped_column(JsonType)  # true or false, one per citation
    reason: Mapped[str] = mapped_column(Text)


class GapRunRow(Base):
    """One computation of the content gaps (`loket.insight.gaps`): the page shows the latest; a new one
    replaces all but the latest (whose clusters a page shown before it may still mark)."""

    __tablename__ = "insight_gap_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    until: Mapped[datetime] = mapped_column(UtcDateTime)
    questions: Mapped[int] = mapped_column(Integer)  # unanswered or voted down in [since, until)


class GapRow(Base):
    """One cluster of a run: message ids only, never a question's text (the page reads the examples from
    the assistant when it shows them, so retention removes them from the page too)."""

    __tablename__ = "insight_gaps"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    run_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("insight_gap_runs.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)  # most distinct askers first
    size: Mapped[int] = mapped_column(Integer)
    askers: Mapped[int] = mapped_column(Integer)  # distinct
    down: Mapped[int] = mapped_column(Integer)  # of its questions, those whose answer was voted down
    asked: Mapped[list] = mapped_column(JsonType)  # [message id, ISO time] per question, oldest first
    examples: Mapped[list] = mapped_column(JsonType)  # message ids, one per asker, most typical first
    items: Mapped[list] = mapped_column(JsonType)  # the closest catalogue items' ids, closest first
    centroid = mapped_column(VectorType, nullable=False)


class GapMarkRow(Base):
    """A content owner's "handled" on a cluster: its centroid, so that it carries over to the clusters of
    later runs, and the end of the run it was made on (questions after it are new to the owner)."""

    __tablename__ = "insight_gap_marks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    centroid = mapped_column(VectorType, nullable=False)
    seen_until: Mapped[datetime] = mapped_column(UtcDateTime)
    marked_at: Mapped[datetime] = mapped_column(UtcDateTime)
    marked_by: Mapped[str] = mapped_column(String(64))  # the content owner's person id


class GapVectorRow(Base):
    """An unanswered question's vector, kept between runs so the hourly job embeds only new questions;
    dropped by the first run that no longer finds the question (retention removed it, or it is older
    than the period)."""

    __tablename__ = "insight_gap_vectors"

    embedder: Mapped[str] = mapped_column(String(200), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    vector = mapped_column(VectorType, nullable=False)
