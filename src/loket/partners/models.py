"""What the partners block keeps: registered clients and the access tokens issued to them, by hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from loket.db import Base, UtcDateTime


class PartnerClientRow(Base):
    __tablename__ = "partner_clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(200), doc="Space-separated, as OAuth2 writes scopes.")
    quota: Mapped[str] = mapped_column(String(50), doc="A `limits` rate, e.g. 600/minute.")
    sandbox: Mapped[bool] = mapped_column(Boolean)
    agency: Mapped[str | None] = mapped_column(String(100), doc="The agency its write scopes act for.")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PartnerTokenRow(Base):
    __tablename__ = "partner_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
