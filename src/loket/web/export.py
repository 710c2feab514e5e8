""" "Download my data": everything loket holds about the person logged in, as one JSON-LD document
(`GET /api/v1/me/export`, `application/ld+json`), or rendered readably (`Accept: text/html`).

The vocabularies are OSLO's where it has the notion (a person: `person:Person` with
`persoon:volledigeNaam`; a case: `dossier:Dossier`), otherwise the W3C and schema.org ones OSLO builds
on: messages and conversations (schema.org), mandates (PROV delegations), choices and access records
(DPV consent and PROV activities, purpose and legal basis as the processing register names them). The
context is inline, so the document expands without fetching anything, and every key is a term of it:
nothing is lost when it is expanded (tests/test_export.py checks with pyld).

The export is the person's own data in their own name: it reads as the person themself, whatever
profile is active, and each part is read through its block's API, which logs the read as `own_view`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from loket import clock
from loket.assistant.service import AssistantService
from loket.consent.choices import Choice, Choices
from loket.consent.processing import register
from loket.consent.solid import PodError, push_export
from loket.consent.texts import POD_ADDRESS, POD_FAILED
from loket.errors import BadRequest, LoketError
from loket.i18n import message, request_language
from loket.identity.access import SignedInDep
from loket.identity.schemas import AccessQuery, SignedIn
from loket.web.deps import (
    AssistantDep,
    CasesDep,
    ChoicesDep,
    IdentityDep,
    MessagesDep,
    ProactiveDep,
    SettingsDep,
)
from loket.web.render import render

router = APIRouter(tags=["my data"])
MEDIA_TYPE = "application/ld+json"
CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    "person": "http://www.w3.org/ns/person#",
    "persoon": "https://data.vlaanderen.be/ns/persoon#",
    "dossier": "https://data.vlaanderen.be/ns/dossier#",
    "adms": "http://www.w3.org/ns/adms#",
    "dct": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "dpv": "https://w3id.org/dpv#",
    "schema": "https://schema.org/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "Person": "person:Person",
    "Identifier": "adms:Identifier",
    "Case": "dossier:Dossier",
    "Message": "schema:Message",
    "Conversation": "schema:Conversation",
    "Question": "schema:Question",
    "Answer": "schema:Answer",
    "Mandate": "prov:Delegation",
    "Choice": "dpv:Consent",
    "AccessRecord": "prov:Activity",
    "Suggestion": "schema:Offer",
    "Status": "schema:Event",
    "name": "persoon:volledigeNaam",
    "identifier": {"@id": "adms:identifier", "@container": "@set"},
    "notation": "skos:notation",
    "title": "dct:title",
    "type": "dct:type",
    "number": "dct:identifier",
    "source": "dct:source",
    "created": {"@id": "dct:created", "@type": "xsd:dateTime"},
    "modified": {"@id": "dct:modified", "@type": "xsd:dateTime"},
    "at": {"@id": "prov:startedAtTime", "@type": "xsd:dateTime"},
    "from": {"@id": "schema:startDate", "@type": "xsd:date"},
    "until": {"@id": "schema:endDate", "@type": "xsd:date"},
    "statuses": {"@id": "schema:subEvent", "@container": "@list"},
    "phase": "schema:name",
    "details": "schema:description",
    "sender": "schema:sender",
    "subject": "schema:headline",
    "text": "schema:text",
    "received": {"@id": "schema:dateReceived", "@type": "xsd:dateTime"},
    "code": "schema:identifier",
    "questions": {"@id": "schema:hasPart", "@container": "@list"},
    "answer": "schema:acceptedAnswer",
    "language": "schema:inLanguage",
    "mandatary": "prov:agent",
    "mandator": "prov:actedOnBehalfOf",
    "caseTypes": {"@id": "dct:subject", "@container": "@set"},
    "purpose": "dpv:hasPurpose",
    "scope": "dpv:hasScope",
    "status": "dpv:hasConsentStatus",
    "by": "prov:wasAssociatedWith",
    "actingAs": "prov:hadRole",
    "category": "dpv:hasPersonalData",
    "basis": "dpv:hasLegalBasis",
    "trace": "prov:qualifiedAssociation",
    "service": "schema:itemOffered",
    "outcome": "schema:disambiguatingDescription",
    "cases": {"@id": "schema:subjectOf", "@container": "@set"},
    "messages": {"@reverse": "schema:recipient", "@container": "@set"},
    "conversations": {"@reverse": "schema:author", "@container": "@set"},
    "mandates": {"@id": "prov:delegated", "@container": "@set"},
    "choices": {"@id": "dpv:hasConsent", "@container": "@set"},
    "accessRecords": {"@reverse": "dpv:hasDataSubject", "@container": "@set"},
    "suggestions": {"@id": "schema:seeks", "@container": "@set"},
    "exported": {"@id": "dct:issued", "@type": "xsd:dateTime"},
}


def person_document(
    request: Request,
    user: SignedInDep,
    identity: IdentityDep,
    cases: CasesDep,
    messages: MessagesDep,
    assistant: AssistantDep,
    proactive: ProactiveDep,
    choices: ChoicesDep,
) -> dict[str, Any]:
    """The JSON-LD document of everything loket holds about the person logged in, read as themself
    (a dependency of the routes that give it)."""
    language = request_language(request)
    user = dataclasses.replace(user, active=user.own)
    person = user.person
    identity.access_log.record_own_view(user)
    granted, received = identity.mandates.of(user, language)
    conversations = [assistant.conversations.get(c) for c in assistant.conversations.begun_by([person.id])]
    if conversations:
        identity.access_log.record(user, user.own.subject, "conversation", "own_view")
    purposes = register().purposes
    return {
        "@context": CONTEXT,
        "@id": f"#person-{person.id}",
        "@type": "Person",
        "name": person.name,
        "identifier": [{"@type": "Identifier", "notation": person.national_number}]
        if person.national_number
        else [],
        "exported": _iso(clock.now()),
        "mandates": [_mandate(m) for m in granted + received],
        "cases": [_case(c) for c in cases.read_cases(user, language)],
        "messages": [
            _message(m) for m in messages.inbox(user, language) + messages.inbox(user, language, True)
        ],
        "conversations": [_conversation(c) for c in conversations],
        "suggestions": [_suggestion(s) for s in proactive.suggestions(user, language, everything=True)],
        "choices": [
            {
                "@type": "Choice",
                "purpose": purposes[c.purpose].said(purposes[c.purpose].name, language),
                "scope": c.scope,
                "status": {"@id": "dpv:ConsentGiven" if c.granted else "dpv:ConsentWithdrawn"},
                "at": _iso(c.at),
                **({"until": _iso(c.until.date())} if c.until else {}),
            }
            for c in _made(user, assistant, choices)
        ],
        "accessRecords": [
            {
                "@type": "AccessRecord",
                "number": str(a.record),
                "at": _iso(a.at),
                "by": a.actor,
                "actingAs": a.profile,
                "category": a.what,
                "purpose": a.why,
                **({"basis": a.basis} if a.basis else {}),
                **({"trace": a.trace_id} if a.trace_id else {}),
            }
            for a in identity.access_log.accesses(user, AccessQuery(limit=100_000))
        ],
    }


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def _mandate(mandate) -> dict[str, Any]:
    return {
        "@type": "Mandate",
        "number": mandate.id,
        "mandator": mandate.mandator_name,
        "mandatary": mandate.mandatary_name,
        "caseTypes": list(mandate.case_types),
        "from": _iso(mandate.starts_on),
        **({"until": _iso(mandate.ends_on)} if mandate.ends_on else {}),
    }


def _case(case) -> dict[str, Any]:
    return {
        "@type": "Case",
        "number": case.number,
        "source": case.source,
        "title": case.name,
        "type": case.type,
        "created": _iso(case.created_at),
        "modified": _iso(case.updated_at),
        "statuses": [
            {
                "@type": "Status",
                "code": status.code,
                "phase": status.phase,
                "details": status.details,
                **({"at": _iso(status.at)} if status.at else {}),
            }
            for status in case.timeline
        ],
    }


def _message(message) -> dict[str, Any]:
    return {
        "@type": "Message",
        "number": message.id,
        "sender": message.sender,
        "subject": message.subject,
        "text": message.body,
        "received": _iso(message.received_at),
        "code": message.verification_code,
    }


def _conversation(conversation) -> dict[str, Any]:
    return {
        "@type": "Conversation",
        "number": conversation.id,
        "created": _iso(conversation.created_at),
        "questions": [
            {
                "@type": "Question",
                "text": m.question,
                "created": _iso(m.created_at),
                "language": m.language,
                "answer": {"@type": "Answer", "text": m.answer},
            }
            for m in conversation.messages
        ],
    }


def _suggestion(suggestion) -> dict[str, Any]:
    return {
        "@type": "Suggestion",
        "number": suggestion.id,
        "service": suggestion.service.title,
        "outcome": suggestion.outcome,
        "basis": suggestion.legal_source,
    }


DocumentDep = Annotated[dict[str, Any], Depends(person_document)]
PERSON_ERRORS = {
    401: {"description": "Not logged in."},
    403: {"description": "Refused: the login is not strong enough, or a POST is not sent as JSON."},
}


@router.get(
    "/api/v1/me/export",
    responses={200: {"content": {MEDIA_TYPE: {}, "text/html": {}}}, **PERSON_ERRORS},
)
def export(request: Request, document: DocumentDep) -> Response:
    """Everything loket holds about me, as JSON-LD; asked with `Accept: text/html`, a readable page."""
    language = request_language(request)
    if "text/html" in request.headers.get("accept", ""):
        return render(request, "export.html", language, page="export", document=document)
    return JSONResponse(
        document,
        media_type=MEDIA_TYPE,
        headers={
            "content-disposition": 'attachment; filename="loket-export.jsonld"',
            "cache-control": "no-store",
        },
    )


class PodRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pod: str = Field(max_length=500, description="Your pod's address, or your WebID.")
    client_id: str = Field(max_length=500, description="The client ID you made for loket at your pod.")
    client_secret: str = Field(max_length=500)


class PodOut(BaseModel):
    url: str  # where the export was stored in the pod


class PodFailed(LoketError):
    status_code = 502
    code = "pod_failed"


@router.post(
    "/api/v1/me/export/solid",
    response_model=PodOut,
    status_code=201,
    responses={
        400: {"description": "In production: not a public https address."},
        **PERSON_ERRORS,
        502: {"description": "The pod could not be reached, refused the login or the write."},
    },
)
def export_to_pod(body: PodRequest, request: Request, settings: SettingsDep, document: DocumentDep) -> PodOut:
    """Stores the export in my Solid pod, logged in as me with the client credentials I made there for
    loket (neither kept nor logged). The pod keeps it under `loket/`; nothing is overwritten."""
    language = request_language(request)
    if settings.production and not _public_https(body.pod):
        raise BadRequest(message(POD_ADDRESS, language))
    try:
        url = push_export(document, body.pod, body.client_id, body.client_secret)
    except PodError as failed:
        raise PodFailed(message(POD_FAILED[failed.reason], language)) from None
    return PodOut(url=url)


def _public_https(address: str) -> bool:
    """In production loket writes only to https addresses on the internet, never to its own network
    (which a person could otherwise reach through it)."""
    parts = urlsplit(address)
    if parts.scheme != "https" or not parts.hostname:
        return False
    try:
        found = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    return all(ipaddress.ip_address(info[4][0]).is_global for info in found)


class ChoiceOut(BaseModel):
    purpose: str  # as GET /api/v1/processing lists it
    name: str
    granted: bool
    scope: str
    at: datetime
    until: datetime | None


class ChoicesOut(BaseModel):
    choices: list[ChoiceOut]


@router.get("/api/v1/me/choices", response_model=ChoicesOut, responses=PERSON_ERRORS)
def my_choices(
    request: Request, user: SignedInDep, choices: ChoicesDep, assistant: AssistantDep
) -> ChoicesOut:
    """Every choice I made for an optional use of my data (proactive suggestions, e-mail
    notifications, sharing a conversation with an agent), newest first: granted or withdrawn, when,
    and for what."""
    language = request_language(request)
    purposes = register().purposes
    return ChoicesOut(
        choices=[
            ChoiceOut(
                purpose=c.purpose,
                name=purposes[c.purpose].said(purposes[c.purpose].name, language),
                granted=c.granted,
                scope=c.scope,
                at=c.at,
                until=c.until,
            )
            for c in _made(user, assistant, choices)
        ]
    )


def _made(user: SignedIn, assistant: AssistantService, choices: Choices) -> list[Choice]:
    """Every choice that is one's own, newest first."""
    made = [c for subject in _subjects(user, assistant) for c in choices.history(subject)]
    return sorted(made, key=lambda c: c.id, reverse=True)


def _subjects(user: SignedIn, assistant: AssistantService) -> list[tuple[str, str]]:
    """Whose choices are one's own: one's login's, one's own as a person (by national number), and
    those of the conversations one began logged in."""
    subjects = [("login", user.person.id)]
    if user.person.national_number:
        subjects.append(("person", user.person.national_number))
    subjects += [("conversation", c) for c in assistant.conversations.begun_by([user.person.id])]
    return subjects
