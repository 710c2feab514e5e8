"""Content owners' review of answers: a random sample of the answers people got (redacted, as stored),
each sentence and each citation marked right or wrong, with a reason when something is wrong. The
verdicts feed the accuracy the public about page shows.

A review keeps only verdicts and the reason, never the answer's text: when retention removes the
conversation, its reviews still count. One review per answer and reviewer: reviewing an answer again
replaces one's own earlier review (a correction), while another content owner's review of the same
answer counts as a review of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from loket import clock
from loket.assistant import grounding
from loket.assistant.conversations import ConversationStore, StoredMessage
from loket.assistant.schemas import Status
from loket.db import Database, insert_new
from loket.errors import BadRequest, NotFound
from loket.i18n import message
from loket.insight.models import ReviewRow
from loket.insight.texts import (
    CITATION_VERDICTS,
    NOTHING_TO_REVIEW,
    REASON_NEEDED,
    REASON_TOO_LONG,
    SENTENCE_VERDICTS,
)

SAMPLED_DAYS = 30  # the queue's default period
REASON_LENGTH = 1000  # characters; a form post stays well under its size limit in any script


class Refused(BadRequest):
    """A review that cannot be stored, and the part of it at fault: `sentences`, `citations` or
    `reason` (so a form can put the message by its field)."""

    def __init__(self, text: str, part: str) -> None:
        super().__init__(text)
        self.part = part


@dataclass(frozen=True)
class OwnReview:
    """A reviewer's earlier verdicts on an answer, which saving again replaces."""

    sentences: list[bool]  # right (true) or wrong, one per sentence
    citations: list[bool]  # one per citation
    reason: str
    reviewed_at: datetime


@dataclass(frozen=True)
class Reviewable:
    """An answer as a content owner reviews it: the redacted question, the answer in sentences, its
    citations (url, title, snippet), and the reviewer's own earlier verdicts, if any."""

    id: str
    asked_at: datetime
    question: str
    standalone: str  # the question as understood with the conversation before it
    language: str
    sentences: list[str]
    citations: list[dict]
    earlier: OwnReview | None = None


@dataclass(frozen=True)
class Accuracy:
    """What the reviews of a period found: shares of right verdicts (None without any)."""

    reviews: int
    sentences: int
    sentences_right: float | None
    citations: int
    citations_right: float | None


class ReviewService:
    def __init__(self, conversations: ConversationStore, db: Database) -> None:
        self.conversations = conversations
        self.db = db

    def queue(
        self, size: int = 10, since: datetime | None = None, until: datetime | None = None
    ) -> list[Reviewable]:
        """Up to `size` answers of [since, until) (default the last 30 days) nobody reviewed yet, drawn
        at random; staff's questions and test traffic are left out by the sample."""
        until = until or clock.now()
        since = since or until - timedelta(days=SAMPLED_DAYS)
        with self.db.session() as session:
            # An answer is reviewed after it was given: older reviews cannot be of these answers.
            reviewed = set(
                session.scalars(select(ReviewRow.message_id).where(ReviewRow.reviewed_at >= since))
            )
        return [_reviewable(found) for found in self.conversations.sample(since, until, size, reviewed)]

    def reviewable(self, message_id: str, reviewer: str, language: str) -> Reviewable:
        """The answer to review, with `reviewer`'s earlier verdicts; NotFound (in `language`) when it is
        no answer, or retention removed it."""
        found = self._answer(message_id, language)
        with self.db.session() as session:
            row = session.get(ReviewRow, review_id(message_id, reviewer))
            earlier = OwnReview(row.sentences, row.citations, row.reason, row.reviewed_at) if row else None
        return _reviewable(found, earlier)

    def review(
        self,
        message_id: str,
        reviewer: str,
        sentences: list[bool],
        citations: list[bool],
        reason: str,
        language: str,
    ) -> None:
        """Stores `reviewer`'s verdicts on the answer, replacing their earlier ones. Refused (in
        `language`, nothing stored) unless there is one verdict per sentence and per citation, and a
        reason when something is wrong."""
        answer = _reviewable(self._answer(message_id, language))
        reason = reason.strip()
        if len(sentences) != len(answer.sentences):
            count = str(len(answer.sentences))
            raise Refused(message(SENTENCE_VERDICTS, language, count=count), "sentences")
        if len(citations) != len(answer.citations):
            count = str(len(answer.citations))
            raise Refused(message(CITATION_VERDICTS, language, count=count), "citations")
        if not reason and not all(sentences + citations):
            raise Refused(message(REASON_NEEDED, language), "reason")
        if len(reason) > REASON_LENGTH:
            raise Refused(message(REASON_TOO_LONG, language, count=str(REASON_LENGTH)), "reason")
        identifier = review_id(message_id, reviewer)
        values = {
            "reviewed_at": clock.now(),
            "language": answer.language,
            "sentences": list(sentences),
            "citations": list(citations),
            "reason": reason,
        }
        with self.db.session() as session:
            row = {"id": identifier, "message_id": message_id, "reviewer": reviewer} | values
            if not insert_new(session, ReviewRow, row, ["id"]):
                session.execute(update(ReviewRow).where(ReviewRow.id == identifier).values(**values))

    def accuracy(self, since: datetime, until: datetime) -> Accuracy:
        """The verdicts of the reviews made in [since, until), each review counted, whoever made it."""
        query = select(ReviewRow.sentences, ReviewRow.citations).where(
            ReviewRow.reviewed_at >= since, ReviewRow.reviewed_at < until
        )
        with self.db.session() as session:
            rows = session.execute(query).all()
        sentence_verdicts = [verdict for row in rows for verdict in row.sentences]
        citation_verdicts = [verdict for row in rows for verdict in row.citations]
        return Accuracy(
            reviews=len(rows),
            sentences=len(sentence_verdicts),
            sentences_right=_share(sentence_verdicts),
            citations=len(citation_verdicts),
            citations_right=_share(citation_verdicts),
        )

    def _answer(self, message_id: str, language: str) -> StoredMessage:
        found = self.conversations.messages([message_id]).get(message_id)
        if found is None or found.status != Status.ANSWERED:
            raise NotFound(message(NOTHING_TO_REVIEW, language))
        return found


def review_id(message_id: str, reviewer: str) -> str:
    """One per answer and reviewer, so the primary key itself keeps a second review from adding a row
    (two saves at once included)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"loket:review:{message_id}|{reviewer}"))


def _reviewable(found: StoredMessage, earlier: OwnReview | None = None) -> Reviewable:
    return Reviewable(
        id=found.id,
        asked_at=found.created_at,
        question=found.question,
        standalone=found.standalone,
        language=found.language,
        sentences=grounding.sentences(found.answer),
        citations=found.citations,
        earlier=earlier,
    )


def _share(verdicts: list[bool]) -> float | None:
    return sum(verdicts) / len(verdicts) if verdicts else None
