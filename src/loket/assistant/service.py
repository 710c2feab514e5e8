"""The assistant's Python API: ask a question, read a conversation, give feedback, switch it off.

A question runs through the staged pipeline (`stages.py`); the answer is stored with its trace before
it is returned, so what `GET /api/v1/conversations/{id}` shows is what the citizen saw, minus the
personal identifiers the input checks redacted.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncGenerator
from dataclasses import asdict, replace
from datetime import timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from loket.assistant.compose import Composer
from loket.assistant.conversations import (
    HISTORY_TURNS,
    Asked,
    Conversation,
    ConversationStore,
    Switch,
    conversation_stream,
)
from loket.assistant.entitlements import entitlements_of
from loket.assistant.language import detect as detect_language
from loket.assistant.llm import LLMJudge, LLMRewriter
from loket.assistant.own_accesses import accesses_of
from loket.assistant.own_cases import cases_of
from loket.assistant.own_messages import messages_of
from loket.assistant.pipeline import Stage, Turn, run
from loket.assistant.routing import Route
from loket.assistant.schemas import Answer, Citation, Holder, Status
from loket.assistant.scope import ScopeExamples
from loket.assistant.stages import MAX_QUESTION_LENGTH, default_stages
from loket.assistant.texts import (
    ACCESS_LOG_NOT_STORED,
    AI_LABEL,
    BAD_RATING,
    ENTITLEMENTS_NOT_STORED,
    FROM_ORGANISATION,
    MAINTENANCE,
    OTHER_LANGUAGE,
    OWN_CASE_NOT_STORED,
    OWN_MESSAGES_NOT_STORED,
    PASSED_TO_AGENT,
    UNANSWERABLE,
    UNKNOWN_CONVERSATION,
)
from loket.cases.service import CaseService
from loket.catalog.service import service_page_path
from loket.errors import BadRequest, LoketError, NotFound
from loket.events import Event, EventBus
from loket.i18n import language_name, message, negotiate
from loket.identity.access_log import AccessLog
from loket.identity.schemas import Kind, Role, SignedIn
from loket.logging import get_logger
from loket.messages.service import MessageService
from loket.personal_data import normalise, redacted
from loket.proactive.service import ProactiveService
from loket.reports.schemas import Category
from loket.search.analysis import primary_language
from loket.search.schemas import SearchHit
from loket.search.service import SearchService
from loket.tracing import current_trace_id


class HumanTakeover(Protocol):
    """What the assistant asks of the handoff block (which is built on top of it)."""

    def holds(self, conversation_id: str) -> bool: ...

    def say(self, conversation_id: str, text: str) -> object: ...


log = get_logger(__name__)
# Answers from the person's own data: stored only in a conversation they hold, else this in their place.
NOT_KEPT = (Status.REFUSED_ABUSE, Status.REFUSED_PERSONAL_DATA)  # questions counted, never kept
STAFF = frozenset({Role.AGENT, Role.CONTENT_OWNER, Role.OPERATOR})  # left out of the public figures
NOT_STORED = {
    Route.OWN_CASE: OWN_CASE_NOT_STORED,
    Route.OWN_MESSAGES: OWN_MESSAGES_NOT_STORED,
    Route.ENTITLEMENTS: ENTITLEMENTS_NOT_STORED,
    Route.ACCESS_LOG: ACCESS_LOG_NOT_STORED,
}
RATINGS = ("up", "down")
MAX_REASON_LENGTH = 1000


class AssistantDisabled(LoketError):
    """The operator switched the assistant off (`loket assistant disable`)."""

    status_code = 503
    code = "maintenance"


class AssistantService:
    def __init__(
        self,
        search: SearchService,
        conversations: ConversationStore,
        cases: CaseService,
        composer: Composer,
        rewriter: LLMRewriter | None = None,
        judge: LLMJudge | None = None,
        judge_threshold: float = 0.0,
        emergency_number: str = "112",
        suicide_line: str = "1813",
        infoline: str = "1700",
        events: EventBus | None = None,
        messages: MessageService | None = None,
        proactive: ProactiveService | None = None,
        access_log: AccessLog | None = None,
        timezone: str = "Europe/Brussels",
        report_categories: tuple[Category, ...] = (),
    ) -> None:
        """`human`, set once the handoff block is built: whether an agent holds a conversation, and
        how the person's message reaches them. `access_log` answers who used the person's data, its
        times said in `timezone`. A problem in public space is offered a report in one of
        `report_categories` (none: it is searched for as a question)."""
        self.search = search
        self.conversations = conversations
        self.cases = cases
        self.messages = messages
        self.proactive = proactive
        self.access_log = access_log
        self.zone = ZoneInfo(timezone)
        self.human: HumanTakeover | None = None
        self.infoline = infoline
        self.events = events
        self.scope = ScopeExamples(search.embedder)
        self.stages: list[Stage] = default_stages(
            search,
            self.scope,
            composer,
            rewriter,
            judge,
            judge_threshold,
            emergency_number,
            suicide_line,
            infoline,
            report_categories,
        )

    def warm_up(self) -> None:
        """Loads the language models and embeds the scope examples before the first question needs them."""
        detect_language("loket")
        self.scope.prepare()

    def ask(
        self,
        question: str,
        language: str | None = None,
        audience: str | None = None,
        conversation_id: str | None = None,
        user: SignedIn | None = None,
        holder: Holder | None = None,
        channel: str = "api",
        test: bool = False,
        earlier: list[str] | None = None,
    ) -> Answer:
        """`user` is who is logged in (None: nobody): a question about their cases reads those of their
        active profile. `audience` follows that profile too, unless the question names one. `channel`
        (web, widget, api) is kept for the figures, as is whether staff asked and whether it is `test`
        traffic (both left out of the public figures).

        A question refused as abuse or for the personal data in it is counted, never kept: the stored
        turn has no question text (issue 22's contract).

        A new conversation gets a token (`answer.conversation_token`) and belongs to whoever holds it,
        and to `user` if someone is logged in. `holder` is who asks from outside (the API, the pages):
        continuing a conversation they do not hold is a 404, as for one that does not exist. None is
        for trusted callers in this process (the CLI, the evaluation).

        `earlier`: the questions before this one in a conversation its client keeps instead of loket (the
        OpenAI protocol sends every message each time): context for a follow-up, as a stored
        conversation's history is, and likewise checked for length and stripped of personal data.
        """
        switch = self.conversations.switch()
        if not switch.enabled:
            raise AssistantDisabled(message(MAINTENANCE, negotiate(language), reason=switch.reason))
        if conversation_id and not self._may_use(conversation_id, holder):
            raise NotFound(message(UNKNOWN_CONVERSATION, negotiate(language)))
        if conversation_id and self.human is not None and self.human.holds(conversation_id):
            # A person has taken over: the assistant says nothing, the message goes to them.
            self.human.say(conversation_id, question)
            passed = _blank(language, conversation_id)
            passed.status, passed.answer = Status.HANDOFF, message(PASSED_TO_AGENT, passed.language)
            return passed
        answer = _blank(language, conversation_id or str(uuid.uuid4()))
        if not conversation_id:
            answer.conversation_token = secrets.token_urlsafe(32)
        if conversation_id:
            history = self.conversations.history(conversation_id)
        else:
            recent = (earlier or [])[-HISTORY_TURNS:]
            history = [redacted(t) for q in recent if 0 < len(t := normalise(q)) <= MAX_QUESTION_LENGTH]
        turn = self._answer(question, language, audience, history, user, answer)
        trace = [asdict(step) for step in turn.trace]
        stored = answer
        not_kept = NOT_STORED.get(turn.route)
        if not_kept and user and not self._keeps_personal(user, conversation_id):
            stored = replace(answer, answer=message(not_kept, answer.language), citations=[])
        person_id = user.person.id if user else None
        asked = Asked(channel, bool(user and user.roles & STAFF), turn.route, test)
        if answer.status in NOT_KEPT:
            self.conversations.add(stored, "", "", trace, person_id, asked)
        else:
            standalone = turn.standalone or turn.redacted
            self.conversations.add(stored, turn.redacted, standalone, trace, person_id, asked)
        # The question itself is never logged: it may hold personal data.
        log.info(
            "assistant.answered",
            trace_id=answer.trace_id,
            status=answer.status,
            route=turn.route,
            citations=len(answer.citations),
            ms=round(sum(step.ms for step in turn.trace), 1),
        )
        return answer

    def draft(self, question: str, language: str | None = None) -> Answer:
        """An answer from the catalogue that is neither stored nor told anyone: the reply an agent may
        start from (the console marks it as drafted by the assistant)."""
        return self._answer(question, language, None, [], None, _blank(language, "")).answer

    def _answer(
        self,
        question: str,
        language: str | None,
        audience: str | None,
        history: list[str],
        user: SignedIn | None,
        answer: Answer,
    ) -> Turn:
        """The pipeline's turn for a question, its answer cited: everything but storing it."""
        turn = Turn(
            raw=question,
            question="",
            requested_language=language,
            audience=audience,
            history=history,
            answer=answer,
            logged_in=user is not None,
            own_cases=cases_of(self.cases, user, answer.language) if user else None,
            own_messages=messages_of(self.messages, user, answer.language)
            if user and self.messages
            else None,
            entitlements=entitlements_of(self.proactive, user, answer.language) if self.proactive else None,
            accesses=accesses_of(self.access_log, user, self.zone) if user and self.access_log else None,
        )
        turn = run(self.stages, turn)
        if turn.cases_cited:
            self._cite_cases(turn)
        elif turn.cited:
            answer.citations = turn.cited
        elif answer.status is Status.ANSWERED:
            _cite(turn)
        elif not answer.answer:
            answer.answer = message(UNANSWERABLE, answer.language, infoline=self.infoline)
        return turn

    def _cite_cases(self, turn: Turn) -> None:
        """The cases themselves, and for a single case the catalogue's page about that kind of case."""
        answer = turn.answer
        answer.citations = [Citation(url=c.url, title=c.name, snippet=c.status) for c in turn.cases_cited]
        if len(turn.cases_cited) == 1:
            case = turn.cases_cited[0]
            hits = self.search.search(f"{case.name} {case.type}", limit=1, language=answer.language)
            if hits and hits[0].confident:
                answer.citations.append(_citation(hits[0]))

    def conversation(self, conversation_id: str, holder: Holder | None = None) -> Conversation:
        """As stored; `holder` as for `ask`: one they do not hold is not found."""
        if not self._may_use(conversation_id, holder):
            raise NotFound(f"No conversation {conversation_id}.")
        return self.conversations.get(conversation_id)

    def conversation_events(
        self, conversation_id: str, holder: Holder | None, after_id: int = 0, idle: float | None = None
    ) -> AsyncGenerator[Event | None]:
        """The conversation's events after `after_id`, then new ones as they come (`EventBus.subscribe`:
        iterate it in the event loop, and close it); `holder` as for `ask`: one they do not hold, or
        no event bus, is not found."""
        if self.events is None or not self._may_use(conversation_id, holder):
            raise NotFound(f"No conversation {conversation_id}.")
        return self.events.subscribe(conversation_stream(conversation_id), after_id, idle)

    def held(self, holder: Holder) -> str | None:
        """The id of the conversation of the holder's token, for a page that knows only its cookie."""
        return self.conversations.held(holder)

    def held_conversation(self, holder: Holder) -> Conversation | None:
        conversation_id = self.held(holder)
        return self.conversations.get(conversation_id) if conversation_id else None

    def feedback(
        self,
        message_id: str,
        rating: str,
        reason: str | None,
        language: str | None = None,
        holder: Holder | None = None,
    ) -> None:
        """Reasons are free text, so they are redacted like questions before they are kept. Only on a
        message of a conversation the holder holds (`holder` as for `ask`)."""
        if holder is not None:
            conversation_id = self.conversations.message_conversation(message_id)
            if conversation_id is None or not self.conversations.held_by(conversation_id, holder):
                raise NotFound(f"No message {message_id}.")
        if rating not in RATINGS:
            raise BadRequest(message(BAD_RATING, negotiate(language)))
        if reason is not None:
            reason = normalise(reason)[:MAX_REASON_LENGTH] or None
        if reason:
            reason = redacted(reason)
        self.conversations.give_feedback(message_id, rating, reason)

    def _keeps_personal(self, user: SignedIn, conversation_id: str | None) -> bool:
        """An answer from cases or messages is kept only where reading it again needs this person's
        login, and only from their own: the right to see a mandator's or a company's cases and messages
        can end, and a kept answer would outlive it."""
        if user.active.kind is not Kind.CITIZEN:
            return False
        return conversation_id is None or self.conversations.person(conversation_id) == user.person.id

    def _may_use(self, conversation_id: str, holder: Holder | None) -> bool:
        if holder is None:
            return self.conversations.exists(conversation_id)
        return self.conversations.held_by(conversation_id, holder)

    def purge(self, retention: timedelta) -> int:
        """Conversations untouched for longer than `retention` (`loket conversations purge`): how many."""
        return self.conversations.purge(retention)["conversations"]

    def remove_expired(
        self, conversations: timedelta, feedback: timedelta, dry_run: bool = False
    ) -> dict[str, int]:
        """What `loket purge` removes here: rows per table past their retention (`dry_run`: only counted).
        Feedback cannot outlive the message it rates, so it goes with its conversation whatever its age."""
        return self.conversations.purge(conversations, feedback, dry_run)

    def erase_persons(self, person_ids: list[str], dry_run: bool = False) -> dict[str, int]:
        """The conversations these persons began logged in, with their messages and feedback; those begun
        anonymously cannot be told from anyone else's and are left to their retention."""
        return self.conversations.erase_persons(person_ids, dry_run)

    def switch(self) -> Switch:
        return self.conversations.switch()

    def set_enabled(self, enabled: bool, reason: str = "") -> Switch:
        return self.conversations.set_switch(enabled, reason)


def _blank(language: str | None, conversation_id: str) -> Answer:
    """An answer not given yet: unanswerable until a stage says otherwise."""
    return Answer(
        conversation_token=None,
        conversation_id=conversation_id,
        message_id=str(uuid.uuid4()),
        status=Status.UNANSWERABLE,
        answer="",
        language=negotiate(language),
        # With tracing on, the OpenTelemetry trace's id: the stored answer leads to its spans and logs.
        trace_id=current_trace_id() or uuid.uuid4().hex,
    )


def _cite(turn: Turn) -> None:
    """Citations, and the fixed texts around the answer: the A.I. label, the organisation, the language."""
    answer, composition = turn.answer, turn.composition
    main = composition.cited[0]
    content_language = primary_language(main.item.language)
    answer.citations = [_citation(hit) for hit in composition.cited]
    answer.notices = [message(AI_LABEL, answer.language)]
    if main.item.authority:
        answer.notices.append(message(FROM_ORGANISATION, answer.language, organisation=main.item.authority))
    if turn.question_language and content_language != turn.question_language:
        named = language_name(content_language, answer.language)
        answer.notices.append(message(OTHER_LANGUAGE, answer.language, language=named))
    answer.language = content_language


def _citation(hit: SearchHit) -> Citation:
    """Links to loket's own service page land on the section; other sources get their canonical URL."""
    own_page = hit.item.url == service_page_path(hit.item.id)
    url = f"{hit.item.url}#{hit.section.anchor}" if own_page else hit.item.url
    title = f"{hit.item.title} – {hit.section.heading}"
    return Citation(url=url, title=title, snippet=hit.snippet, language=primary_language(hit.item.language))
