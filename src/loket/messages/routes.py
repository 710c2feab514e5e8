"""The messages API: agencies send signed messages; people read their inbox, subscribe to push and set
their preferences; anyone may ask whether a message is really from the government.

An agency's message is checked in this order, and any failure changes nothing: its token, the size,
the fields (unknown ones refused), the signature over the body's exact bytes, then links and case.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from loket import clock
from loket.cases.access import AGENCY_ERRORS, MessagesAgencyDep, own_source
from loket.deps import provided
from loket.errors import TooLarge
from loket.i18n import message, request_language
from loket.identity import national_number
from loket.identity.access import SignedInDep, signed_in
from loket.messages import bodies
from loket.messages.notify import CHANNELS, Notifier, Preference
from loket.messages.schemas import Draft, Message, Priority, Verdict
from loket.messages.service import MessageService, Refused
from loket.messages.texts import ADVICE, VERIFY_NOTHING
from loket.ratelimit import limited

router = APIRouter(prefix="/api/v1", tags=["messages"])
MessagesDep = Annotated[MessageService, provided(MessageService)]
NotifierDep = Annotated[Notifier, provided(Notifier)]
MAX_MESSAGE_BYTES = 64 * 1024
BRUSSELS = ZoneInfo("Europe/Brussels")
PERSON_ERRORS = {401: {"description": "Not logged in."}, 403: {"description": "Not in this profile."}}
NO_MESSAGE = {404: {"description": "No message this profile may see."}}
# Quiet hours are Brussels wall-clock times, without an offset: RFC 3339's partial-time, not its time.
LocalTime = Annotated[
    time, WithJsonSchema({"type": "string", "format": "partial-time", "examples": ["22:00:00"]})
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecipientIn(Strict):
    type: Literal["person", "company"]
    key: Annotated[str, Field(min_length=9, max_length=20)]

    @field_validator("key")
    @classmethod
    def _digits(cls, value: str) -> str:
        return national_number.compact(value)


class CaseRef(Strict):
    source: Annotated[str, Field(min_length=1, max_length=100)]
    number: Annotated[str, Field(min_length=1, max_length=200)]


class MessageIn(Strict):
    recipient: RecipientIn
    subject: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(min_length=1, max_length=10_000, description="Plain text or simple Markdown.")]
    valid_until: datetime | None = Field(
        None, description="No notification after it; the agency hears if unread."
    )
    case: CaseRef | None = None
    priority: Priority = Priority.NORMAL

    @field_validator("recipient")
    @classmethod
    def _valid_key(cls, recipient: RecipientIn) -> RecipientIn:
        if recipient.type == "person" and not national_number.is_valid(recipient.key):
            raise ValueError(f"{recipient.key}: not a valid national number")
        if recipient.type == "company" and len(recipient.key) != 10:
            raise ValueError(f"{recipient.key}: an enterprise number has 10 digits")
        return recipient

    @field_validator("valid_until")
    @classmethod
    def _future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=BRUSSELS)  # as MAGDA reads a time without an offset
        if value is not None and value <= clock.now():
            raise ValueError("valid_until must be a time in the future")
        return value


class AcceptedOut(BaseModel):
    id: str
    source: str
    reference: str
    verification_code: str
    received_at: datetime
    verified: bool


class MessageSummaryOut(BaseModel):
    id: str
    sender: str
    subject: str
    received_at: datetime
    read: bool
    verified: bool
    verification_code: str
    priority: Priority
    archived: bool


class MessageOut(MessageSummaryOut):
    body: str
    body_html: str
    valid_until: datetime | None
    case: CaseRef | None


class InboxOut(BaseModel):
    messages: list[MessageSummaryOut]
    unread: int


class VerifyIn(Strict):
    code: Annotated[str, Field(max_length=40)] | None = None
    text: Annotated[str, Field(max_length=5000)] | None = None


class VerifyOut(BaseModel):
    verdict: Verdict
    advice: str
    sender: str | None = Field(None, description="Who sent the message with this code.")
    message_id: str | None = Field(None, description="Only for its recipient, logged in.")


class SubscriptionKeys(Strict):
    p256dh: Annotated[str, Field(min_length=40, max_length=200)]
    auth: Annotated[str, Field(min_length=16, max_length=64)]


class SubscriptionIn(BaseModel):
    endpoint: Annotated[str, Field(max_length=2000, pattern=r"^https?://")]
    keys: SubscriptionKeys | None = None
    expirationTime: int | None = None


class PreferenceIo(Strict):
    channel: Literal["webpush", "email", "sms"]
    enabled: bool
    quiet_from: LocalTime | None = None
    quiet_until: LocalTime | None = None


class PreferencesOut(BaseModel):
    preferences: list[PreferenceIo]


async def _raw_body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_MESSAGE_BYTES:
        raise TooLarge(f"a message request may have at most {MAX_MESSAGE_BYTES} bytes, this has {len(body)}")
    return body


def summary_out(found: Message) -> MessageSummaryOut:
    return MessageSummaryOut(
        id=found.id,
        sender=found.sender,
        subject=found.subject,
        received_at=found.received_at,
        read=found.read,
        verified=found.verified,
        verification_code=found.verification_code,
        priority=found.priority,
        archived=found.archived,
    )


def message_out(found: Message) -> MessageOut:
    case = CaseRef(source=found.case[0], number=found.case[1]) if found.case else None
    return MessageOut(
        **summary_out(found).model_dump(),
        body=found.body,
        body_html=bodies.html(found.body),
        valid_until=found.valid_until,
        case=case,
    )


@router.put(
    "/messages/{source}/{reference}",
    response_model=AcceptedOut,
    responses={
        201: {"model": AcceptedOut, "description": "A new message."},
        **AGENCY_ERRORS,
        409: {"description": "The reference is another message."},
        413: {"description": f"A body over {MAX_MESSAGE_BYTES} bytes."},
    },
)
def put_message(
    source: Annotated[str, Field(max_length=100)],
    reference: Annotated[str, Field(max_length=200)],
    sent: MessageIn,
    agency: MessagesAgencyDep,
    messages: MessagesDep,
    raw: Annotated[bytes, Depends(_raw_body)],
    loket_signature: Annotated[
        str | None,
        Header(description="Compact JWS, detached payload (RFC 7515 F), alg EdDSA, kid a registered key."),
    ] = None,
) -> Response:
    """Send a message signed by the agency (idempotent): 201 when new, 200 when the same was sent before."""
    own_source(agency, source, "messages")
    kid = messages.check_signature(agency, loket_signature, raw)
    draft = Draft(
        source=source,
        reference=reference,
        recipient_type=sent.recipient.type,
        recipient_key=sent.recipient.key,
        subject=sent.subject,
        body=sent.body,
        priority=sent.priority,
        valid_until=sent.valid_until,
        case_source=sent.case.source if sent.case else None,
        case_number=sent.case.number if sent.case else None,
        signed_body=raw.decode("utf-8"),
        signature=loket_signature,
        key_id=kid,
    )
    found, created = messages.receive(agency, draft)
    out = AcceptedOut(
        id=found.id,
        source=found.source,
        reference=found.reference,
        verification_code=found.verification_code,
        received_at=found.received_at,
        verified=found.verified,
    )
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


@router.get("/me/messages", response_model=InboxOut, responses=PERSON_ERRORS)
def my_messages(
    request: Request, user: SignedInDep, messages: MessagesDep, archived: bool = False
) -> InboxOut:
    """The active profile's messages, unread first; `archived=true` for those put away."""
    found = messages.inbox(user, request_language(request), archived)
    return InboxOut(messages=[summary_out(m) for m in found], unread=sum(not m.read for m in found))


