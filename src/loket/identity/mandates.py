"""Mandates: a person lets another act for them, for all or some case types, for a period.

A mandate is looked up again on every use, so revoking it, or its end date, takes effect at once; each
use goes to the access log of the person who granted it. Mandates, and whatever a profile reads, need
a login of the configured level (`require_assurance`).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select

from loket import clock
from loket.db import Database
from loket.errors import BadRequest, NotFound
from loket.i18n import message
from loket.identity import national_number
from loket.identity.assurance import require_assurance
from loket.identity.models import MandateRow, PersonRow
from loket.identity.schemas import Forbidden, Kind, Mandate, Party, Person, Profile, SignedIn
from loket.identity.texts import (
    BAD_NATIONAL_NUMBER,
    MANDATE_DATES,
    MANDATE_NAME,
    MANDATE_NOT_VALID,
    MANDATE_OUT_OF_SCOPE,
    MANDATE_TO_SELF,
    MANDATES_AS_SELF,
    UNKNOWN_MANDATE,
)
from loket.logging import get_logger

log = get_logger(__name__)


class Mandates:
    def __init__(self, db: Database) -> None:
        self.db = db

    def grant(
        self,
        signed_in: SignedIn,
        mandatary: str,
        mandatary_name: str,
        case_types: list[str],
        starts_on: date,
        ends_on: date | None,
        language: str,
        messages: bool = False,
        suggestions: bool = False,
    ) -> Mandate:
        _require_self(signed_in, language)
        number = national_number.compact(mandatary)
        if not national_number.is_valid(number):
            raise BadRequest(message(BAD_NATIONAL_NUMBER, language))
        if number == signed_in.person.national_number:
            raise BadRequest(message(MANDATE_TO_SELF, language))
        if ends_on is not None and ends_on < starts_on:
            raise BadRequest(message(MANDATE_DATES, language))
        name = " ".join(mandatary_name.split())[:200]
        if not name:
            raise BadRequest(message(MANDATE_NAME, language))
        types = sorted({t.strip() for t in case_types if t.strip()})
        row = MandateRow(
            id=str(uuid.uuid4()),
            mandator_id=signed_in.person.id,
            mandatary_national_number=number,
            mandatary_name=name,
            case_types=types,
            messages=messages,
            suggestions=suggestions,
            starts_on=starts_on,
            ends_on=ends_on,
            created_at=clock.now(),
            revoked_at=None,
        )
        with self.db.session() as session:
            session.add(row)
        log.info("identity.mandate_granted", person=signed_in.person.id, mandate=row.id)
        return _mandate(row, signed_in.person.name)

    def of(self, signed_in: SignedIn, language: str) -> tuple[list[Mandate], list[Mandate]]:
        """The mandates this person granted, and those granted to them (still running)."""
        _require_self(signed_in, language)
        with self.db.session() as session:
            granted = session.scalars(
                select(MandateRow)
                .where(MandateRow.mandator_id == signed_in.person.id)
                .order_by(MandateRow.created_at.desc())
            ).all()
            granted = [_mandate(row, signed_in.person.name) for row in granted]
            received = received_by(session, signed_in.person, clock.now().date())
        return granted, received

    def revoke(self, signed_in: SignedIn, mandate_id: str, language: str) -> None:
        _require_self(signed_in, language)
        with self.db.session() as session:
            row = session.get(MandateRow, mandate_id)
            if row is None or row.mandator_id != signed_in.person.id:
                raise NotFound(message(UNKNOWN_MANDATE, language))
            if row.revoked_at is None:
                row.revoked_at = clock.now()
        log.info("identity.mandate_revoked", person=signed_in.person.id, mandate=mandate_id)

    def authorize(self, signed_in: SignedIn, case_type: str | None, language: str) -> str:
        """Whose data the active profile may read for this case type; refused outside a mandate's scope.

        A mandate is checked again on every use: it may have been revoked or run out since login.
        """
        require_assurance(signed_in, language)
        profile = signed_in.active
        if profile.kind is Kind.MANDATE:
            self._check(signed_in, language)
            if profile.case_types and case_type not in profile.case_types:
                log.warning("identity.mandate_refused", person=signed_in.person.id, reason="scope")
                raise Forbidden(message(MANDATE_OUT_OF_SCOPE, language))
        return profile.subject

    def acting_for(self, signed_in: SignedIn, language: str) -> Party | None:
        """The party of the active profile; None when there is none to read (no national number).

        Under a mandate, it is checked again here: a mandate revoked or run out since the session
        began gives a clear refusal, logged. Every read of a profile's data passes here, so this is
        where a login below the configured level is refused.
        """
        require_assurance(signed_in, language)
        profile = signed_in.active
        if profile.kind is Kind.MANDATE:
            number, mandate = self._check(signed_in, language)
            if not number:
                return None
            return Party(
                "person",
                number,
                profile.subject,
                profile.case_types,
                True,
                mandate.messages,
                mandate.suggestions,
            )
        if profile.kind is Kind.CITIZEN:
            number = signed_in.person.national_number
            return Party("person", number, profile.subject) if number else None
        return Party("company", profile.subject.removeprefix("organisation:"), profile.subject)

    def _check(self, signed_in: SignedIn, language: str) -> tuple[str | None, Mandate]:
        """The active mandate's mandator's national number, and the mandate (what it includes), once
        the mandate is found valid today."""
        with self.db.session() as session:
            row = session.get(MandateRow, signed_in.active.id.removeprefix("mandate:"))
            mandate = _mandate(row, "") if row is not None else None
            valid = mandate is not None and mandate.valid_on(clock.now().date())
            number = session.get(PersonRow, row.mandator_id).national_number if valid else None
        if not valid:
            log.warning("identity.mandate_refused", person=signed_in.person.id, reason="period")
            raise Forbidden(message(MANDATE_NOT_VALID, language))
        return number, mandate


def received_by(session, person: Person, day: date) -> list[Mandate]:
    """The mandates running on `day` that others granted this person, in the caller's transaction."""
    if not person.national_number:
        return []
    rows = session.execute(
        select(MandateRow, PersonRow.name)
        .join(PersonRow, PersonRow.id == MandateRow.mandator_id)
        .where(
            MandateRow.mandatary_national_number == person.national_number,
            MandateRow.revoked_at.is_(None),
        )
        .order_by(MandateRow.created_at)
    ).all()
    return [m for m in (_mandate(row, name) for row, name in rows) if m.valid_on(day)]


def mandate_profile(mandate: Mandate) -> Profile:
    """Acting for the person who granted the mandate, within its case types."""
    return Profile(
        f"mandate:{mandate.id}",
        Kind.MANDATE,
        mandate.mandator_name,
        f"person:{mandate.mandator_id}",
        mandate.case_types,
    )


def _require_self(signed_in: SignedIn, language: str) -> None:
    """Mandates are managed in one's own name, with a login of the configured level."""
    if signed_in.active.kind is not Kind.CITIZEN:
        raise Forbidden(message(MANDATES_AS_SELF, language))
    require_assurance(signed_in, language)


def _mandate(row: MandateRow, mandator_name: str) -> Mandate:
    return Mandate(
        row.id,
        row.mandator_id,
        mandator_name,
        row.mandatary_national_number,
        row.mandatary_name,
        tuple(row.case_types),
        row.starts_on,
        row.ends_on,
        row.revoked_at,
        row.messages,
        row.suggestions,
    )
