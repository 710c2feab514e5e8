"""Conversations as stored: what `GET /api/v1/conversations/{id}` shows, feedback, retention and the switch.

Only redacted text gets here: the pipeline replaces personal identifiers before it stores a question,
so what a citizen or an operator reads back is exactly what was kept.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from loket import clock
from loket.assistant.models import (
    AnswersHourRow,
    CitedHourRow,
    ConversationRow,
    FeedbackRow,
    KindsHourRow,
    MessageRow,
    SwitchRow,
)
from loket.assistant.observers import Answered, Observer, tell
from loket.assistant.schemas import Answer, Holder, Status
from loket.db import Database, add_to, remove
from loket.errors import NotFound
from loket.events import EventBus

_KINDS = {"statuses": "status", "routes": "route", "languages": "language"}  # counted per value
_LLM = ("llm_answers", "prompt_tokens", "completion_tokens", "cost")  # what the LLM wrote and cost
_SUMS = ("answers", "up", "down", *_LLM)
# The stage times are read from this many of a period's latest answers: each answer's trace is a
# document, and the percentiles of 2,000 answers tell as much as those of a million.
STAGE_SAMPLE = 2_000
HISTORY_TURNS = 3  # the earlier questions a follow-up is read with
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
REASONS = 20  # the latest reasons given with feedback, as kept (redacted)


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
    """How a question came: the channel (web, widget, api), whether staff asked it or it is test
    traffic (a probe, a load test, an evaluation: both left out of the public figures), the route it
    took."""

    channel: str = "api"
    staff: bool = False
    route: str | None = None
    test: bool = False


@dataclass(frozen=True)
class Figures:
    """The answers of a period as the figures count them: sums, never text."""

    per_hour: dict[datetime, int]  # the start of each UTC hour that had answers -> how many
    channels: dict[str, int]  # web, widget, api -> answers
    statuses: dict[str, int]
    routes: dict[str, int]
    languages: dict[str, int]
    ratings: dict[str, int]  # feedback: up, down -> how many
    llm: dict[str, float]  # answers an LLM wrote, their prompt and completion tokens, cost; {} for none
    cited: dict[str, int]  # address -> answers citing it
    stages: dict[str, list[float]]  # milliseconds per pipeline stage, over the latest STAGE_SAMPLE answers
    reasons: list[tuple[datetime, str, str]]  # the latest REASONS given with feedback: when, up or down, why


@dataclass(frozen=True)
class Unanswered:
    """A question as the content gaps see it: redacted, with who asked (a person's id, or the
    conversation's when nobody was logged in) only to count distinct askers."""

    id: str
    at: datetime
    text: str  # the standalone question, redacted
    language: str
    asker: str
    why: str  # "unanswerable", or "down" (its answer was voted down)


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
    follower hears of a message that is not there, and none is stored unannounced. `observers`: who
    hears each stored answer's and rating's figures once committed (loket.assistant.observers)."""

    def __init__(self, db: Database, events: EventBus | None = None) -> None:
        self.db = db
        self.events = events
        self.observers: list[Observer] = []

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

    def history(self, conversation_id: str, turns: int = HISTORY_TURNS) -> list[str]:
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
            stored = MessageRow(
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
                test=asked.test,
            )
            session.add(stored)
            llm = _llm_costs(trace)
            _count(session, stored, answer, llm)
            if self.events:  # ids only: a client reads the message itself from the conversation
                data = {
                    "conversation_id": answer.conversation_id,
                    "message_id": answer.message_id,
                    "status": answer.status.value,
                }
                self.events.publish(session, conversation_stream(answer.conversation_id), "message", data)
        tell(self.observers, "answered", _answered(answer, trace, asked, llm))

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
            message_row = session.get(MessageRow, message_id, with_for_update=True)
            if message_row is None:
                raise NotFound(f"No message {message_id}.")
            row = session.get(FeedbackRow, message_id) or FeedbackRow(message_id=message_id)
            if row.rating != rating:  # the hour's sums count each answer's latest rating
                change = {name: int(name == rating) - int(name == row.rating) for name in _SUMS}
                add_to(session, AnswersHourRow, _whose(message_row), change)
            row.rating, row.reason, row.created_at = rating, reason, clock.now()
            session.add(row)
        tell(self.observers, "rated", rating)

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

    def not_counted(
        self,
        conversation_ids: list[str],
        until: datetime,
        channel: str | None = None,
        include_staff: bool = False,
        include_test: bool = False,
    ) -> set[str]:
        """Those of the conversations the figures leave out with these filters: every turn of theirs
        until `until` is another channel's, staff's or test traffic. A hand-off is counted as the
        conversation it was asked in; one with no turn at all is people's."""
        ids = list(conversation_ids)
        matching = _asked(MessageRow.created_at, EPOCH, until, channel, include_staff, include_test)
        with self.db.session() as session:
            asked = set(
                session.scalars(
                    select(MessageRow.conversation_id).where(
                        MessageRow.conversation_id.in_(ids), MessageRow.created_at < until
                    )
                )
            )
            counted = set(
                session.scalars(
                    select(MessageRow.conversation_id).where(MessageRow.conversation_id.in_(ids), *matching)
                )
            )
        return asked - counted

    def figures(
        self,
        since: datetime,
        until: datetime,
        channel: str | None = None,
        include_staff: bool = False,
        include_test: bool = False,
    ) -> Figures:
        """The answers given in the whole UTC hours of [since, until), for the figures (loket.insight):
        read from the sums kept per hour, so a few rows an hour whatever the number of answers; the
        stage times and the reasons given with feedback from the latest answers themselves."""

        def kept(model) -> list[ColumnElement[bool]]:
            return _asked(model.hour, since, until, channel, include_staff, include_test)

        answered = _asked(MessageRow.created_at, since, until, channel, include_staff, include_test)
        hours = kept(AnswersHourRow)
        sums = [func.coalesce(func.sum(getattr(AnswersHourRow, name)), 0) for name in _SUMS]
        answers = func.sum(AnswersHourRow.answers)
        per_kind = (KindsHourRow.kind, KindsHourRow.value)
        with self.db.session() as session:
            per_hour = session.execute(
                select(AnswersHourRow.hour, answers).where(*hours).group_by(AnswersHourRow.hour)
            ).all()
            channels = session.execute(
                select(AnswersHourRow.channel, answers).where(*hours).group_by(AnswersHourRow.channel)
            ).all()
            totals = dict(zip(_SUMS, session.execute(select(*sums).where(*hours)).one(), strict=True))
            kinds = session.execute(
                select(*per_kind, func.sum(KindsHourRow.answers))
                .where(*kept(KindsHourRow))
                .group_by(*per_kind)
            ).all()
            cited = session.execute(
                select(CitedHourRow.url, func.sum(CitedHourRow.answers))
                .where(*kept(CitedHourRow))
                .group_by(CitedHourRow.url)
            ).all()
            traces = session.scalars(
                select(MessageRow.trace)
                .where(*answered)
                .order_by(MessageRow.created_at.desc())
                .limit(STAGE_SAMPLE)
            ).all()
            reasons = session.execute(
                select(FeedbackRow.created_at, FeedbackRow.rating, FeedbackRow.reason)
                .join(MessageRow, MessageRow.id == FeedbackRow.message_id)
                .where(*answered, FeedbackRow.reason.is_not(None), FeedbackRow.reason != "")
                .order_by(FeedbackRow.created_at.desc())
                .limit(REASONS)
            ).all()
        stages: dict[str, list[float]] = {}
        for trace in traces:
            for step in trace:
                stages.setdefault(step["stage"], []).append(step["ms"])
        return Figures(
            per_hour={hour: count for hour, count in per_hour},
            channels=dict(channels),
            **{name: {v: n for k, v, n in kinds if k == kind} for name, kind in _KINDS.items()},
            ratings={rating: totals[rating] for rating in ("up", "down") if totals[rating]},
            llm={name: totals[name] for name in _LLM} if totals["llm_answers"] else {},
            cited=dict(cited),
            stages=stages,
            reasons=[tuple(row) for row in reasons],
        )

    def unanswered(self, since: datetime, until: datetime) -> list[Unanswered]:
        """The questions of [since, until) loket had no answer to, and those whose answer was voted
        down, as stored (redacted), for the content gaps; staff's and test traffic left out."""
        query = (
            select(
                MessageRow.id,
                MessageRow.created_at,
                MessageRow.standalone,
                MessageRow.language,
                func.coalesce(ConversationRow.person_id, ConversationRow.id),
                MessageRow.status,
                FeedbackRow.rating,
            )
            .join(ConversationRow, ConversationRow.id == MessageRow.conversation_id)
            .outerjoin(FeedbackRow, FeedbackRow.message_id == MessageRow.id)
            .where(
                *_asked(MessageRow.created_at, since, until),
                MessageRow.standalone != "",
                or_(MessageRow.status == Status.UNANSWERABLE, FeedbackRow.rating == "down"),
            )
            .order_by(MessageRow.created_at)
        )
        with self.db.session() as session:
            return [
                Unanswered(id, at, text, language, asker, "down" if rating == "down" else status)
                for id, at, text, language, asker, status, rating in session.execute(query)
            ]

    def sample(self, since: datetime, until: datetime, size: int, leave_out: set[str]) -> list[StoredMessage]:
        """Up to `size` answered questions of [since, until) drawn at random, for review; staff's and
        test traffic left out, and the ids in `leave_out` (already reviewed)."""
        query = select(MessageRow).where(
            *_asked(MessageRow.created_at, since, until), MessageRow.status == Status.ANSWERED
        )
        if leave_out:
            query = query.where(MessageRow.id.not_in(leave_out))
        with self.db.session() as session:
            return [_stored(row, None) for row in session.scalars(query.order_by(func.random()).limit(size))]

    def messages(self, ids: list[str]) -> dict[str, StoredMessage]:
        """The stored messages with these ids that are still kept (retention may have removed some)."""
        with self.db.session() as session:
            rows = session.scalars(select(MessageRow).where(MessageRow.id.in_(ids))).all()
            return {row.id: _stored(row, None) for row in rows}

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


def _whose(message: MessageRow) -> dict:
    """Whose answer a message is, in its UTC hour: the key of its hour's sums."""
    return {
        "hour": message.created_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0),
        "channel": message.channel,
        "staff": message.staff,
        "test": message.test,
    }


