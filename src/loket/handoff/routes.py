"""The hand-off API: a person (holding the conversation) asks for a human; agents (role `agent`) see
the queue, claim, reply, transfer and end. State changes are heard on the conversation's event stream
(`GET /api/v1/events/conversations/{id}`, kind `handoff`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from loket.assistant import holders
from loket.assistant.service import AssistantService
from loket.deps import component, provided
from loket.events import HEARTBEAT_SECONDS, STREAM_RESPONSE, event_stream, resume_after
from loket.handoff.service import EndReason, Handoff, HandoffService, State
from loket.identity.access import require_role, signed_in
from loket.identity.schemas import Role, SignedIn
from loket.ratelimit import limited

router = APIRouter(prefix="/api/v1", tags=["handoff"])
HandoffDep = Annotated[HandoffService, provided(HandoffService)]
AgentDep = Annotated[SignedIn, Depends(require_role(Role.AGENT))]
ConversationId = Annotated[str, Field(max_length=36)]
NOT_HELD = {404: {"description": "No such conversation, or not held: send its `Loket-Conversation-Token`."}}
AGENTS_ONLY = {401: {"description": "Not logged in."}, 403: {"description": "Not an agent."}}
HELD_BY_ANOTHER = {403: {"description": "Not an agent, or another agent handles this conversation."}}
NO_HANDOFF = {404: {"description": "No hand-off for this conversation."}}
REFUSED = {400: {"description": "Refused: the message says why."}}
CHANGED = {409: {"description": "Not in a state that allows this, or changed by someone else just then."}}


class HandoffIn(BaseModel):
    conversation_id: ConversationId
    team: Annotated[str, Field(max_length=50)] = "general"
    share_conversation: bool = Field(
        True,
        description="Let the agent read the conversation with the assistant so far (false: only what "
        "is said next).",
    )


class HandoffOut(BaseModel):
    state: Literal["queued", "assigned", "closed"]
    position: int | None = None
    estimated_wait_seconds: int | None = None
    contact_form: str | None = None


class TextIn(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class ChatMessageOut(BaseModel):
    sender: Literal["agent", "citizen"] = Field(alias="from")
    text: str
    at: datetime

    model_config = {"populate_by_name": True}


class HandoffStateOut(BaseModel):
    id: str
    state: State
    team: str
    agent: str | None
    profile: str
    requested_at: datetime | None
    claimed_at: datetime | None
    messages: list[ChatMessageOut]


class QueueOut(BaseModel):
    conversations: list[HandoffStateOut]


class AgentConversationOut(HandoffStateOut):
    transcript: list[dict] = Field(description="The conversation with the assistant, as stored (redacted).")
    transcript_shared: bool = Field(True, description="False: the person chose not to share it; empty.")


class TransferIn(BaseModel):
    team: Annotated[str, Field(max_length=50)] | None = None
    agent: Annotated[str, Field(max_length=64)] | None = None


class EndIn(BaseModel):
    reason: EndReason
    topic: Annotated[str, Field(max_length=100)] = ""
    follow_up: bool = False


class PresenceIn(BaseModel):
    status: Literal["online", "away", "offline"]
    teams: list[Annotated[str, Field(max_length=50)]] | None = Field(None, max_length=20)


class CodeIn(BaseModel):
    code: Annotated[str, Field(max_length=20)]


def _state_out(handoff: Handoff) -> HandoffStateOut:
    return HandoffStateOut(
        id=handoff.conversation_id,
        state=handoff.state,
        team=handoff.team,
        agent=handoff.agent,
        profile=handoff.profile,
        requested_at=handoff.requested_at,
        claimed_at=handoff.claimed_at,
        messages=[ChatMessageOut(**m) for m in handoff.messages],
    )


def _held(request: Request, conversation_id: str) -> None:
    """The caller holds the conversation (its token, or the login it was begun with); else 404."""
    component(request, AssistantService).conversation(conversation_id, holders.holder(request))


@router.post("/handoff", response_model=HandoffOut, responses={**NOT_HELD, **CHANGED})
async def request_handoff(body: HandoffIn, request: Request, handoff: HandoffDep) -> HandoffOut:
    """Ask for a person: a place in the queue and the estimated wait, or out of office hours the
    contact form (and no queue entry)."""
    await run_in_threadpool(_held, request, body.conversation_id)
    user = await run_in_threadpool(signed_in, request)
    found = await run_in_threadpool(
        handoff.request, body.conversation_id, user, body.team, body.share_conversation
    )
    if found.contact_form:
        return HandoffOut(state="closed", contact_form=found.contact_form)
    state = "assigned" if found.state is State.ASSIGNED else "queued"
    return HandoffOut(
        state=state, position=found.position, estimated_wait_seconds=found.estimated_wait_seconds
    )


@router.get("/handoff/{conversation_id}", response_model=HandoffStateOut, responses=NOT_HELD)
async def handoff_state(
    conversation_id: ConversationId, request: Request, handoff: HandoffDep
) -> HandoffStateOut:
    await run_in_threadpool(_held, request, conversation_id)
    return _state_out(await run_in_threadpool(handoff.get, conversation_id))


@router.post(
    "/handoff/{conversation_id}/messages",
    response_model=HandoffStateOut,
    responses={**REFUSED, **NOT_HELD, **CHANGED},
)
async def say(
    conversation_id: ConversationId, body: TextIn, request: Request, handoff: HandoffDep
) -> HandoffStateOut:
    """The person's message to the agent (redacted like a question)."""
    await run_in_threadpool(_held, request, conversation_id)
    return _state_out(await run_in_threadpool(handoff.say, conversation_id, body.text))


