"""The proactive API: authentic sources send life events; people read the services suggested to the
profile they act in, say one is not relevant, and turn proactive use of their data off or on; anyone
reads the rules a life event leads to.

A life event is a CloudEvent in structured mode (`application/cloudevents+json`, or `application/json`)
sent with an agency's token; the agency must be allowed that event type (`loket events allow`).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Literal
from urllib.parse import urljoin

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from loket.cases.access import AGENCY_ERRORS, EventsAgencyDep
from loket.deps import provided
from loket.errors import LoketError, TooLarge
from loket.i18n import request_language
from loket.identity.access import SignedInDep
from loket.proactive.intake import EVENT_TYPES, CloudEvent, InvalidEvent
from loket.proactive.schemas import Explanation, Suggestion
from loket.proactive.service import ProactiveService

router = APIRouter(prefix="/api/v1", tags=["proactive"])
ProactiveDep = Annotated[ProactiveService, provided(ProactiveService)]
MAX_EVENT_BYTES = 64 * 1024
EVENT_MEDIA_TYPES = ("application/cloudevents+json", "application/json")
PERSON_ERRORS = {401: {"description": "Not logged in."}, 403: {"description": "Not in this profile."}}
EventType = Literal[tuple(EVENT_TYPES)]  # type: ignore[valid-type]


class UnsupportedMediaType(LoketError):
    status_code = 415
    code = "unsupported_media_type"


class EventAccepted(BaseModel):
    id: int
    new: bool


class ServiceOut(BaseModel):
    id: str
    title: str
    url: str


class RuleOut(BaseModel):
    id: str
    version: str
    legal_source: str
    parameter_date: date


class SuggestionOut(BaseModel):
    id: str
    service: ServiceOut
    outcome: str
    reasons: list[str]
    questions: list[str]
    used: dict[str, str]
    rule: RuleOut
    event: dict


class SuggestionsOut(BaseModel):
    suggestions: list[SuggestionOut]


class ProactiveUse(BaseModel):
    enabled: bool


class ProactiveChoice(ProactiveUse):
    rule: str | None = Field(
        None, max_length=100, description="One rule (GET /api/v1/rules) to turn on or off; none: all."
    )
    until: datetime | None = Field(None, description="Turned on until then (UTC), and off after.")


class ExplanationOut(BaseModel):
    rule: str
    version: str
    service: ServiceOut
    title: str
    explanation: str
    questions: list[str]
    legal_source: str
    automatic: bool


class RulesOut(BaseModel):
    rules: list[ExplanationOut]


@router.post(
    "/events",
    response_model=EventAccepted,
    status_code=201,
    responses={
        200: {"model": EventAccepted, "description": "The same event was received before."},
        **AGENCY_ERRORS,
        409: {"description": "The event's id was used for another event of this source."},
        413: {"description": "Over 64 KB."},
        415: {"description": "Not a CloudEvent in structured JSON mode."},
        422: {"description": "Not a CloudEvent, an unknown type, or data that does not fit the type."},
    },
    # Read as sent (a CloudEvent's media type is its own), so documented here rather than by a parameter.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {media: {"schema": CloudEvent.model_json_schema()} for media in EVENT_MEDIA_TYPES},
        }
    },
)
async def receive_event(request: Request, agency: EventsAgencyDep, proactive: ProactiveDep) -> JSONResponse:
    """A life event from an authentic source: 201 when new, 200 when the same event was received before."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in EVENT_MEDIA_TYPES:
        raise UnsupportedMediaType(f"send one CloudEvent in structured mode as {EVENT_MEDIA_TYPES[0]}")
    raw = await request.body()
    if len(raw) > MAX_EVENT_BYTES:
        raise TooLarge(f"an event is at most {MAX_EVENT_BYTES // 1024} KB")
    try:
        envelope = json.loads(raw)
    except ValueError as error:
        raise InvalidEvent(f"the body is not JSON: {error}") from error
    if not isinstance(envelope, dict):
        raise InvalidEvent("send one CloudEvent (a JSON object); batches are not accepted")
    received = proactive.receive(agency.name, envelope)
    body = EventAccepted(id=received.id, new=received.created).model_dump()
    return JSONResponse(body, status_code=201 if received.created else 200)


