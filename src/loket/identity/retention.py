"""How long identity keeps what it holds, and a person's erasure.

Ended logins and logins never finished serve nothing for long. The access log is kept as long as the
law asks (`LOKET_ACCESS_LOG_RETENTION_DAYS`), also after its person is erased: whoever read a person's
data stays answerable for it, and the people whose data an erased person read keep the right to know.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, and_, not_, or_, select

from loket import clock
from loket.db import Database, count, remove
from loket.identity.models import (
    AccessRow,
    LoginAttemptRow,
    MandateRow,
    PasskeyRow,
    PersonRow,
    RoleRow,
    SessionRow,
)
from loket.identity.sessions import LOGIN_TIMEOUT
from loket.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Erasure:
    """Rows per kind that a person's erasure removed (or would remove), and those it keeps."""

    removed: dict[str, int]
    kept: dict[str, int]


class Retention:
    def __init__(self, db: Database, idle_timeout: timedelta) -> None:
        self.db = db
        self.idle_timeout = idle_timeout

    def remove_expired(
        self, sessions: timedelta, login_attempts: timedelta, access_log: timedelta, dry_run: bool = False
    ) -> dict[str, int]:
        """Rows past their retention per table (`dry_run`: only counted). The retention of a login runs
        from its end (its maximum age, or its idle timeout after it was last seen), that of a login
        never finished from its timeout: before, they may still be in use."""
        moment = clock.now()
        ended = moment - sessions
        session_ended = or_(
            SessionRow.expires_at < ended, SessionRow.last_seen_at < ended - self.idle_timeout
        )
        attempt_ended = LoginAttemptRow.created_at < moment - login_attempts - LOGIN_TIMEOUT
        with self.db.session() as session:
            return {
                "sessions": remove(session, SessionRow, session_ended, dry_run),
                "login attempts": remove(session, LoginAttemptRow, attempt_ended, dry_run),
                "access log": remove(session, AccessRow, AccessRow.at < moment - access_log, dry_run),
            }

    def person_ids(self, number: str) -> list[str]:
        """The persons with this (compact, valid) national number: one per identity provider they used."""
        with self.db.session() as session:
            return list(session.scalars(_persons(number)))

    def erase(self, number: str, dry_run: bool = False) -> Erasure:
        """Everything identity holds on the persons with this (compact, valid) national number, in one
        transaction: persons, sessions (logged out at once), passkeys, mandates they gave or got, roles,
        and their reads of their own data. The rest of the access log is kept (see the module)."""
        with self.db.session() as session:
            ids = list(session.scalars(_persons(number)))
            subjects = [f"person:{person}" for person in ids]
            own_reads = and_(AccessRow.actor_id.in_(ids), AccessRow.subject.in_(subjects))
            kept = {
                "access log: reads by others": count(
                    session, AccessRow, and_(AccessRow.subject.in_(subjects), not_(own_reads))
                ),
                "access log: their reads of others": count(
                    session, AccessRow, and_(AccessRow.actor_id.in_(ids), AccessRow.subject.not_in(subjects))
                ),
            }
            removed = {
                "sessions": remove(session, SessionRow, SessionRow.person_id.in_(ids), dry_run),
                "passkeys": remove(session, PasskeyRow, PasskeyRow.person_id.in_(ids), dry_run),
                "mandates given": remove(session, MandateRow, MandateRow.mandator_id.in_(ids), dry_run),
                "mandates received": remove(
                    session, MandateRow, MandateRow.mandatary_national_number == number, dry_run
                ),
                "roles": remove(session, RoleRow, RoleRow.national_number == number, dry_run),
                "access log: their own reads": remove(session, AccessRow, own_reads, dry_run),
                "persons": remove(session, PersonRow, PersonRow.id.in_(ids), dry_run),
            }
        if not dry_run:
            log.info("identity.person_erased", persons=len(ids))
        return Erasure(removed, kept)


def _persons(number: str) -> Select:
    return select(PersonRow.id).where(PersonRow.national_number == number)
