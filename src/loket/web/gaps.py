"""Content gaps (`/beheer/hiaten`): what people asked that the catalogue did not answer, clustered by
topic, as the latest run of the job left them (`loket.insight.gaps`): per topic its questions and
distinct askers, example questions only from the k-anonymity threshold up, the catalogue pages closest
to it, and for content owners a button to mark it handled. Handled topics are listed apart, folded.

Operators and content owners see the page; only content owners mark (a plain form with the CSRF
token). Anonymous, the login page; anyone else, 403.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from loket.assistant.own_accesses import said_when
from loket.i18n import plain, request_language
from loket.identity.schemas import Forbidden, Role
from loket.web.account import form_for
from loket.web.cases import login_first, with_role
from loket.web.deps import GapsDep, SettingsDep
from loket.web.render import href_for, render

router = APIRouter(include_in_schema=False)
GAPS = "/beheer/hiaten"
ROLES = (Role.OPERATOR, Role.CONTENT_OWNER)


@router.get(GAPS)
def gaps_page(request: Request, gaps: GapsDep, settings: SettingsDep, marked: bool = False) -> Response:
    """`marked`: a topic was just marked handled, which the page says."""
    language = request_language(request)
    refusal = plain(language, "Only operators and content owners can see the content gaps.")
    user = with_role(request, GAPS, ROLES, refusal)
    if isinstance(user, Response):
        return user
    found = gaps.latest()
    zone = ZoneInfo(settings.timezone)
    return render(
        request,
        "gaps.html",
        language,
        page="gaps",
        found=found,
        may_mark=user.has(Role.CONTENT_OWNER),
        marked=marked,
        when=lambda moment: said_when(moment, zone, language),
        number=lambda value: format_decimal(value, locale=language),
        min_askers=gaps.min_askers,
    )


@router.post(GAPS + "/{gap_id}/afgehandeld")
async def mark_handled(gap_id: str, request: Request, gaps: GapsDep) -> Response:
    user, _, language = await form_for(request)
    if user is None:
        return login_first(request, GAPS)
    if not user.has(Role.CONTENT_OWNER):
        raise Forbidden(plain(language, "Only content owners can mark a content gap handled."))
    await run_in_threadpool(gaps.mark_handled, gap_id[:36], user.person.id)
    return RedirectResponse(href_for(language)(GAPS, marked="1"), status_code=303)