def _count(session, message: MessageRow, answer: Answer, llm: dict) -> None:
    """Adds a stored answer to its hour's sums: the answer, its status, route and language, what the
    LLM cost, and each page it cites."""
    whose = _whose(message)
    amounts = {"answers": 1, "up": 0, "down": 0, "llm_answers": int(bool(llm))}
    amounts |= {name: llm.get(name) or 0 for name in _LLM[1:]}
    add_to(session, AnswersHourRow, whose, amounts)
    for kind in _KINDS.values():
        value = getattr(message, kind) or "information"  # asked without a route: looking for information
        add_to(session, KindsHourRow, {**whose, "kind": kind, "value": value}, {"answers": 1})
    for url in dict.fromkeys(citation.url for citation in answer.citations):
        add_to(session, CitedHourRow, {**whose, "url": url}, {"answers": 1})


def _asked(
    moment: InstrumentedAttribute,
    since: datetime,
    until: datetime,
    channel: str | None = None,
    include_staff: bool = False,
    include_test: bool = False,
) -> list[ColumnElement[bool]]:
    """Answers (or their hourly sums) whose `moment` is in [since, until), from one channel or all;
    without staff's and test traffic unless asked for (the public figures never ask)."""
    rows = moment.class_
    where = [moment >= since, moment < until]
    if channel:
        where.append(rows.channel == channel)
    if not include_staff:
        where.append(rows.staff.is_(False))
    if not include_test:
        where.append(rows.test.is_(False))
    return where


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


def _llm_costs(trace: list[dict]) -> dict:
    """The tokens and cost the composing LLM reported in its trace step, if an LLM wrote the answer."""
    for step in trace:
        details = step.get("details") or {}
        if "prompt_tokens" in details:
            return {key: details.get(key) for key in ("prompt_tokens", "completion_tokens", "cost")}
    return {}


def _answered(answer: Answer, trace: list[dict], asked: Asked, llm: dict) -> Answered:
    """A stored answer's figures, for the observers: seconds per stage, and what the LLM cost."""
    stages = {step["stage"]: step["ms"] / 1000 for step in trace if "stage" in step}
    return Answered(
        answer.status.value,
        asked.route,
        asked.channel,
        answer.language,
        asked.staff,
        asked.test,
        stages,
        **llm,
    )


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
