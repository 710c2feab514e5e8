"""Questions about one's own cases ("waar staat mijn aanvraag?"), answered from those cases only.

The assistant never looks a case up by what the question names: it gets the cases of the profile the
person acts in (the caller reads them, and logs the read, only when the question is about them) and
picks among those. A case number from someone else's case therefore finds nothing.

Picking is lexical: a question word matches a word of the case's name or type when they share a long
beginning or ending ("bouwvergunning" and "omgevingsvergunning" share "vergunning").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from loket.i18n import message
from loket.search.analysis import terms

AFFIX = 6  # letters two words must share at the start or end to match
WAITING = re.compile(
    r"\b(?:moet ik (?:nog )?iets doen|nog iets (?:te )?doen|iets van mij nodig|do i (?:still )?need to do"
    r"|need anything from me|dois-je (?:encore )?faire|muss ich (?:noch )?etwas tun)\b",
    re.IGNORECASE,
)
LISTED = 5  # cases named in one answer at most


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


@dataclass(frozen=True)
class CaseAnswer:
    text: str
    cited: list[OwnCase]


def answer_from_cases(question: str, cases: list[OwnCase], language: str) -> CaseAnswer:
    """The answer's text and the cases it is about; no cases cited means none was found."""
    if not cases:
        return CaseAnswer(message("no_cases", language), [])
    if WAITING.search(question):
        waiting = [case for case in cases if case.action_needed][:LISTED]
        if not waiting:
            return CaseAnswer(message("nothing_to_do", language), cases[:LISTED])
        return CaseAnswer(" ".join(_action(case, language) for case in waiting), waiting)
    chosen = _best(question, cases, language)
    if chosen is None and len(cases) > 1:
        listed = cases[:LISTED]
        lines = [message("your_cases", language, count=str(len(cases)))]
        lines += [_status(case, language) for case in listed]
        return CaseAnswer(" ".join(lines), listed)
    case = chosen or cases[0]
    return CaseAnswer(_status(case, language) + " " + _next_step(case, language), [case])


def _status(case: OwnCase, language: str) -> str:
    details = f" ({case.details.rstrip('.')})" if case.details else ""
    return message(
        "case_status",
        language,
        name=case.name,
        number=case.number,
        organisation=case.organisation,
        status=case.status + details,
        date=case.changed.isoformat(),
    )


def _next_step(case: OwnCase, language: str) -> str:
    return _action(case, language) if case.action_needed else message("case_no_action", language)


def _action(case: OwnCase, language: str) -> str:
    return message("case_action", language, name=case.name, action=case.action.rstrip(".") or "?")


def _best(question: str, cases: list[OwnCase], language: str) -> OwnCase | None:
    asked = set(terms(question, language))
    scored = []
    for position, case in enumerate(cases):
        words = set(terms(f"{case.name} {case.type} {case.number}", language))
        score = sum(1 for word in asked if any(_matches(word, other) for other in words))
        scored.append((-score, position, case))
    best = min(scored, key=lambda entry: entry[:2])
    return best[2] if best[0] < 0 else None


def _matches(a: str, b: str) -> bool:
    if a == b:
        return True
    shortest = min(len(a), len(b))
    return shortest >= AFFIX and (a[:AFFIX] == b[:AFFIX] or a[-AFFIX:] == b[-AFFIX:])
