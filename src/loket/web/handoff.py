"""The person's side of a hand-off on the chat page: wait for a person here, where one is in the queue,
what the agent says, a code for the phone; and out of office hours the contact form.

Plain forms, post/redirect/get (what stores something per request, a phone code or contact details, is
rate-limited like feedback); chat.js reloads the panel when the conversation's events say a step
was taken (an agent claimed it, replied, ended it).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from loket.assistant import holders
from loket.errors import NotFound
from loket.forms import read_form
from loket.handoff.service import CONTACT_FORM
from loket.i18n import plain, request_language
from loket.identity.access import signed_in
from loket.ratelimit import limited
from loket.web.chat import expired
from loket.web.deps import AssistantDep, HandoffDep, SettingsDep
from loket.web.render import href_for, render
from loket.web.security import check_csrf

router = APIRouter(include_in_schema=False)


async def _held(request: Request, assistant) -> tuple[str, dict[str, str], str]:
    """The conversation this browser holds (its cookie), the form, the language; NotFound without one."""
    language = request_language(request)
    form = await read_form(request, language)
    check_csrf(request, form, expired(language))
    conversation_id = await run_in_threadpool(assistant.held, holders.holder(request))
    if conversation_id is None:
        raise NotFound(plain(language, "Start a conversation first: ask your question."))
    return conversation_id, form, language


@router.post("/wachtrij")
async def wait_for_a_person(request: Request, assistant: AssistantDep, handoff: HandoffDep) -> Response:
    conversation_id, form, language = await _held(request, assistant)
    user = await run_in_threadpool(signed_in, request)
    share = form.get("private") != "on"
    found = await run_in_threadpool(handoff.request, conversation_id, user, "general", share)
    target = href_for(language)(CONTACT_FORM) if found.contact_form else href_for(language)("/") + "#handoff"
    return RedirectResponse(target, status_code=303)


@router.post("/wachtrij/code", dependencies=[limited("feedback")])
async def phone_code(request: Request, assistant: AssistantDep, handoff: HandoffDep) -> Response:
    """The code to read to the infoline, shown once on the page."""
    conversation_id, _, language = await _held(request, assistant)
    code = await run_in_threadpool(handoff.continuation_code, conversation_id)
    return render(request, "phone_code.html", language, page="start", code=code)


@router.get(CONTACT_FORM)
def contact(request: Request, settings: SettingsDep) -> Response:
    return render(
        request, "contact.html", request_language(request), page="contact", hours=settings.office_hours
    )


@router.post(CONTACT_FORM, dependencies=[limited("feedback")])
async def contact_me(
    request: Request, assistant: AssistantDep, handoff: HandoffDep, settings: SettingsDep
) -> Response:
    conversation_id, form, language = await _held(request, assistant)
    channel, contact_detail = form.get("channel", ""), form.get("contact", "")
    await run_in_threadpool(
        handoff.ask_contact, conversation_id, channel, contact_detail, form.get("consent") == "on"
    )
    return render(request, "contact.html", language, page="contact", hours=settings.office_hours, sent=True)
