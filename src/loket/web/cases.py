"""The person's own cases: the list, and one case with its timeline and what they still have to do.

They follow the profile the person acts in, like the API (`CaseService.read_cases`), and every view is
written to the access log. A login not strong enough gets a page asking for a stronger one
(`loket.web.account.stronger_login`, by the app's error handler).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from loket.i18n import request_language
from loket.identity.access import signed_in
from loket.identity.schemas import Forbidden, Role, SignedIn
from loket.web.deps import CasesDep
from loket.web.render import href_for, render

router = APIRouter(include_in_schema=False)
CASES_PAGE = "/mijn-zaken"


def login_first(request: Request, here: str) -> Response:
    return RedirectResponse(
        href_for(request_language(request))("/aanmelden", return_to=here), status_code=303
    )


def with_role(request: Request, here: str, roles: tuple[Role, ...], refusal: str) -> SignedIn | Response:
    """The person logged in, if they hold one of `roles`: anonymous, the login page (back to `here`
    after); without any of them, 403 with `refusal`."""
    user = signed_in(request)
    if user is None:
        return login_first(request, here)
    if not any(user.has(role) for role in roles):
        raise Forbidden(refusal)
    return user


@router.get(CASES_PAGE)
def cases(request: Request, cases_: CasesDep) -> Response:
    user = signed_in(request)
    if user is None:
        return login_first(request, CASES_PAGE)
    language = request_language(request)
    found = cases_.read_cases(user, language)
    waiting = [case for case in found if case.action_needed]
    return render(request, "cases.html", language, page="cases", cases=found, waiting=waiting)


@router.get(CASES_PAGE + "/{case_id}")
def case(case_id: str, request: Request, cases_: CasesDep) -> Response:
    user = signed_in(request)
    if user is None:
        return login_first(request, f"{CASES_PAGE}/{case_id[:32]}")
    language = request_language(request)
    found = cases_.read_case(user, case_id, language)
    return render(request, "case.html", language, page="cases", case=found)
