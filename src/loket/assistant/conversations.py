"""Conversations as stored: what `GET /api/v1/conversations/{id}` shows, feedback, retention and the switch.

Only redacted text gets here: the pipeline replaces personal identifiers before it stores a question,
so what a citizen or an operator reads back is exactly what was kept.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update

from loket import clock
from loket.assistant.models import ConversationRow, FeedbackRow, MessageRow, SwitchRow
from loket.assistant.schemas import Answer, Holder, Status
from loket.db import Database, remove
from loket.errors import NotFound
from loket.events import EventBus


@dataclass(frozen=True)
class StoredMessage:
    id: str
    position: int
    created_at: datetime
    question: str
    standalone: str
    status: Status
    answer: str
    language: str
    citations: list[dict]
    notices: list[str]
    trace: list[dict]
    trace_id: str
    feedback: dict | None = None


@dataclass(frozen=True)
class Asked:
    """How a question came: the channel (web, widget, api), whether staff asked it (left out of the
    public figures), the route it took."""

    channel: str = "api"
    staff: bool = False
    route: str | None = None


@dataclass(frozen=True)
class Tally:
    """One answer as the figures count it: never its text."""

    at: datetime
    status: str
    route: str | None
    language: str
    channel: str
    staff: bool
    rating: str | None  # the feedback on it: up, down, or none
    stages: dict[str, float]  # milliseconds per pipeline stage
    cited: list[str]  # the addresses of the pages it cited


@dataclass(frozen=True)
class Conversation:
    id: str
    created_at: datetime
    updated_at: datetime
    messages: list[StoredMessage] = field(default_factory=list)


@dataclass(frozen=True)
class Switch:
    enabled: bool
    reason: str = ""
    changed_at: datetime | None = None


def conversation_stream(conversation_id: str) -> str:
    """The event stream of one conversation: an event `message` (its ids and status) for each answer."""
    return f"conversation:{conversation_id}"


class ConversationStore:
    """`events`: where each stored answer is announced, in the transaction that stores it, so no
    follower hears of a message that is not there, and none is stored unannounced."""

    def __init__(self, db: Database, events: EventBus | None = None) -> None:
        self.db = db
        self.events = events

    def exists(self, conversation_id: str) -> bool:
        with self.db.session() as session:
            return session.get(ConversationRow, conversation_id) is not None

    def held_by(self, conversation_id: str, holder: Holder) -> bool:
        """Whether `holder` may read and continue it: its token, and its person if it has one."""
        if not holder.token:
            return False
        with self.db.session() as session:
            return _holds(session.get(ConversationRow, conversation_id), holder)

    def person(self, conversation_id: str) -> str | None:
        """The person whose login reading it needs, if it was begun logged in."""
        with self.db.session() as session:
            return session.scalar(
                select(ConversationRow.person_id).where(ConversationRow.id == conversation_id)
            )

    def held(self, holder: Holder) -> str | None:
        """The id of the conversation whose token the holder has, if they may use it (a page without
        JavaScript knows only its cookie)."""
        if not holder.token:
            return None
        with self.db.session() as session:
            row = session.scalar(
                select(ConversationRow).where(ConversationRow.token_hash == token_hash(holder.token))
            )
            return row.id if _holds(row, holder) else None

    def message_conversation(self, message_id: str) -> str | None:
        with self.db.session() as session:
            return session.scalar(select(MessageRow.conversation_id).where(MessageRow.id == message_id))

    def history(self, conversation_id: str, turns: int = 3) -> list[str]:
        """The standalone questions of the last few answered turns, oldest first: context for follow-ups."""
        with self.db.session() as session:
            rows = session.scalars(
                select(MessageRow.standalone)
                .where(MessageRow.conversation_id == conversation_id, MessageRow.status == Status.ANSWERED)
                .order_by(MessageRow.position.desc())
                .limit(turns)
            ).all()
        return list(reversed(rows))

    def add(
        self,
        answer: Answer,
        question: str,
        standalone: str,
        trace: list[dict],
        person_id: str | None = None,
        asked: Asked | None = None,
    ) -> None:
        """Stores a turn; a conversation's first also stores who holds it (`answer.conversation_token`).

        Turns stored at once on one conversation take turns: the transaction begins by writing the
        conversation's row, which locks it on PostgreSQL and takes the write lock on SQLite, so the
        next position is read with every earlier turn committed. The database's unique (conversation,
        position) is the backstop."""
        asked = asked or Asked()
        now = clock.now()
        with self.db.session() as session:
            touched = session.execute(
                update(ConversationRow)
                .where(ConversationRow.id == answer.conversation_id)
                .values(updated_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not touched:  # its first turn: the id was made for it, so nobody else is adding it
                session.add(
                    ConversationRow(
                        id=answer.conversation_id,
                        created_at=now,
                        updated_at=now,
                        token_hash=token_hash(answer.conversation_token)
                        if answer.conversation_token
                        else None,
                        person_id=person_id,
                    )
                )
                session.flush()
            position = session.scalar(
                select(func.coalesce(func.max(MessageRow.position) + 1, 0)).where(
                    MessageRow.conversation_id == answer.conversation_id
                )
            )
            session.add(
                MessageRow(
                    id=answer.message_id,
                    conversation_id=answer.conversation_id,
                    position=position,
                    created_at=now,
                    question=question,
                    standalone=standalone,
                    status=answer.status.value,
                    answer=answer.answer,
                    language=answer.language,
                    citations=[asdict(citation) for citation in answer.citations],
                    notices=answer.notices,
                    trace=trace,
                    trace_id=answer.trace_id,
                    channel=asked.channel,
                    staff=asked.staff,
                    route=asked.route,
                )
            )
            if self.events:  # ids only: a client reads the message itself from the conversation
                data = {
                    "conversation_id": answer.conversation_id,
                    "message_id": answer.message_id,
                    "status": answer.status.value,
                }
                self.events.publish(session, conversation_stream(answer.conversation_id), "message", data)

    def get(self, conversation_id: str) -> Conversation:
        with self.db.session() as session:
            conversation = session.get(ConversationRow, conversation_id)
            if conversation is None:
                raise NotFound(f"No conversation {conversation_id}.")
            rows = session.scalars(
                select(MessageRow)
                .where(MessageRow.conversation_id == conversation_id)
                .order_by(MessageRow.position)
            ).all()
            feedback = {
                row.message_id: {"rating": row.rating, "reason": row.reason}
                for row in session.scalars(
                    select(FeedbackRow).where(FeedbackRow.message_id.in_([row.id for row in rows]))
                )
            }
            return Conversation(
                id=conversation.id,
                created_at=conversation.created_at,
                updated_at=conversation.updated_at,
                messages=[_stored(row, feedback.get(row.id)) for row in rows],
            )

    def give_feedback(self, message_id: str, rating: str, reason: str | None) -> None:
        with self.db.session() as session:
            if session.get(MessageRow, message_id) is None:
                raise NotFound(f"No message {message_id}.")
            row = session.get(FeedbackRow, message_id) or FeedbackRow(message_id=message_id)
            row.rating, row.reason, row.created_at = rating, reason, clock.now()
            session.add(row)

    def purge(
        self, older_than: timedelta, feedback_older_than: timedelta | None = None, dry_run: bool = False
    ) -> dict[str, int]:
        """Removes conversations untouched for longer than the retention period, with their messages and
        feedback, and feedback older than its own; rows removed per table (`dry_run`: only counted)."""
        moment = clock.now()
        old_feedback = (
            None if feedback_older_than is None else FeedbackRow.created_at < moment - feedback_older_than
        )
        with self.db.session() as session:
            return _remove(session, ConversationRow.updated_at < moment - older_than, old_feedback, dry_run)

    def tally(
        self, since: datetime, until: datetime, channel: str | None = None, include_staff: bool = False
    ) -> list[Tally]:
        """The answers given in [since, until), for the figures (loket.insight): oldest first."""
        conditions = [MessageRow.created_at >= since, MessageRow.created_at < until]
        if channel:
            conditions.append(MessageRow.channel == channel)
        if not include_staff:
            conditions.append(MessageRow.staff.is_(False))
        query = (
            select(
                MessageRow.created_at,
                MessageRow.status,
                MessageRow.route,
                MessageRow.language,
                MessageRow.channel,
                MessageRow.staff,
                FeedbackRow.rating,
                MessageRow.trace,
                MessageRow.citations,
            )
            .outerjoin(FeedbackRow, FeedbackRow.message_id == MessageRow.id)
            .where(*conditions)
            .order_by(MessageRow.created_at)
        )
        with self.db.session() as session:
            return [
                Tally(
                    *row[:7],
                    {step["stage"]: step["ms"] for step in row.trace if "stage" in step},
                    [citation["url"] for citation in row.citations],
                )
                for row in session.execute(query)
            ]

    def begun_by(self, person_ids: list[str]) -> list[str]:
        """The ids of the conversations these persons began logged in."""
        with self.db.session() as session:
            return list(
                session.scalars(select(ConversationRow.id).where(ConversationRow.person_id.in_(person_ids)))
            )

    def erase_persons(self, person_ids: list[str], dry_run: bool = False) -> dict[str, int]:
        """The conversations these persons began logged in; those begun anonymously are nobody's."""
        with self.db.session() as session:
            return _remove(session, ConversationRow.person_id.in_(person_ids), None, dry_run)

    def switch(self) -> Switch:
        with self.db.session() as session:
            row = session.get(SwitchRow, 1)
            return Switch(row.enabled, row.reason, row.changed_at) if row else Switch(True)

    def set_switch(self, enabled: bool, reason: str = "") -> Switch:
        with self.db.session() as session:
            row = session.get(SwitchRow, 1) or SwitchRow(id=1)
            row.enabled, row.reason, row.changed_at = enabled, reason, clock.now()
            session.add(row)
        return self.switch()


