"""What identity keeps: persons, server-side sessions, login attempts, passkeys, mandates, roles and the
access log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from loket.db import Base, JsonType, UtcDateTime


class PersonRow(Base):
    """A person who logged in once, known by `subject`: the provider's `sub` with its issuer.

    The national number is a claim the provider made, not a key: two issuers' accounts carrying the
    same one stay two persons.
    """

    __tablename__ = "identity_persons"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(512), unique=True)
    national_number: Mapped[str | None] = mapped_column(String(11), index=True)
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_login_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SessionRow(Base):
    """A browser's login. Only the hash of the cookie's token is kept, so a database copy logs no one in.

    `profiles` holds the profiles the identity provider vouched for at this login (the company chosen
    there, say); they end with the session rather than outlive the provider's say-so. `acr` is how
    strongly the provider authenticated the person. The ID token itself is not kept: logging out at
    the provider needs only loket's client id.
    """

    __tablename__ = "identity_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("identity_persons.id", ondelete="CASCADE"), index=True)
    active_profile: Mapped[str] = mapped_column(String(128))
    profiles: Mapped[list] = mapped_column(JsonType)
    method: Mapped[str] = mapped_column(String(16))
    acr: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class LoginAttemptRow(Base):
    """An OpenID Connect login under way, bound to the browser that started it by a cookie's hash."""

    __tablename__ = "identity_login_attempts"

    browser_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    return_to: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class PasskeyRow(Base):
    """A passkey a person registered on a device after a full login, to unlock loket there later.

    `id` is the credential's id (base64url), `public_key` its COSE key; `sign_count` the authenticator's
    counter at its last use, which must grow (a cloned authenticator shows an old one).
    """

    __tablename__ = "identity_passkeys"

    id: Mapped[str] = mapped_column(String(1400), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("identity_persons.id", ondelete="CASCADE"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger)
    transports: Mapped[list] = mapped_column(JsonType)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PasskeyChallengeRow(Base):
    """A WebAuthn challenge handed to a browser (by a cookie's hash), taken once when the answer comes.

    `person_id` is set for a registration: only that person's session may complete it.
    """

    __tablename__ = "identity_passkey_challenges"

    browser_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    challenge: Mapped[str] = mapped_column(String(128))
    person_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class MandateRow(Base):
    """A person lets another act for them: for everything (`case_types` empty) or some case types, and
    for their messages and suggestions too or not."""

    __tablename__ = "identity_mandates"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    mandator_id: Mapped[str] = mapped_column(
        ForeignKey("identity_persons.id", ondelete="CASCADE"), index=True
    )
    mandatary_national_number: Mapped[str] = mapped_column(String(11), index=True)
    mandatary_name: Mapped[str] = mapped_column(Text)
    case_types: Mapped[list] = mapped_column(JsonType)
    messages: Mapped[bool] = mapped_column(Boolean, server_default=false())
    suggestions: Mapped[bool] = mapped_column(Boolean, server_default=false())
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RoleRow(Base):
    """A role beyond citizen, granted by national number so it can be given before the first login."""

    __tablename__ = "identity_roles"
    __table_args__ = (UniqueConstraint("national_number", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    national_number: Mapped[str] = mapped_column(String(11), index=True)
    role: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AccessRow(Base):
    """One read of personal data: who read it, acting as whom, whose data, what and why. No data itself."""

    __tablename__ = "identity_access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor_id: Mapped[str] = mapped_column(String(64), index=True)
    profile: Mapped[str] = mapped_column(String(128))
    subject: Mapped[str] = mapped_column(String(128), index=True)
    what: Mapped[str] = mapped_column(String(128))
    why: Mapped[str] = mapped_column(Text)
    seq: Mapped[int] = mapped_column(Integer, unique=True)  # its place in the tamper-evident log
    salt: Mapped[str] = mapped_column(String(32))  # so its hash cannot be guessed once the row is gone
    basis: Mapped[str | None] = mapped_column(String(64), nullable=True)  # legal basis, or mandate:ID
    trace_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the request's, when traced
