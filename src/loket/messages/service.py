"""Messages from agencies to people and companies: received signed, kept as signed, read in the inbox.

An agency writes with its token (the cases block's agencies) and signs each message with a key it
registered (`signatures`). The same (source, reference) twice is one message: the same body again is
a repeat, another body is refused (a replay must not rewrite what someone may have read). Storing a
message, queueing its notification and its receipt to the agency happen in one transaction.

Reading follows the profile one acts in, like cases: a person's messages as themself, a company's in
its profile, a mandator's under a mandate that includes messages. A message one may not see is a
404 whether it exists or not, and every read goes to the access log of whose message it is.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid
from collections.abc import Callable
from difflib import SequenceMatcher

from sqlalchemy import and_, case, func, select

from loket import clock
from loket.cases.service import Agency, CaseService
from loket.db import Database, insert_new, remove
from loket.errors import BadRequest, LoketError, NotFound
from loket.i18n import message
from loket.identity.schemas import Forbidden, Party, SignedIn
from loket.identity.service import IdentityService
from loket.jobs import MESSAGE_RECEIPT, NOTIFY, Jobs
from loket.logging import get_logger
from loket.messages import bodies, signatures
from loket.messages.models import AgencyHostRow, AgencyKeyRow, DeliveryAttemptRow, MessageRow, PhishingRow
from loket.messages.schemas import Check, Draft, Message, Priority, Receipt, Verdict
from loket.messages.texts import MANDATE_WITHOUT_MESSAGES, UNKNOWN_MESSAGE

log = get_logger(__name__)
# Reference codes: no 0/O, 1/I/L, so a code read aloud or typed from paper comes out right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE = re.compile(r"\bLKT[\s-]?([A-Z0-9]{4})[\s-]?([A-Z0-9]{4})\b", re.IGNORECASE)
LOKET = "loket"  # the sender and source of the messages loket writes itself
PHISHING_SIMILARITY = 0.85  # of a listed campaign's text found, in order, in a pasted text


class ReferenceTaken(LoketError):
    status_code = 409
    code = "reference_taken"


class Refused(LoketError):
    status_code = 422
    code = "refused"


class MessageService:
    def __init__(
        self, db: Database, identity: IdentityService, cases: CaseService, jobs: Jobs, has_callback=None
    ) -> None:
        """`has_callback(agency)`: whether the agency wants receipts (the receipts part answers)."""
        self.db = db
        self.identity = identity
        self.cases = cases
        self.jobs = jobs
        self.has_callback: Callable[[str], bool] = has_callback or (lambda agency: False)

    # Agencies' keys and link hosts

    def add_key(self, agency: str, pem: bytes | str) -> str:
        """Registers an agency's Ed25519 public key; its key id (the JWS `kid`)."""
        self.agency(agency)
        try:
            public, kid = signatures.public_key(pem)
        except ValueError as error:
            raise BadRequest(f"{error}: give an Ed25519 public key in PEM form") from error
        with self.db.session() as session:
            row = session.get(AgencyKeyRow, kid)
            if row is not None and row.agency != agency:
                raise BadRequest(f"this key is registered for {row.agency!r} already")
            if row is None:
                session.add(AgencyKeyRow(id=kid, agency=agency, public_key=public, created_at=clock.now()))
            else:
                row.revoked_at = None
        log.info("messages.key_added", agency=agency, kid=kid)
        return kid

    def revoke_key(self, kid: str) -> bool:
        with self.db.session() as session:
            row = session.get(AgencyKeyRow, kid)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = clock.now()
        log.info("messages.key_revoked", kid=kid)
        return True

    def signing_keys(self) -> list[tuple[str, str, bool]]:
        """(agency, key id, revoked) for every key."""
        with self.db.session() as session:
            rows = session.scalars(select(AgencyKeyRow).order_by(AgencyKeyRow.agency, AgencyKeyRow.id))
            return [(r.agency, r.id, r.revoked_at is not None) for r in rows]

    def allow_host(self, agency: str, host: str) -> None:
        """Lets the agency's messages link to `host` (and its subdomains)."""
        self.agency(agency)
        host = host.strip().lower().removeprefix("https://").rstrip("/")
        if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", host):
            raise BadRequest(f"{host!r} is not a host name such as www.vlaanderen.be")
        with self.db.session() as session:
            insert_new(session, AgencyHostRow, {"agency": agency, "host": host}, ["agency", "host"])

    def hosts(self, agency: str) -> set[str]:
        with self.db.session() as session:
            return set(session.scalars(select(AgencyHostRow.host).where(AgencyHostRow.agency == agency)))

    def agency(self, name: str) -> Agency:
        found = next((a for a in self.cases.agencies() if a.name == name and not a.revoked), None)
        if found is None:
            raise BadRequest(f"no active agency named {name!r}: add it first with `loket agencies add`")
        return found

    # Receiving

    def check_signature(self, agency: Agency, signature: str | None, body: bytes) -> str:
        """The key id that signed exactly `body`, if it is a key of this agency; else a clear refusal."""
        kid = signatures.key_id(signature)
        with self.db.session() as session:
            row = session.get(AgencyKeyRow, kid)
            pem = row.public_key if row and row.agency == agency.name and row.revoked_at is None else None
        if pem is None:
            log.warning("messages.signature_refused", agency=agency.name, reason="unknown key")
            raise signatures.SignatureInvalid(f"no key {kid!r} registered for agency {agency.name!r}")
        try:
            signatures.verify(signature, body, pem)
        except signatures.SignatureInvalid:
            log.warning("messages.signature_refused", agency=agency.name, reason="bad signature")
            raise
        return kid

    def receive(self, agency: Agency, draft: Draft) -> tuple[Message, bool]:
        """Stores a checked, signed message; (the message, whether it is new). Queues its notification
        and the agency's receipt in the same transaction."""
        refused = bodies.refused_link(draft.body, self.hosts(agency.name))
        if refused:
            raise Refused(
                f"the body links to {refused[:100]!r}: messages may link only to https addresses on the "
                f"agency's hosts (loket agencies hosts add {agency.name} HOST)"
            )
        if draft.case_number is not None:
            self._check_case(agency, draft)
        return self._store(agency.name, draft, self.has_callback(agency.name))

    def send_own(
        self, recipient: tuple[str, str], reference: str, subject: str, body: str
    ) -> tuple[Message, bool]:
        """A message loket itself sends (as sender `loket`, under source `loket`), such as a proactive
        offer: no agency signs it, so it is stored as written. Idempotent by reference, like an
        agency's; notified like one."""
        draft = Draft(
            source=LOKET,
            reference=reference,
            recipient_type=recipient[0],
            recipient_key=recipient[1],
            subject=subject,
            body=body,
            priority=Priority.NORMAL,
            valid_until=None,
            case_source=None,
            case_number=None,
            signed_body=body,
            signature="",
            key_id=LOKET,
        )
        return self._store(LOKET, draft, wants_receipt=False)

    def _store(self, sender: str, draft: Draft, wants_receipt: bool) -> tuple[Message, bool]:
        values = {
            "id": uuid.uuid4().hex,
            "agency": sender,
            "verification_code": _new_code(),
            "received_at": clock.now(),
            **{k: getattr(draft, k) for k in _DRAFT_COLUMNS},
        }
        with self.db.session() as session:
            created = insert_new(session, MessageRow, values, ["source", "reference"])
            row = session.scalar(
                select(MessageRow).where(
                    MessageRow.source == draft.source, MessageRow.reference == draft.reference
                )
            )
            if not created and row.signed_body != draft.signed_body:
                raise ReferenceTaken(
                    f"reference {draft.reference!r} is another message already; a message is never "
                    "rewritten: send a new one with a new reference"
                )
            if created:
                self.jobs.enqueue(session, NOTIFY, message_id=row.id)
                if wants_receipt:
                    self.jobs.enqueue(session, MESSAGE_RECEIPT, message_id=row.id, event=Receipt.DELIVERED)
            found = _message(row)
        if created:
            log.info("messages.received", agency=sender, message=found.id)
        return found, created

    def _check_case(self, agency: Agency, draft: Draft) -> None:
        found = (
            self.cases.get(draft.case_source, draft.case_number)
            if draft.case_source == agency.source
            else None
        )
        if found is None:
            raise Refused(f"case {draft.case_number!r} is not a case of source {agency.source!r}")
        if not any(
            s.type.value == draft.recipient_type and s.key == draft.recipient_key for s in found.subjects
        ):
            raise Refused(f"case {draft.case_number!r} is not about this recipient")

    # Reading

    def inbox(
        self, user: SignedIn, language: str, archived: bool = False, why: str = "own_view"
    ) -> list[Message]:
        """The active profile's messages, unread first, then newest first; archived ones apart."""
        party = self._party(user, language)
        if party is None:
            return []
        self.identity.access_log.record(user, party.subject, "messages", _why(party, why))
        return self.for_party(party, archived)

    def for_party(self, party: Party, archived: bool = False, limit: int = 1000) -> list[Message]:
        with self.db.session() as session:
            rows = session.scalars(
                select(MessageRow)
                .where(
                    *_of(party),
                    MessageRow.archived_at.is_not(None) if archived else MessageRow.archived_at.is_(None),
                )
                .order_by(case((MessageRow.read_at.is_(None), 0), else_=1), MessageRow.received_at.desc())
                .limit(limit)
            ).all()
            return [_message(row) for row in rows]

    def unread(self, user: SignedIn, language: str) -> int:
        """How many of the active profile's messages (archived ones apart) are unread: the number on the
        app's icon, told beside a page that logged its own read, so not logged again."""
        party = self._party(user, language)
        if party is None:
            return 0
        with self.db.session() as session:
            return session.scalar(
                select(func.count())
                .select_from(MessageRow)
                .where(*_of(party), MessageRow.archived_at.is_(None), MessageRow.read_at.is_(None))
            )

    def read(self, user: SignedIn, message_id: str, language: str) -> Message:
        """One message of the active profile's, logged; NotFound alike for another's and a missing one."""
        party = self._party(user, language)
        with self.db.session() as session:
            row = session.get(MessageRow, message_id[:32]) if party else None
            if row is None or (row.recipient_type, row.recipient_key) != (party.type, party.key):
                raise NotFound(message(UNKNOWN_MESSAGE, language))
            found = _message(row)
        self.identity.access_log.record(user, party.subject, f"message:{found.id}", _why(party, "own_view"))
        return found

    def mark_read(self, user: SignedIn, message_id: str, language: str) -> Message:
        """Marks the message read (the first time, the agency hears of it)."""
        found = self.read(user, message_id, language)
        with self.db.session() as session:
            row = session.get(MessageRow, found.id, with_for_update=True)
            first = row.read_at is None
            if first:
                row.read_at = clock.now()
                if self.has_callback(row.agency):
                    self.jobs.enqueue(session, MESSAGE_RECEIPT, message_id=row.id, event=Receipt.READ)
            found = _message(row)
        return found

    def archive(self, user: SignedIn, message_id: str, language: str, archived: bool = True) -> Message:
        found = self.read(user, message_id, language)
        with self.db.session() as session:
            row = session.get(MessageRow, found.id)
            row.archived_at = clock.now() if archived else None
            return _message(row)

    def _party(self, user: SignedIn, language: str) -> Party | None:
        party = self.identity.mandates.acting_for(user, language)
        if party is not None and not party.messages:
            raise Forbidden(message(MANDATE_WITHOUT_MESSAGES, language))
        return party

    # "Is this message real?"

    def check(self, code: str | None, text: str | None, user: SignedIn | None, language: str) -> Check:
        """A verdict on a reference code or a pasted text. Only the recipient, logged in and acting in a
        profile that may read it, learns which message it is."""
        if text:
            normalised = _normalise(text)
            with self.db.session() as session:
                campaigns = session.scalars(select(PhishingRow.normalised)).all()
            if any(_resembles(campaign, normalised) for campaign in campaigns):
                return Check(Verdict.KNOWN_PHISHING)
        codes = [_code(*found.groups()) for found in CODE.finditer(f"{code or ''} {text or ''}")]
        if code and not codes:
            compact = re.sub(r"[\s-]", "", code.upper()).removeprefix("LKT")
            codes = [_code(compact[:4], compact[4:])] if len(compact) == 8 else []
        with self.db.session() as session:
            row = (
                session.scalar(select(MessageRow).where(MessageRow.verification_code.in_(codes)))
                if codes
                else None
            )
            if row is None:
                return Check(Verdict.NOT_FOUND)
            sender, recipient, found_id = row.agency, (row.recipient_type, row.recipient_key), row.id
        return Check(
            Verdict.GENUINE, sender, found_id if self._is_theirs(user, recipient, language) else None
        )

    def _is_theirs(self, user: SignedIn | None, recipient: tuple[str, str], language: str) -> bool:
        if user is None:
            return False
        try:
            party = self._party(user, language)
        except LoketError:
            return False
        return party is not None and (party.type, party.key) == recipient

    def add_phishing(self, text: str, note: str = "") -> int:
        normalised = _normalise(text)
        if len(normalised) < 20:
            raise BadRequest("give at least 20 characters of the campaign's text, so that it is recognised")
        with self.db.session() as session:
            row = PhishingRow(
                text=text.strip(), normalised=normalised, note=note.strip(), created_at=clock.now()
            )
            session.add(row)
            session.flush()
            return row.id

    def phishing(self) -> list[tuple[int, str, str]]:
        with self.db.session() as session:
            return [
                (r.id, r.text, r.note) for r in session.scalars(select(PhishingRow).order_by(PhishingRow.id))
            ]

    def remove_phishing(self, campaign_id: int) -> bool:
        with self.db.session() as session:
            return remove(session, PhishingRow, PhishingRow.id == campaign_id) > 0

    # For the other parts of the block

    def get(self, message_id: str) -> Message | None:
        with self.db.session() as session:
            row = session.get(MessageRow, message_id)
            return _message(row) if row else None

    def recipient(self, message_id: str) -> tuple[str, str] | None:
        with self.db.session() as session:
            row = session.get(MessageRow, message_id)
            return (row.recipient_type, row.recipient_key) if row else None

    def record_attempt(self, message_id: str, kind: str, attempt: int, outcome: str) -> None:
        with self.db.session() as session:
            session.add(
                DeliveryAttemptRow(
                    message_id=message_id, kind=kind, attempt=attempt, outcome=outcome[:200], at=clock.now()
                )
            )

    def attempts(self, message_id: str) -> list[tuple[str, int, str]]:
        """(kind, attempt, outcome) of every delivery attempt, in order."""
        with self.db.session() as session:
            rows = session.scalars(
                select(DeliveryAttemptRow)
                .where(DeliveryAttemptRow.message_id == message_id)
                .order_by(DeliveryAttemptRow.id)
            )
            return [(r.kind, r.attempt, r.outcome) for r in rows]

    def queue_failed_receipts(self) -> int:
        """Queues a `failed` receipt for each message past `valid_until` that nobody read, once (a
        `queued` attempt marks it); how many. Every 15 minutes, as a job."""
        kind = f"receipt:{Receipt.FAILED}"
        told = select(DeliveryAttemptRow.message_id).where(DeliveryAttemptRow.kind == kind)
        queued = 0
        with self.db.session() as session:
            rows = session.execute(
                select(MessageRow.id, MessageRow.agency).where(
                    MessageRow.valid_until < clock.now(),
                    MessageRow.read_at.is_(None),
                    MessageRow.id.not_in(told),
                )
            ).all()
            for message_id, agency in rows:
                if self.has_callback(agency):
                    session.add(
                        DeliveryAttemptRow(
                            message_id=message_id, kind=kind, attempt=0, outcome="queued", at=clock.now()
                        )
                    )
                    self.jobs.enqueue(session, MESSAGE_RECEIPT, message_id=message_id, event=Receipt.FAILED)
                    queued += 1
        return queued

    def erase_person(self, number: str, dry_run: bool = False) -> dict[str, int]:
        """loket's copy of the messages to this person (compact national number); agencies keep theirs."""
        with self.db.session() as session:
            theirs = and_(MessageRow.recipient_type == "person", MessageRow.recipient_key == number)
            return {"messages from agencies": remove(session, MessageRow, theirs, dry_run)}