def _remove(
    session, conversations: ColumnElement[bool], more_feedback: ColumnElement[bool] | None, dry_run: bool
) -> dict[str, int]:
    """The matching conversations with their messages and feedback, children first, in one transaction."""
    ids = select(ConversationRow.id).where(conversations)
    feedback = FeedbackRow.message_id.in_(select(MessageRow.id).where(MessageRow.conversation_id.in_(ids)))
    if more_feedback is not None:
        feedback = or_(feedback, more_feedback)
    feedback_removed = remove(session, FeedbackRow, feedback, dry_run)
    messages_removed = remove(session, MessageRow, MessageRow.conversation_id.in_(ids), dry_run)
    return {
        "conversations": remove(session, ConversationRow, conversations, dry_run),
        "messages": messages_removed,
        "feedback": feedback_removed,
    }


def _holds(row: ConversationRow | None, holder: Holder) -> bool:
    if row is None or row.token_hash is None or not holder.token:
        return False
    token_matches = hmac.compare_digest(row.token_hash, token_hash(holder.token))
    return token_matches and (row.person_id is None or row.person_id == holder.person_id)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _stored(row: MessageRow, feedback: dict | None) -> StoredMessage:
    return StoredMessage(
        id=row.id,
        position=row.position,
        created_at=row.created_at,
        question=row.question,
        standalone=row.standalone,
        status=Status(row.status),
        answer=row.answer,
        language=row.language,
        citations=row.citations,
        notices=row.notices,
        trace=row.trace,
        trace_id=row.trace_id,
        feedback=feedback,
    )
