"""The assistant's HTTP API: ask (JSON or server-sent events), read a conversation, give feedback; and
the same assistant behind the OpenAI chat completions protocol (`compatible`, below)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.sse import EventSourceResponse, format_sse_event
from pydantic import BaseModel, Field

from loket.assistant import holders
from loket.assistant.grounding import sentences
from loket.assistant.schemas import Answer, Status
from loket.assistant.service import AssistantService
from loket.assistant.stages import MAX_QUESTION_LENGTH, MAX_RAW_QUESTION_LENGTH
from loket.catalog.schemas import Audience
from loket.deps import component, provided
from loket.events import HEARTBEAT_SECONDS, LAST_EVENT_ID, STREAM_RESPONSE, event_stream, resume_after
from loket.i18n import message, negotiate
from loket.identity.access import signed_in
from loket.partners.access import PARTNER_CHANNEL, PARTNER_ERRORS, from_partner, scoped
from loket.partners.schemas import Scope
from loket.ratelimit import TOO_MANY_REQUESTS, RateLimits, client_of, limited, quota_of

router = APIRouter(prefix="/api/v1", tags=["assistant"])
AssistantDep = Annotated[AssistantService, provided(AssistantService)]
NOT_HELD = {404: {"description": "No such conversation, or not held: send its `Loket-Conversation-Token`."}}
# A comment on an event stream this often keeps proxies and load balancers from closing it.


class AskRequest(BaseModel):
    question: str = Field(
        max_length=MAX_RAW_QUESTION_LENGTH,
        description=f"The question in the person's own words: at most {MAX_QUESTION_LENGTH} characters "
        "once invisible ones are removed; a longer one is refused with 422 in the person's language.",
    )
    conversation_id: str | None = Field(None, max_length=36, description="Continue this conversation.")
    language: str | None = Field(None, max_length=35, description="Preferred answer language, e.g. `nl`.")
    audience: Audience | None = None
    channel: Literal["web", "widget", "api"] = Field(
        "api", description="Where it is asked: loket's own pages say web or widget; for the figures only."
    )
    test: bool = Field(
        False,
        description="Test traffic (a probe, a load test, an evaluation): answered as any question, "
        "left out of the dashboard's figures unless asked for, and never in the public ones.",
    )


class CitationOut(BaseModel):
    url: str
    title: str
    snippet: str
    language: str = Field("", description="The cited page's language.")


class AskResponse(BaseModel):
    conversation_id: str
    conversation_token: str | None = Field(
        description="Only when the question started a conversation: send it back in the "
        "`Loket-Conversation-Token` header to continue, read or rate it (a browser also gets it as an "
        "HttpOnly cookie, which does the same)."
    )
    message_id: str
    status: Status
    answer: str
    language: str
    citations: list[CitationOut]
    notices: list[str]
    trace_id: str


class FeedbackOut(BaseModel):
    rating: Literal["up", "down"]
    reason: str | None


class MessageOut(BaseModel):
    id: str
    position: int
    created_at: datetime
    question: str = Field(description="As stored: personal identifiers replaced by their kind.")
    standalone: str = Field(description="The question retrieval used, after rewriting a follow-up.")
    status: Status
    answer: str
    language: str
    citations: list[CitationOut]
    notices: list[str]
    trace: list[dict] = Field(description="Each pipeline stage: outcome and duration in ms.")
    trace_id: str
    feedback: FeedbackOut | None


class ConversationOut(BaseModel):
    id: str
    created_at: datetime
    updated_at: datetime
    messages: list[MessageOut]


class FeedbackRequest(BaseModel):
    message_id: str = Field(max_length=36)
    rating: Literal["up", "down"]
    reason: str | None = Field(None, max_length=1000, description="Optional: what was wrong or right.")


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "JSON, or events with Accept: text/event-stream",
        },
        400: {"description": "No question: nothing is left once invisible characters are removed."},
        **PARTNER_ERRORS,
        **NOT_HELD,
        429: {"description": "Too many questions; see the RateLimit and Retry-After headers."},
        503: {"description": "The assistant is switched off for maintenance."},
    },
    dependencies=[scoped(Scope.ASK)],
)
async def ask(body: AskRequest, request: Request, assistant: AssistantDep) -> Response:
    # A conversation's own limit is counted by its token, which only its holder has: someone who
    # merely knows its id cannot use up the holder's questions.
    holder = await run_in_threadpool(holders.holder, request)
    limits = component(request, RateLimits)
    verdict = limits.hit(
        quota_of(request),
        client=client_of(request),
        conversation=holder.token if body.conversation_id else None,
    )
    if not verdict.allowed:
        text = message(TOO_MANY_REQUESTS, negotiate(body.language), seconds=str(verdict.reset_seconds))
        return JSONResponse(
            {"error": {"code": "too_many_requests", "message": text}},
            status_code=429,
            headers=verdict.headers(),
        )
    user = await run_in_threadpool(signed_in, request)
    audience = body.audience or (user.active.audience if user else None)
    answer = await run_in_threadpool(
        assistant.ask,
        body.question,
        body.language,
        audience,
        body.conversation_id,
        user,
        holder,
        _channel(request, body.channel),
        body.test,
    )
    response = AskResponse(**asdict(answer))
    if "text/event-stream" in request.headers.get("accept", ""):
        sent = EventSourceResponse(_events(answer, response), headers=verdict.headers())
    else:
        sent = JSONResponse(response.model_dump(mode="json"), headers=verdict.headers())
    holders.keep_token(request, sent, answer.conversation_token)
    return sent


def _events(answer: Answer, response: AskResponse) -> Iterator[str]:
    """status, then the answer sentence by sentence, citations, notices, and done with the whole answer.

    The answer has passed its output checks before the first event: nothing is streamed that a check
    could still take back.
    """

    def event(name: str, data: object) -> str:
        return format_sse_event(event=name, data_str=json.dumps(data, ensure_ascii=False))

    yield event(
        "status",
        {
            "status": answer.status,
            "conversation_id": answer.conversation_id,
            "message_id": answer.message_id,
            "language": answer.language,
        },
    )
    for sentence in sentences(answer.answer):
        yield event("sentence", {"text": sentence})
    yield event("citations", [asdict(citation) for citation in answer.citations])
    yield event("notices", answer.notices)
    yield event("done", response.model_dump(mode="json"))


@router.get("/conversations/{conversation_id}", response_model=ConversationOut, responses=NOT_HELD)
def conversation(conversation_id: str, request: Request, assistant: AssistantDep) -> ConversationOut:
    """As stored; only for whoever holds it (its token, and its person if begun logged in)."""
    stored = assistant.conversation(conversation_id[:36], holders.holder(request))
    return ConversationOut.model_validate(asdict(stored))


@router.post("/feedback", status_code=204, responses=NOT_HELD, dependencies=[limited("feedback")])
def feedback(body: FeedbackRequest, request: Request, assistant: AssistantDep) -> Response:
    """On a message of a conversation one holds."""
    assistant.feedback(body.message_id, body.rating, body.reason, holder=holders.holder(request))
    return Response(status_code=204)


@router.get(
    "/events/conversations/{conversation_id}",
    response_class=Response,
    responses={**STREAM_RESPONSE, **NOT_HELD},
)
async def conversation_events(
    conversation_id: str,
    request: Request,
    assistant: AssistantDep,
    after: Annotated[
        int,
        Query(
            ge=0, le=LAST_EVENT_ID, description="Only events after this id, when no `Last-Event-ID` is sent."
        ),
    ] = 0,
    last_event_id: Annotated[
        str | None, Header(description="The id of the last event received: everything after it is sent.")
    ] = None,
) -> Response:
    """The conversation's events, from whichever server answered: `message` for each answer stored
    (`conversation_id`, `message_id`, `status`; read the message itself with GET /conversations/{id}).

    A client that reconnects sends the last id it got (`Last-Event-ID`, as EventSource does) and gets
    everything after it, nothing twice; without either, every event the conversation still has.
    Only for whoever holds the conversation, as for GET /conversations/{id}."""
    holder = await run_in_threadpool(holders.holder, request)
    events = await run_in_threadpool(
        assistant.conversation_events,
        conversation_id[:36],
        holder,
        resume_after(last_event_id, after),
        HEARTBEAT_SECONDS,
    )
    return event_stream(events)


# The assistant behind the OpenAI chat completions protocol (`GET /v1/models`, `POST
# /v1/chat/completions`), so any client, chat app or voice channel that speaks it uses loket unchanged.
#
# The same pipeline answers as on `/api/v1/ask`: the last user message is the question, asked on the
# `api` channel in a conversation of its own, with the user messages before it as the context a
# follow-up ("and for a child?") is read with, since the client keeps the conversation. The answer's
# status, citations and notices come in a `loket` object beside the completion (in the last chunk when
# streaming), as `/api/v1/ask` gives them. A refusal is a completion too, with its status; only what the
# protocol cannot carry (no question, too many) is an error, in the protocol's `{"error": {...}}` form.
# Streaming sends the answer sentence by sentence after its output checks have passed, as `/api/v1/ask`
# does.

compatible = APIRouter(prefix="/v1", tags=["openai-compatible"])
MODEL = "loket"  # the one model: the assistant, whatever composes its answers
CREATED = 1_767_225_600  # 2026-01-01: when the model "loket" was first offered


class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict] | None = None


class ChatRequest(BaseModel):
    model: str = Field(MODEL, description="Any name: loket has one model, `loket`.")
    messages: list[ChatMessage] = Field(min_length=1, max_length=100)
    stream: bool = False
    user: str | None = Field(None, max_length=256, description="Ignored: loket keeps no client's user ids.")


@compatible.get("/models")
def models() -> dict:
    return {
        "object": "list",
        "data": [{"id": MODEL, "object": "model", "created": CREATED, "owned_by": "loket"}],
    }


@compatible.post(
    "/chat/completions",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "A completion, or chunks with `stream`"},
        400: {"description": "No user message to answer."},
        **PARTNER_ERRORS,
        429: {"description": "Too many questions; see the RateLimit and Retry-After headers."},
        503: {"description": "The assistant is switched off for maintenance."},
    },
    dependencies=[scoped(Scope.ASK)],
)
async def chat_completions(body: ChatRequest, request: Request, assistant: AssistantDep) -> Response:
    question = _question(body.messages)
    if not question:
        return _error(400, "invalid_request_error", "The last user message has no text to answer.")
    limits = component(request, RateLimits)
    verdict = limits.hit(quota_of(request), client=client_of(request))
    if not verdict.allowed:
        text = message(TOO_MANY_REQUESTS, negotiate(None), seconds=str(verdict.reset_seconds))
        return _error(429, "rate_limit_error", text, verdict.headers())
    user = await run_in_threadpool(signed_in, request)
    audience = user.active.audience if user else None
    holder = await run_in_threadpool(holders.holder, request)
    earlier = [_text(m) for m in body.messages[: _last_user(body.messages)] if m.role == "user"]
    answer = await run_in_threadpool(
        partial(
            assistant.ask, question, None, audience, None, user, holder, _channel(request), earlier=earlier
        )
    )
    extension = AskResponse(**asdict(answer)).model_dump(
        mode="json", include={"status", "citations", "notices", "language", "conversation_id", "message_id"}
    )
    completion_id = f"chatcmpl-{answer.message_id}"
    if body.stream:
        chunks = _chunks(completion_id, answer.answer, extension)
        return StreamingResponse(chunks, media_type="text/event-stream", headers=verdict.headers())
    completion = {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": answer.answer}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "loket": extension,
    }
    return JSONResponse(completion, headers=verdict.headers())


def _channel(request: Request, said: str = "api") -> str:
    """Where a question came from, for the figures: a partner's app (its token) counts as `partner`,
    whatever the request says; else the channel it says."""
    return PARTNER_CHANNEL if from_partner(request) else said


def _question(messages: list[ChatMessage]) -> str:
    """The last user message's text: the question. The user messages before it are its context."""
    last = _last_user(messages)
    return "" if last is None else _text(messages[last])


def _last_user(messages: list[ChatMessage]) -> int | None:
    return next((i for i in reversed(range(len(messages))) if messages[i].role == "user"), None)


def _text(said: ChatMessage) -> str:
    """A message's text (the parts of type text, when it comes in parts)."""
    if said.content is None:
        return ""
    if isinstance(said.content, str):
        return said.content.strip()
    return " ".join(part.get("text", "") for part in said.content if part.get("type") == "text").strip()


def _chunks(completion_id: str, text: str, extension: dict) -> Iterator[str]:
    """The role, then the answer sentence by sentence, then the end with the `loket` object."""
    created = int(time.time())

    def chunk(delta: dict, finish: str | None = None, **more) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        data = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL,
            "choices": [choice],
            **more,
        }
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    parts = sentences(text) or [text]
    for index, part in enumerate(parts):
        yield chunk({"content": part if index == 0 else f" {part}"})
    yield chunk({}, "stop", loket=extension)
    yield "data: [DONE]\n\n"


def _error(status: int, kind: str, text: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": text, "type": kind, "code": None, "param": None}},
        status_code=status,
        headers=headers,
    )