_DRAFT_COLUMNS = (
    "source",
    "reference",
    "recipient_type",
    "recipient_key",
    "subject",
    "body",
    "priority",
    "valid_until",
    "case_source",
    "case_number",
    "signed_body",
    "signature",
    "key_id",
)


def _of(party: Party):
    return MessageRow.recipient_type == party.type, MessageRow.recipient_key == party.key


def _why(party: Party, why: str) -> str:
    return "mandate_use" if party.under_mandate else why


def _new_code() -> str:
    return _code(*("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(2)))


def _code(first: str, second: str) -> str:
    return f"LKT-{first.upper()}-{second.upper()}"


def _normalise(text: str) -> str:
    """Lower case, no accents, punctuation or repeated spaces: how campaigns and pasted texts compare."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def _resembles(campaign: str, text: str) -> bool:
    """Nearly all of the campaign's text is in the pasted one, in order: a phisher changes a name, an
    amount or a link from one message to the next, not the story."""
    if campaign in text:
        return True
    blocks = SequenceMatcher(None, campaign, text, autojunk=False).get_matching_blocks()
    return sum(block.size for block in blocks) >= PHISHING_SIMILARITY * len(campaign)


def _message(row: MessageRow) -> Message:
    return Message(
        id=row.id,
        source=row.source,
        reference=row.reference,
        sender=row.agency,
        subject=row.subject,
        body=row.body,
        priority=Priority(row.priority),
        received_at=row.received_at,
        read=row.read_at is not None,
        archived=row.archived_at is not None,
        verified=True,  # stored only once its signature was checked
        verification_code=row.verification_code,
        valid_until=row.valid_until,
        case=(row.case_source, row.case_number) if row.case_number else None,
    )
