"""The access log: every read of a person's or organisation's data, which the person may read back.

Each row is also an entry of the tamper-evident log (`loket.consent.log`), written in the same
transaction: the log keeps its hash at its place, the row its content and a random salt. Retention and
erasure may remove a row; changing one is found by `loket audit verify`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loket import clock
from loket.consent.log import TamperEvidentLog
from loket.consent.processing import register
from loket.db import Database, as_utc
from loket.identity.models import AccessRow, PersonRow
from loket.identity.schemas import Access, Profile, SignedIn

LOKET = "loket"  # the actor when no person reads: loket's own jobs


class AccessLog:
    def __init__(self, db: Database, log: TamperEvidentLog) -> None:
        self.db = db
        self.log = log

    def record(
        self, signed_in: SignedIn, subject: str, what: str, why: str, profile: Profile | None = None
    ) -> None:
        """`subject` is whose data was read, `what` which, `why` the registered purpose (else refused);
        `profile` the one acted in, when not the active one."""
        register().check(why, what)
        acting = (profile or signed_in.active).id
        with self.db.session() as session:
            self._add(session, clock.now(), signed_in.person.id, acting, subject, what, why)

    def record_by_loket(self, national_number: str, what: str, why: str) -> None:
        """loket itself read a person's data (a job, no one logged in): logged for every login of the
        person with that number, so each reads it back. A person who never logged in has no log yet."""
        register().check(why, what)
        now = clock.now()
        with self.db.session() as session:
            persons = session.scalars(
                select(PersonRow.id).where(PersonRow.national_number == national_number)
            ).all()
        with self.db.session() as session:  # a transaction that begins with its write (see `_add`)
            for person in persons:
                self._add(session, now, LOKET, LOKET, f"person:{person}", what, why)

    def _add(
        self, session: Session, at: datetime, actor: str, profile: str, subject: str, what: str, why: str
    ) -> None:
        """One row, and its entry in the tamper-evident log; the log's append is the transaction's first
        write, so that on SQLite it waits for the database's lock instead of failing on it."""
        row = AccessRow(
            at=at,
            actor_id=actor,
            profile=profile,
            subject=subject,
            what=what,
            why=why,
            salt=secrets.token_hex(16),
        )
        row.seq = self.log.append(session, _content(row))
        session.add(row)

    def record_own_view(self, signed_in: SignedIn) -> None:
        """The person looked at their own details: logged like any read, so the log is complete."""
        self.record(signed_in, f"person:{signed_in.person.id}", "person", "own_view")

    def accesses(self, signed_in: SignedIn, limit: int = 100) -> list[Access]:
        """Who read this person's data, newest first: the log a citizen may see about themself."""
        subject = f"person:{signed_in.person.id}"
        with self.db.session() as session:
            query = (
                select(AccessRow, PersonRow.name)
                .outerjoin(PersonRow, PersonRow.id == AccessRow.actor_id)
                .where(AccessRow.subject == subject)
            )
            rows = session.execute(query.order_by(AccessRow.id.desc()).limit(limit)).all()
            return [Access(r.at, name or r.actor_id, r.profile, r.subject, r.what, r.why) for r, name in rows]

    def entries(self) -> Iterator[tuple[int, str, bytes]]:
        """The rows in the tamper-evident log, as `TamperEvidentLog.verify` checks them."""
        with self.db.session() as session:
            rows = session.scalars(select(AccessRow)).yield_per(10_000)
            for row in rows:
                yield row.seq, f"access record {row.id}", _content(row)


def _content(row: AccessRow) -> bytes:
    return canonical(row.at, row.actor_id, row.profile, row.subject, row.what, row.why, row.salt)


def canonical(at: datetime, actor: str, profile: str, subject: str, what: str, why: str, salt: str) -> bytes:
    """What the log hashes of a row: every field but its id and place, canonically (migration 0015
    chains the rows written before it with this too)."""
    fields = {
        "at": as_utc(at).isoformat(),
        "actor": actor,
        "profile": profile,
        "subject": subject,
        "what": what,
        "why": why,
        "salt": salt,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