@router.post("/handoff/{conversation_id}/code", responses=NOT_HELD, dependencies=[limited("feedback")])
async def continuation_code(conversation_id: ConversationId, request: Request, handoff: HandoffDep) -> dict:
    """A short code to read to the phone infoline: the agent opens this same conversation with it."""
    await run_in_threadpool(_held, request, conversation_id)
    return {
        "code": await run_in_threadpool(handoff.continuation_code, conversation_id),
        "expires_in_seconds": 1800,
    }


@router.get("/agent/queue", response_model=QueueOut, responses=AGENTS_ONLY)
def queue(agent: AgentDep, handoff: HandoffDep, team: str | None = None) -> QueueOut:
    """Conversations waiting for an agent, longest waiting first."""
    return QueueOut(conversations=[_state_out(h) for h in handoff.queue(team)])


@router.post(
    "/agent/conversations/{conversation_id}/claim",
    response_model=HandoffStateOut,
    responses={**AGENTS_ONLY, 409: {"description": "Not waiting: another agent was first."}},
)
def claim(conversation_id: ConversationId, agent: AgentDep, handoff: HandoffDep) -> HandoffStateOut:
    """Take the conversation: 200 for exactly one agent, 409 for every other."""
    return _state_out(handoff.claim(conversation_id, agent))


@router.get(
    "/agent/conversations/{conversation_id}",
    response_model=AgentConversationOut,
    responses={**AGENTS_ONLY, **NO_HANDOFF},
)
def conversation(
    conversation_id: ConversationId, agent: AgentDep, handoff: HandoffDep
) -> AgentConversationOut:
    """The hand-off and the conversation with the assistant before it, with its cited sources."""
    current, stored, shared = handoff.read(conversation_id, agent)
    transcript = [
        {"question": m.question, "answer": m.answer, "status": m.status, "citations": m.citations}
        for m in stored.messages
    ]
    return AgentConversationOut(
        **_state_out(current).model_dump(by_alias=True),
        transcript=transcript,
        transcript_shared=shared,
    )


@router.post(
    "/agent/conversations/{conversation_id}/messages",
    response_model=HandoffStateOut,
    responses={**AGENTS_ONLY, **REFUSED, **HELD_BY_ANOTHER, **CHANGED},
)
def reply(
    conversation_id: ConversationId, body: TextIn, agent: AgentDep, handoff: HandoffDep
) -> HandoffStateOut:
    return _state_out(handoff.reply(conversation_id, agent, body.text))


@router.post(
    "/agent/conversations/{conversation_id}/transfer",
    response_model=HandoffStateOut,
    responses={**AGENTS_ONLY, **REFUSED, **HELD_BY_ANOTHER, **CHANGED},
)
def transfer(
    conversation_id: ConversationId, body: TransferIn, agent: AgentDep, handoff: HandoffDep
) -> HandoffStateOut:
    """To another team's queue, or to an agent who is online (an offline one is refused, 409)."""
    return _state_out(handoff.transfer(conversation_id, agent, body.team, body.agent))


@router.post(
    "/agent/conversations/{conversation_id}/end",
    response_model=HandoffStateOut,
    responses={**AGENTS_ONLY, **REFUSED, **HELD_BY_ANOTHER, **CHANGED},
)
def end(
    conversation_id: ConversationId, body: EndIn, agent: AgentDep, handoff: HandoffDep
) -> HandoffStateOut:
    return _state_out(handoff.end(conversation_id, agent, body.reason, body.topic, body.follow_up))


@router.put("/agent/status", status_code=204, responses={**AGENTS_ONLY, **REFUSED})
def presence(body: PresenceIn, agent: AgentDep, handoff: HandoffDep) -> None:
    """Online, away or offline, and the teams whose queue one answers."""
    handoff.set_presence(agent, body.status, body.teams)


@router.post(
    "/agent/continue",
    responses={**AGENTS_ONLY, 404: {"description": "An unknown or expired code."}},
    dependencies=[limited("continuation")],
)
def open_with_code(body: CodeIn, agent: AgentDep, handoff: HandoffDep) -> dict:
    """The conversation a person's continuation code names (rate-limited; codes expire)."""
    return {"conversation_id": handoff.open_with_code(body.code)}


@router.get("/agent/events", response_class=Response, responses={**STREAM_RESPONSE, **AGENTS_ONLY})
async def queue_events(
    agent: AgentDep, handoff: HandoffDep, last_event_id: Annotated[str | None, Header()] = None
) -> Response:
    """Every change to the queue (a request, a claim, a transfer, an end), as server-sent events."""
    return event_stream(handoff.follow(None, resume_after(last_event_id), HEARTBEAT_SECONDS))


@router.get(
    "/agent/events/conversations/{conversation_id}",
    response_class=Response,
    responses={**STREAM_RESPONSE, **AGENTS_ONLY},
)
async def conversation_events(
    conversation_id: ConversationId,
    agent: AgentDep,
    handoff: HandoffDep,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    """The conversation's events (`handoff` for each step, `message` for each answer), for the console."""
    return event_stream(handoff.follow(conversation_id, resume_after(last_event_id), HEARTBEAT_SECONDS))
