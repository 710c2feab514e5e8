"""Hand-off: a person asks for a human, waits in a queue, and an agent takes over the same conversation.

Every step is an event in `handoff_events`, numbered per conversation; a conversation's state (bot,
waiting, assigned, ended) is folded from its events, never stored beside them. Writing step n+1 is
how a step is taken: the unique (conversation, step) lets exactly one of two agents who claim at once
succeed, and the other gets a 409, whichever replica each is on. Each step is also published on the
conversation's event stream (ids and kinds only), so the person's chat and the agent's console hear
of it at once, across replicas. Out of office hours there is no queue: a contact form instead.

While an agent holds a conversation the assistant sends nothing: the person's messages go to the
agent (the assistant asks `holds`, then `say`). An agent reading a logged-in person's conversation
is written to that person's access log.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from loket import clock
from loket.assistant.conversations import Conversation, conversation_stream
from loket.assistant.observers import tell
from loket.assistant.service import AssistantService
from loket.business_hours import OfficeHours
from loket.consent.choices import Choices
from loket.db import Database, remove
from loket.errors import BadRequest, LoketError, NotFound
from loket.events import EventBus
from loket.handoff.models import AgentRow, ContinuationRow, HandoffEventRow
from loket.identity.schemas import Forbidden, SignedIn
from loket.identity.service import IdentityService
from loket.logging import get_logger
from loket.personal_data import normalise, redacted

log = get_logger(__name__)
CONTACT_FORM = "/contact"
HANDOFF = "handoff"  # the purpose in the processing register: an agent reads the conversation
CODE_MINUTES = 30
MAX_TEXT = 2000
RECENT = timedelta(days=2)  # how far back the queue looks for open hand-offs
QUEUE_STREAM = "handoff:queue"  # every change to the queue, for the agents' consoles
QUEUE_CHANGES = {"requested", "claimed", "transferred", "ended"}
QUEUED, CONTACT_FORM_OFFERED = "queued", "contact_form"  # what became of a request for a human


class State(StrEnum):
    BOT = "bot"
    WAITING = "waiting"
    ASSIGNED = "assigned"
    ENDED = "ended"


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class EndReason(StrEnum):
    """How a hand-off ended: a fixed list, so the figures add up."""

    ANSWERED = "answered"
    REFERRED = "referred"
    CALLBACK = "callback_planned"
    NO_REPLY_NEEDED = "no_reply_needed"
    LEFT = "left_unknown"
    ABUSE = "abusive"


class Conflict(LoketError):
    status_code = 409
    code = "conflict"


@dataclass
class Handoff:
    """A conversation's hand-off as its events tell it."""

    conversation_id: str
    state: State = State.BOT
    team: str = ""
    agent: str | None = None
    requested_at: datetime | None = None
    queued_as: int = 0  # the request's event id: who asked first, when two ask in the same instant
    claimed_at: datetime | None = None
    last_at: datetime | None = None
    step: int = 0
    messages: list[dict] = field(default_factory=list)  # {"from", "text", "at"}
    profile: str = ""


@dataclass
class Timing:
    conversation_id: str
    requested_at: datetime
    first_response: float | None = None  # seconds in office hours
    resolution: float | None = None


@dataclass(frozen=True)
class Request:
    state: State
    position: int | None = None
    estimated_wait_seconds: int | None = None
    contact_form: str | None = None


class RequestObserver(Protocol):
    """Hears of each new request for a human, and what became of it (`QUEUED`, or out of office
    hours `CONTACT_FORM_OFFERED`), once it is stored: the web app's metrics (loket.assistant.observers)."""

    def handoff_requested(self, outcome: str) -> None: ...


