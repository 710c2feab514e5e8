"""Cases: written by agencies (API or MAGDA import), read by the people and companies they are about.

Writing is idempotent: the same case sent twice changes nothing the second time. A new status is
appended to the timeline, never overwriting one; the case keeps a copy of its latest status so a
list of 200 cases is one indexed query. Reading always names whose cases (a subject type and key)
and what the reader may see: a mandate may narrow the case types and never shows confidential cases;
cases the source marks as not to be shown are never shown.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import and_, func, not_, select

from loket import clock
from loket.cases.magda import parse_geef_dossiers, read_location
from loket.cases.models import AgencyRow, CaseRow, CaseStatusRow, CaseSubjectRow
from loket.cases.schemas import CaseDraft, Contact, Skipped, Status, Subject, SubjectType
from loket.cases.texts import UNKNOWN_CASE
from loket.db import Database, insert_new, remove
from loket.errors import BadRequest, NotFound
from loket.harvest import HarvestPolicy
from loket.i18n import message
from loket.identity.schemas import SignedIn
from loket.identity.service import IdentityService
from loket.logging import get_logger

log = get_logger(__name__)
DEMO_CASES = Path(__file__).parent / "demo_cases.json"


class Change(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class CaseImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    files: int = 0
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class Agency:
    name: str
    source: str
    created_at: datetime
    revoked: bool


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    number: str
    name: str
    type: str
    product: str | None
    contact: Contact
    link: str | None
    confidential: bool
    hidden: bool
    status: Status
    subjects: tuple[Subject, ...]
    timeline: tuple[Status, ...]  # oldest first
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def action_needed(self) -> bool:
        return self.status.action_needed


@dataclass(frozen=True)
class Reader:
    """Whose cases are read, and within which limits (set by the profile the reader acts in)."""

    type: SubjectType
    key: str
    case_types: tuple[str, ...] = ()  # a mandate's scope; empty: every type
    under_mandate: bool = False

    def may_see(self, case_type: str, confidential: bool) -> bool:
        if confidential and self.under_mandate:
            return False
        return not self.case_types or case_type.casefold() in {t.casefold() for t in self.case_types}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class CaseService:
    def __init__(self, db: Database, identity: IdentityService, harvest: HarvestPolicy | None = None) -> None:
        """`identity` says whose cases a login may read, and keeps the access log of every read;
        `harvest`, where a MAGDA import by URL may fetch from."""
        self.db = db
        self.identity = identity
        self.harvest = harvest

    # A person's reads: the active profile's cases, each read in the access log of whose they are

    def read_cases(self, user: SignedIn, language: str, why: str = "own_view") -> list[Case]:
        """The active profile's cases, latest change first; `why` goes to the access log."""
        reader = self._reader(user, language)
        if reader is None:
            return []
        why = "mandate_use" if reader.under_mandate else why
        self.identity.access_log.record(user, user.active.subject, "cases", why)
        return self.for_reader(reader)

    def read_case(self, user: SignedIn, case_id: str, language: str) -> Case:
        """One case with its timeline; NotFound alike for a case one may not see and a missing one."""
        reader = self._reader(user, language)
        case = self.case_for_reader(reader, case_id[:32]) if reader else None
        if case is None:
            raise NotFound(message(UNKNOWN_CASE, language))
        why = "mandate_use" if reader.under_mandate else "own_view"
        self.identity.access_log.record(user, user.active.subject, f"case:{case.id}", why)
        return case

    def _reader(self, user: SignedIn, language: str) -> Reader | None:
        """Whose cases the active profile reads (a mandate checked again now); None: nobody's."""
        party = self.identity.mandates.acting_for(user, language)
        if party is None:
            return None
        return Reader(SubjectType(party.type), party.key, party.case_types, party.under_mandate)

    # Agencies

    def add_agency(self, name: str, source: str | None = None) -> str:
        """A new agency and its bearer token, shown this once: only its hash is kept."""
        name, source = name.strip(), (source or name).strip()
        if not name or not source:
            raise BadRequest("an agency needs a name and a source")
        token = "lkt_" + secrets.token_urlsafe(32)
        with self.db.session() as session:
            if session.scalar(select(AgencyRow).where(AgencyRow.name == name)):
                raise BadRequest(f"an agency named {name!r} exists already; revoke it first")
            session.add(
                AgencyRow(
                    name=name, source=source, token_hash=_hash(token), created_at=clock.now(), revoked_at=None
                )
            )
        log.info("cases.agency_added", agency=name, source=source)
        return token

    def revoke_agency(self, name: str) -> bool:
        with self.db.session() as session:
            row = session.scalar(
                select(AgencyRow).where(AgencyRow.name == name, AgencyRow.revoked_at.is_(None))
            )
            if row is None:
                return False
            row.revoked_at = clock.now()
        log.info("cases.agency_revoked", agency=name)
        return True

    def agencies(self) -> list[Agency]:
        with self.db.session() as session:
            rows = session.scalars(select(AgencyRow).order_by(AgencyRow.name)).all()
            return [Agency(r.name, r.source, r.created_at, r.revoked_at is not None) for r in rows]

    def agency_named(self, name: str) -> Agency | None:
        """An active agency by name: the one a partner's write scopes act for."""
        with self.db.session() as session:
            active = select(AgencyRow).where(AgencyRow.name == name, AgencyRow.revoked_at.is_(None))
            row = session.scalar(active)
            return Agency(row.name, row.source, row.created_at, False) if row else None

    def agency_for(self, token: str) -> Agency | None:
        with self.db.session() as session:
            row = session.scalar(select(AgencyRow).where(AgencyRow.token_hash == _hash(token)))
            if row is None or row.revoked_at is not None:
                return None
            return Agency(row.name, row.source, row.created_at, False)

    # Writing

    def upsert(self, draft: CaseDraft, merge_subjects: bool = False) -> tuple[Case, Change]:
        """Creates or updates a case; the same draft twice changes nothing the second time.

        A draft no newer than the description kept (an import replaying history) adds its status to
        the timeline but does not overwrite that description. `merge_subjects` adds the draft's
        subjects rather than replacing them: a MAGDA response lists the cases of one person only.
        """
        moment = clock.now()
        described_at = draft.status.at or moment
        with self.db.session() as session:
            # One writer of a case at a time, without a 500 when two send a new one at once: the row is
            # inserted unless there (the second waits, then inserts nothing), and locked for the rest.
            created = insert_new(
                session,
                CaseRow,
                {
                    "id": uuid.uuid4().hex,
                    "source": draft.source,
                    "number": draft.number,
                    "version": 0,
                    "created_at": moment,
                    "updated_at": moment,
                    "described_at": described_at,
                    **_fields(draft),
                    **_current(draft.status, described_at),
                },
                ["source", "number"],
            )
            row = session.scalar(
                select(CaseRow)
                .where(CaseRow.source == draft.source, CaseRow.number == draft.number)
                .with_for_update()
            )
            changed = created
            if not created and (draft.status.at is None or described_at > row.described_at):
                row.described_at = described_at
                for key, value in _fields(draft).items():
                    changed |= getattr(row, key) != value
                    setattr(row, key, value)
            changed |= self._set_subjects(session, row.id, draft.subjects, merge_subjects)
            changed |= self._add_status(session, row, draft.status, moment, first=created)
            if changed:
                row.version += 1
                row.updated_at = moment
            case_id = row.id
        change = Change.CREATED if created else Change.UPDATED if changed else Change.UNCHANGED
        return self._get(case_id), change

    def _set_subjects(self, session, case_id: str, subjects, merge: bool) -> bool:
        wanted = {(s.role, s.type.value, s.key) for s in subjects}
        rows = session.scalars(select(CaseSubjectRow).where(CaseSubjectRow.case_id == case_id)).all()
        existing = {(r.role, r.type, r.key) for r in rows}
        if merge:
            wanted |= existing
        if wanted == existing:
            return False
        for row in rows:
            if (row.role, row.type, row.key) not in wanted:
                session.delete(row)
        for role, kind, key in sorted(wanted - existing):
            session.add(CaseSubjectRow(case_id=case_id, role=role, type=kind, key=key))
        return True

    def add_status(self, source: str, number: str, status: Status) -> Case:
        moment = clock.now()
        with self.db.session() as session:
            row = session.scalar(
                select(CaseRow).where(CaseRow.source == source, CaseRow.number == number).with_for_update()
            )
            if row is None:
                raise NotFound(f"no case {number!r} of source {source!r}")
            if self._add_status(session, row, status, moment):
                row.version += 1
                row.updated_at = moment
            case_id = row.id
        return self._get(case_id)

    def _add_status(
        self, session, row: CaseRow, status: Status, moment: datetime, first: bool = False
    ) -> bool:
        """Appends `status` to the timeline; the latest one is current. Without its own time, a status
        equal to the current one is no news; with one, it is news unless the timeline holds it already."""
        at = status.at or moment
        if not first and status.at is None and _same_status(row, status):
            return False
        if (
            not first
            and status.at is not None
            and session.scalar(
                select(CaseStatusRow.id).where(
                    CaseStatusRow.case_id == row.id,
                    CaseStatusRow.at == status.at,
                    CaseStatusRow.code == status.code,
                    CaseStatusRow.phase == status.phase,
                    CaseStatusRow.details == status.details,
                    CaseStatusRow.action == status.action,
                )
            )
        ):
            return False  # this status is in the timeline already (an import seen before)
        if first or at >= row.status_at:
            _set_current(row, status, at)
        session.add(
            CaseStatusRow(
                case_id=row.id,
                code=status.code,
                phase=status.phase,
                details=status.details,
                action_needed=status.action_needed,
                action=status.action,
                at=at,
                recorded_at=moment,
            )
        )
        return True

    def ingest_location(self, location: str, progress=None) -> CaseImportReport:
        """MAGDA GeefDossiers responses from a file, a folder of them or a URL; what was skipped, and why."""
        report = CaseImportReport()
        for name, data in read_location(location, self.harvest):
            drafts, skipped = parse_geef_dossiers(data, name)
            report.files += 1
            report.skipped += skipped
            for draft in drafts:
                _, change = self.upsert(draft, merge_subjects=True)
                setattr(report, change.value, getattr(report, change.value) + 1)
            if progress:
                progress(name)
        log.info(
            "cases.imported",
            files=report.files,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            skipped=len(report.skipped),
        )
        return report

    def load_demo(self) -> None:
        """The demo persons' own cases (the project's file): idempotent, like every upsert."""
        for case in json.loads(DEMO_CASES.read_text(encoding="utf-8"))["cases"]:
            subjects = tuple(Subject(s["role"], SubjectType(s["type"]), s["key"]) for s in case["subjects"])
            for status in case["statuses"]:
                self.upsert(
                    CaseDraft(
                        source=case["source"],
                        number=case["number"],
                        name=case["name"],
                        type=case["type"],
                        status=Status(
                            status["code"],
                            status.get("phase", ""),
                            status.get("details", ""),
                            status.get("action_needed", False),
                            status.get("action", ""),
                            datetime.fromisoformat(status["at"]),
                        ),
                        subjects=subjects,
                        product=case.get("product"),
                        contact=Contact(**case.get("contact", {})),
                        link=case.get("link"),
                    )
                )

    # Erasure

    def erase_person(self, number: str, dry_run: bool = False) -> dict[str, int]:
        """loket's copy of a person's cases (compact national number), in one transaction: a case about
        them alone goes with its timeline; one about others too loses only its link to them. The agency
        keeps its own record, and sending it again brings it back."""
        theirs = and_(CaseSubjectRow.type == SubjectType.PERSON.value, CaseSubjectRow.key == number)
        with self.db.session() as session:
            linked = set(session.scalars(select(CaseSubjectRow.case_id).where(theirs)))
            others = select(CaseSubjectRow.case_id).where(CaseSubjectRow.case_id.in_(linked), not_(theirs))
            shared = set(session.scalars(others))
            alone = linked - shared
            statuses = remove(session, CaseStatusRow, CaseStatusRow.case_id.in_(alone), dry_run)
            remove(session, CaseSubjectRow, CaseSubjectRow.case_id.in_(alone), dry_run)  # all theirs
            removed = {
                "cases": remove(session, CaseRow, CaseRow.id.in_(alone), dry_run),
                "case statuses": statuses,
                "links to cases shared with others": remove(
                    session, CaseSubjectRow, and_(theirs, CaseSubjectRow.case_id.in_(shared)), dry_run
                ),
            }
        if not dry_run:
            log.info("cases.person_erased", cases=removed["cases"], shared=len(shared))
        return removed

    # Reading

    def get(self, source: str, number: str) -> Case | None:
        """A case by its source's own number: for the agency that owns the source."""
        with self.db.session() as session:
            case_id = session.scalar(
                select(CaseRow.id).where(CaseRow.source == source, CaseRow.number == number)
            )
        return self._get(case_id) if case_id else None

    def for_reader(self, reader: Reader) -> list[Case]:
        """The reader's cases, latest change first, without their timelines."""
        with self.db.session() as session:
            rows = session.scalars(
                select(CaseRow)
                .join(CaseSubjectRow, CaseSubjectRow.case_id == CaseRow.id)
                .where(
                    CaseSubjectRow.type == reader.type.value,
                    CaseSubjectRow.key == reader.key,
                    CaseRow.hidden.is_(False),
                )
                .distinct()
                .order_by(CaseRow.updated_at.desc(), CaseRow.id)
            ).all()
            return [_case(row, (), ()) for row in rows if reader.may_see(row.type, row.confidential)]

    def case_for_reader(self, reader: Reader, case_id: str) -> Case | None:
        """One case with its timeline, or None for a case the reader may not see, existing or not."""
        case = self._get(case_id)
        if case is None:
            return None
        is_subject = any(s.type == reader.type and s.key == reader.key for s in case.subjects)
        if case.hidden or not is_subject or not reader.may_see(case.type, case.confidential):
            return None
        return case

    def counts(self) -> dict[str, int]:
        with self.db.session() as session:
            return {
                "cases": session.scalar(select(func.count()).select_from(CaseRow)) or 0,
                "statuses": session.scalar(select(func.count()).select_from(CaseStatusRow)) or 0,
            }

    def _get(self, case_id: str) -> Case | None:
        with self.db.session() as session:
            row = session.get(CaseRow, case_id)
            if row is None:
                return None
            subjects = session.scalars(
                select(CaseSubjectRow).where(CaseSubjectRow.case_id == case_id).order_by(CaseSubjectRow.id)
            ).all()
            timeline = session.scalars(
                select(CaseStatusRow)
                .where(CaseStatusRow.case_id == case_id)
                .order_by(CaseStatusRow.at, CaseStatusRow.id)
            ).all()
            return _case(row, subjects, timeline)


