"""Life events in, suggestions out.

An authentic source sends a life event (`intake`) with its agency token; the event is stored once per
CloudEvents (source, id) and its evaluation queued in the same transaction. The job keeps what the
event says as facts, runs the rules the event concerns (and those already suggested to the subject,
whose facts may have changed) on the engine, and keeps one suggestion per subject and rule: a
dismissed one is never proposed again. New offers reach the inbox as a message from loket that says
nothing personal. Every evaluation of a person's facts is in their access log, the rule as purpose; a
person or company that turned proactive use off (a choice kept by the consent block) is not evaluated
and its facts are gone.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, select

from loket import clock
from loket.catalog.service import CatalogService
from loket.consent.choices import ALL, Choices
from loket.db import Database, insert_new, remove
from loket.errors import BadRequest, NotFound
from loket.i18n import message
from loket.identity import national_number
from loket.identity.schemas import Forbidden, Party, SignedIn
from loket.identity.service import IdentityService
from loket.jobs import EVALUATE, Jobs
from loket.logging import get_logger
from loket.messages.service import MessageService
from loket.proactive import intake
from loket.proactive.engine import Outcome, Rule, RuleSet
from loket.proactive.models import EventRow, EventSourceRow, FactRow, SuggestionRow
from loket.proactive.schemas import Explanation, Service, Suggestion
from loket.proactive.texts import (
    MANDATE_WITHOUT_SUGGESTIONS,
    OFFER_BODY,
    OFFER_SUBJECT,
    OPT_OUT_AS_SELF,
    UNKNOWN_RULE,
    UNKNOWN_SUGGESTION,
)

log = get_logger(__name__)
PROACTIVE = "proactive"  # the purpose in the processing register, which the person may turn off
SHOWN = ("eligible", "granted", "need_info")  # not_eligible is kept, and shown only when asked
OFFERED = ("eligible", "granted")  # what the inbox message announces; open questions wait on the page
DEMO_FACTS = Path(__file__).parent / "demo_facts.json"
DEMO_SENDER = "loket-demo"  # `loket events simulate`: the demo's authentic source
DEMO_SOURCE = "urn:loket:demo"
FOR_YOU = "/voor-u"


@dataclass(frozen=True)
class Received:
    id: int
    created: bool


class EventIdTaken(BadRequest):
    status_code = 409
    code = "event_id_taken"


class TypeNotAllowed(Forbidden):
    code = "event_type_not_allowed"


class ProactiveService:
    def __init__(
        self,
        db: Database,
        rules: RuleSet,
        identity: IdentityService,
        catalog: CatalogService,
        messages: MessageService,
        jobs: Jobs,
        choices: Choices,
    ) -> None:
        self.db = db
        self.choices = choices
        self.rules = rules
        self.identity = identity
        self.catalog = catalog
        self.messages = messages
        self.jobs = jobs

    # Which agency may send what

    def allow(self, agency: str, types: Iterable[str]) -> None:
        """Lets an agency (`loket agencies add`) send these life events (`loket events allow`)."""
        self.messages.agency(agency)
        unknown = [t for t in types if t not in intake.EVENT_TYPES]
        if unknown:
            raise BadRequest(f"unknown event type {unknown[0]!r}; known: {', '.join(intake.EVENT_TYPES)}")
        with self.db.session() as session:
            for event_type in types:
                insert_new(
                    session, EventSourceRow, {"agency": agency, "type": event_type}, ["agency", "type"]
                )

    def allowed(self, agency: str) -> set[str]:
        with self.db.session() as session:
            return set(session.scalars(select(EventSourceRow.type).where(EventSourceRow.agency == agency)))

    # Intake

    def receive(self, sender: str, envelope: dict) -> Received:
        """Stores a checked event and queues its evaluation, once per (source, id): the same event again
        is a repeat; another event under a used id is refused (it would rewrite what was evaluated)."""
        event, data = intake.parse(envelope)
        if sender != DEMO_SENDER and event.type not in self.allowed(sender):
            raise TypeNotAllowed(f"agency {sender!r} may not send {event.type} (loket events allow)")
        digest = intake.digest(event)
        values = {
            "source": event.source,
            "event_id": event.id,
            "type": event.type,
            "sender": sender,
            "subject_kind": data.subject_kind,
            "subject_key": data.subject,
            "data": data.model_dump(mode="json", exclude_none=True),
            "digest": digest,
            "occurred_at": event.time,
            "received_at": clock.now(),
        }
        with self.db.session() as session:
            created = insert_new(session, EventRow, values, ["source", "event_id"])
            row = session.scalar(
                select(EventRow).where(EventRow.source == event.source, EventRow.event_id == event.id)
            )
            if not created and row.digest != digest:
                raise EventIdTaken(
                    f"event {event.id!r} of {event.source!r} was another event: give each event its own id"
                )
            if created:
                self.jobs.enqueue(session, EVALUATE, event=row.id)
            received = Received(row.id, created)
        log.info("proactive.event_received", type=event.type, event_row=received.id, new=created)
        return received

    # Evaluation (the job)

    def evaluate_event(self, event_id: int) -> int:
        """Evaluates the rules an event concerns for its subject; how many are newly offered. Safe
        to run twice: facts and suggestions are upserted, the inbox message has the event's reference."""
        with self.db.session() as session:
            row = session.get(EventRow, event_id)
            if row is None or row.evaluated_at is not None:
                return 0
            event = {
                "id": row.event_id,
                "source": row.source,
                "type": row.type,
                "received_at": row.received_at,
            }
            subject = (row.subject_kind, row.subject_key)
            data = intake.EVENT_TYPES[row.type].model_validate(row.data)
        offered = []
        if self.choices.allows(subject, PROACTIVE):
            self._keep_facts(subject, data.facts(), event_id)
            rules = self.rules.for_event(row.type, subject[0]) + self._suggested_rules(subject)
            allowed = self.choices.allowed(subject, PROACTIVE, [r.id for r in rules])
            chosen = {r.id: r for r in rules if r.id in allowed}
            offered = self._evaluate(subject, list(chosen.values()), event) if chosen else []
        if offered:
            self._offer(subject, f"proactive-{event_id}", offered)
        with self.db.session() as session:
            session.get(EventRow, event_id).evaluated_at = clock.now()
        log.info("proactive.evaluated", event_row=event_id, offered=len(offered))
        return len(offered)

    def _evaluate(self, subject: tuple[str, str], rules: list[Rule], event: dict) -> list[Rule]:
        """Runs `rules` on the subject's facts and keeps the outcomes; the rules newly offered.

        A rule that turns on a life fact no source told (a child's birth date for someone loket knows
        of no child) does not concern the subject yet: it is not kept, rather than asked."""
        today = clock.now().date()
        facts = self.facts(subject)
        outcomes = [
            outcome
            for outcome in self.rules.evaluate([facts], today, rules)[0]
            if not any(self.rules.facts[name].kind == "date" for name in outcome.missing)
        ]
        if subject[0] == "person":
            for outcome in outcomes:
                self.identity.access_log.record_by_loket(
                    subject[1], "suggestions", f"proactive:{outcome.rule.id}"
                )
        offered = []
        with self.db.session() as session:
            for outcome in outcomes:
                if self._keep(session, subject, outcome, event):
                    offered.append(outcome.rule)
        return offered

    def _keep(self, session, subject: tuple[str, str], outcome: Outcome, event: dict) -> bool:
        """Upserts one outcome, unless dismissed; whether it is newly an offer."""
        rule, now = outcome.rule, clock.now()
        values = {
            "rule_version": rule.version,
            "service_id": rule.service,
            "outcome": outcome.outcome,
            "used": {name: _stored(value) for name, value in outcome.used.items()},
            "missing": list(outcome.missing),
            "parameter_date": outcome.on,
            "event": {**event, "received_at": event["received_at"].isoformat()},
            "updated_at": now,
        }
        key = {"subject_kind": subject[0], "subject_key": subject[1], "rule_id": rule.id}
        fresh = {"id": uuid.uuid4().hex, "created_at": now, **key, **values}
        if insert_new(session, SuggestionRow, fresh, list(key)):
            return outcome.outcome in OFFERED
        row = session.scalar(select(SuggestionRow).filter_by(**key).with_for_update())
        if row.dismissed_at is not None:
            return False
        newly_offered = outcome.outcome in OFFERED and row.outcome not in OFFERED
        for name, value in values.items():
            setattr(row, name, value)
        return newly_offered

    def _offer(self, subject: tuple[str, str], reference: str, rules: list[Rule]) -> None:
        """The inbox message: which services, and where to read why; the push says only that a message
        is there. In Dutch, the loket's first language: a message has no reader's language yet."""
        titles = "\n".join(f"- {rule.title.get('nl') or rule.id}" for rule in rules)
        body = f"{message(OFFER_BODY, 'nl')}\n\n{titles}"
        self.messages.send_own(subject, reference, message(OFFER_SUBJECT, "nl"), body)

    # Facts

    def facts(self, subject: tuple[str, str]) -> dict[str, Any]:
        """What loket knows of a subject, as the rules read it; a person's birth date from their number
        when no event told it."""
        with self.db.session() as session:
            rows = session.scalars(select(FactRow).where(*_about(FactRow, subject))).all()
            known = {row.name: self._read(row.name, row.value) for row in rows}
        if subject[0] == "person" and "birth_date" not in known:
            born = national_number.birth_date(subject[1])
            if born:
                known["birth_date"] = born
        return known

    def _read(self, name: str, value: Any) -> Any:
        fact = self.rules.facts.get(name)
        return date.fromisoformat(value) if fact and fact.kind == "date" and value is not None else value

    def _keep_facts(self, subject: tuple[str, str], facts: dict[str, Any], event_id: int | None) -> None:
        now = clock.now()
        with self.db.session() as session:
            for name, value in facts.items():
                key = {"subject_kind": subject[0], "subject_key": subject[1], "name": name}
                fresh = {**key, "value": _stored(value), "event_id": event_id, "recorded_at": now}
                if not insert_new(session, FactRow, fresh, list(key)):
                    row = session.scalar(select(FactRow).filter_by(**key).with_for_update())
                    row.value, row.event_id, row.recorded_at = _stored(value), event_id, now

    def _suggested_rules(self, subject: tuple[str, str]) -> list[Rule]:
        with self.db.session() as session:
            ids = session.scalars(
                select(SuggestionRow.rule_id).where(
                    *_about(SuggestionRow, subject), SuggestionRow.dismissed_at.is_(None)
                )
            ).all()
        return [self.rules.rules[i] for i in ids if i in self.rules.rules]

    def load_demo(self) -> None:
        """The demo persons' addresses, as the population register would give them (LOKET_DEMO=1)."""
        for number, facts in json.loads(DEMO_FACTS.read_text(encoding="utf-8"))["persons"].items():
            self._keep_facts(("person", number), intake.AddressChanged(subject=number, **facts).facts(), None)

    # Reading

    def suggestions(
        self, user: SignedIn, language: str, everything: bool = False, why: str = "own_view"
    ) -> list[Suggestion]:
        """The active profile's suggestions, newest first: offers, automatic grants and open questions
        (with `everything`, also the rules found not to apply). Logged as a read of the profile's data."""
        party = self._party(user, language)
        if party is None:
            return []
        outcomes = SHOWN + (("not_eligible",) if everything else ())
        with self.db.session() as session:
            rows = session.scalars(
                select(SuggestionRow)
                .where(
                    *_about(SuggestionRow, (party.type, party.key)),
                    SuggestionRow.dismissed_at.is_(None),
                    SuggestionRow.outcome.in_(outcomes),
                )
                .order_by(SuggestionRow.updated_at.desc(), SuggestionRow.rule_id)
            ).all()
        self.identity.access_log.record(user, party.subject, "suggestions", _why(party, why))
        return [s for s in (self._suggestion(row, language) for row in rows) if s is not None]

    def dismiss(self, user: SignedIn, suggestion_id: str, language: str) -> None:
        """ "Not relevant": the suggestion is not shown or proposed again."""
        party = self._party(user, language)
        with self.db.session() as session:
            row = session.get(SuggestionRow, suggestion_id[:32]) if party else None
            if row is None or (row.subject_kind, row.subject_key) != (party.type, party.key):
                raise NotFound(message(UNKNOWN_SUGGESTION, language))
            row.dismissed_at = row.dismissed_at or clock.now()
        log.info("proactive.dismissed", rule=row.rule_id)

    def enabled(self, user: SignedIn, language: str) -> bool:
        party = self._own_party(user, language)
        return party is not None and self.choices.allows((party.type, party.key), PROACTIVE)

    def set_enabled(
        self,
        user: SignedIn,
        enabled: bool,
        language: str,
        rule: str | None = None,
        until: datetime | None = None,
    ) -> None:
        """Turns proactive use of the active profile's data on or off (the choice recorded in the
        consent block), for every rule or for one (`rule`), a grant perhaps until a moment; off
        removes what was kept for it: all the facts and suggestions, or that rule's suggestion."""
        party = self._own_party(user, language)
        if party is None:
            return
        if rule is not None and rule not in self.rules.rules:
            raise NotFound(message(UNKNOWN_RULE, language))
        subject = (party.type, party.key)
        self.choices.make(subject, PROACTIVE, enabled, user.person.id, rule or ALL, until, language)
        if not enabled:
            with self.db.session() as session:
                if rule is None:
                    remove(session, FactRow, and_(*_about(FactRow, subject)))
                remove(session, SuggestionRow, and_(*_about(SuggestionRow, subject), *_of_rule(rule)))
        log.info("proactive.use_set", enabled=enabled, rule=rule)

    def explain(self, event_type: str | None, language: str, kind: str = "person") -> list[Explanation]:
        """The rules a life event leads to (all, without one), as anyone may read them."""
        rules = self.rules.for_event(event_type, kind) if event_type else list(self.rules.rules.values())
        today = clock.now().date()
        return [
            Explanation(
                rule.id,
                rule.version,
                self._service(rule, language),
                _say(rule.title, language),
                _say(rule.explanation, language),
                tuple(_say(self.rules.facts[name].question, language) for name in rule.inputs),
                rule.legal_source,
                rule.automatic,
            )
            for rule in rules
            if rule.valid_from <= today and (rule.valid_until is None or today <= rule.valid_until)
        ]

    def _suggestion(self, row: SuggestionRow, language: str) -> Suggestion | None:
        rule = self.rules.rules.get(row.rule_id)
        if rule is None:  # a rule withdrawn since: its old outcome is not shown
            return None
        used = {name: self._read(name, value) for name, value in row.used.items()}
        outcome = Outcome(rule, row.outcome, used, tuple(row.missing), row.parameter_date)
        return Suggestion(
            id=row.id,
            service=self._service(rule, language),
            outcome=row.outcome,
            reasons=tuple(self.rules.reasons(outcome, language)),
            questions=tuple(self.rules.questions(outcome, language)),
            used={name: str(value) for name, value in row.used.items()},
            rule_id=rule.id,
            rule_version=row.rule_version,
            legal_source=rule.legal_source,
            parameter_date=row.parameter_date,
            event=row.event,
        )

    def _service(self, rule: Rule, language: str) -> Service:
        item = self.catalog.find(rule.service, language)
        if item is None:
            return Service(rule.service, _say(rule.title, language), rule.legal_source, "")
        return Service(rule.service, item.title, item.url, item.language)

    def _party(self, user: SignedIn, language: str) -> Party | None:
        party = self.identity.mandates.acting_for(user, language)
        if party is not None and party.under_mandate and not party.suggestions:
            raise Forbidden(message(MANDATE_WITHOUT_SUGGESTIONS, language))
        return party

    def _own_party(self, user: SignedIn, language: str) -> Party | None:
        party = self.identity.mandates.acting_for(user, language)
        if party is not None and party.under_mandate:
            raise Forbidden(message(OPT_OUT_AS_SELF, language))
        return party

    # Retention

    def remove_expired(self, older_than: timedelta, dry_run: bool = False) -> dict[str, int]:
        """Events go once evaluated and old: what they said is kept as facts."""
        with self.db.session() as session:
            old = and_(EventRow.received_at < clock.now() - older_than, EventRow.evaluated_at.is_not(None))
            return {"life events": remove(session, EventRow, old, dry_run)}

    def erase_person(self, number: str, dry_run: bool = False) -> dict[str, int]:
        subject = ("person", number)
        kinds = {
            "life events": EventRow,
            "facts": FactRow,
            "suggestions": SuggestionRow,
        }
        with self.db.session() as session:
            return {
                kind: remove(session, model, and_(*_about(model, subject)), dry_run)
                for kind, model in kinds.items()
            }


def demo_event(event_type: str, data: dict) -> dict:
    """A CloudEvent as the demo's authentic source sends it (`loket events simulate`, the tests)."""
    return {
        "specversion": "1.0",
        "id": uuid.uuid4().hex,
        "source": DEMO_SOURCE,
        "type": event_type,
        "time": clock.now().isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


def _about(model, subject: tuple[str, str]):
    """The rows of a proactive table about one person or company."""
    return model.subject_kind == subject[0], model.subject_key == subject[1]


def _of_rule(rule: str | None) -> tuple:
    return (SuggestionRow.rule_id == rule,) if rule else ()


def _why(party: Party, why: str) -> str:
    return "mandate_use" if party.under_mandate else why


def _say(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or texts.get("nl") or next(iter(texts.values()), "")


def _stored(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value
