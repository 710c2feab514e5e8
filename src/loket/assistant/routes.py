from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from pydantic import BaseModel, Field

from loket.assistant.schemas import Status
from loket.catalog.schemas import Audience
from loket.deps import ServicesDep

router = APIRouter(prefix="/api/v1", tags=["assistant"])


class AskRequest(BaseModel):
    question: str = Field(description="The question in the person's own words.")
    conversation_id: str | None = None
    language: str | None = Field(None, max_length=35, description="Preferred answer language, e.g. `nl`.")
    audience: Audience | None = None


class CitationOut(BaseModel):
    url: str
    title: str
    snippet: str


class AskResponse(BaseModel):
    conversation_id: str
    message_id: str
    status: Status
    answer: str
    language: str
    citations: list[CitationOut]
    notices: list[str]
    trace_id: str


@router.post("/ask", response_model=AskResponse)
def ask(request: AskRequest, services: ServicesDep) -> AskResponse:
    answer = services.assistant.ask(request.question, request.language, request.audience)
    return AskResponse(**asdict(answer))