def _fields(draft: CaseDraft) -> dict:
    return {
        "name": draft.name,
        "type": draft.type,
        "product": draft.product,
        "contact": asdict(draft.contact),
        "link": draft.link,
        "confidential": draft.confidential,
        "hidden": draft.hidden,
        "period_start": draft.period_start,
        "period_end": draft.period_end,
    }


def _current(status: Status, at: datetime) -> dict:
    """The case's copy of its current status."""
    return {
        "status_code": status.code,
        "status_phase": status.phase,
        "status_details": status.details,
        "action_needed": status.action_needed,
        "action": status.action,
        "status_at": at,
    }


def _set_current(row: CaseRow, status: Status, at: datetime) -> None:
    for key, value in _current(status, at).items():
        setattr(row, key, value)


def _same_status(row: CaseRow, status: Status) -> bool:
    return (row.status_code, row.status_phase, row.status_details, row.action_needed, row.action) == (
        status.code,
        status.phase,
        status.details,
        status.action_needed,
        status.action,
    )


def _status(row) -> Status:
    return Status(row.code, row.phase, row.details, row.action_needed, row.action, row.at)


def _case(row: CaseRow, subjects, timeline) -> Case:
    return Case(
        id=row.id,
        source=row.source,
        number=row.number,
        name=row.name,
        type=row.type,
        product=row.product,
        contact=Contact(**row.contact),
        link=row.link,
        confidential=row.confidential,
        hidden=row.hidden,
        status=Status(
            row.status_code,
            row.status_phase,
            row.status_details,
            row.action_needed,
            row.action,
            row.status_at,
        ),
        subjects=tuple(Subject(s.role, SubjectType(s.type), s.key) for s in subjects),
        timeline=tuple(_status(s) for s in timeline),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
