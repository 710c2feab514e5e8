"""The stages of the answer pipeline (brief §5), in the order `default_stages` puts them.

Each stage is small and decides one thing; the logic it applies lives in its own module (checks,
crisis, abuse, language, routing, rewrite, compose, llm, grounding), so each can be tested alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from loket.assistant.abuse import assess
from loket.assistant.compose import Composer, Composition, ExtractiveComposer, source_text
from loket.assistant.crisis import Crisis
from loket.assistant.crisis import detect as detect_crisis
from loket.assistant.grounding import Grounding
from loket.assistant.grounding import check as check_grounding
from loket.assistant.language import detect as detect_language
from loket.assistant.language import interface_language
from loket.assistant.llm import LLMError, LLMJudge, LLMRewriter
from loket.assistant.own_accesses import MY_DATA
from loket.assistant.own_cases import answer_from_cases
from loket.assistant.own_messages import answer_from_messages
from loket.assistant.pipeline import Stage, Turn
from loket.assistant.report_intent import OTHER, REPORT_PAGE
from loket.assistant.report_intent import category as report_category
from loket.assistant.rewrite import is_follow_up
from loket.assistant.rewrite import standalone as rule_standalone
from loket.assistant.routing import Route, route
from loket.assistant.schemas import Citation, Status
from loket.assistant.scope import ScopeExamples
from loket.assistant.texts import (
    ABUSE,
    ACCESS_LOG_NEEDS_LOGIN,
    ACCESS_LOG_PAGE,
    CRISIS_EMERGENCY,
    CRISIS_SUICIDE,
    EMPTY_QUESTION,
    GREETING,
    HANDOFF,
    NEEDS_LOGIN,
    OUT_OF_SCOPE,
    PERSONAL_DATA,
    QUESTION_TOO_LONG,
    REPORT_OFFER,
    REPORT_START,
)
from loket.errors import BadRequest
from loket.i18n import message, negotiate
from loket.identity.schemas import Forbidden, StrongerLoginNeeded
from loket.personal_data import find_personal_data, normalise, redacted, strip_invisible
from loket.reports.schemas import Category
from loket.search.analysis import primary_language
from loket.search.schemas import SearchFilters
from loket.search.service import SearchService

MAX_QUESTION_LENGTH = 1000  # characters, once hidden ones are removed (the API documents it)
# What the API reads at most, hidden characters and all: a longer body is refused before the pipeline.
MAX_RAW_QUESTION_LENGTH = 4 * MAX_QUESTION_LENGTH


class QuestionTooLong(BadRequest):
    """Unprocessable as sent, like a field that fails its schema (the API's contract says 422)."""

    status_code = 422


RETRIEVE_LIMIT = 5
SIGNPOSTS = {Crisis.SUICIDE: CRISIS_SUICIDE, Crisis.EMERGENCY: CRISIS_EMERGENCY}


class InputChecks:
    """Normalises the question, enforces the length limit, and finds personal identifiers to redact."""

    name = "input_checks"

    def __init__(self, max_length: int = MAX_QUESTION_LENGTH) -> None:
        self.max_length = max_length

    def run(self, turn: Turn) -> tuple[str, dict]:
        asked_in = negotiate(turn.requested_language)
        turn.question = normalise(turn.raw)
        if not turn.question:
            raise BadRequest(message(EMPTY_QUESTION, asked_in))
        if len(turn.question) > self.max_length:
            raise QuestionTooLong(message(QUESTION_TOO_LONG, asked_in, limit=str(self.max_length)))
        found = find_personal_data(turn.question)
        turn.redacted = redacted(turn.question)
        turn.personal_data = sorted({item.kind for item in found})
        hidden = len(turn.raw) - len(strip_invisible(turn.raw))
        return "checked", {"characters": len(turn.question), "hidden_removed": hidden}


class DetectLanguage:
    name = "language"

    def run(self, turn: Turn) -> tuple[str, dict]:
        detected, confidence = detect_language(turn.question)
        turn.question_language = detected
        turn.answer.language = interface_language(detected, turn.requested_language)
        return detected or "unsure", {"confidence": round(confidence, 2), "interface": turn.answer.language}


class CrisisCheck:
    """First of the checks that stop: a person in danger gets the number before anything else."""

    name = "crisis"

    def __init__(self, emergency_number: str, suicide_line: str) -> None:
        self.numbers = {"emergency": emergency_number, "suicide_line": suicide_line}

    def run(self, turn: Turn) -> str:
        if crisis := detect_crisis(turn.question):
            turn.stop(Status.SIGNPOSTED, message(SIGNPOSTS[crisis], turn.language, **self.numbers))
            return str(crisis)
        return "none"


class PersonalDataCheck:
    """Refuses questions with personal identifiers; the answer does not repeat them."""

    name = "personal_data"

    def run(self, turn: Turn) -> str:
        if turn.personal_data:
            turn.stop(Status.REFUSED_PERSONAL_DATA, message(PERSONAL_DATA, turn.language))
            return "refused: " + ", ".join(turn.personal_data)
        return "none"


class AbuseCheck:
    name = "abuse"

    def run(self, turn: Turn) -> tuple[str, dict]:
        verdict = assess(turn.raw)  # the raw text: hidden characters are evidence
        if verdict.refused:
            turn.stop(Status.REFUSED_ABUSE, message(ABUSE, turn.language))
        return ("refused" if verdict.refused else "none"), {
            "score": verdict.score,
            "families": list(verdict.families),
        }


class Routing:
    name = "routing"

    def __init__(self, infoline: str, report_categories: Sequence[Category] = ()) -> None:
        """`report_categories`: the reports block's, to offer a report of a problem in public space."""
        self.infoline = infoline
        self.report_categories = {category.id: category for category in report_categories}

    def run(self, turn: Turn) -> str:
        kind = route(turn.question)
        reported = self._report_category(turn.question) if kind is Route.REPORT else None
        if kind is Route.REPORT and reported is None:
            kind = Route.INFORMATION  # no such category here: searched for as a question
        turn.route = kind
        if kind is Route.GREETING:
            turn.stop(Status.OUT_OF_SCOPE, message(GREETING, turn.language))
        elif kind is Route.HANDOFF:
            turn.stop(Status.HANDOFF, message(HANDOFF, turn.language, infoline=self.infoline))
        elif kind in (Route.OWN_CASE, Route.OWN_MESSAGES) and not turn.logged_in:
            turn.stop(Status.NEEDS_LOGIN, message(NEEDS_LOGIN, turn.language))
        elif kind is Route.OUT_OF_SCOPE:
            turn.stop(Status.OUT_OF_SCOPE, message(OUT_OF_SCOPE, turn.language))
        elif reported is not None:
            turn.cited = [_report_link(reported, turn.language)]
            turn.stop(Status.ANSWERED, message(REPORT_OFFER, turn.language, authority=reported.authority))
        return str(kind)

    def _report_category(self, question: str) -> Category | None:
        """The category the question reports a problem in; `other` for one this deployment lacks."""
        found = self.report_categories.get(report_category(question) or "")
        return found or self.report_categories.get(OTHER)


def _report_link(category: Category, language: str) -> Citation:
    """The offer to start a report: the report page with the category chosen, in the answer's language."""
    url = f"{REPORT_PAGE}?{urlencode({'categorie': category.id, 'lang': language})}"
    title = message(REPORT_START, language, category=category.name(language))
    return Citation(url=url, title=title, snippet=category.authority, language=language)


class OwnCaseAnswer:
    """A logged-in person's question about their own cases, answered from those cases alone; a login
    not strong enough for them is asked to log in again, as an anonymous one is asked to log in."""

    name = "own_cases"

    def run(self, turn: Turn) -> str:
        if turn.route != Route.OWN_CASE or turn.own_cases is None:
            return "not about own cases"
        cases = _read_own(turn, turn.own_cases)
        if cases is None:
            return "refused"
        found = answer_from_cases(turn.redacted, cases, turn.language)
        turn.cases_cited = found.cited
        turn.stop(Status.ANSWERED if found.cited else Status.UNANSWERABLE, found.text)
        return f"{len(found.cited)} cases cited"


class OwnMessagesAnswer:
    """A logged-in person's question about their messages, answered from the active profile's inbox
    alone; a mandate without messages, or a login not strong enough, says so."""

    name = "own_messages"

    def run(self, turn: Turn) -> str:
        if turn.route != Route.OWN_MESSAGES or turn.own_messages is None:
            return "not about own messages"
        inbox = _read_own(turn, turn.own_messages)
        if inbox is None:
            return "refused"
        found = answer_from_messages(turn.redacted, inbox, turn.language)
        turn.cited = [Citation(url=m.url, title=m.subject, snippet=m.sender) for m in found.cited]
        turn.stop(Status.ANSWERED if found.cited else Status.UNANSWERABLE, found.text)
        return f"{len(found.cited)} messages cited"


class EntitlementsAnswer:
    """What one is entitled to after a life event, from the proactive rules: the person's own
    suggestions when logged in (and allowed), else the rules explained. The life event is in the
    details; the question is not."""

    name = "entitlements"

    def run(self, turn: Turn) -> str:
        if turn.route != Route.ENTITLEMENTS or turn.entitlements is None:
            return "not about entitlements"
        found = _read_own(turn, lambda: turn.entitlements(turn.redacted))
        if found is None:
            return "refused"
        turn.cited = found.cited
        turn.stop(Status.ANSWERED if found.cited else Status.UNANSWERABLE, found.text)
        return f"{len(found.cited)} services cited"


class AccessLogAnswer:
    """Who used the person's data, from the access log of the profile they act in, with a link to the
    page that shows it all; not logged in, they are asked to log in (the log is theirs alone)."""

    name = "access_log"

    def run(self, turn: Turn) -> str:
        if turn.route != Route.ACCESS_LOG:
            return "not about the access log"
        page = Citation(url=MY_DATA, title=message(ACCESS_LOG_PAGE, turn.language), snippet="")
        if not turn.logged_in:
            turn.cited = [page]
            turn.stop(Status.NEEDS_LOGIN, message(ACCESS_LOG_NEEDS_LOGIN, turn.language))
            return "needs login"
        if turn.accesses is None:
            return "no access log"
        found = _read_own(turn, lambda: turn.accesses(turn.language))
        if found is None:
            return "refused"
        turn.cited = found.cited
        turn.stop(Status.ANSWERED, found.text)
        return f"{found.uses} uses named"


def _read_own(turn: Turn, read):
    """The person's own cases or messages; None, the turn stopped with the reason, when refused: a
    login not strong enough is asked for a stronger one, a mandate's scope is said as it is."""
    try:
        return read()
    except StrongerLoginNeeded as refused:
        turn.stop(Status.NEEDS_LOGIN, refused.message)
    except Forbidden as refused:
        turn.stop(Status.UNANSWERABLE, refused.message)
    return None


class Rewrite:
    """A follow-up becomes a standalone question: by rules, or by the LLM when one is configured."""

    name = "rewrite"

    def __init__(self, rewriter: LLMRewriter | None = None) -> None:
        self.rewriter = rewriter

    def run(self, turn: Turn) -> str:
        turn.standalone = rule_standalone(turn.redacted, turn.history)
        if turn.standalone == turn.redacted:
            return "standalone"
        if self.rewriter is not None and is_follow_up(turn.redacted):
            try:
                if rewritten := self.rewriter.rewrite(turn.redacted, turn.history):
                    turn.standalone = rewritten
                    return "rewritten by llm"
            except LLMError:
                pass
        return "rewritten by rules"


class Retrieve:
    name = "retrieve"

    def __init__(self, search: SearchService, scope: ScopeExamples) -> None:
        self.search = search
        self.scope = scope

    def run(self, turn: Turn) -> tuple[str, dict]:
        hits = self.search.search(
            turn.standalone, RETRIEVE_LIMIT, SearchFilters(turn.audience), language=turn.question_language
        )
        turn.hits = [hit for hit in hits if hit.confident]
        details = {"best_score": hits[0].score if hits else None, "confident": len(turn.hits)}
        if turn.hits:
            return "found", details
        verdict = self.scope.judge(self.search.query_vector(turn.standalone))
        details |= {
            "out_similarity": round(verdict.out_similarity, 3),
            "in_similarity": round(verdict.in_similarity, 3),
        }
        if verdict.out_of_scope:
            turn.stop(Status.OUT_OF_SCOPE, message(OUT_OF_SCOPE, turn.language))
            return "no match, out of scope", details
        turn.stop(Status.UNANSWERABLE)
        return "no confident match", details


class JudgeAnswerability:
    """A question whose best page is only a neighbour of its subject is `unanswerable`: the search
    score cannot tell (issue 17). In the pipeline only when a judge is configured; a judge that fails
    lets the answer go on, as it would without one."""

    name = "judge"

    def __init__(self, judge: LLMJudge, threshold: float) -> None:
        self.judge = judge
        self.threshold = threshold

    def run(self, turn: Turn) -> tuple[str, dict]:
        try:
            on_topic = self.judge.on_topic(turn.standalone, turn.hits[0])
        except LLMError as error:
            return "judge failed", {"error": str(error)}
        details = {"on_topic": round(on_topic, 3), "threshold": self.threshold}
        if on_topic < self.threshold:
            turn.stop(Status.UNANSWERABLE)
            return "best page is off the subject", details
        return "on the subject", details


class Compose:
    """The configured composer; the extractive one when the LLM fails."""

    name = "compose"

    def __init__(self, composer: Composer) -> None:
        self.composer = composer
        self.extractive = ExtractiveComposer()

    def run(self, turn: Turn) -> tuple[str, dict]:
        try:
            turn.composition = self.composer.compose(turn.standalone, turn.hits, turn.question_language)
        except LLMError as error:
            turn.composition = self.extractive.compose(turn.standalone, turn.hits, turn.question_language)
            return "extractive after llm error", {"error": str(error)}
        if turn.composition.declined:
            turn.stop(Status.UNANSWERABLE)
            return f"{self.composer.name}: sources do not answer", turn.composition.details
        return self.composer.name, turn.composition.details


class OutputChecks:
    """Every sentence must be supported by a cited source; if not, the extractive answer, else nothing."""

    name = "output_checks"

    def __init__(self) -> None:
        self.extractive = ExtractiveComposer()

    def run(self, turn: Turn) -> tuple[str, dict]:
        composition = turn.composition
        grounding = _grounding(composition)
        details = {"sentences": len(grounding.sentences), "unsupported": grounding.unsupported}
        outcome = "grounded"
        if not grounding.grounded and composition.by != self.extractive.name:  # fall back to quoting
            composition = self.extractive.compose(turn.standalone, turn.hits, turn.question_language)
            grounding = _grounding(composition)
            outcome = "extractive after ungrounded answer"
        if not grounding.grounded:
            turn.stop(Status.UNANSWERABLE)
            return "not grounded", details
        turn.composition = composition
        turn.answer.status = Status.ANSWERED
        turn.answer.answer = composition.text
        return outcome, details


def _grounding(composition: Composition) -> Grounding:
    language = primary_language(composition.cited[0].item.language)
    return check_grounding(composition.text, [source_text(hit) for hit in composition.cited], language)


def default_stages(
    search: SearchService,
    scope: ScopeExamples,
    composer: Composer,
    rewriter: LLMRewriter | None,
    judge: LLMJudge | None,
    judge_threshold: float,
    emergency_number: str,
    suicide_line: str,
    infoline: str,
    report_categories: Sequence[Category] = (),
) -> list[Stage]:
    return [
        InputChecks(),
        DetectLanguage(),
        CrisisCheck(emergency_number, suicide_line),
        PersonalDataCheck(),
        AbuseCheck(),
        Routing(infoline, report_categories),
        OwnCaseAnswer(),
        OwnMessagesAnswer(),
        EntitlementsAnswer(),
        AccessLogAnswer(),
        Rewrite(rewriter),
        Retrieve(search, scope),
        *([JudgeAnswerability(judge, judge_threshold)] if judge else []),
        Compose(composer),
        OutputChecks(),
    ]
