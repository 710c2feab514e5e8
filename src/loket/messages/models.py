"""What the messages block keeps: signed messages, agencies' keys, link hosts and callbacks, push
subscriptions and preferences, delivery attempts, and the phishing campaigns operators list."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loket.db import Base, UtcDateTime


class MessageRow(Base):
    """A message as the agency signed it: the exact body it sent, its signature, and the recipient's
    reading state (one recipient: a person or a company)."""

    __tablename__ = "messages_messages"
    __table_args__ = (
        UniqueConstraint("source", "reference"),
        Index("ix_messages_recipient", "recipient_type", "recipient_key", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str] = mapped_column(String(100))
    recipient_type: Mapped[str] = mapped_column(String(16))
    recipient_key: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)  # Markdown as sent; shown through the sanitiser
    priority: Mapped[str] = mapped_column(String(16))
    case_source: Mapped[str | None] = mapped_column(String(100))
    case_number: Mapped[str | None] = mapped_column(String(200))
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    signed_body: Mapped[str] = mapped_column(Text)  # the request's exact bytes, which the signature covers
    signature: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(64))
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AgencyKeyRow(Base):
    """An agency's Ed25519 public key (PEM); its id is the JWS `kid` the agency signs with."""

    __tablename__ = "messages_agency_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency: Mapped[str] = mapped_column(String(100), index=True)
    public_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AgencyHostRow(Base):
    """A host an agency's messages may link to."""

    __tablename__ = "messages_agency_hosts"
    __table_args__ = (UniqueConstraint("agency", "host"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(100))
    host: Mapped[str] = mapped_column(String(253))


class CallbackRow(Base):
    """Where an agency hears that its messages were delivered, read or not delivered; the bearer token
    it wants is kept encrypted."""

    __tablename__ = "messages_callbacks"

    agency: Mapped[str] = mapped_column(String(100), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    token: Mapped[str] = mapped_column(Text)  # Fernet-encrypted
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DeliveryAttemptRow(Base):
    """One try at telling an agency about a message, or at notifying its recipient: kept for both to see."""

    __tablename__ = "messages_delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages_messages.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))  # receipt:delivered|read|failed, or push:<channel>
    attempt: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(200))  # an HTTP status, or what went wrong (no content)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class PushSubscriptionRow(Base):
    """A browser's Web Push subscription for a person (RFC 8291 keys)."""

    __tablename__ = "messages_push_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    endpoint: Mapped[str] = mapped_column(Text, unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))  # of the page it was made on: the notification's
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PreferenceRow(Base):
    """A person's choice per channel: on or off, and hours in which nothing is sent (local time)."""

    __tablename__ = "messages_preferences"
    __table_args__ = (UniqueConstraint("person_id", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean)
    quiet_from: Mapped[time | None] = mapped_column(Time)
    quiet_until: Mapped[time | None] = mapped_column(Time)


class PhishingRow(Base):
    """A phishing campaign operators saw going round: a telling piece of its text."""

    __tablename__ = "messages_phishing"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    normalised: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
