"""The identity API: who am I and as whom do I act (`/api/v1/me`), mandates, my access log, and roles.

The login itself is a browser flow, in `loket.web.account`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from loket.deps import provided
from loket.i18n import request_language
from loket.identity.access import SignedInDep, require_role
from loket.identity.schemas import AccessQuery, Mandate, MeOut, Role, me_out
from loket.identity.service import IdentityService

router = APIRouter(prefix="/api/v1", tags=["identity"])
IdentityDep = Annotated[IdentityService, provided(IdentityService)]
UNAUTHORISED = {401: {"description": "Not logged in."}, 403: {"description": "Not allowed."}}


class SwitchRequest(BaseModel):
    profile: str = Field(max_length=128)


class MandateRequest(BaseModel):
    mandatary: str = Field(max_length=32, description="The national number of who may act for you.")
    name: str = Field(max_length=200, description="Their name, as you know them.")
    case_types: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=50, description="Empty: everything."
    )
    starts_on: date | None = Field(None, description="Default: today.")
    ends_on: date | None = None
    messages: bool = Field(False, description="Whether they may read your messages too.")
    suggestions: bool = Field(False, description="Whether they may see the services suggested to you.")


class MandateOut(BaseModel):
    id: str
    mandator: str
    mandatary_name: str
    case_types: list[str]
    starts_on: date
    ends_on: date | None
    revoked: bool
    messages: bool
    suggestions: bool


class MandatesOut(BaseModel):
    granted: list[MandateOut]
    received: list[MandateOut]


class AccessOut(BaseModel):
    """`by` the reader's name, `requester` their id (or loket), `acting_as` the profile they acted in,
    `subject` whose data; `what` (the data category) and `why` (the purpose, `purpose:detail`) as in
    GET /api/v1/processing; `basis` the legal basis (`gdpr-6.1.e`) or the mandate it rested on
    (`mandate:ID`); `held_until`/`held_reason` when it was kept from view for a while."""

    at: datetime
    by: str
    acting_as: str
    what: str
    why: str
    record: int
    requester: str
    subject: str
    acting_for_you: bool
    basis: str | None
    trace_id: str | None
    held_until: datetime | None = None
    held_reason: str | None = None


class RoleOut(BaseModel):
    national_number: str
    role: Role


def mandate_out(mandate: Mandate) -> MandateOut:
    return MandateOut(
        id=mandate.id,
        mandator=mandate.mandator_name,
        mandatary_name=mandate.mandatary_name,
        case_types=list(mandate.case_types),
        starts_on=mandate.starts_on,
        ends_on=mandate.ends_on,
        revoked=mandate.revoked_at is not None,
        messages=mandate.messages,
        suggestions=mandate.suggestions,
    )


@router.get("/me", response_model=MeOut, responses=UNAUTHORISED)
def me(user: SignedInDep, identity: IdentityDep) -> MeOut:
    """The person, the profiles they may act in and the active one. Reading it is logged."""
    identity.access_log.record_own_view(user)
    return me_out(user)


@router.post("/me/profile", response_model=MeOut, responses=UNAUTHORISED)
def switch_profile(body: SwitchRequest, request: Request, user: SignedInDep, identity: IdentityDep) -> MeOut:
    return me_out(identity.sessions.switch(user, body.profile, request_language(request)))


@router.get("/me/mandates", response_model=MandatesOut, responses=UNAUTHORISED)
def mandates(request: Request, user: SignedInDep, identity: IdentityDep) -> MandatesOut:
    granted, received = identity.mandates.of(user, request_language(request))
    return MandatesOut(granted=[mandate_out(m) for m in granted], received=[mandate_out(m) for m in received])


@router.post(
    "/me/mandates",
    response_model=MandateOut,
    status_code=201,
    responses={400: {"description": "Refused: the message says why."}, **UNAUTHORISED},
)
def grant_mandate(
    body: MandateRequest, request: Request, user: SignedInDep, identity: IdentityDep
) -> MandateOut:
    mandate = identity.mandates.grant(
        user,
        body.mandatary,
        body.name,
        body.case_types,
        body.starts_on or date.today(),
        body.ends_on,
        request_language(request),
        body.messages,
        body.suggestions,
    )
    return mandate_out(mandate)


@router.delete(
    "/me/mandates/{mandate_id}",
    status_code=204,
    responses={**UNAUTHORISED, 404: {"description": "No mandate of yours."}},
)
def revoke_mandate(mandate_id: str, request: Request, user: SignedInDep, identity: IdentityDep) -> Response:
    identity.mandates.revoke(user, mandate_id[:36], request_language(request))
    return Response(status_code=204)


@router.get("/me/access-log", response_model=list[AccessOut], responses=UNAUTHORISED)
def access_log(
    user: SignedInDep,
    identity: IdentityDep,
    since: datetime | None = None,
    until: datetime | None = None,
    purpose: Annotated[str | None, Query(max_length=32)] = None,
    by: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AccessOut]:
    """Who used my data (or that of the organisation I act for), acting as whom, what and why: newest
    first; filtered by period (`since`, `until`), purpose and reader (`by`, a `requester`)."""
    query = AccessQuery(since, until, purpose, by, limit)
    return [
        AccessOut(
            at=a.at,
            by=a.actor,
            acting_as=a.profile,
            what=a.what,
            why=a.why,
            record=a.record,
            requester=a.actor_id,
            subject=a.subject,
            acting_for_you=a.for_you,
            basis=a.basis,
            trace_id=a.trace_id,
            held_until=a.held.until if a.held else None,
            held_reason=a.held.reason if a.held else None,
        )
        for a in identity.access_log.accesses(user, query)
    ]


@router.get(
    "/admin/roles",
    response_model=list[RoleOut],
    responses=UNAUTHORISED,
    dependencies=[Depends(require_role(Role.OPERATOR))],
)
def roles(identity: IdentityDep) -> list[RoleOut]:
    """Who holds which role beyond citizen (operators only; grant with `loket users grant`)."""
    return [RoleOut(national_number=n, role=r) for n, r in identity.roles.all()]