@router.get("/me/messages/{message_id}", response_model=MessageOut, responses={**PERSON_ERRORS, **NO_MESSAGE})
def my_message(message_id: str, request: Request, user: SignedInDep, messages: MessagesDep) -> MessageOut:
    """One message with its body; 404 for one the active profile may not see."""
    return message_out(messages.read(user, message_id, request_language(request)))


@router.post(
    "/me/messages/{message_id}/read", response_model=MessageOut, responses={**PERSON_ERRORS, **NO_MESSAGE}
)
def mark_read(message_id: str, request: Request, user: SignedInDep, messages: MessagesDep) -> MessageOut:
    return message_out(messages.mark_read(user, message_id, request_language(request)))


@router.post(
    "/me/messages/{message_id}/archive", response_model=MessageOut, responses={**PERSON_ERRORS, **NO_MESSAGE}
)
def archive(message_id: str, request: Request, user: SignedInDep, messages: MessagesDep) -> MessageOut:
    return message_out(messages.archive(user, message_id, request_language(request)))


@router.post("/verify", response_model=VerifyOut, dependencies=[limited("verify")])
def verify(body: VerifyIn, request: Request, messages: MessagesDep) -> VerifyOut:
    """Is this message really from the government? Give its reference code or paste its text."""
    language = request_language(request)
    if not (body.code or "").strip() and not (body.text or "").strip():
        raise Refused(message(VERIFY_NOTHING, language))
    found = messages.check(body.code, body.text, signed_in(request), language)
    return VerifyOut(
        verdict=found.verdict,
        advice=message(ADVICE[found.verdict], language),
        sender=found.sender,
        message_id=found.message_id,
    )


@router.get("/push/key")
def push_key(notifier: NotifierDep) -> dict[str, str | None]:
    """The key browsers subscribe to loket's push with (`applicationServerKey`); null when push is off."""
    return {"public_key": notifier.public_key}


@router.post(
    "/me/push-subscriptions",
    status_code=201,
    responses={400: {"description": "An endpoint loket sends no push to."}, **PERSON_ERRORS},
)
def subscribe(
    body: SubscriptionIn, request: Request, user: SignedInDep, notifier: NotifierDep
) -> dict[str, int]:
    """This browser's push subscription, for the person logged in."""
    if body.keys is None:
        raise Refused("a subscription needs its keys (p256dh and auth): send PushSubscription.toJSON()")
    notifier.subscribe(
        user.person.id, body.endpoint, body.keys.p256dh, body.keys.auth, request_language(request)
    )
    return {"subscriptions": notifier.subscriptions(user.person.id)}


@router.post("/me/push-subscriptions/remove", responses=PERSON_ERRORS)
def unsubscribe(body: SubscriptionIn, user: SignedInDep, notifier: NotifierDep) -> dict[str, bool]:
    return {"removed": notifier.unsubscribe(user.person.id, body.endpoint)}


@router.get("/me/notification-preferences", response_model=PreferencesOut, responses=PERSON_ERRORS)
def preferences(user: SignedInDep, notifier: NotifierDep) -> PreferencesOut:
    return PreferencesOut(
        preferences=[PreferenceIo(**p.__dict__) for p in notifier.preferences(user.person.id)]
    )


@router.put(
    "/me/notification-preferences",
    response_model=PreferencesOut,
    responses={400: {"description": "Quiet hours need both a start and an end."}, **PERSON_ERRORS},
)
def set_preferences(
    body: Annotated[list[PreferenceIo], Field(max_length=len(CHANNELS))],
    user: SignedInDep,
    notifier: NotifierDep,
) -> PreferencesOut:
    """Channels on or off, and quiet hours (Brussels time) in which nothing is sent."""
    for preference in body:
        notifier.set_preference(user.person.id, Preference(**preference.model_dump()))
    return preferences(user, notifier)
