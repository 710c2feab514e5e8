"""Which agency a request comes from, for every block that agencies write to (cases, messages, events):
an agency's own bearer token (`loket agencies add`), or a partner's token (`loket.partners`) with the
API's write scope, acting for the agency the partner was registered for."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from loket.cases.service import Agency, CaseService
from loket.deps import component
from loket.errors import LoketError
from loket.partners.access import bearer, counted, partner, require_scope
from loket.partners.schemas import Scope


class AgencyUnauthorised(LoketError):
    status_code = 401
    code = "unauthorized"


class OtherSource(LoketError):
    status_code = 403
    code = "forbidden"


def writing(scope: Scope):
    """A route dependency: the agency that writes, by its own token or a partner's with `scope`."""

    def resolve(request: Request) -> Agency:
        token = bearer(request)
        cases = component(request, CaseService)
        found = cases.agency_for(token) if token else None
        if found is None and token and partner(request):
            grant = require_scope(request, scope)
            counted(request, grant)
            found = cases.agency_named(grant.client.agency or "")
        if found is None:
            raise AgencyUnauthorised(
                "send an agency's token (loket agencies add) or a partner's token with the scope "
                f"{scope}: Authorization: Bearer TOKEN"
            )
        return found

    return Depends(resolve)


def own_source(agency: Agency, source: str, what: str = "cases") -> None:
    if agency.source != source:
        raise OtherSource(f"this token writes the {what} of source {agency.source!r} only")


CasesAgencyDep = Annotated[Agency, writing(Scope.CASES_WRITE)]
MessagesAgencyDep = Annotated[Agency, writing(Scope.MESSAGES_WRITE)]
EventsAgencyDep = Annotated[Agency, writing(Scope.EVENTS_WRITE)]
AGENCY_ERRORS = {
    401: {"description": "No valid agency or partner token."},
    403: {"description": "Another source, or a partner token without this API's scope."},
}
