"""Questions about what one is entitled to after a life event ("waar heb ik recht op na de geboorte van
mijn dochter?"), answered from the proactive block's rules, the same that make the suggestions.

Logged in, with proactive use on, the answer is the person's own suggestions for that event (read and
logged only then); otherwise, or when there are none yet, the rules are explained with the questions
that decide them. The life event is recognised by words in four languages; none recognised, every rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from loket.assistant.routing import life_event
from loket.assistant.schemas import Citation
from loket.assistant.texts import (
    ENTITLED_ELIGIBLE,
    ENTITLED_GRANTED,
    ENTITLED_NEED_INFO,
    FOR_YOU_INTRO,
    NOTHING_FOR_YOU_YET,
    RULES_INTRO,
    SUGGESTIONS_OFF,
)
from loket.i18n import message
from loket.identity.schemas import SignedIn
from loket.proactive.service import FOR_YOU, ProactiveService

_OUTCOMES = {"eligible": ENTITLED_ELIGIBLE, "granted": ENTITLED_GRANTED, "need_info": ENTITLED_NEED_INFO}


@dataclass(frozen=True)
class EntitlementAnswer:
    text: str
    cited: list[Citation]


Entitlements = Callable[[str], EntitlementAnswer]


def entitlements_of(proactive: ProactiveService, user: SignedIn | None, language: str) -> Entitlements:
    """What the assistant may say of entitlements: the person's suggestions (read and logged only when
    called, and only when the person has proactive use on), else the rules."""

    def answer(question: str) -> EntitlementAnswer:
        event = life_event(question)
        intro = None
        if user is not None:
            if proactive.enabled(user, language):
                rules = {
                    r.id
                    for r in (proactive.rules.for_event(event) if event else proactive.rules.rules.values())
                }
                found = [
                    s for s in proactive.suggestions(user, language, why="assistant") if s.rule_id in rules
                ]
                if found:
                    return _suggested(found, language)
                intro = NOTHING_FOR_YOU_YET
            else:
                intro = SUGGESTIONS_OFF
        return _explained(proactive, event, language, intro)

    return answer


def _suggested(found, language: str) -> EntitlementAnswer:
    lines = [
        message(_OUTCOMES[s.outcome], language, service=s.service.title, questions=" ".join(s.questions))
        for s in found
    ]
    cited = [Citation(url=FOR_YOU, title=s.service.title, snippet=" ".join(s.reasons)) for s in found]
    return EntitlementAnswer(" ".join([message(FOR_YOU_INTRO, language), *lines]), cited)


def _explained(
    proactive: ProactiveService, event: str | None, language: str, intro: str | None
) -> EntitlementAnswer:
    rules = proactive.explain(event, language)
    lines = [f"{rule.title}: {rule.explanation}" for rule in rules]
    texts = ([message(intro, language)] if intro else []) + [message(RULES_INTRO, language), *lines]
    cited = [
        Citation(url=rule.service.url, title=rule.service.title, snippet=rule.explanation) for rule in rules
    ]
    return EntitlementAnswer(" ".join(texts), cited)
