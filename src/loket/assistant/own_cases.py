"""Questions about one's own cases ("waar staat mijn aanvraag?"), answered from those cases only.

The assistant never looks a case up by what the question names: it gets the cases of the profile the
person acts in (read from the cases block, and logged, only when the question is about them) and
picks among those. A case number from someone else's case therefore finds nothing.

Picking is lexical (`best`, for messages too): a question word matches a word of the case's name
or type when they share a long beginning or ending ("bouwvergunning" and "omgevingsvergunning" share
"vergunning").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from loket.assistant.texts import (
    CASE_ACTION,
    CASE_NO_ACTION,
    CASE_STATUS,
    NO_CASES,
    NOTHING_TO_DO,
    YOUR_CASES,
)
from loket.cases.service import CaseService
from loket.i18n import message
from loket.identity.schemas import SignedIn
from loket.search.analysis import terms

AFFIX = 6  # letters two words must share at the start or end to match
WAITING = re.compile(
    r"\b(?:moet ik (?:nog )?iets doen|nog iets (?:te )?doen|iets van mij nodig|do i (?:still )?need to do"
    r"|need anything from me|dois-je (?:encore )?faire|muss ich (?:noch )?etwas tun)\b",
    re.IGNORECASE,
)
LISTED = 5  # cases named in one answer at most
T = TypeVar("T")


@dataclass(frozen=True)
class OwnCase:
    """What the assistant may say about one case, and where the person reads it in full."""

    url: str
    name: str
    number: str
    type: str
    organisation: str
    status: str
    details: str
    action_needed: bool
    action: str
    changed: date


OwnCases = Callable[[], list[OwnCase]]


def cases_of(cases: CaseService, user: SignedIn, language: str) -> OwnCases:
    """The active profile's cases as the assistant may use them: read, and logged, only when called."""

    def read() -> list[OwnCase]:
        return [
            OwnCase(
                url=f"/mijn-zaken/{case.id}",
                name=case.name,
                number=case.number,
                type=case.type,
                organisation=case.contact.service or case.contact.name or case.source,
                status=case.status.phase or case.status.code,
                details=case.status.details,
                action_needed=case.action_needed,
                action=case.status.action,
                changed=case.status.at.date(),
            )
            for case in cases.read_cases(user, language, why="assistant")
        ]

    return read


@dataclass(frozen=True)
class CaseAnswer:
    text: str
    cited: list[OwnCase]


def answer_from_cases(question: str, cases: list[OwnCase], language: str) -> CaseAnswer:
    """The answer's text and the cases it is about; no cases cited means none was found."""
    if not cases:
        return CaseAnswer(message(NO_CASES, language), [])
    if WAITING.search(question):
        waiting = [case for case in cases if case.action_needed][:LISTED]
        if not waiting:
            return CaseAnswer(message(NOTHING_TO_DO, language), cases[:LISTED])
        return CaseAnswer(" ".join(_action(case, language) for case in waiting), waiting)
    chosen = best(question, cases, lambda case: f"{case.name} {case.type} {case.number}", language)
    if chosen is None and len(cases) > 1:
        listed = cases[:LISTED]
        lines = [message(YOUR_CASES, language, count=str(len(cases)))]
        lines += [_status(case, language) for case in listed]
        return CaseAnswer(" ".join(lines), listed)
    case = chosen or cases[0]
    return CaseAnswer(_status(case, language) + " " + _next_step(case, language), [case])


def _status(case: OwnCase, language: str) -> str:
    details = f" ({case.details.rstrip('.')})" if case.details else ""
    return message(
        CASE_STATUS,
        language,
        name=case.name,
        number=case.number,
        organisation=case.organisation,
        status=case.status + details,
        date=case.changed.isoformat(),
    )


def _next_step(case: OwnCase, language: str) -> str:
    return _action(case, language) if case.action_needed else message(CASE_NO_ACTION, language)


def _action(case: OwnCase, language: str) -> str:
    return message(CASE_ACTION, language, name=case.name, action=case.action.rstrip(".") or "?")


def best(question: str, items: list[T], words_of: Callable[[T], str], language: str) -> T | None:
    """The item (a case, a message) whose words (`words_of`) the question names most; None if none."""
    asked = set(terms(question, language))
    scored = []
    for position, item in enumerate(items):
        words = set(terms(words_of(item), language))
        score = sum(1 for word in asked if any(_matches(word, other) for other in words))
        scored.append((-score, position, item))
    found = min(scored, key=lambda entry: entry[:2])
    return found[2] if found[0] < 0 else None


def _matches(a: str, b: str) -> bool:
    if a == b:
        return True
    shortest = min(len(a), len(b))
    return shortest >= AFFIX and (a[:AFFIX] == b[:AFFIX] or a[-AFFIX:] == b[-AFFIX:])
