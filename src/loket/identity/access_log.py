"""The access log: every read of a person's or organisation's data, which the person may read back."""

from __future__ import annotations

from sqlalchemy import select

from loket import clock
from loket.consent.processing import register
from loket.db import Database
from loket.identity.models import AccessRow, PersonRow
from loket.identity.schemas import Access, Profile, SignedIn

LOKET = "loket"  # the actor when no person reads: loket's own jobs


class AccessLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self, signed_in: SignedIn, subject: str, what: str, why: str, profile: Profile | None = None
    ) -> None:
        """`subject` is whose data was read, `what` which, `why` the registered purpose (else refused);
        `profile` the one acted in, when not the active one."""
        register().check(why, what)
        with self.db.session() as session:
            session.add(
                AccessRow(
                    at=clock.now(),
                    actor_id=signed_in.person.id,
                    profile=(profile or signed_in.active).id,
                    subject=subject,
                    what=what,
                    why=why,
                )
            )

    def record_by_loket(self, national_number: str, what: str, why: str) -> None:
        """loket itself read a person's data (a job, no one logged in): logged for every login of the
        person with that number, so each reads it back. A person who never logged in has no log yet."""
        register().check(why, what)
        now = clock.now()
        with self.db.session() as session:
            persons = session.scalars(
                select(PersonRow.id).where(PersonRow.national_number == national_number)
            )
            session.add_all(
                AccessRow(
                    at=now, actor_id=LOKET, profile=LOKET, subject=f"person:{person}", what=what, why=why
                )
                for person in persons
            )

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
