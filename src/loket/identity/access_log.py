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

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from loket import clock
from loket.consent.holds import Holds
from loket.consent.log import TamperEvidentLog
from loket.consent.processing import register
from loket.db import Database, as_utc
from loket.errors import NotFound
from loket.identity.models import AccessRow, PersonRow
from loket.identity.schemas import Access, AccessQuery, Kind, Profile, Reader, SignedIn
from loket.tracing import current_trace_id

LOKET = "loket"  # the actor when no person reads: loket's own jobs


class AccessLog:
    def __init__(self, db: Database, log: TamperEvidentLog) -> None:
        self.db = db
        self.log = log
        self.holds = Holds(db)

    def record(
        self,
        signed_in: SignedIn,
        subject: str,
        what: str,
        why: str,
        profile: Profile | None = None,
    ) -> None:
        """`subject` is whose data was read, `what` which, `why` the registered purpose (else refused);
        `profile` the one acted in, when not the active one. The basis recorded is the purpose's legal
        basis, or the mandate acted under: the consent the read rests on."""
        purpose = register().check(why, what)
        acting = profile or signed_in.active
        basis = acting.id if acting.kind is Kind.MANDATE else purpose.basis
        with self.db.session() as session:
            self._add(
                session,
                clock.now(),
                signed_in.person.id,
                acting.id,
                subject,
                what,
                why,
                basis,
            )

    def record_by_loket(self, national_number: str, what: str, why: str) -> None:
        """loket itself read a person's data (a job, no one logged in): logged for every login of the
        person with that number, so each reads it back. A person who never logged in has no log yet."""
        purpose = register().check(why, what)
        now = clock.now()
        with self.db.session() as session:
            persons = session.scalars(
                select(PersonRow.id).where(PersonRow.national_number == national_number)
            ).all()
        with self.db.session() as session:  # a transaction that begins with its write (see `_add`)
            for person in persons:
                self._add(session, now, LOKET, LOKET, f"person:{person}", what, why, purpose.basis)

    def record_by_agency(self, agency: str, person_id: str, what: str, why: str) -> None:
        """An agency read a person's data through its own API (no one logged in at loket): the agency is
        the reader the person sees."""
        purpose = register().check(why, what)
        with self.db.session() as session:
            actor = agency[: AccessRow.actor_id.type.length]
            self._add(session, clock.now(), actor, actor, f"person:{person_id}", what, why, purpose.basis)

    def _add(
        self,
        session: Session,
        at: datetime,
        actor: str,
        profile: str,
        subject: str,
        what: str,
        why: str,
        basis: str,
    ) -> AccessRow:
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
            basis=basis,
            trace_id=current_trace_id(),
        )
        row.seq = self.log.append(session, _content(row))
        session.add(row)
        return row

    def hide(self, record: int, until: datetime, reason: str) -> bool:
        """Keeps one access record (by id) from its subject's view until `until`, for `reason`."""
        seq = self._seq(record)
        if seq is None:
            raise NotFound(f"no access record {record}")
        return self.holds.hide(seq, until, reason)

    def disclose(self, record: int) -> bool:
        seq = self._seq(record)
        return seq is not None and self.holds.disclose(seq)

    def _seq(self, record: int) -> int | None:
        """An access record's place in the tamper-evident log, which holds refer to."""
        with self.db.session() as session:
            return session.scalar(select(AccessRow.seq).where(AccessRow.id == record))

    def record_own_view(self, signed_in: SignedIn) -> None:
        """The person looked at their own details: logged like any read, so the log is complete."""
        self.record(signed_in, signed_in.own.subject, "person", "own_view", signed_in.own)

    def readers(self, signed_in: SignedIn) -> list[Reader]:
        """Everyone who used the data `accesses` shows (records on hold left out), each once: whom a
        "who" filter offers, however long ago they read."""
        for_you = and_(
            AccessRow.actor_id.not_in((signed_in.person.id, LOKET)), AccessRow.profile.startswith("mandate:")
        )
        with self.db.session() as session:
            rows = session.execute(
                select(AccessRow.actor_id, PersonRow.name, func.max(case((for_you, 1), else_=0)))
                .outerjoin(PersonRow, PersonRow.id == AccessRow.actor_id)
                .where(*self._shown(signed_in))
                .group_by(AccessRow.actor_id, PersonRow.name)
            ).all()
        return [Reader(actor_id, name or actor_id, bool(mandated)) for actor_id, name, mandated in rows]

    def _shown(self, signed_in: SignedIn) -> list[ColumnElement[bool]]:
        """The records of the active profile's subject (one's own, or an organisation's one acts for;
        under a mandate, still one's own), those on hold left out."""
        active = signed_in.active
        subject = (signed_in.own if active.kind is Kind.MANDATE else active).subject
        held = self.holds.in_force()
        conditions = [AccessRow.subject == subject]
        if held:
            conditions.append(AccessRow.seq.not_in(held))
        return conditions

    def accesses(self, signed_in: SignedIn, query: AccessQuery | None = None) -> list[Access]:
        """Who used the data of the active profile's subject, newest first (`_shown`)."""
        query = query or AccessQuery()
        conditions = self._shown(signed_in)
        if query.since:
            conditions.append(AccessRow.at >= query.since)
        if query.until:
            conditions.append(AccessRow.at < query.until)
        if query.purpose:
            conditions.append(
                or_(AccessRow.why == query.purpose, AccessRow.why.startswith(f"{query.purpose}:"))
            )
        if query.by:
            conditions.append(AccessRow.actor_id == query.by)
        with self.db.session() as session:
            rows = session.execute(
                select(AccessRow, PersonRow.name)
                .outerjoin(PersonRow, PersonRow.id == AccessRow.actor_id)
                .where(*conditions)
                .order_by(AccessRow.id.desc())
                .limit(query.limit)
            ).all()
        ended = self.holds.ended([row.seq for row, _ in rows])
        return [
            Access(
                at=row.at,
                actor=name or row.actor_id,
                actor_id=row.actor_id,
                profile=row.profile,
                subject=row.subject,
                what=row.what,
                why=row.why,
                basis=row.basis,
                trace_id=row.trace_id,
                record=row.id,
                for_you=row.actor_id not in (signed_in.person.id, LOKET)
                and row.profile.startswith("mandate:"),
                held=ended.get(row.seq),
            )
            for row, name in rows
        ]

    def entries(self) -> Iterator[tuple[int, str, bytes]]:
        """The rows in the tamper-evident log, as `TamperEvidentLog.verify` checks them."""
        with self.db.session() as session:
            rows = session.scalars(select(AccessRow)).yield_per(10_000)
            for row in rows:
                yield row.seq, f"access record {row.id}", _content(row)


def _content(row: AccessRow) -> bytes:
    return canonical(
        row.at, row.actor_id, row.profile, row.subject, row.what, row.why, row.salt, row.basis, row.trace_id
    )


def canonical(
    at: datetime,
    actor: str,
    profile: str,
    subject: str,
    what: str,
    why: str,
    salt: str,
    basis: str | None = None,
    trace_id: str | None = None,
) -> bytes:
    """What the log hashes of a row: every field but its id and place, canonically (migration 0015
    chains the rows written before it with this too). Fields added since are hashed when set, so the
    rows before them hash as they did."""
    fields = {
        "at": as_utc(at).isoformat(),
        "actor": actor,
        "profile": profile,
        "subject": subject,
        "what": what,
        "why": why,
        "salt": salt,
        "basis": basis,
        "trace_id": trace_id,
    }
    present = {key: value for key, value in fields.items() if value is not None}
    return json.dumps(present, sort_keys=True, separators=(",", ":")).encode()
