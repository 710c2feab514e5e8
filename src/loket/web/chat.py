"""The chat without JavaScript: forms post here, and the browser is sent back to the start page, which
shows the whole conversation (post/redirect/get, so a reload never asks twice).

With JavaScript the same forms are sent to the JSON API instead; both end in the same assistant.
A browser without JavaScript keeps its conversation in a session cookie.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from loket.assistant import holders
from loket.deps import component
from loket.errors import LoketError, NotFound
from loket.forms import read_form
from loket.i18n import message, plain, request_language
from loket.identity.access import signed_in
from loket.ratelimit import TOO_MANY_REQUESTS, RateLimits, limited
from loket.web.deps import AssistantDep, CatalogDep
from loket.web.pages import audience_of, stored_conversation
from loket.web.render import href_for, render
from loket.web.security import check_csrf

router = APIRouter(include_in_schema=False)


def expired(language: str) -> str:
    return plain(language, "This form has expired. Go back, reload the page and try again.")


@router.post("/vraag")
async def ask(request: Request, assistant: AssistantDep, catalog: CatalogDep) -> Response:
    language = request_language(request)
    form = await read_form(request, language)
    check_csrf(request, form, expired(language))
    holder = await run_in_threadpool(holders.holder, request)
    conversation_id = await run_in_threadpool(assistant.held, holder)
    limits = component(request, RateLimits)
    verdict = limits.hit(
        client=request.client.host if request.client else "unknown", conversation=conversation_id
    )
    if not verdict.allowed:
        text = message(TOO_MANY_REQUESTS, language, seconds=str(verdict.reset_seconds))
        response = _page_with_error(request, assistant, catalog, language, text, 429, form)
        response.headers.update(verdict.headers())
        return response
    question, audience = form.get("question", ""), audience_of(form.get("audience"))
    user = await run_in_threadpool(signed_in, request)
    audience_asked = audience or (user.active.audience if user else None)
    channel = "widget" if form.get("channel") == "widget" else "web"
    ask = partial(
        assistant.ask, question, language, audience_asked, user=user, holder=holder, channel=channel
    )
    try:
        # No conversation held (none yet, or removed after its retention period): a new one.
        answer = await run_in_threadpool(ask, conversation_id)
    except LoketError as problem:
        return _page_with_error(
            request, assistant, catalog, language, problem.message, problem.status_code, form
        )
    response = RedirectResponse(href_for(language)("/", audience=audience) + f"#m-{answer.message_id}", 303)
    holders.keep_token(request, response, answer.conversation_token)
    return response


def _page_with_error(
    request, assistant, catalog, language: str, text: str, status: int, form: dict
) -> Response:
    """The start page again, with the error and the question still in the box."""
    conversation_id, messages = stored_conversation(request, assistant, catalog)
    return render(
        request,
        "start.html",
        language,
        status_code=status,
        page="start",
        error=text,
        question=form.get("question", ""),
        messages=messages,
        conversation_id=conversation_id,
        audience=audience_of(form.get("audience")),
    )


@router.post("/feedback", dependencies=[limited("feedback")])
async def feedback(request: Request, assistant: AssistantDep, catalog: CatalogDep) -> Response:
    """Only on a message of this browser's own conversation; the reason is redacted like a question."""
    language = request_language(request)
    form = await read_form(request, language)
    check_csrf(request, form, expired(language))
    message_id = form.get("message_id", "")
    _, messages = stored_conversation(request, assistant, catalog)
    if message_id not in {m["id"] for m in messages}:
        raise NotFound(plain(language, "This answer is not part of your conversation."))
    rating, reason = form.get("rating", ""), form.get("reason") or None
    assistant.feedback(message_id, rating, reason, language, holders.holder(request))
    return RedirectResponse(href_for(language)("/") + f"#m-{message_id}", 303)


@router.post("/gesprek/nieuw")
async def new_conversation(request: Request) -> Response:
    language = request_language(request)
    check_csrf(request, await read_form(request, language), expired(language))
    response = RedirectResponse(href_for(language)("/"), 303)
    holders.drop_token(request, response)
    return response
