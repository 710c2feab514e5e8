"""The agent console ("balie", role `agent`): the queue, a conversation taken over, and the forms to
claim, reply, transfer and end. It all works as plain forms; `static/js/balie.js` adds live updates
from the backbone's events (the queue, and the conversation), so two agents on two replicas see the
same thing at once.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from loket.handoff.service import Conflict, EndReason, Presence
from loket.i18n import plain, request_language
from loket.identity.schemas import Forbidden, Role, SignedIn
from loket.web.account import form_for
from loket.web.cases import login_first, with_role
from loket.web.deps import AssistantDep, HandoffDep
from loket.web.render import href_for, render

router = APIRouter(include_in_schema=False)
CONSOLE = "/balie"


def console_agent(request: Request, here: str) -> SignedIn | Response:
    """The agent logged in; anonymous, the login page (back to `here`); anyone else 403."""
    refusal = plain(request_language(request), "Only agents can use the console.")
    return with_role(request, here, (Role.AGENT,), refusal)


@router.get(CONSOLE)
def console(request: Request, handoff: HandoffDep) -> Response:
    agent = console_agent(request, CONSOLE)
    if isinstance(agent, Response):
        return agent
    language = request_language(request)
    return render(
        request,
        "balie.html",
        language,
        page="balie",
        queue=handoff.queue(),
        contacts=handoff.contact_requests(),
        presence=handoff.presence(agent.person.id),
        presences=list(Presence),
    )


@router.get(CONSOLE + "/{conversation_id}")
def conversation(
    conversation_id: str,
    request: Request,
    handoff: HandoffDep,
    assistant: AssistantDep,
    suggest: bool = False,
) -> Response:
    """`suggest`: the assistant drafts a reply from the catalogue to the person's last words, which the
    agent checks and edits before sending (the page says it is a draft by the assistant)."""
    agent = console_agent(request, f"{CONSOLE}/{conversation_id[:36]}")
    if isinstance(agent, Response):
        return agent
    language = request_language(request)
    current, stored, shared = handoff.read(conversation_id[:36], agent)
    said = [m["text"] for m in current.messages if m["from"] == "citizen"] or [
        m.question for m in stored.messages
    ]
    draft = assistant.draft(said[-1], language) if suggest and said else None
    return render(
        request,
        "balie_conversation.html",
        language,
        page="balie",
        handoff=current,
        transcript=stored.messages,
        shared=shared,
        mine=current.agent == agent.person.id,
        colleagues=[(i, name) for i, name in handoff.online_agents() if i != agent.person.id],
        reasons=list(EndReason),
        draft=_as_reply(draft, str(request.base_url)) if draft and draft.status == "answered" else None,
        no_draft=suggest and not (draft and draft.status == "answered"),
    )


def _as_reply(draft, base: str) -> str:
    """The drafted answer with its sources as full addresses: the person reads it as plain text."""
    sources = [f"{c.title}: {base.rstrip('/')}{c.url}" for c in draft.citations]
    return "\n".join([draft.answer, *sources])


@router.post(CONSOLE + "/status")
async def status(request: Request, handoff: HandoffDep) -> Response:
    agent, form, language = await agent_form(request)
    if isinstance(agent, Response):
        return agent
    await run_in_threadpool(handoff.set_presence, agent, form.get("status", ""))
    return RedirectResponse(href_for(language)(CONSOLE), status_code=303)


@router.post(CONSOLE + "/code")
async def code(request: Request, handoff: HandoffDep) -> Response:
    """A continuation code read out on the phone: to that conversation."""
    agent, form, language = await agent_form(request)
    if isinstance(agent, Response):
        return agent
    conversation_id = await run_in_threadpool(handoff.open_with_code, form.get("code", "")[:20])
    return RedirectResponse(href_for(language)(f"{CONSOLE}/{conversation_id}"), status_code=303)


@router.post(CONSOLE + "/{conversation_id}/{action}")
async def act(conversation_id: str, action: str, request: Request, handoff: HandoffDep) -> Response:
    """claim, reply, transfer or end; a claim someone else won says so on the page (409)."""
    agent, form, language = await agent_form(request)
    if isinstance(agent, Response):
        return agent
    conversation_id = conversation_id[:36]
    steps = {
        "claim": lambda: handoff.claim(conversation_id, agent),
        "reply": lambda: handoff.reply(conversation_id, agent, form.get("text", "")),
        "transfer": lambda: handoff.transfer(
            conversation_id, agent, form.get("team") or None, form.get("agent") or None
        ),
        "end": lambda: handoff.end(
            conversation_id,
            agent,
            form.get("reason", ""),
            form.get("topic", ""),
            form.get("follow_up") == "on",
        ),
    }
    if action not in steps:
        raise Forbidden(plain(language, "This address cannot be used like this."))
    try:
        await run_in_threadpool(steps[action])
    except Conflict:
        text = plain(language, "Another agent took this conversation first, or it changed meanwhile.")
        return render(request, "error.html", language, status_code=409, title=text, text=text)
    back = CONSOLE if action in ("transfer", "end") else f"{CONSOLE}/{conversation_id}"
    return RedirectResponse(href_for(language)(back), status_code=303)


async def agent_form(request: Request, here: str = CONSOLE):
    """A console form's agent, its fields (the CSRF token checked) and language; anonymous, the
    login page (back to `here`)."""
    user, form, language = await form_for(request)
    if user is None:
        return login_first(request, here), form, language
    if not user.has(Role.AGENT):
        raise Forbidden(plain(language, "Only agents can use the console."))
    return user, form, language
