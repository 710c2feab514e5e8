from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """One per answer; outside checks rely on these values (BRIEF §4)."""

    ANSWERED = "answered"
    UNANSWERABLE = "unanswerable"
    OUT_OF_SCOPE = "out_of_scope"
    NEEDS_LOGIN = "needs_login"
    SIGNPOSTED = "signposted"
    REFUSED_PERSONAL_DATA = "refused_personal_data"
    REFUSED_ABUSE = "refused_abuse"
    HANDOFF = "handoff"
    ERROR = "error"


@dataclass(frozen=True)
class Citation:
    url: str
    title: str
    snippet: str
    language: str = ""  # the cited page's, so a page can mark it up when it differs from the answer's


@dataclass
class Answer:
    conversation_id: str
    message_id: str
    status: Status
    answer: str
    language: str
    citations: list[Citation] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    trace_id: str = ""
    conversation_token: str | None = None  # only in the answer that starts a conversation


@dataclass(frozen=True)
class Holder:
    """Who asks about a conversation: the token their browser or app was given when it began, and
    the person logged in. A conversation begun logged in needs both; one begun anonymously, the token."""

    token: str | None = None
    person_id: str | None = None
