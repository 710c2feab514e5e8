"""The cases API: agencies write their source's cases with a bearer token; people read their own.

A person reads the cases of the profile they act in, and a case they may not see is a 404 whether it
exists or not. Every read is written to the access log of the person or organisation it is about. A
login below the configured level (`acr`) gets a 403 asking for a stronger login.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

from loket.cases.access import AGENCY_ERRORS, CasesAgencyDep, own_source
from loket.cases.schemas import CaseDraft, Contact, Status, Subject, SubjectType
from loket.cases.service import Case, CaseService, Change
from loket.deps import provided
from loket.errors import NotFound
from loket.i18n import request_language
from loket.identity import national_number
from loket.identity.access import SignedInDep

router = APIRouter(prefix="/api/v1", tags=["cases"])
PERSON_ERRORS = {
    401: {"description": "Not logged in."},
    403: {"description": "The login is not strong enough (`stronger_login_needed`), or a mandate refused."},
}
NO_CASE = {404: {"description": "No such case of this source."}}
Text = Annotated[str, Field(max_length=2000)]
Short = Annotated[str, Field(max_length=200)]


CasesDep = Annotated[CaseService, provided(CaseService)]


class SubjectIn(BaseModel):
    role: Short = "Aanvrager"
    type: SubjectType
    key: Annotated[str, Field(min_length=9, max_length=20)]

    @field_validator("key")
    @classmethod
    def _digits(cls, value: str) -> str:
        return national_number.compact(value)


class StatusIn(BaseModel):
    code: Annotated[str, Field(min_length=1, max_length=200)]
    phase: Text = ""
    details: Text = ""
    action_needed: bool = False
    action: Text | None = None
    at: datetime | None = Field(None, description="When the status changed at the source; default: now.")

    def status(self) -> Status:
        return Status(self.code, self.phase, self.details, self.action_needed, self.action or "", self.at)


class ContactIn(BaseModel):
    name: Short = ""
    service: Short = ""
    email: Short = ""
    phone: Short = ""
    website: Short = ""
    address: Short = ""


class CaseIn(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=500)]
    type: Annotated[str, Field(min_length=1, max_length=200)]
    product: Short | None = Field(None, description="The catalogue's product number (IPDC).")
    subjects: Annotated[list[SubjectIn], Field(min_length=1, max_length=50)]
    status: StatusIn
    contact: ContactIn | Short | None = Field(None, description="An object, or just a name.")
    link: Annotated[str, Field(max_length=2000, pattern=r"^https?://")] | None = None
    confidential: bool = False
    hidden: bool = Field(False, description="The source says the case may not be shown at all.")
    period_start: date | None = None
    period_end: date | None = None

    @field_validator("subjects")
    @classmethod
    def _valid_keys(cls, subjects: list[SubjectIn]) -> list[SubjectIn]:
        for subject in subjects:
            if subject.type is SubjectType.PERSON and not national_number.is_valid(subject.key):
                raise ValueError(f"{subject.key}: not a valid national number")
            if subject.type is SubjectType.COMPANY and len(subject.key) != 10:
                raise ValueError(f"{subject.key}: an enterprise number has 10 digits")
        return subjects

    def draft(self, source: str, number: str) -> CaseDraft:
        contact = self.contact
        if isinstance(contact, str):
            contact = ContactIn(name=contact)
        return CaseDraft(
            source=source,
            number=number,
            name=self.name,
            type=self.type,
            status=self.status.status(),
            subjects=tuple(Subject(s.role, s.type, s.key) for s in self.subjects),
            product=self.product,
            contact=Contact(**(contact or ContactIn()).model_dump()),
            link=self.link,
            confidential=self.confidential,
            hidden=self.hidden,
            period_start=self.period_start,
            period_end=self.period_end,
        )


class StatusOut(BaseModel):
    code: str
    phase: str
    details: str
    action_needed: bool
    action: str
    at: datetime


class CaseSummaryOut(BaseModel):
    id: str
    source: str
    number: str
    name: str
    type: str
    status: StatusOut
    action_needed: bool
    updated_at: datetime
    link: str | None


class CaseOut(CaseSummaryOut):
    product: str | None
    contact: ContactIn
    confidential: bool
    timeline: list[StatusOut]
    version: int


class AgencyCaseOut(CaseOut):
    change: Change | None = None
    subjects: list[SubjectIn]


class CasesOut(BaseModel):
    cases: list[CaseSummaryOut]


def _status_out(status: Status) -> StatusOut:
    return StatusOut(
        code=status.code,
        phase=status.phase,
        details=status.details,
        action_needed=status.action_needed,
        action=status.action,
        at=status.at,
    )


def summary_out(case: Case) -> CaseSummaryOut:
    return CaseSummaryOut(
        id=case.id,
        source=case.source,
        number=case.number,
        name=case.name,
        type=case.type,
        status=_status_out(case.status),
        action_needed=case.action_needed,
        updated_at=case.updated_at,
        link=case.link,
    )


def case_out(case: Case) -> CaseOut:
    return CaseOut(
        **summary_out(case).model_dump(),
        product=case.product,
        contact=ContactIn(**case.contact.__dict__),
        confidential=case.confidential,
        timeline=[_status_out(s) for s in case.timeline],
        version=case.version,
    )


def _agency_out(case: Case, change: Change | None = None) -> AgencyCaseOut:
    subjects = [SubjectIn(role=s.role, type=s.type, key=s.key) for s in case.subjects]
    return AgencyCaseOut(**case_out(case).model_dump(), change=change, subjects=subjects)


@router.put(
    "/cases/{source}/{number}",
    response_model=AgencyCaseOut,
    responses={201: {"model": AgencyCaseOut, "description": "A new case."}, **AGENCY_ERRORS},
)
def put_case(source: Short, number: Short, body: CaseIn, agency: CasesAgencyDep, cases: CasesDep) -> Response:
    """Create or replace a case of the agency's source (idempotent): 201 when new, else 200."""
    own_source(agency, source)
    case, change = cases.upsert(body.draft(source, number))
    status = 201 if change is Change.CREATED else 200
    return JSONResponse(_agency_out(case, change).model_dump(mode="json"), status_code=status)


