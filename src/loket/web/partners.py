"""Partners' clients (`/beheer/partners`): operators register a partner's OAuth2 client (its APIs, its
quota, sandbox or live, the agency its write scopes act for), see its secret once, and revoke it.

Operators only. Anonymous, the login page; anyone else, 403. Plain forms with the CSRF token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from loket.errors import BadRequest
from loket.i18n import plain, request_language
from loket.identity.schemas import Role
from loket.partners.schemas import Registered, Scope
from loket.web.account import form_for
from loket.web.cases import login_first, with_role
from loket.web.deps import CasesDep, PartnersDep
from loket.web.render import href_for, render

router = APIRouter(include_in_schema=False)
PARTNERS = "/beheer/partners"
DEFAULT_QUOTA = "600/minute"


def _refusal(language: str) -> str:
    return plain(language, "Only operators can register partners' clients.")


@router.get(PARTNERS)
def partners_page(
    request: Request, partners: PartnersDep, cases: CasesDep, revoked: bool = False
) -> Response:
    """`revoked`: a client was just revoked, which the page says."""
    language = request_language(request)
    user = with_role(request, PARTNERS, (Role.OPERATOR,), _refusal(language))
    if isinstance(user, Response):
        return user
    return _page(request, language, partners, cases, revoked=revoked)


@router.post(PARTNERS)
async def register(request: Request, partners: PartnersDep, cases: CasesDep) -> Response:
    user, form, language = await form_for(request)
    if user is None:
        return login_first(request, PARTNERS)
    with_role(request, PARTNERS, (Role.OPERATOR,), _refusal(language))
    scopes = [scope for scope in Scope if form.get(f"scope-{scope}")]
    try:
        registered = await run_in_threadpool(
            partners.register,
            form.get("name", ""),
            scopes,
            form.get("quota", ""),
            bool(form.get("sandbox")),
            form.get("agency"),
            language,
        )
    except BadRequest as error:
        return _page(request, language, partners, cases, form=form, error=error.message, status_code=400)
    return _page(request, language, partners, cases, registered=registered)


@router.post(PARTNERS + "/{client_id}/intrekken")
async def revoke(client_id: str, request: Request, partners: PartnersDep) -> Response:
    user, _, language = await form_for(request)
    if user is None:
        return login_first(request, PARTNERS)
    with_role(request, PARTNERS, (Role.OPERATOR,), _refusal(language))
    await run_in_threadpool(partners.revoke, client_id[:36])
    return RedirectResponse(href_for(language)(PARTNERS, revoked="1"), status_code=303)


def _page(
    request: Request,
    language: str,
    partners: PartnersDep,
    cases: CasesDep,
    form: dict[str, str] | None = None,
    error: str | None = None,
    registered: Registered | None = None,
    revoked: bool = False,
    status_code: int = 200,
) -> Response:
    """The page: the clients, and the form (as sent, after an error)."""
    return render(
        request,
        "partners.html",
        language,
        status_code=status_code,
        page="partners",
        clients=partners.clients(),
        agencies=[agency for agency in cases.agencies() if not agency.revoked],
        scopes=list(Scope),
        form=form or {"quota": DEFAULT_QUOTA},
        errors={"name": error} if error else {},
        registered=registered,
        revoked=revoked,
        token_url=str(request.base_url).rstrip("/") + "/oauth/token",
    )
