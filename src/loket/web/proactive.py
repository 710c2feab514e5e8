""" "For you" in Mijn loket: the services suggested to the profile one acts in, each with "why am I
seeing this?", "not relevant" and "start"; and the switch that turns proactive use of one's data off.
Without JavaScript: the reasons are a <details>, the buttons are forms."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from loket.i18n import request_language
from loket.identity.access import signed_in
from loket.identity.schemas import Forbidden, StrongerLoginNeeded
from loket.proactive.service import FOR_YOU
from loket.web.account import form_for
from loket.web.cases import login_first
from loket.web.deps import ProactiveDep
from loket.web.render import href_for, render

router = APIRouter(include_in_schema=False)


@router.get(FOR_YOU)
def for_you(request: Request, proactive: ProactiveDep) -> Response:
    user = signed_in(request)
    if user is None:
        return login_first(request, FOR_YOU)
    language = request_language(request)
    enabled, refusal = None, None
    try:
        found = proactive.suggestions(user, language)
        enabled = proactive.enabled(user, language)
    except StrongerLoginNeeded:
        raise  # the app's error handler asks for a stronger login
    except Forbidden as error:  # a mandate without suggestions: said on the page, not as an error
        found, refusal = [], error.message
    return render(
        request, "for_you.html", language, page="for_you", suggestions=found, enabled=enabled, refusal=refusal
    )


@router.post(FOR_YOU + "/{suggestion_id}/niet-relevant")
async def dismiss(suggestion_id: str, request: Request, proactive: ProactiveDep) -> Response:
    user, _, language = await form_for(request)
    if user is None:
        return login_first(request, FOR_YOU)
    await run_in_threadpool(proactive.dismiss, user, suggestion_id, language)
    return RedirectResponse(href_for(language)(FOR_YOU), status_code=303)


@router.post(FOR_YOU + "/gebruik")
async def use(request: Request, proactive: ProactiveDep) -> Response:
    user, form, language = await form_for(request)
    if user is None:
        return login_first(request, FOR_YOU)
    await run_in_threadpool(proactive.set_enabled, user, form.get("enabled") == "on", language)
    return RedirectResponse(href_for(language)(FOR_YOU), status_code=303)
