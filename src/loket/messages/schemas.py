"""The messages block's public types: a message as its recipient sees it, and a verdict on a code or text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"


class Verdict(StrEnum):
    GENUINE = "genuine"
    NOT_FOUND = "not_found"
    KNOWN_PHISHING = "known_phishing"


class Receipt(StrEnum):
    """What an agency hears about its message."""

    DELIVERED = "delivered"  # in the recipient's inbox
    READ = "read"  # opened for the first time
    FAILED = "failed"  # its `valid_until` passed before anyone read it


@dataclass(frozen=True)
class Draft:
    """A message as an agency sends it, once its signature and fields are checked."""

    source: str
    reference: str
    recipient_type: str  # "person" or "company"
    recipient_key: str
    subject: str
    body: str
    priority: Priority
    valid_until: datetime | None
    case_source: str | None
    case_number: str | None
    signed_body: str
    signature: str
    key_id: str


@dataclass(frozen=True)
class Message:
    id: str
    source: str
    reference: str
    sender: str  # the agency that signed it
    subject: str
    body: str
    priority: Priority
    received_at: datetime
    read: bool
    archived: bool
    verified: bool
    verification_code: str
    valid_until: datetime | None
    case: tuple[str, str] | None  # its source and number


@dataclass(frozen=True)
class Check:
    """What "is this message real?" may tell: the verdict, the sender for a known code, and the message
    itself only to whom it was sent (logged in, in a profile that may read it)."""

    verdict: Verdict
    sender: str | None = None
    message_id: str | None = None
