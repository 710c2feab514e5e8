"""The proactive block's public types: a suggestion as its person sees it, and a rule explained to anyone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Service:
    """The catalogue item a rule leads to; `url` is where to read it and start it, `language` its
    page's (a page in another language marks the title up as such)."""

    id: str
    title: str
    url: str
    language: str


@dataclass(frozen=True)
class Suggestion:
    """One rule's outcome for the active profile, with what "why am I seeing this?" says: the reasons
    (one per fact used), the facts used, the questions still open, the legal source and the rule's
    version and parameter date."""

    id: str
    service: Service
    outcome: str  # eligible, granted, need_info (not_eligible only when asked)
    reasons: tuple[str, ...]
    questions: tuple[str, ...]
    used: dict[str, str]  # fact -> its value, as the reasons say it
    rule_id: str
    rule_version: str
    legal_source: str
    parameter_date: date
    event: dict


@dataclass(frozen=True)
class Explanation:
    """A rule as anyone may read it, with the questions that decide it."""

    rule_id: str
    rule_version: str
    service: Service
    title: str
    explanation: str
    questions: tuple[str, ...]
    legal_source: str
    automatic: bool