class HandoffService:
    def __init__(
        self,
        db: Database,
        events: EventBus,
        assistant: AssistantService,
        identity: IdentityService,
        choices: Choices,
        hours: OfficeHours,
        seconds_per_conversation: int = 300,
        idle_minutes: int = 30,
    ) -> None:
        self.db = db
        self.choices = choices
        self.events = events
        self.assistant = assistant
        self.identity = identity
        self.hours = hours
        self.seconds_per_conversation = seconds_per_conversation
        self.idle = timedelta(minutes=idle_minutes)
        self.observers: list[RequestObserver] = []

    # The person's side

    def request(
        self, conversation_id: str, user: SignedIn | None = None, team: str = "general", share: bool = True
    ) -> Request:
        """Queues the conversation, or, out of office hours, offers the contact form (no queue entry).
        `share`: whether the agent may read the conversation with the assistant so far; the person's
        choice, kept by the consent block and asked again when the agent reads it."""
        current = self.get(conversation_id)
        if current.state in (State.WAITING, State.ASSIGNED):
            return self.place(current)
        if share != self.shared(conversation_id):
            self.choices.make(_whose(conversation_id), HANDOFF, share, user.person.id if user else "citizen")
        if not self.hours.is_open(clock.now()):
            self._append(current, "closed_offered", "citizen", {})
            tell(self.observers, "handoff_requested", CONTACT_FORM_OFFERED)
            return Request(State.ENDED, contact_form=CONTACT_FORM)
        profile = user.active.name if user else ""
        self._append(current, "requested", "citizen", {"team": team, "profile": profile})
        tell(self.observers, "handoff_requested", QUEUED)
        return self.place(self.get(conversation_id))

    def say(self, conversation_id: str, text: str) -> Handoff:
        """The person's message while a human holds the conversation (redacted like a question)."""
        current = self.get(conversation_id)
        if current.state not in (State.WAITING, State.ASSIGNED):
            raise Conflict("no one is waiting for or handling this conversation")
        self._append(current, "citizen_message", "citizen", {"text": _text(text, redact=True)})
        return self.get(conversation_id)

    def holds(self, conversation_id: str) -> bool:
        """Whether an agent holds the conversation (then the assistant stays silent)."""
        return self.get(conversation_id).state is State.ASSIGNED

    def ask_contact(self, conversation_id: str, channel: str, contact: str, consent: bool) -> None:
        """Out of office hours: the person asks to be called back or mailed, and says they agree."""
        if channel not in ("phone", "email") or not normalise(contact) or not consent:
            raise BadRequest(
                "give a phone number or an e-mail address, and agree that we use it to contact you"
            )
        data = {"channel": channel, "contact": normalise(contact)[:200]}
        self._append(self.get(conversation_id), "contact_requested", "citizen", data)

    def contact_requests(self) -> list[tuple[str, str, str, datetime]]:
        """(conversation, channel, contact, when) of the recent requests to be contacted, newest first."""
        with self.db.session() as session:
            rows = session.scalars(
                select(HandoffEventRow)
                .where(
                    HandoffEventRow.kind == "contact_requested", HandoffEventRow.at >= clock.now() - RECENT
                )
                .order_by(HandoffEventRow.id.desc())
            ).all()
            return [(r.conversation_id, r.data["channel"], r.data["contact"], r.at) for r in rows]

    def remove_expired(self, older_than: timedelta, dry_run: bool = False) -> dict[str, int]:
        """Hand-offs (what was said, contact details) go with the conversations' retention."""
        with self.db.session() as session:
            old = HandoffEventRow.at < clock.now() - older_than
            expired = remove(session, HandoffEventRow, old, dry_run)
            codes = remove(session, ContinuationRow, ContinuationRow.expires_at < clock.now(), dry_run)
        return {"hand-off steps": expired, "continuation codes": codes}

    def erase_conversations(self, conversation_ids: list[str], dry_run: bool = False) -> dict[str, int]:
        """The hand-offs of these conversations (a person's erasure): what was said, contact details."""
        with self.db.session() as session:
            theirs = HandoffEventRow.conversation_id.in_(conversation_ids)
            remove(session, ContinuationRow, ContinuationRow.conversation_id.in_(conversation_ids), dry_run)
            return {"hand-off steps": remove(session, HandoffEventRow, theirs, dry_run)}

    def continuation_code(self, conversation_id: str) -> str:
        """A six-digit code for the phone infoline, valid CODE_MINUTES."""
        code = f"{secrets.randbelow(10**6):06d}"
        with self.db.session() as session:
            session.add(
                ContinuationRow(
                    code_hash=_hash(code),
                    conversation_id=conversation_id,
                    expires_at=clock.now() + timedelta(minutes=CODE_MINUTES),
                )
            )
        return f"{code[:3]}-{code[3:]}"

    # The agent's side

    def queue(self, team: str | None = None) -> list[Handoff]:
        """Waiting conversations, longest waiting first."""
        waiting = [h for h in self._open() if h.state is State.WAITING and (team is None or h.team == team)]
        return sorted(waiting, key=lambda h: (h.requested_at, h.queued_as))

    def claim(self, conversation_id: str, agent: SignedIn) -> Handoff:
        """Exactly one agent wins; the others get Conflict."""
        current = self.get(conversation_id)
        if current.state is not State.WAITING:
            raise Conflict("this conversation is not waiting (any more): another agent may have it")
        self._append(current, "claimed", agent.person.id, {"name": agent.person.name})
        log.info("handoff.claimed", conversation=conversation_id, agent=agent.person.id)
        return self.get(conversation_id)

    def shared(self, conversation_id: str) -> bool:
        """Whether the person lets agents read their conversation with the assistant."""
        return self.choices.allows(_whose(conversation_id), HANDOFF)

    def read(self, conversation_id: str, agent: SignedIn) -> tuple[Handoff, Conversation, bool]:
        """The hand-off, the conversation with the assistant as stored (redacted), and whether the
        person shares it: when not, it comes without its messages. A logged-in person's conversation,
        read, goes in their access log."""
        current = self.get(conversation_id)
        if current.state is State.BOT:
            raise NotFound("no hand-off for this conversation")
        conversation = self.assistant.conversation(conversation_id)
        if not self.shared(conversation_id):
            return current, replace(conversation, messages=[]), False
        person = self.assistant.conversations.person(conversation_id)
        if person:
            self.identity.access_log.record(
                agent, f"person:{person}", f"conversation:{conversation_id}", "handoff"
            )
        return current, conversation, True

    def reply(self, conversation_id: str, agent: SignedIn, text: str) -> Handoff:
        current = self._held_by(conversation_id, agent)
        self._append(current, "agent_message", agent.person.id, {"text": _text(text)})
        return self.get(conversation_id)

    def transfer(
        self, conversation_id: str, agent: SignedIn, team: str | None, to_agent: str | None
    ) -> Handoff:
        """To another team (back in its queue) or to an agent who is online; from, to and by recorded."""
        current = self._held_by(conversation_id, agent)
        if bool(team) == bool(to_agent):
            raise BadRequest("transfer to a team or to an agent, not both or neither")
        if to_agent and self.presence(to_agent) is not Presence.ONLINE:
            raise Conflict("that agent is not online: transfer to a team, or to an agent who is")
        data = {"from": agent.person.id, "to_team": team, "to_agent": to_agent}
        self._append(current, "transferred", agent.person.id, data)
        return self.get(conversation_id)

    def end(
        self, conversation_id: str, agent: SignedIn, reason: str, topic: str = "", follow_up: bool = False
    ) -> Handoff:
        current = self._held_by(conversation_id, agent)
        if reason not in set(EndReason):
            raise BadRequest(f"end with one of: {', '.join(EndReason)}")
        data = {"reason": reason, "topic": normalise(topic)[:100], "follow_up": follow_up}
        self._append(current, "ended", agent.person.id, data)
        return self.get(conversation_id)

    def open_with_code(self, code: str) -> str:
        """The conversation a continuation code names; NotFound when unknown or expired."""
        digits = "".join(c for c in code if c.isdigit())
        with self.db.session() as session:
            row = session.get(ContinuationRow, _hash(digits)) if len(digits) == 6 else None
            if row is None or row.expires_at <= clock.now():
                raise NotFound("this code is unknown or has expired: ask the person for a new one")
            return row.conversation_id

    def set_presence(self, agent: SignedIn, status: str, teams: list[str] | None = None) -> None:
        if status not in set(Presence):
            raise BadRequest(f"status is one of: {', '.join(Presence)}")
        with self.db.session() as session:
            row = session.get(AgentRow, agent.person.id)
            if row is None:
                row = AgentRow(person_id=agent.person.id, name=agent.person.name, teams=["general"])
                session.add(row)
            row.status, row.updated_at = status, clock.now()
            if teams is not None:
                row.teams = sorted({t.strip() for t in teams if t.strip()}) or ["general"]

    def presence(self, person_id: str) -> Presence:
        with self.db.session() as session:
            row = session.get(AgentRow, person_id)
            return Presence(row.status) if row else Presence.OFFLINE

    def online_agents(self) -> list[tuple[str, str]]:
        """(person id, name) of the agents online now."""
        with self.db.session() as session:
            rows = session.execute(
                select(AgentRow.person_id, AgentRow.name)
                .where(AgentRow.status == Presence.ONLINE)
                .order_by(AgentRow.name)
            ).all()
            return [(row.person_id, row.name) for row in rows]

    def end_idle(self) -> int:
        """Ends, as "left, unknown", hand-offs with no step for the idle time; how many (a job)."""
        ended = 0
        for current in self._open():
            if (
                current.state in (State.WAITING, State.ASSIGNED)
                and clock.now() - current.last_at >= self.idle
            ):
                try:
                    self._append(
                        current, "ended", "loket", {"reason": EndReason.LEFT, "topic": "", "follow_up": False}
                    )
                    ended += 1
                except Conflict:
                    pass  # a step was taken meanwhile: not idle after all
        return ended

    def follow(self, conversation_id: str | None, after_id: int, idle: float):
        """The event stream of one conversation, or of the queue (None), for an agent's console."""
        stream = conversation_stream(conversation_id) if conversation_id else QUEUE_STREAM
        return self.events.subscribe(stream, after_id, idle)

    def timings(self, since: datetime) -> list[Timing]:
        """For each hand-off requested since `since`: seconds in office hours until an agent first
        answered, and until it ended (None while not yet), for the insight block's figures."""
        with self.db.session() as session:
            ids = session.scalars(
                select(HandoffEventRow.conversation_id)
                .where(HandoffEventRow.kind == "requested", HandoffEventRow.at >= since)
                .distinct()
            ).all()
            rows = session.scalars(
                select(HandoffEventRow)
                .where(HandoffEventRow.conversation_id.in_(ids))
                .order_by(HandoffEventRow.id)
            ).all()
        found: dict[str, Timing] = {}
        for row in rows:
            if row.kind == "requested":
                found[row.conversation_id] = Timing(row.conversation_id, row.at)
            timing = found.get(row.conversation_id)
            if timing is None:
                continue
            if row.kind == "agent_message" and timing.first_response is None:
                timing.first_response = self.hours.business_seconds(timing.requested_at, row.at)
            elif row.kind == "ended" and timing.resolution is None:
                timing.resolution = self.hours.business_seconds(timing.requested_at, row.at)
        return list(found.values())

    # Reading the events

    def get(self, conversation_id: str) -> Handoff:
        with self.db.session() as session:
            rows = session.scalars(
                select(HandoffEventRow)
                .where(HandoffEventRow.conversation_id == conversation_id)
                .order_by(HandoffEventRow.step)
            ).all()
            return _fold(conversation_id, rows)

    def _open(self) -> list[Handoff]:
        since = clock.now() - RECENT
        with self.db.session() as session:
            ids = session.scalars(
                select(HandoffEventRow.conversation_id)
                .where(HandoffEventRow.kind == "requested", HandoffEventRow.at >= since)
                .distinct()
            ).all()
        return [h for h in (self.get(i) for i in ids) if h.state in (State.WAITING, State.ASSIGNED)]

    def place(self, current: Handoff) -> Request:
        """Where a waiting conversation is in its team's queue, and about how long until its turn."""
        if current.state is State.ASSIGNED:
            return Request(State.ASSIGNED, position=0, estimated_wait_seconds=0)
        waiting = [h.conversation_id for h in self.queue(current.team)]
        position = waiting.index(current.conversation_id) + 1 if current.conversation_id in waiting else 1
        agents = max(1, len(self.online_agents()))
        return Request(State.WAITING, position, position * self.seconds_per_conversation // agents)

    def _held_by(self, conversation_id: str, agent: SignedIn) -> Handoff:
        current = self.get(conversation_id)
        if current.state is not State.ASSIGNED or current.agent != agent.person.id:
            raise Forbidden("another agent handles this conversation, or no one does")
        return current

    def _append(self, current: Handoff, kind: str, actor: str, data: dict) -> None:
        """Writes step n+1 of the conversation and tells its stream, in one transaction; Conflict when
        someone else wrote step n+1 first."""
        step = current.step + 1
        waiting = (
            [h for h in self.queue() if h.conversation_id != current.conversation_id]
            if kind in QUEUE_CHANGES
            else []
        )
        try:
            with self.db.session() as session:
                session.add(
                    HandoffEventRow(
                        conversation_id=current.conversation_id,
                        step=step,
                        kind=kind,
                        actor=actor,
                        data=data,
                        at=clock.now(),
                    )
                )
                session.flush()
                self.events.publish(
                    session,
                    conversation_stream(current.conversation_id),
                    "handoff",
                    {"step": step, "kind": kind},
                )
                if kind in QUEUE_CHANGES:  # the agents' consoles follow the queue
                    self.events.publish(
                        session,
                        QUEUE_STREAM,
                        "handoff",
                        {"conversation_id": current.conversation_id, "step": step, "kind": kind},
                    )
                    # and everyone waiting sees their place change
                    for other in waiting:
                        stream = conversation_stream(other.conversation_id)
                        self.events.publish(session, stream, "handoff", {"kind": "queue_moved"})
        except IntegrityError as error:
            raise Conflict("someone else changed this conversation at the same moment: look again") from error


def _fold(conversation_id: str, rows) -> Handoff:
    current = Handoff(conversation_id)
    for row in rows:
        current.step, current.last_at = row.step, row.at
        data = row.data
        if row.kind == "requested":
            current.state, current.team, current.agent = State.WAITING, data.get("team", "general"), None
            current.requested_at, current.claimed_at, current.messages = row.at, None, []
            current.queued_as = row.id
            current.profile = data.get("profile", "")
        elif row.kind == "claimed":
            current.state, current.agent, current.claimed_at = State.ASSIGNED, row.actor, row.at
        elif row.kind == "transferred":
            if data.get("to_agent"):
                current.state, current.agent = State.ASSIGNED, data["to_agent"]
            else:
                current.state, current.agent, current.team = State.WAITING, None, data["to_team"]
                current.queued_as = row.id
        elif row.kind in ("agent_message", "citizen_message"):
            sender = "agent" if row.kind == "agent_message" else "citizen"
            current.messages.append({"from": sender, "text": data["text"], "at": row.at})
        elif row.kind in ("ended", "closed_offered"):
            current.state, current.agent = State.ENDED, None
    return current


def _text(text: str, redact: bool = False) -> str:
    text = normalise(text)[:MAX_TEXT]
    if not text:
        raise BadRequest("an empty message says nothing")
    return redacted(text) if redact else text


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _whose(conversation_id: str) -> tuple[str, str]:
    """A conversation's choices are its own, whether or not its person logged in."""
    return ("conversation", conversation_id)
