"""The assistant's first form: checks, then an extractive answer.

A question is checked first, in this order: crisis (signposted), personal identifiers (refused,
never repeated), abuse (refused). Then the best-matching section's sentences that share most words
with the question are quoted as they stand, with the section as citation. The assistant issue turns
this into the staged pipeline with traces and conversations; the `ask` interface stays.
"""

from __future__ import annotations

import re
import uuid

from loket.assistant.abuse import assess
from loket.assistant.checks import find_personal_data, strip_invisible
from loket.assistant.crisis import detect as detect_crisis
from loket.assistant.schemas import Answer, Citation, Status
from loket.catalog.service import service_page_path
from loket.errors import BadRequest
from loket.i18n import message, negotiate
from loket.logging import get_logger
from loket.search.analysis import primary_language, terms
from loket.search.schemas import SearchFilters, SearchHit
from loket.search.service import SearchService

log = get_logger(__name__)
MAX_QUESTION_LENGTH = 1000
MAX_SENTENCES = 3
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý0-9‘'\"(])|\n+")


class AssistantService:
    def __init__(
        self, search: SearchService, emergency_number: str = "112", suicide_line: str = "1813"
    ) -> None:
        self.search = search
        self.numbers = {"emergency": emergency_number, "suicide_line": suicide_line}

    def ask(self, question: str, language: str | None = None, audience: str | None = None) -> Answer:
        asked_in = negotiate(language)
        abuse = assess(question)  # before stripping: hidden characters are evidence
        question = " ".join(strip_invisible(question).split())
        if not question:
            raise BadRequest(message("empty_question", asked_in))
        if len(question) > MAX_QUESTION_LENGTH:
            raise BadRequest(message("question_too_long", asked_in, limit=str(MAX_QUESTION_LENGTH)))
        answer = Answer(
            conversation_id=str(uuid.uuid4()),
            message_id=str(uuid.uuid4()),
            status=Status.UNANSWERABLE,
            answer=message("unanswerable", asked_in),
            language=asked_in,
            trace_id=uuid.uuid4().hex,
        )
        if crisis := detect_crisis(question):
            # A person in danger gets the number before anything else is checked or searched.
            answer.status = Status.SIGNPOSTED
            answer.answer = message(f"crisis_{crisis}", asked_in, **self.numbers)
        elif find_personal_data(question):
            # Refused before anything searches, stores or logs it; the answer does not repeat it.
            answer.status = Status.REFUSED_PERSONAL_DATA
            answer.answer = message("personal_data", asked_in)
        elif abuse.refused:
            answer.status = Status.REFUSED_ABUSE
            answer.answer = message("abuse", asked_in)
        else:
            hits = self.search.search(question, limit=3, filters=SearchFilters(audience=audience))
            if hits and hits[0].confident:
                self._answer_from(question, hits, answer)
        # The question itself is never logged: it may hold personal data.
        log.info(
            "assistant.answered",
            trace_id=answer.trace_id,
            status=answer.status,
            citations=len(answer.citations),
        )
        return answer

    def _answer_from(self, question: str, hits: list[SearchHit], answer: Answer) -> None:
        best = hits[0]
        content_language = negotiate(best.item.language, default=answer.language)
        answer.status = Status.ANSWERED
        answer.answer = " ".join(_best_sentences(question, best))
        answer.language = content_language
        answer.citations = [_citation(hit) for hit in hits if hit.confident][:2]
        answer.notices = [message("ai_label", content_language)]
        if best.item.authority:
            answer.notices.append(
                message("from_organisation", content_language, organisation=best.item.authority)
            )


def _best_sentences(question: str, hit: SearchHit) -> list[str]:
    """The item's summary, then the sentences of the matched section that share most words with the
    question. Sentences are taken whole and in their order, so the answer says only what the source says."""
    language = primary_language(hit.item.language)
    wanted = set(terms(question, language))
    summary = _sentences(hit.item.summary)[:2]
    sentences = [s for s in _sentences(hit.section.text) if s not in summary]
    overlap = [len(wanted & set(terms(sentence, language))) for sentence in sentences]
    room = MAX_SENTENCES - len(summary)
    ranked = sorted(range(len(sentences)), key=lambda i: (-overlap[i], i))
    chosen = [i for i in ranked[:room] if overlap[i] > 0]
    return summary + [sentences[i] for i in sorted(chosen)] or sentences[:2]


def _sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if len(part.strip()) > 1]


def _citation(hit: SearchHit) -> Citation:
    """Links to loket's own service page land on the section; other sources get their canonical URL."""
    own_page = hit.item.url == service_page_path(hit.item.id)
    url = f"{hit.item.url}#{hit.section.anchor}" if own_page else hit.item.url
    return Citation(url=url, title=f"{hit.item.title} – {hit.section.heading}", snippet=hit.snippet)
