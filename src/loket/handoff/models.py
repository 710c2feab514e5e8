"""What the handoff block keeps: every step of every hand-off as an event, agents' presence, and
continuation codes. The events are the truth; a conversation's state is folded from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loket.db import Base, JsonType, UtcDateTime


class HandoffEventRow(Base):
    """One step of a conversation's hand-off, numbered per conversation: two agents claiming at once
    both try to write step n+1, and the unique (conversation, step) lets exactly one of them."""

    __tablename__ = "handoff_events"
    __table_args__ = (
        UniqueConstraint("conversation_id", "step"),
        Index("ix_handoff_events_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(36))
    step: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))  # "citizen", "loket", or an agent's person id
    data: Mapped[dict] = mapped_column(JsonType)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class AgentRow(Base):
    """An agent's presence and the teams they answer for."""

    __tablename__ = "handoff_agents"

    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    teams: Mapped[list] = mapped_column(JsonType)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ContinuationRow(Base):
    """A short code a person reads to the phone infoline, so an agent opens the same conversation.
    Only its hash is kept; it expires."""

    __tablename__ = "handoff_continuations"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(36), index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