@router.post(
    "/cases/{source}/{number}/status",
    response_model=AgencyCaseOut,
    status_code=201,
    responses={**AGENCY_ERRORS, **NO_CASE},
)
def post_status(
    source: Short, number: Short, body: StatusIn, agency: CasesAgencyDep, cases: CasesDep
) -> AgencyCaseOut:
    """Append a status to a case's timeline."""
    own_source(agency, source)
    return _agency_out(cases.add_status(source, number, body.status()))


@router.get("/cases/{source}/{number}", response_model=AgencyCaseOut, responses={**AGENCY_ERRORS, **NO_CASE})
def get_case(source: Short, number: Short, agency: CasesAgencyDep, cases: CasesDep) -> AgencyCaseOut:
    """A case of the agency's own source, as loket holds it."""
    own_source(agency, source)
    case = cases.get(source, number)
    if case is None:
        raise NotFound(f"no case {number!r} of source {source!r}")
    return _agency_out(case)


@router.get("/me/cases", response_model=CasesOut, responses=PERSON_ERRORS)
def my_cases(request: Request, user: SignedInDep, cases: CasesDep) -> CasesOut:
    """The running cases of the active profile, latest change first."""
    return CasesOut(cases=[summary_out(c) for c in cases.read_cases(user, request_language(request))])


@router.get(
    "/me/cases/{case_id}",
    response_model=CaseOut,
    responses={**PERSON_ERRORS, 404: {"description": "No case this profile may see."}},
)
def my_case(case_id: str, request: Request, user: SignedInDep, cases: CasesDep) -> CaseOut:
    """One case with its timeline; 404 for a case the active profile may not see."""
    return case_out(cases.read_case(user, case_id, request_language(request)))
