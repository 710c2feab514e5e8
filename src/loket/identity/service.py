"""Who is logged in and as whom they act: sessions, profiles (hoedanigheid), mandates, roles, access log.

A profile is the capacity a person acts in: as themself (BUR), for a company (EA), an association
(VER) or a local government (LB) the identity provider vouched for at login, or under a mandate
(MANDATE) another person granted them here. Everything personal follows the active profile, and every
read of personal data is written to the access log, which the person whose data it is may read.

Sessions live on the server: the browser holds a random token, the database only its hash.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import delete, or_, select

from loket import clock
from loket.catalog.schemas import Audience
from loket.db import Database
from loket.errors import BadRequest, LoketError, NotFound
from loket.i18n import message
from loket.identity import national_number
from loket.identity.models import AccessRow, LoginAttemptRow, MandateRow, PersonRow, RoleRow, SessionRow
from loket.logging import get_logger

log = get_logger(__name__)
DEMO_PERSONS = Path(__file__).parent / "demo_persons.json"
SELF = "self"
# Seen-at is written at most this often, so reading pages does not write on every request.
TOUCH_EVERY = timedelta(seconds=60)
# How long someone may take at the identity provider before the login must start again.
LOGIN_TIMEOUT = timedelta(minutes=10)


class Kind(StrEnum):
    CITIZEN = "BUR"
    COMPANY = "EA"
    ASSOCIATION = "VER"
    LOCAL_GOVERNMENT = "LB"
    MANDATE = "MANDATE"


AUDIENCE = {
    Kind.CITIZEN: Audience.CITIZEN,
    Kind.MANDATE: Audience.CITIZEN,
    Kind.COMPANY: Audience.BUSINESS,
    Kind.ASSOCIATION: Audience.ASSOCIATION,
    Kind.LOCAL_GOVERNMENT: Audience.LOCAL_GOVERNMENT,
}


class Role(StrEnum):
    CITIZEN = "citizen"
    AGENT = "agent"
    CONTENT_OWNER = "content_owner"
    OPERATOR = "operator"


class NotLoggedIn(LoketError):
    status_code = 401
    code = "not_logged_in"


class Forbidden(LoketError):
    status_code = 403
    code = "forbidden"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    national_number: str | None


@dataclass(frozen=True)
class Profile:
    """`subject` names whose data this profile reads: `person:ID` or `organisation:NUMBER`."""

    id: str
    kind: Kind
    name: str
    subject: str
    case_types: tuple[str, ...] = ()

    @property
    def audience(self) -> Audience:
        return AUDIENCE[self.kind]


@dataclass(frozen=True)
class Login:
    """A person as an identity provider (or the demo) vouched for them, before a session exists."""

    subject: str
    name: str
    national_number: str | None
    method: str
    organisations: list[dict] = field(default_factory=list)
    active_kind: str | None = None
    id_token: str | None = None
    person_id: str | None = None


@dataclass(frozen=True)
class SignedIn:
    token_hash: str
    person: Person
    profiles: tuple[Profile, ...]
    active: Profile
    roles: frozenset[Role]
    method: str
    id_token: str | None

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Party:
    """Whose personal data the active profile reads: a person (national number) or an organisation."""

    type: str  # "person" or "company"
    key: str
    subject: str  # as the access log names it
    case_types: tuple[str, ...] = ()  # a mandate's scope; empty: everything
    under_mandate: bool = False


@dataclass(frozen=True)
class LoginAttempt:
    state: str
    nonce: str
    code_verifier: str
    return_to: str


@dataclass(frozen=True)
class Mandate:
    id: str
    mandator_id: str
    mandator_name: str
    mandatary_national_number: str
    mandatary_name: str
    case_types: tuple[str, ...]
    starts_on: date
    ends_on: date | None
    revoked_at: datetime | None

    def valid_on(self, day: date) -> bool:
        started = self.starts_on <= day
        return self.revoked_at is None and started and (self.ends_on is None or day <= self.ends_on)


@dataclass(frozen=True)
class Access:
    at: datetime
    actor: str
    profile: str
    subject: str
    what: str
    why: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class IdentityService:
    def __init__(self, db: Database, idle_timeout: timedelta, max_age: timedelta) -> None:
        self.db = db
        self.idle_timeout = idle_timeout
        self.max_age = max_age

    # Sessions

    def sign_in(self, login: Login) -> tuple[str, SignedIn]:
        """A new session with a new token: whatever session the browser had before is not reused."""
        moment = clock.now()
        token = secrets.token_urlsafe(32)
        organisations = [_organisation_profile(o) for o in login.organisations]
        organisations = [p for p in organisations if p]
        active = next((p.id for p in organisations if p.kind == login.active_kind), SELF)
        with self.db.session() as session:
            person = self._person_for(session, login, moment)
            session.execute(delete(SessionRow).where(SessionRow.expires_at < moment))
            session.add(
                SessionRow(
                    token_hash=token_hash(token),
                    person_id=person.id,
                    active_profile=active,
                    profiles=[_profile_json(p) for p in organisations],
                    method=login.method,
                    id_token=login.id_token,
                    created_at=moment,
                    last_seen_at=moment,
                    expires_at=moment + self.max_age,
                )
            )
            person_id = person.id
        log.info("identity.signed_in", person=person_id, method=login.method)
        signed_in = self._signed_in(token_hash(token))
        assert signed_in is not None
        return token, signed_in

    def signed_in(self, token: str | None) -> SignedIn | None:
        """The session of a cookie's token, or None when there is none or it timed out."""
        return self._signed_in(token_hash(token)) if token else None

    def _signed_in(self, hashed: str) -> SignedIn | None:
        moment = clock.now()
        with self.db.session() as session:
            row = session.get(SessionRow, hashed)
            if row is None:
                return None
            if row.expires_at <= moment or row.last_seen_at + self.idle_timeout <= moment:
                session.delete(row)
                log.info("identity.session_expired", person=row.person_id)
                return None
            if moment - row.last_seen_at >= TOUCH_EVERY:
                row.last_seen_at = moment
            person_row = session.get(PersonRow, row.person_id)
            person = Person(person_row.id, person_row.name, person_row.national_number)
            profiles = (
                Profile(SELF, Kind.CITIZEN, person.name, f"person:{person.id}"),
                *(_profile_from_json(p) for p in row.profiles),
                *(_mandate_profile(m) for m in self._received(session, person, moment.date())),
            )
            active = next((p for p in profiles if p.id == row.active_profile), profiles[0])
            roles = {Role.CITIZEN}
            if person.national_number:
                roles |= {
                    Role(r)
                    for r in session.scalars(
                        select(RoleRow.role).where(RoleRow.national_number == person.national_number)
                    )
                }
            return SignedIn(
                row.token_hash, person, profiles, active, frozenset(roles), row.method, row.id_token
            )

    def sign_out(self, signed_in: SignedIn) -> None:
        with self.db.session() as session:
            session.execute(delete(SessionRow).where(SessionRow.token_hash == signed_in.token_hash))
        log.info("identity.signed_out", person=signed_in.person.id)

    def switch(self, signed_in: SignedIn, profile_id: str, language: str) -> SignedIn:
        """Acting under a mandate is a use of it, and recorded as one."""
        profile = next((p for p in signed_in.profiles if p.id == profile_id), None)
        if profile is None:
            log.warning("identity.profile_refused", person=signed_in.person.id)
            raise Forbidden(message("profile_not_held", language))
        with self.db.session() as session:
            row = session.get(SessionRow, signed_in.token_hash)
            row.active_profile = profile.id
        if profile.kind is Kind.MANDATE:
            self.record(signed_in, profile.subject, "mandate", "mandate_use", profile)
        log.info("identity.profile_switched", person=signed_in.person.id, kind=profile.kind)
        switched = self._signed_in(signed_in.token_hash)
        assert switched is not None
        return switched

    # Logins under way at the identity provider

    def start_login(self, browser: str, state: str, nonce: str, code_verifier: str, return_to: str) -> None:
        moment = clock.now()
        with self.db.session() as session:
            session.execute(
                delete(LoginAttemptRow).where(LoginAttemptRow.created_at < moment - LOGIN_TIMEOUT)
            )
            session.merge(
                LoginAttemptRow(
                    browser_hash=token_hash(browser),
                    state=state,
                    nonce=nonce,
                    code_verifier=code_verifier,
                    return_to=return_to,
                    created_at=moment,
                )
            )

    def take_login(self, browser: str) -> LoginAttempt | None:
        """The browser's login under way, which can be used once only."""
        with self.db.session() as session:
            row = session.get(LoginAttemptRow, token_hash(browser))
            if row is None:
                return None
            session.delete(row)
            if row.created_at < clock.now() - LOGIN_TIMEOUT:
                return None
            return LoginAttempt(row.state, row.nonce, row.code_verifier, row.return_to)

    # Mandates

    def grant_mandate(
        self,
        signed_in: SignedIn,
        mandatary: str,
        mandatary_name: str,
        case_types: list[str],
        starts_on: date,
        ends_on: date | None,
        language: str,
    ) -> Mandate:
        self._require_self(signed_in, language)
        number = national_number.compact(mandatary)
        if not national_number.is_valid(number):
            raise BadRequest(message("bad_national_number", language))
        if number == signed_in.person.national_number:
            raise BadRequest(message("mandate_to_self", language))
        if ends_on is not None and ends_on < starts_on:
            raise BadRequest(message("mandate_dates", language))
        name = " ".join(mandatary_name.split())[:200]
        if not name:
            raise BadRequest(message("mandate_name", language))
        types = sorted({t.strip() for t in case_types if t.strip()})
        row = MandateRow(
            id=str(uuid.uuid4()),
            mandator_id=signed_in.person.id,
            mandatary_national_number=number,
            mandatary_name=name,
            case_types=types,
            starts_on=starts_on,
            ends_on=ends_on,
            created_at=clock.now(),
            revoked_at=None,
        )
        with self.db.session() as session:
            session.add(row)
        log.info("identity.mandate_granted", person=signed_in.person.id, mandate=row.id)
        return _mandate(row, signed_in.person.name)

    def mandates(self, signed_in: SignedIn, language: str) -> tuple[list[Mandate], list[Mandate]]:
        """The mandates this person granted, and those granted to them (still running)."""
        self._require_self(signed_in, language)
        with self.db.session() as session:
            granted = session.scalars(
                select(MandateRow)
                .where(MandateRow.mandator_id == signed_in.person.id)
                .order_by(MandateRow.created_at.desc())
            ).all()
            granted = [_mandate(row, signed_in.person.name) for row in granted]
            received = self._received(session, signed_in.person, clock.now().date())
        return granted, received

    def revoke_mandate(self, signed_in: SignedIn, mandate_id: str, language: str) -> None:
        self._require_self(signed_in, language)
        with self.db.session() as session:
            row = session.get(MandateRow, mandate_id)
            if row is None or row.mandator_id != signed_in.person.id:
                raise NotFound(message("unknown_mandate", language))
            if row.revoked_at is None:
                row.revoked_at = clock.now()
        log.info("identity.mandate_revoked", person=signed_in.person.id, mandate=mandate_id)

    def authorize(self, signed_in: SignedIn, case_type: str | None, language: str) -> str:
        """Whose data the active profile may read for this case type; refused outside a mandate's scope.

        A mandate is checked again on every use: it may have been revoked or run out since login.
        """
        profile = signed_in.active
        if profile.kind is Kind.MANDATE:
            self._check_mandate(signed_in, language)
            if profile.case_types and case_type not in profile.case_types:
                log.warning("identity.mandate_refused", person=signed_in.person.id, reason="scope")
                raise Forbidden(message("mandate_out_of_scope", language))
        return profile.subject

    def _check_mandate(self, signed_in: SignedIn, language: str) -> str | None:
        """The active mandate's mandator's national number, once the mandate is found valid today."""
        with self.db.session() as session:
            row = session.get(MandateRow, signed_in.active.id.removeprefix("mandate:"))
            valid = row is not None and _mandate(row, "").valid_on(clock.now().date())
            number = session.get(PersonRow, row.mandator_id).national_number if valid else None
        if not valid:
            log.warning("identity.mandate_refused", person=signed_in.person.id, reason="period")
            raise Forbidden(message("mandate_not_valid", language))
        return number

    def acting_for(self, signed_in: SignedIn, language: str) -> Party | None:
        """The party of the active profile; None when there is none to read (no national number).

        Under a mandate, it is checked again here: a mandate revoked or run out since the session
        began gives a clear refusal, logged.
        """
        profile = signed_in.active
        if profile.kind is Kind.MANDATE:
            number = self._check_mandate(signed_in, language)
            if not number:
                return None
            return Party("person", number, profile.subject, profile.case_types, under_mandate=True)
        if profile.kind is Kind.CITIZEN:
            number = signed_in.person.national_number
            return Party("person", number, profile.subject) if number else None
        return Party("company", profile.subject.removeprefix("organisation:"), profile.subject)

    # Roles

    def grant_role(self, number: str, role: Role) -> bool:
        number = _valid_number(number)
        with self.db.session() as session:
            exists = session.scalar(
                select(RoleRow).where(RoleRow.national_number == number, RoleRow.role == role)
            )
            if exists is None:
                session.add(RoleRow(national_number=number, role=role, granted_at=clock.now()))
        return exists is None

    def revoke_role(self, number: str, role: Role) -> bool:
        number = _valid_number(number)
        with self.db.session() as session:
            result = session.execute(
                delete(RoleRow).where(RoleRow.national_number == number, RoleRow.role == role)
            )
        return result.rowcount > 0

    def roles(self) -> list[tuple[str, Role]]:
        with self.db.session() as session:
            rows = session.scalars(select(RoleRow).order_by(RoleRow.national_number, RoleRow.role)).all()
            return [(row.national_number, Role(row.role)) for row in rows]

    # Access log

    def record(
        self, signed_in: SignedIn, subject: str, what: str, why: str, profile: Profile | None = None
    ) -> None:
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

    # Demo

    def demo_persons(self) -> list[dict]:
        return _demo()["persons"]

    def demo_login(self, person_id: str) -> Login | None:
        person = next((p for p in self.demo_persons() if p["id"] == person_id), None)
        if person is None:
            return None
        return Login(
            subject=f"demo#{person['id']}",
            name=person["name"],
            national_number=person["national_number"],
            method="demo",
            organisations=person["profiles"],
            person_id=person["id"],
        )

    def load_demo(self) -> None:
        """The demo persons' mandates and roles, once: logging in as them then shows what they hold."""
        demo = _demo()
        by_id = {p["id"]: p for p in demo["persons"]}
        moment = clock.now()
        with self.db.session() as session:
            for person in demo["persons"]:
                self._person_for(session, self.demo_login(person["id"]), moment)
                for role in person["roles"]:
                    exists = session.scalar(
                        select(RoleRow).where(
                            RoleRow.national_number == person["national_number"], RoleRow.role == role
                        )
                    )
                    if exists is None:
                        session.add(
                            RoleRow(national_number=person["national_number"], role=role, granted_at=moment)
                        )
            for index, mandate in enumerate(demo["mandates"]):
                mandate_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"loket-demo-mandate-{index}"))
                if session.get(MandateRow, mandate_id) is None:
                    mandatary = by_id[mandate["mandatary"]]
                    session.add(
                        MandateRow(
                            id=mandate_id,
                            mandator_id=mandate["mandator"],
                            mandatary_national_number=mandatary["national_number"],
                            mandatary_name=mandatary["name"],
                            case_types=mandate["case_types"],
                            starts_on=date.fromisoformat(mandate["starts_on"]),
                            ends_on=None,
                            created_at=moment,
                            revoked_at=None,
                        )
                    )

    # Internals

    def _person_for(self, session, login: Login, moment: datetime) -> PersonRow:
        """The person of a login: by the provider's subject, else by national number, else new."""
        clauses = [PersonRow.subject == login.subject]
        if login.national_number:
            clauses.append(PersonRow.national_number == login.national_number)
        row = session.scalar(select(PersonRow).where(or_(*clauses)))
        if row is None:
            row = PersonRow(
                id=login.person_id or uuid.uuid4().hex,
                subject=login.subject,
                national_number=login.national_number,
                name=login.name,
                created_at=moment,
                last_login_at=moment,
            )
            session.add(row)
            session.flush()
        else:
            row.name = login.name or row.name
            row.last_login_at = moment
        return row

    def _received(self, session, person: Person, day: date) -> list[Mandate]:
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

    def _require_self(self, signed_in: SignedIn, language: str) -> None:
        if signed_in.active.kind is not Kind.CITIZEN:
            raise Forbidden(message("mandates_as_self", language))


