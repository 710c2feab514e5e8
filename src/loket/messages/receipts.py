"""Delivery receipts: loket tells an agency that its message was delivered, read, or never read in time.

An agency registers an https address and the bearer token loket is to send there; the token is kept
encrypted (Fernet, with LOKET_DATA_KEY), so a copy of the database does not let anyone call the
agency as loket. Each receipt is a job: a network error, a 5xx or a 429 is tried again later with a
growing wait (`TryAgain`); any other 4xx means the agency will not take it, and trying again would
not change that. Every attempt is recorded with its outcome, never with the token.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from loket import clock
from loket.db import Database
from loket.errors import BadRequest
from loket.jobs import TryAgain
from loket.keys import kept_key
from loket.logging import get_logger
from loket.messages.models import CallbackRow
from loket.messages.schemas import Receipt
from loket.messages.service import MessageService

log = get_logger(__name__)
TIMEOUT_SECONDS = 10.0


class Receipts:
    def __init__(
        self, db: Database, messages: MessageService, fernet: Fernet | None, https_only: bool
    ) -> None:
        """`fernet`: None when no data key is configured (production without LOKET_DATA_KEY): callbacks
        cannot be registered then. `https_only`: off in development, for a callback on this machine."""
        self.db = db
        self.messages = messages
        self.fernet = fernet
        self.https_only = https_only

    def set_callback(self, agency: str, url: str, token: str) -> None:
        self.messages.agency(agency)
        parts = urlsplit(url)
        if parts.scheme != "https" and (self.https_only or parts.scheme != "http"):
            raise BadRequest(f"a callback must be an https address, not {url[:100]!r}")
        if not parts.hostname:
            raise BadRequest(f"{url[:100]!r} is not an address")
        if not token.strip():
            raise BadRequest("give the bearer token the agency expects")
        if self.fernet is None:
            raise BadRequest("set LOKET_DATA_KEY first: callback tokens are kept encrypted with it")
        sealed = self.fernet.encrypt(token.strip().encode()).decode()
        with self.db.session() as session:
            row = session.get(CallbackRow, agency)
            if row is None:
                session.add(CallbackRow(agency=agency, url=url, token=sealed, created_at=clock.now()))
            else:
                row.url, row.token = url, sealed
        log.info("messages.callback_set", agency=agency)

    def has_callback(self, agency: str) -> bool:
        with self.db.session() as session:
            return session.scalar(select(CallbackRow.agency).where(CallbackRow.agency == agency)) is not None

    def send(self, message_id: str, event: Receipt, attempt: int) -> str:
        """One attempt at telling the agency; its outcome. Raises TryAgain when a later one may work."""
        found = self.messages.get(message_id)
        if found is None:
            return "message gone"
        with self.db.session() as session:
            row = session.get(CallbackRow, found.sender)
            target = (row.url, row.token) if row else None
        if target is None:
            return "no callback"
        try:
            token = self.fernet.decrypt(target[1].encode()).decode() if self.fernet else None
        except InvalidToken:
            token = None
        if token is None:
            outcome = "token cannot be decrypted with LOKET_DATA_KEY"
            self.messages.record_attempt(message_id, f"receipt:{event}", attempt, outcome)
            return outcome
        body = {
            "source": found.source,
            "reference": found.reference,
            "event": str(event),
            "at": clock.now().isoformat(),
        }
        try:
            response = httpx.post(
                target[0], json=body, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT_SECONDS
            )
            outcome, again = (
                f"HTTP {response.status_code}",
                response.status_code >= 500 or response.status_code == 429,
            )
        except httpx.HTTPError as error:
            outcome, again = f"error: {type(error).__name__}", True
        self.messages.record_attempt(message_id, f"receipt:{event}", attempt, outcome)
        log.info("messages.receipt", receipt=str(event), attempt=attempt, outcome=outcome)
        if again:
            raise TryAgain(outcome)
        return outcome


def fernet(value: str | None, data_dir: Path, production: bool) -> Fernet | None:
    """The key that seals secrets loket keeps for others: configured, else in development one kept in
    the data folder; None in production without one."""
    key = kept_key(value, data_dir, "data.key", Fernet.generate_key, production)
    return Fernet(key) if key else None
