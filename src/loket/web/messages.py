"""The inbox in Mijn loket, one message, and the public page "is this message really from us?".

The inbox follows the profile the person acts in, like the API (`MessageService.inbox`); opening a
message marks it read and is written to the access log. Push is offered on the inbox page by a small
script (`static/js/push.js`) and delivered by the service worker at `/sw.js` (`web/pwa.py`), which shows
only what a notification carries (the sender and a fixed sentence) and opens the inbox when tapped.
"""

from __future__ import annotations

from datetime import time

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from loket.errors import BadRequest
from loket.forms import read_form
from loket.i18n import message, plain, request_language
from loket.identity.access import signed_in
from loket.identity.schemas import Forbidden, StrongerLoginNeeded
from loket.messages import bodies
from loket.messages.notify import WEBPUSH, Preference
from loket.messages.texts import ADVICE
from loket.ratelimit import limited
from loket.web.account import form_for
from loket.web.cases import login_first
from loket.web.chat import expired
from loket.web.deps import MessagesDep, NotifierDep
from loket.web.render import href_for, render
from loket.web.security import check_csrf

router = APIRouter(include_in_schema=False)
INBOX = "/mijn-berichten"
CHECK = "/controleer-bericht"


@router.get(INBOX)
def inbox(request: Request, messages: MessagesDep, notifier: NotifierDep, archived: bool = False) -> Response:
    user = signed_in(request)
    if user is None:
        return login_first(request, INBOX)
    language = request_language(request)
    try:
        found, refusal = messages.inbox(user, language, archived), None
    except StrongerLoginNeeded:
        raise  # the app's error handler asks for a stronger login
    except Forbidden as error:  # a mandate without messages: said on the page, not as an error
        found, refusal = [], error.message
    return render(
        request,
        "messages.html",
        language,
        page="messages",
        messages=found,
        archived=archived,
        refusal=refusal,
        push_key=notifier.public_key,
        push=next(p for p in notifier.preferences(user.person.id) if p.channel == WEBPUSH),
    )


@router.get(INBOX + "/{message_id}")
def one(message_id: str, request: Request, messages: MessagesDep) -> Response:
    user = signed_in(request)
    if user is None:
        return login_first(request, f"{INBOX}/{message_id[:32]}")
    language = request_language(request)
    found = messages.mark_read(user, message_id, language)
    body = Markup(bodies.html(found.body))
    # The app's icon counts one fewer as soon as a message is read, not when the inbox is next opened.
    unread = messages.unread(user, language)
    return render(request, "message.html", language, page="messages", message=found, body=body, unread=unread)


@router.post(INBOX + "/{message_id}/archiveren")
async def archive(message_id: str, request: Request, messages: MessagesDep) -> Response:
    user, form, language = await form_for(request)
    if user is None:
        return login_first(request, INBOX)
    keep = form.get("archived", "1") == "1"
    await run_in_threadpool(messages.archive, user, message_id, language, keep)
    return RedirectResponse(href_for(language)(INBOX), status_code=303)


@router.post(INBOX + "/meldingen")
async def notifications(request: Request, notifier: NotifierDep) -> Response:
    """Push on or off, and quiet hours, from the inbox page's form."""
    user, form, language = await form_for(request)
    if user is None:
        return login_first(request, INBOX)
    try:
        quiet = [time.fromisoformat(form[f]) if form.get(f) else None for f in ("quiet_from", "quiet_until")]
    except ValueError as error:
        raise BadRequest(
            plain(language, "Give the quiet hours as hours and minutes, such as 22:00.")
        ) from error
    preference = Preference(WEBPUSH, form.get("push") == "on", *quiet)
    await run_in_threadpool(notifier.set_preference, user.person.id, preference)
    return RedirectResponse(href_for(language)(INBOX), status_code=303)


@router.get(CHECK)
def check_page(request: Request) -> Response:
    return render(request, "verify.html", request_language(request), page="verify")


@router.post(CHECK, dependencies=[limited("verify")])
async def check(request: Request, messages: MessagesDep) -> Response:
    language = request_language(request)
    form = await read_form(request, language)
    check_csrf(request, form, expired(language))
    code, text = form.get("code", "").strip()[:40], form.get("text", "").strip()[:5000]
    user = await run_in_threadpool(signed_in, request)
    found = await run_in_threadpool(messages.check, code, text, user, language) if code or text else None
    advice = message(ADVICE[found.verdict], language) if found else None
    return render(
        request, "verify.html", language, page="verify", result=found, advice=advice, code=code, text=text
    )
