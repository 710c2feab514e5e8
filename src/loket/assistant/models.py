"""What the assistant keeps: conversations as stored (questions redacted), feedback, and its on/off switch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loket.db import Base, JsonType, UtcDateTime


class ConversationRow(Base):
    __tablename__ = "assistant_conversations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # Who holds it: the SHA-256 of the token its browser or app was given, and the person logged in
    # when it began (then it is theirs alone). The token itself is never stored.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    person_id: Mapped[str | None] = mapped_column(String(64), index=True)


class MessageRow(Base):
    """One question and its answer. `question` and `standalone` are redacted before they get here.
    A conversation's positions are unique: questions asked at once take turns (`ConversationStore.add`)."""

    __tablename__ = "assistant_messages"
    __table_args__ = (UniqueConstraint("conversation_id", "position"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("assistant_conversations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    question: Mapped[str] = mapped_column(Text)
    standalone: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    answer: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    citations: Mapped[list] = mapped_column(JsonType)
    notices: Mapped[list] = mapped_column(JsonType)
    trace: Mapped[list] = mapped_column(JsonType)
    trace_id: Mapped[str] = mapped_column(String(32), index=True)
    # For the figures (loket.insight): where it was asked, by staff or not, and the route it took.
    channel: Mapped[str] = mapped_column(String(16), default="api")  # web, widget, api
    staff: Mapped[bool] = mapped_column(Boolean, default=False)
    route: Mapped[str | None] = mapped_column(String(32), nullable=True)
    test: Mapped[bool] = mapped_column(Boolean, default=False)  # a probe's or a load test's, not a person's


class AnswersHourRow(Base):
    """The answers of one UTC hour from one channel, by people, staff or test traffic, summed as they
    are stored: the figures read a few rows an hour instead of every answer, and outlive the
    conversations' retention (no text, no id)."""

    __tablename__ = "assistant_answers_hourly"

    hour: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    staff: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    test: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    answers: Mapped[int] = mapped_column(Integer)
    up: Mapped[int] = mapped_column(Integer)  # the latest rating of each answer
    down: Mapped[int] = mapped_column(Integer)
    llm_answers: Mapped[int] = mapped_column(Integer)  # written by an LLM, with its tokens and cost
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    cost: Mapped[float] = mapped_column(Float)


class KindsHourRow(Base):
    """How many of an hour's answers (as in `AnswersHourRow`) had a status, took a route, or were in a
    language: one row per value, so an hour has a few dozen rows, not one per combination."""

    __tablename__ = "assistant_kinds_hourly"

    hour: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    staff: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    test: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # status, route, language
    value: Mapped[str] = mapped_column(String(32), primary_key=True)
    answers: Mapped[int] = mapped_column(Integer)


class CitedHourRow(Base):
    """How many answers of one UTC hour cited a page, by channel and whose traffic."""

    __tablename__ = "assistant_cited_hourly"

    hour: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    staff: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    test: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    answers: Mapped[int] = mapped_column(Integer)


class FeedbackRow(Base):
    """The latest thumbs up or down on a message; a new one replaces it."""

    __tablename__ = "assistant_feedback"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("assistant_messages.id", ondelete="CASCADE"), primary_key=True
    )
    rating: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SwitchRow(Base):
    """The kill switch: one row, read on every question so all app servers obey at once."""

    __tablename__ = "assistant_switch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
