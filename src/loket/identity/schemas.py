"""The identity block's public types: who is logged in, as whom they act, what they may do.

A profile is the capacity a person acts in: as themself (BUR), for a company (EA), an association
(VER) or a local government (LB) the identity provider vouched for at login, or under a mandate
(MANDATE) another person granted them here. `MeOut` is how the API and the pages show a login.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel

from loket.catalog.schemas import Audience
from loket.consent.holds import Hold
from loket.errors import LoketError

PASSKEY = "passkey"  # the method of a session a passkey unlocked (`Sessions.unlock`)


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


class StrongerLoginNeeded(Forbidden):
    """The login's level (`acr`) is not one the configuration accepts for personal data."""

    code = "stronger_login_needed"


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
    acr: str | None = None  # how strongly the provider authenticated them
    person_id: str | None = None


@dataclass(frozen=True)
class SignedIn:
    """`assured`: the login's `acr` is one the configuration accepts for personal data (or none is asked)."""

    token_hash: str
    person: Person
    profiles: tuple[Profile, ...]
    active: Profile
    roles: frozenset[Role]
    method: str
    acr: str | None
    assured: bool

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def unlocked(self) -> bool:
        """Whether a passkey opened this session, rather than a full login at the identity provider."""
        return self.method == PASSKEY

    @property
    def own(self) -> Profile:
        """The profile of the person as themself, which every login has."""
        return next(p for p in self.profiles if p.kind is Kind.CITIZEN)


@dataclass(frozen=True)
class Passkey:
    """A passkey as its owner sees it: which device (the name they gave it), since when, last used when."""

    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    transports: tuple[str, ...] = ()


@dataclass(frozen=True)
class Party:
    """Whose personal data the active profile reads: a person (national number) or an organisation."""

    type: str  # "person" or "company"
    key: str
    subject: str  # as the access log names it
    case_types: tuple[str, ...] = ()  # a mandate's scope; empty: everything
    under_mandate: bool = False
    messages: bool = True  # a mandate's scope may leave out the mandator's messages
    suggestions: bool = True  # and the suggestions made for them


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
    messages: bool = False
    suggestions: bool = False

    def valid_on(self, day: date) -> bool:
        started = self.starts_on <= day
        return self.revoked_at is None and started and (self.ends_on is None or day <= self.ends_on)


@dataclass(frozen=True)
class Access:
    """One use of someone's data as its subject sees it: `actor` the reader's name (else id), `record`
    the access record's id; `for_you` when someone acted under the subject's mandate; `held` the hold
    that kept it from view for a while, once over."""

    at: datetime
    actor: str
    actor_id: str
    profile: str
    subject: str
    what: str
    why: str
    basis: str | None
    trace_id: str | None
    record: int
    for_you: bool
    held: Hold | None


@dataclass(frozen=True)
class Reader:
    """Someone who used the data: `actor` their name (else id); `for_you` when they acted under the
    subject's mandate at least once."""

    actor_id: str
    actor: str
    for_you: bool


@dataclass(frozen=True)
class AccessQuery:
    """Which of one's access records to show: a period, a purpose, one reader; newest first."""

    since: datetime | None = None
    until: datetime | None = None
    purpose: str | None = None
    by: str | None = None
    limit: int = 100


class PersonOut(BaseModel):
    id: str
    name: str
    national_number: str | None


class ProfileOut(BaseModel):
    id: str
    kind: Kind
    name: str


class MeOut(BaseModel):
    person: PersonOut
    profiles: list[ProfileOut]
    active_profile: ProfileOut
    roles: list[Role]


def me_out(user: SignedIn) -> MeOut:
    def profile(p) -> ProfileOut:
        return ProfileOut(id=p.id, kind=p.kind, name=p.name)

    return MeOut(
        person=PersonOut(
            id=user.person.id, name=user.person.name, national_number=user.person.national_number
        ),
        profiles=[profile(p) for p in user.profiles],
        active_profile=profile(user.active),
        roles=sorted(user.roles),
    )