def _valid_number(number: str) -> str:
    compacted = national_number.compact(number)
    if not national_number.is_valid(compacted):
        raise BadRequest(message("bad_national_number", "en"))
    return compacted


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
    )


def _mandate_profile(mandate: Mandate) -> Profile:
    return Profile(
        f"mandate:{mandate.id}",
        Kind.MANDATE,
        mandate.mandator_name,
        f"person:{mandate.mandator_id}",
        mandate.case_types,
    )


def _organisation_profile(organisation: dict) -> Profile | None:
    """A company, association or local government the provider vouched for; others are ignored."""
    try:
        kind = Kind(organisation["kind"])
    except (KeyError, ValueError):
        return None
    number = "".join(c for c in str(organisation.get("number", "")) if c.isalnum())
    if kind in (Kind.CITIZEN, Kind.MANDATE) or not number:
        return None
    name = organisation.get("name") or number
    return Profile(f"{kind.value.lower()}:{number}", kind, name, f"organisation:{number}")


def _profile_json(profile: Profile) -> dict:
    return {"id": profile.id, "kind": profile.kind.value, "name": profile.name, "subject": profile.subject}


def _profile_from_json(data: dict) -> Profile:
    return Profile(data["id"], Kind(data["kind"]), data["name"], data["subject"])


def _demo() -> dict:
    return json.loads(DEMO_PERSONS.read_text(encoding="utf-8"))
