"""Partner clients and their tokens: OAuth2 client credentials (RFC 6749 §4.4) with loket as its own
authorization server (docs/adr/0019-partner-access.md).

Secrets and tokens are long random strings, so a SHA-256 of each is all that is kept and all a lookup
needs. Tokens are opaque and short-lived; revoking a client stops its tokens at once, on every replica,
because each request looks its token up.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, select

from loket import clock
from loket.db import Database
from loket.errors import BadRequest
from loket.i18n import message
from loket.logging import get_logger
from loket.partners.models import PartnerClientRow, PartnerTokenRow
from loket.partners.schemas import (
    WRITE_SCOPES,
    Client,
    Grant,
    InvalidClient,
    IssuedToken,
    OAuthError,
    Registered,
    Scope,
)
from loket.partners.texts import (
    AGENCY_NEEDED,
    BAD_QUOTA,
    NAME_NEEDED,
    NAME_TAKEN,
    SANDBOX_READS_ONLY,
    SCOPE_NEEDED,
    UNKNOWN_SCOPE,
)
from loket.ratelimit import valid_rate

log = get_logger(__name__)
MAX_NAME = 100
TOKEN_PREFIX = "lkp_"  # what tells a partner token from any other bearer value


class PartnerService:
    def __init__(self, db: Database, token_lifetime: timedelta, agency_exists: Callable[[str], bool]) -> None:
        """`agency_exists`: whether an active agency has this name (the cases block knows)."""
        self.db = db
        self.token_lifetime = token_lifetime
        self.agency_exists = agency_exists

    def register(
        self,
        name: str,
        scopes: list[str],
        quota: str,
        sandbox: bool = False,
        agency: str | None = None,
        language: str = "en",
    ) -> Registered:
        """A new client, or BadRequest in `language`. Write scopes act for an agency; a sandbox client
        only searches and asks, since the sandbox has the demo catalogue and nothing else."""
        name, quota, agency = name.strip(), quota.strip(), (agency or "").strip() or None
        unknown = sorted(set(scopes) - set(Scope))
        wanted = [scope for scope in Scope if scope in scopes]
        writes = sorted(WRITE_SCOPES & set(wanted))
        refusal = (
            (not name or len(name) > MAX_NAME, NAME_NEEDED, {"count": str(MAX_NAME)}),
            (bool(unknown), UNKNOWN_SCOPE, {"scope": " ".join(unknown), "scopes": ", ".join(Scope)}),
            (not wanted, SCOPE_NEEDED, {}),
            (bool(writes) and sandbox, SANDBOX_READS_ONLY, {}),
            (
                bool(writes) and not (agency and self.agency_exists(agency)),
                AGENCY_NEEDED,
                {"scopes": ", ".join(writes)},
            ),
            (not valid_rate(quota), BAD_QUOTA, {"quota": quota}),
        )
        for refused, text, values in refusal:
            if refused:
                raise BadRequest(message(text, language, **values))
        secret = "lks_" + secrets.token_urlsafe(32)
        row = PartnerClientRow(
            id=str(uuid.uuid4()),
            name=name,
            secret_hash=_hash(secret),
            scopes=" ".join(wanted),
            quota=quota,
            sandbox=sandbox,
            agency=agency,
            created_at=clock.now(),
            revoked_at=None,
        )
        with self.db.session() as session:
            if session.scalar(select(PartnerClientRow.id).where(PartnerClientRow.name == name)):
                raise BadRequest(message(NAME_TAKEN, language, name=name))
            session.add(row)
        log.info("partners.client_registered", client=row.id, scopes=row.scopes, sandbox=sandbox)
        return Registered(_client(row), secret)

    def clients(self) -> list[Client]:
        with self.db.session() as session:
            rows = session.scalars(select(PartnerClientRow).order_by(PartnerClientRow.name)).all()
            return [_client(row) for row in rows]

    def revoke(self, client_id: str) -> bool:
        """Stops the client and every token it holds."""
        with self.db.session() as session:
            row = session.get(PartnerClientRow, client_id)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = clock.now()
            session.execute(delete(PartnerTokenRow).where(PartnerTokenRow.client_id == client_id))
        log.info("partners.client_revoked", client=client_id)
        return True

    def issue(self, client_id: str, secret: str, scope: str | None) -> IssuedToken:
        """A token for the scopes asked for (all the client's when none are), or RFC 6749's errors."""
        now = clock.now()
        with self.db.session() as session:
            row = session.get(PartnerClientRow, client_id) if client_id else None
            if (
                row is None
                or row.revoked_at is not None
                or not hmac.compare_digest(row.secret_hash, _hash(secret))
            ):
                raise InvalidClient("unknown client, wrong secret, or a revoked client")
            allowed = _scopes(row.scopes)
            wanted = _scopes(scope) if scope else allowed
            if not set(wanted) <= set(allowed):
                refused = " ".join(sorted(set(wanted) - set(allowed)))
                raise OAuthError("invalid_scope", f"this client may not ask for: {refused}")
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            session.execute(delete(PartnerTokenRow).where(PartnerTokenRow.expires_at <= now))
            session.add(
                PartnerTokenRow(
                    token_hash=_hash(token),
                    client_id=row.id,
                    scopes=" ".join(wanted),
                    expires_at=now + self.token_lifetime,
                )
            )
        log.info("partners.token_issued", client=client_id, scopes=" ".join(wanted))
        return IssuedToken(token, int(self.token_lifetime.total_seconds()), wanted)

    def grant(self, token: str) -> Grant | None:
        """What the token allows, or None for an unknown, expired or revoked one."""
        with self.db.session() as session:
            found = session.execute(
                select(PartnerTokenRow, PartnerClientRow)
                .join(PartnerClientRow, PartnerClientRow.id == PartnerTokenRow.client_id)
                .where(PartnerTokenRow.token_hash == _hash(token))
            ).first()
            if found is None:
                return None
            token_row, client_row = found
            if token_row.expires_at <= clock.now() or client_row.revoked_at is not None:
                return None
            return Grant(_client(client_row), frozenset(_scopes(token_row.scopes)))


def _scopes(text: str) -> tuple[Scope, ...]:
    """The scopes in a space-separated list, in the order of `Scope`; an unknown one is an error."""
    words = set(text.split())
    if unknown := words - set(Scope):
        raise OAuthError("invalid_scope", f"unknown scope: {' '.join(sorted(unknown))}")
    return tuple(scope for scope in Scope if scope in words)


def _client(row: PartnerClientRow) -> Client:
    return Client(
        row.id,
        row.name,
        _scopes(row.scopes),
        row.quota,
        row.sandbox,
        row.agency,
        row.created_at,
        row.revoked_at is not None,
    )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
