"""Life events as authentic sources send them: CloudEvents 1.0, JSON, structured mode.

The envelope is checked against the CloudEvents attributes and each `type`'s `data` against its own
model (unknown fields refused): what an event may say is exactly what is documented here, and what
loket learns from it is exactly its `facts()`. `data.subject` is whom the event is about: a national
number for a person, an enterprise number for a company.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from stdnum.be import vat

from loket.errors import BadRequest
from loket.identity import national_number

EXTENSION_NAME = re.compile(r"[a-z0-9]{1,20}")


def _national_number(value: str) -> str:
    number = national_number.compact(value)
    if not national_number.is_valid(number):
        raise ValueError("not a valid national number (11 digits)")
    return number


def _enterprise_number(value: str) -> str:
    number = vat.compact(value)
    if not vat.is_valid(number):
        raise ValueError("not a valid enterprise number (10 digits)")
    return number


def _postal_code(value: str) -> str:
    if not re.fullmatch(r"[1-9][0-9]{3}", value):
        raise ValueError("not a Belgian postal code (4 digits)")
    return value


NationalNumber = Annotated[str, Field(max_length=20), AfterValidator(_national_number)]
EnterpriseNumber = Annotated[str, Field(max_length=20), AfterValidator(_enterprise_number)]
PostalCode = Annotated[str, AfterValidator(_postal_code)]


def in_flanders(postal_code: str) -> bool:
    """Flemish municipalities have postal codes 1500-3999 and 8000-9999 (Brussels 1000-1299)."""
    code = int(postal_code)
    return 1500 <= code <= 3999 or 8000 <= code <= 9999


class EventData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    subject_kind: ClassVar[str] = "person"
    subject: NationalNumber

    def facts(self) -> dict[str, Any]:
        raise NotImplementedError


class BirthRegistered(EventData):
    """A child was born to `subject` (a parent)."""

    birth_date: date
    child: NationalNumber | None = None
    postal_code: PostalCode | None = Field(None, description="Where the child lives.")

    def facts(self) -> dict[str, Any]:
        return {"youngest_child_birth_date": self.birth_date} | _address(self.postal_code)


class AddressChanged(EventData):
    postal_code: PostalCode
    municipality: str | None = Field(None, max_length=100)
    since: date | None = None

    def facts(self) -> dict[str, Any]:
        return _address(self.postal_code)


class TurnedEighteen(EventData):
    birth_date: date

    def facts(self) -> dict[str, Any]:
        return {"birth_date": self.birth_date}


class PartnerDeceased(EventData):
    date_of_death: date
    partner: NationalNumber | None = None

    def facts(self) -> dict[str, Any]:
        return {"partner_deceased_on": self.date_of_death}


class EnterpriseStarted(EventData):
    """A company was registered in the KBO (Crossroads Bank for Enterprises)."""

    subject_kind: ClassVar[str] = "company"
    subject: EnterpriseNumber
    start_date: date
    founder: NationalNumber | None = None
    legal_form: str | None = Field(None, max_length=100)

    def facts(self) -> dict[str, Any]:
        return {"enterprise_started_on": self.start_date}


class UnemploymentStarted(EventData):
    since: date

    def facts(self) -> dict[str, Any]:
        return {"unemployed_since": self.since}


def _address(postal_code: str | None) -> dict[str, Any]:
    return {"postal_code": postal_code, "lives_in_flanders": in_flanders(postal_code)} if postal_code else {}


EVENT_TYPES: dict[str, type[EventData]] = {
    "loket.birth.registered": BirthRegistered,
    "loket.address.changed": AddressChanged,
    "loket.person.turned-18": TurnedEighteen,
    "loket.partner.deceased": PartnerDeceased,
    "loket.enterprise.started": EnterpriseStarted,
    "loket.unemployment.started": UnemploymentStarted,
}


class CloudEvent(BaseModel):
    """The CloudEvents 1.0 attributes loket reads; extension attributes are allowed by the spec's rule
    for their names and otherwise ignored."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=500)
    type: str = Field(min_length=1, max_length=100)
    time: datetime | None = None
    subject: str | None = Field(None, max_length=200)
    datacontenttype: Literal["application/json"] | None = None
    dataschema: str | None = Field(None, max_length=500)
    data: dict

    @model_validator(mode="after")
    def _extensions(self) -> CloudEvent:
        for name in self.model_extra or {}:
            if not EXTENSION_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a CloudEvents attribute (a-z and 0-9, at most 20)")
        return self


class UnknownEventType(BadRequest):
    status_code = 422
    code = "unknown_event_type"


class InvalidEvent(BadRequest):
    status_code = 422
    code = "invalid_event"


def parse(envelope: dict) -> tuple[CloudEvent, EventData]:
    """The checked event and its data; a clear 422 naming what is wrong otherwise."""
    try:
        event = CloudEvent.model_validate(envelope)
    except ValidationError as error:
        raise InvalidEvent(f"not a CloudEvent in structured mode: {_first(error)}") from error
    model = EVENT_TYPES.get(event.type)
    if model is None:
        raise UnknownEventType(f"unknown event type {event.type[:100]!r}; known: {', '.join(EVENT_TYPES)}")
    try:
        data = model.model_validate(event.data)
    except ValidationError as error:
        raise InvalidEvent(f"data of {event.type}: {_first(error)}") from error
    return event, data


def digest(event: CloudEvent) -> str:
    """What tells a resend of an event from another event under the same id."""
    content = event.model_dump(mode="json", exclude_none=True)
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _first(error: ValidationError) -> str:
    problem = error.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in problem["loc"]) or "body"
    return f"{where}: {problem['msg']}"
