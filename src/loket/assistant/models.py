"""What the assistant keeps: conversations as stored (questions redacted), feedback, and its on/off switch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
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
