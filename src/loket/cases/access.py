"""Which agency a request comes from: its bearer token (`loket agencies add`), for every block that
agencies write to (cases, messages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from loket.cases.service import Agency, CaseService
from loket.deps import component
from loket.errors import LoketError


class AgencyUnauthorised(LoketError):
    status_code = 401
    code = "unauthorized"


class OtherSource(LoketError):
    status_code = 403
    code = "forbidden"


def agency(request: Request) -> Agency:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    found = component(request, CaseService).agency_for(token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise AgencyUnauthorised("send an agency's token: Authorization: Bearer TOKEN (loket agencies add)")
    return found


def own_source(agency: Agency, source: str, what: str = "cases") -> None:
    if agency.source != source:
        raise OtherSource(f"this token writes the {what} of source {agency.source!r} only")


AgencyDep = Annotated[Agency, Depends(agency)]
AGENCY_ERRORS = {401: {"description": "No valid agency token."}, 403: {"description": "Another source."}}