@router.get("/me/suggestions", response_model=SuggestionsOut, responses=PERSON_ERRORS)
def my_suggestions(
    request: Request,
    user: SignedInDep,
    proactive: ProactiveDep,
    everything: Annotated[
        bool, Query(alias="all", description="Also the services found not to apply.")
    ] = False,
) -> SuggestionsOut:
    """The services suggested to the active profile, with why (reasons, facts used, rule and version)."""
    found = proactive.suggestions(user, request_language(request), everything)
    return SuggestionsOut(suggestions=[_suggestion_out(request, s) for s in found])


@router.post(
    "/me/suggestions/{suggestion_id}/dismiss",
    status_code=204,
    responses={**PERSON_ERRORS, 404: {"description": "No suggestion for this profile."}},
)
def dismiss(suggestion_id: str, request: Request, user: SignedInDep, proactive: ProactiveDep) -> None:
    """Not relevant: not shown, nor proposed again."""
    proactive.dismiss(user, suggestion_id, request_language(request))


@router.get("/me/proactive", response_model=ProactiveUse, responses=PERSON_ERRORS)
def proactive_use(request: Request, user: SignedInDep, proactive: ProactiveDep) -> ProactiveUse:
    return ProactiveUse(enabled=proactive.enabled(user, request_language(request)))


@router.put(
    "/me/proactive",
    response_model=ProactiveUse,
    responses={
        400: {"description": "Only turning something on can end, and only at a time still to come."},
        **PERSON_ERRORS,
        404: {"description": "No such rule (GET /api/v1/rules lists them)."},
    },
)
def set_proactive_use(
    body: ProactiveChoice, request: Request, user: SignedInDep, proactive: ProactiveDep
) -> ProactiveUse:
    """Off: loket keeps no facts and makes no suggestions for this profile; only rules are explained.
    With `rule`, only that rule is turned off (or on again); `until` ends a grant. Each choice is kept,
    with its time, in GET /api/v1/me/choices."""
    language = request_language(request)
    proactive.set_enabled(user, body.enabled, language, body.rule, body.until)
    return ProactiveUse(enabled=proactive.enabled(user, language))


@router.get("/rules", response_model=RulesOut)
def rules(
    request: Request, proactive: ProactiveDep, event: Annotated[EventType | None, Query()] = None
) -> RulesOut:
    """The rules (of one life event), as anyone may read them, with the questions that decide them."""
    found = proactive.explain(event, request_language(request))
    return RulesOut(rules=[_explanation_out(request, e) for e in found])


def _service_out(request: Request, service) -> ServiceOut:
    return ServiceOut(id=service.id, title=service.title, url=urljoin(str(request.base_url), service.url))


def _suggestion_out(request: Request, found: Suggestion) -> SuggestionOut:
    return SuggestionOut(
        id=found.id,
        service=_service_out(request, found.service),
        outcome=found.outcome,
        reasons=list(found.reasons),
        questions=list(found.questions),
        used=found.used,
        rule=RuleOut(
            id=found.rule_id,
            version=found.rule_version,
            legal_source=found.legal_source,
            parameter_date=found.parameter_date,
        ),
        event=found.event,
    )


def _explanation_out(request: Request, found: Explanation) -> ExplanationOut:
    return ExplanationOut(
        rule=found.rule_id,
        version=found.rule_version,
        service=_service_out(request, found.service),
        title=found.title,
        explanation=found.explanation,
        questions=list(found.questions),
        legal_source=found.legal_source,
        automatic=found.automatic,
    )
