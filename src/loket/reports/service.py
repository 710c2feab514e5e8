"""Reports: taken in with their photos (re-encoded, see `photos`), kept with their place, given back to
their reporter only, and found again as the open reports of a category near a place.

A logged-in reporter follows their report as a running case (source `meldingen`, through the cases
block); an anonymous one holds a random token instead, kept as its hash, which shows them their photos,
and may leave a contact. Each report goes to the queue of its category's authority, which reads it
(the read lands in the reporter's access log), gives it a status and closes it: the case follows, and
everyone on it gets a message (pushed as messages are) saying so.
The photos are files under the data folder (the table holds their path), so the database stays small
on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import shutil
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import yaml
from babel.dates import format_date
from sqlalchemy import and_, func, or_, select

from loket import clock
from loket.cases.schemas import CaseDraft, Contact, Status, Subject, SubjectType
from loket.cases.service import CaseService
from loket.db import Database, insert_new, remove
from loket.errors import BadRequest, NotFound
from loket.i18n import message
from loket.identity.access_log import AccessLog
from loket.identity.roles import valid_number
from loket.logging import get_logger
from loket.messages.service import MessageService
from loket.reports.models import ReportHandlerRow, ReportPhotoRow, ReportRow
from loket.reports.photos import NotAPhoto, TooManyPixels, reencode
from loket.reports.schemas import (
    LANGUAGES,
    Area,
    Category,
    Handled,
    Handler,
    Nearby,
    PhotoLimits,
    PhotoRefused,
    PhotoTooLarge,
    Received,
    ReportClosed,
    Reporter,
)
from loket.reports.texts import (
    CONTACT_TOO_LONG,
    DESCRIPTION_NEEDED,
    DETAILS_TOO_LONG,
    NOT_A_PHOTO,
    NOT_IN_QUEUE,
    OUTSIDE_AREA,
    PHOTO_NEEDED,
    PHOTO_TOO_BIG,
    PHOTO_TOO_LARGE,
    REPORT_CLOSED,
    STATUS_NEEDED,
    TOO_MANY_PHOTOS,
    UNKNOWN_CATEGORY,
    UNKNOWN_REPORT,
    UPDATE_BODY,
    UPDATE_CLOSED,
    UPDATE_SUBJECT,
)

log = get_logger(__name__)
CATEGORIES = Path(__file__).parent / "categories.yaml"
CASE_SOURCE = "meldingen"
CASE_TYPE = "Melding"
RECEIVED = "Ontvangen"  # the case's first status, in the source's language as agencies write theirs
REPORTER_ROLE = "Melder"
FOLLOWER_ROLE = "Volger"  # someone who follows a report instead of sending it again
MAX_DESCRIPTION = 2000
MAX_CONTACT = 200
MAX_STATUS = 100
QUEUE_PAGE = 200  # reports of a queue per page
WHY = "report"  # the purpose in the processing register: the authority reads a report
DEMO_AGENT = "95710800516"  # Lotte Maes, the agent of identity's demo persons
EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = 111_320.0  # of latitude; of longitude, times the cosine of the latitude
PHOTOS = "reports"  # their folder in the data folder


def load_categories(path: Path | None = None) -> tuple[Category, ...]:
    """The categories of `path` (LOKET_REPORT_CATEGORIES_FILE), else the shipped list; ValueError when
    one lacks an id, a name in every language or its authority."""
    data = yaml.safe_load((path or CATEGORIES).read_text(encoding="utf-8")) or {}
    categories = []
    for entry in data.get("categories") or []:
        names = {
            language: str((entry.get("names") or {}).get(language) or "").strip() for language in LANGUAGES
        }
        authority_names = {
            str(language): str(name).strip()
            for language, name in (entry.get("authority_names") or {}).items()
        }
        category = Category(
            str(entry.get("id") or "").strip(),
            names,
            str(entry.get("authority") or "").strip(),
            authority_names,
        )
        if not category.id or not category.authority or not all(names.values()):
            raise ValueError(
                f"{path or CATEGORIES}: each category needs an id, names in nl, fr, en, de and an authority"
            )
        categories.append(category)
    ids = [category.id for category in categories]
    if not ids or len(ids) != len(set(ids)):
        raise ValueError(f"{path or CATEGORIES}: no categories, or one id twice")
    return tuple(categories)


class ReportService:
    def __init__(
        self,
        db: Database,
        cases: CaseService,
        messages: MessageService,
        access_log: AccessLog,
        data_dir: Path,
        categories: tuple[Category, ...],
        area: Area,
        limits: PhotoLimits,
        nearby_metres: int,
        nearby_days: int,
    ) -> None:
        """`cases` keeps a logged-in reporter's running case, `messages` tells its people of a change;
        `area` is where reports are taken in; `nearby_metres` and `nearby_days` say how close a report
        must be to count as the same one."""
        self.db = db
        self.cases = cases
        self.messages = messages
        self.access_log = access_log
        self.data_dir = data_dir
        self.categories = {category.id: category for category in categories}
        self.area = area
        self.limits = limits
        self.nearby_metres = nearby_metres
        self.nearby_days = nearby_days

    def submit(
        self,
        reporter: Reporter,
        category_id: str,
        description: str,
        latitude: float,
        longitude: float,
        photos: list[tuple[str, BinaryIO]],
        language: str,
        contact: str = "",
    ) -> Received:
        """Takes a report in, or refuses it in `language`: photos (name, file) are read no further than
        their size cap and kept only once every one of them is re-encoded. `contact`: how the authority
        may reach a reporter it cannot message (an anonymous one)."""
        category = self._category(category_id, language)
        description = description.strip()
        if not description or len(description) > MAX_DESCRIPTION:
            raise BadRequest(message(DESCRIPTION_NEEDED, language, count=str(MAX_DESCRIPTION)))
        contact = contact.strip()
        if len(contact) > MAX_CONTACT:
            raise BadRequest(message(CONTACT_TOO_LONG, language, count=str(MAX_CONTACT)))
        if not self.area.holds(latitude, longitude):
            raise BadRequest(message(OUTSIDE_AREA, language))
        encoded = self.photos_for(photos, language)
        report_id = uuid.uuid4().hex
        folder = self.data_dir / PHOTOS / report_id
        folder.mkdir(parents=True)
        try:
            rows = []
            for number, data in enumerate(encoded, 1):
                path = folder / f"{number}.jpg"
                path.write_bytes(data)
                rows.append(
                    ReportPhotoRow(
                        report_id=report_id,
                        number=number,
                        path=str(path.relative_to(self.data_dir)),
                        size=len(data),
                    )
                )
            received_at = clock.now()
            case_id = None
            if reporter.national_number:
                case_id = self._case(
                    report_id, category, REPORTER_ROLE, reporter.national_number, received_at
                )
            token = None if reporter.person_id else "lkr_" + secrets.token_urlsafe(32)
            with self.db.session() as session:
                session.add(
                    ReportRow(
                        id=report_id,
                        category=category.id,
                        authority=category.authority,
                        description=description,
                        latitude=latitude,
                        longitude=longitude,
                        person_id=reporter.person_id,
                        token_hash=_hash(token) if token else None,
                        case_id=case_id,
                        created_at=received_at,
                        closed_at=None,
                        contact=contact or None,
                    )
                )
                session.flush()
                session.add_all(rows)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        log.info("reports.received", report=report_id, category=category.id, photos=len(rows), case=case_id)
        return Received(report_id, case_id, len(rows), token)

    def photos_for(self, photos: list[tuple[str, BinaryIO]], language: str) -> list[bytes]:
        """The photos (name, file) re-encoded as they would be kept, or refused in `language`: the page
        holds them this way while the reporter looks at the reports already made nearby."""
        if not photos:
            raise BadRequest(message(PHOTO_NEEDED, language))
        if len(photos) > self.limits.max_count:
            raise BadRequest(message(TOO_MANY_PHOTOS, language, count=str(self.limits.max_count)))
        return [self._reencode(name, file, language) for name, file in photos]

    def photo(self, report_id: str, number: int, person_id: str | None, token: str | None) -> bytes | None:
        """A photo for its reporter (the logged-in person, or the holder of the report's token); None
        alike for a missing photo and someone else's."""
        with self.db.session() as session:
            found = session.execute(
                select(ReportRow.person_id, ReportRow.token_hash, ReportPhotoRow.path)
                .join(ReportPhotoRow, ReportPhotoRow.report_id == ReportRow.id)
                .where(ReportRow.id == report_id[:32], ReportPhotoRow.number == number)
            ).first()
        if found is None or not _reporters(found.person_id, found.token_hash, person_id, token):
            return None
        return (self.data_dir / found.path).read_bytes()

    def for_reporter(self, report_id: str, person_id: str | None, token: str | None) -> Handled | None:
        """The report as its authority last left it (status, details, closed), for its reporter only, as
        `photo`: how an anonymous reporter, who gets no message, follows it."""
        with self.db.session() as session:
            found = session.execute(
                select(ReportRow, _photo_count()).where(ReportRow.id == report_id[:32])
            ).first()
        if found is None or not _reporters(found[0].person_id, found[0].token_hash, person_id, token):
            return None
        return _handled(*found)

    def nearby(
        self, category_id: str, latitude: float, longitude: float, language: str = "en"
    ) -> list[Nearby]:
        """The open reports of the category within `nearby_metres` and `nearby_days`, nearest first.

        A bounding box in SQL (the place index) leaves few rows; the exact distance (haversine) is
        measured here, the same on SQLite and PostgreSQL."""
        self._category(category_id, language)
        dlat = self.nearby_metres / METRES_PER_DEGREE
        dlon = self.nearby_metres / (METRES_PER_DEGREE * max(math.cos(math.radians(latitude)), 0.01))
        since = clock.now() - timedelta(days=self.nearby_days)
        with self.db.session() as session:
            rows = session.execute(
                select(ReportRow.id, ReportRow.latitude, ReportRow.longitude, ReportRow.created_at).where(
                    ReportRow.category == category_id,
                    ReportRow.latitude.between(latitude - dlat, latitude + dlat),
                    ReportRow.longitude.between(longitude - dlon, longitude + dlon),
                    ReportRow.created_at >= since,
                    ReportRow.closed_at.is_(None),
                )
            ).all()
        found = [
            Nearby(row.id, category_id, row.latitude, row.longitude, distance, row.created_at)
            for row in rows
            if (distance := haversine(latitude, longitude, row.latitude, row.longitude)) <= self.nearby_metres
        ]
        return sorted(found, key=lambda report: (report.distance_m, report.id))

    def queue(
        self, authority: str, closed: bool = False, after: str | None = None, limit: int = QUEUE_PAGE
    ) -> list[Handled]:
        """The authority's open reports (or closed ones), oldest first: what to do next; `after` a report
        of the previous page, the last. Without what the reporters wrote, which is read one report at a
        time (`handled`)."""
        where = [
            ReportRow.authority == authority,
            ReportRow.closed_at.is_not(None) if closed else ReportRow.closed_at.is_(None),
        ]
        with self.db.session() as session:
            if after:
                last = session.get(ReportRow, after[:32])
                if last is not None:
                    where.append(
                        or_(
                            ReportRow.created_at > last.created_at,
                            and_(ReportRow.created_at == last.created_at, ReportRow.id > last.id),
                        )
                    )
            rows = session.execute(
                select(ReportRow, _photo_count())
                .where(*where)
                .order_by(ReportRow.created_at, ReportRow.id)
                .limit(limit)
            ).all()
        return [_handled(row, photos) for row, photos in rows]

    def add_handler(self, number: str, authority: str) -> bool:
        """Lets the person with this national number work `authority`'s queue on the agent console (with
        the role `agent`); False when they could already."""
        number = valid_number(number)
        if authority not in self.authorities():
            known = "; ".join(self.authorities())
            raise BadRequest(f"no category is handled by {authority[:200]!r}; the authorities: {known}")
        row = {"national_number": number, "authority": authority, "granted_at": clock.now()}
        with self.db.session() as session:
            return insert_new(session, ReportHandlerRow, row, ["national_number", "authority"])

    def remove_handler(self, number: str, authority: str) -> bool:
        number = valid_number(number)
        granted = (ReportHandlerRow.national_number == number) & (ReportHandlerRow.authority == authority)
        with self.db.session() as session:
            return remove(session, ReportHandlerRow, granted) > 0

    def handlers(self) -> list[tuple[str, str]]:
        """(national number, authority) of everyone who may work a queue on the console."""
        with self.db.session() as session:
            rows = session.execute(
                select(ReportHandlerRow.national_number, ReportHandlerRow.authority).order_by(
                    ReportHandlerRow.authority, ReportHandlerRow.national_number
                )
            ).all()
        return [(row.national_number, row.authority) for row in rows]

    def authorities_for(self, number: str | None) -> list[str]:
        """The authorities whose queue this person may work on the console, in the categories' order."""
        if not number:
            return []
        with self.db.session() as session:
            granted = set(
                session.scalars(
                    select(ReportHandlerRow.authority).where(ReportHandlerRow.national_number == number)
                )
            )
        return [authority for authority in self.authorities() if authority in granted]

    def authorities(self) -> list[str]:
        """Every authority of the categories, once, in their order."""
        return list(dict.fromkeys(category.authority for category in self.categories.values()))

    def load_demo(self) -> None:
        """The demo's agent (Lotte Maes of the demo persons) works every authority's queue."""
        for authority in self.authorities():
            self.add_handler(DEMO_AGENT, authority)

    def authority_of(self, report_id: str) -> str | None:
        """Whose queue the report is in (None: no such report)."""
        with self.db.session() as session:
            return session.scalar(select(ReportRow.authority).where(ReportRow.id == report_id[:32]))

    def handled(self, report_id: str, handler: Handler, language: str) -> Handled:
        """One report of the authority's queue with its description and contact; a logged-in
        reporter's access log shows who read it."""
        row, photos = self._queued(report_id, handler.authority, language)
        if row.person_id:
            self._record(handler, row.person_id, "report")
        return _handled(row, photos, full=True)

    def photo_for(self, report_id: str, number: int, handler: Handler) -> bytes | None:
        """A photo of a report in the authority's queue, which its reporter's access log shows; None
        alike for a missing photo and another authority's."""
        authority = handler.authority
        with self.db.session() as session:
            found = session.execute(
                select(ReportRow.person_id, ReportPhotoRow.path)
                .join(ReportPhotoRow, ReportPhotoRow.report_id == ReportRow.id)
                .where(
                    ReportRow.id == report_id[:32],
                    ReportRow.authority == authority,
                    ReportPhotoRow.number == number,
                )
            ).first()
        if found is None:
            return None
        if found.person_id:
            self._record(handler, found.person_id, f"report_photo:{number}")
        return (self.data_dir / found.path).read_bytes()

    def _record(self, handler: Handler, person_id: str, what: str) -> None:
        if handler.agent is None:
            self.access_log.record_by_agency(handler.authority, person_id, what, WHY)
        else:
            self.access_log.record(handler.agent, f"person:{person_id}", what, WHY, handler.agent.own)

    def set_status(
        self, report_id: str, handler: Handler, status: str, details: str, close: bool, language: str
    ) -> Handled:
        """The authority's new status for a report, closing it when `close` (a closed one is no
        duplicate any more and changes no more). Its case takes the status, and every person on the
        case gets a message saying so."""
        authority = handler.authority
        status, details = status.strip(), details.strip()
        if not status or len(status) > MAX_STATUS:
            raise BadRequest(message(STATUS_NEEDED, language, count=str(MAX_STATUS)))
        if len(details) > MAX_DESCRIPTION:
            raise BadRequest(message(DETAILS_TOO_LONG, language, count=str(MAX_DESCRIPTION)))
        now = clock.now()
        with self.db.session() as session:
            row = session.scalar(
                select(ReportRow)
                .where(ReportRow.id == report_id[:32], ReportRow.authority == authority)
                .with_for_update()
            )
            if row is None:
                raise NotFound(message(NOT_IN_QUEUE, language, id=report_id[:32]))
            if row.closed_at is not None:
                raise ReportClosed(message(REPORT_CLOSED, language))
            row.status, row.status_details, row.updated_at = status, details, now
            row.closed_at = now if close else None
            category_id, reported_at = row.category, row.created_at
        # The case, if anyone follows the report: its reporter, or someone who found it nearby.
        if self.cases.get(CASE_SOURCE, report_id[:32]):
            case = self.cases.add_status(CASE_SOURCE, report_id[:32], Status(status, details=details, at=now))
            category = self.categories.get(category_id)
            self._tell(case.subjects, report_id[:32], category, authority, status, close, reported_at, now)
        log.info("reports.status", report=report_id[:32], closed=close)
        return _handled(*self._queued(report_id, authority, language))

    def _queued(self, report_id: str, authority: str, language: str) -> tuple[ReportRow, int]:
        with self.db.session() as session:
            found = session.execute(
                select(ReportRow, _photo_count()).where(
                    ReportRow.id == report_id[:32], ReportRow.authority == authority
                )
            ).first()
            if found is None:
                raise NotFound(message(NOT_IN_QUEUE, language, id=report_id[:32]))
            session.expunge(found[0])
        return found[0], found[1]

    def _tell(
        self,
        subjects: Iterable[Subject],
        report_id: str,
        category: Category | None,
        authority: str,
        status: str,
        closed: bool,
        reported_at: datetime,
        at: datetime,
    ) -> None:
        """The message to each person on the report's case. In Dutch, the loket's first language: a
        message has no reader's language yet (as proactive offers)."""
        name = category.name("nl") if category else CASE_TYPE
        reported = format_date(reported_at.date(), "long", locale="nl")
        body = message(UPDATE_BODY, "nl", authority=authority, date=reported, status=status)
        if closed:
            body += "\n\n" + message(UPDATE_CLOSED, "nl")
        subject_line = message(UPDATE_SUBJECT, "nl", category=name)
        persons = [subject.key for subject in subjects if subject.type is SubjectType.PERSON]
        for number, key in enumerate(persons, 1):
            reference = f"melding-{report_id}-{at.strftime('%Y%m%d%H%M%S%f')}-{number}"
            self.messages.send_own(("person", key), reference, subject_line, body)

    def erase_persons(self, person_ids: Iterable[str], number: str, dry_run: bool = False) -> dict[str, int]:
        """The reports of these logins (`loket persons erase`) with their photos, and the queues the
        person with this national number could work; their cases go with the cases block's erasure."""
        with self.db.session() as session:
            granted = remove(session, ReportHandlerRow, ReportHandlerRow.national_number == number, dry_run)
        return self._remove(ReportRow.person_id.in_(list(person_ids)), dry_run) | {"report handlers": granted}

    def remove_expired(self, retention: timedelta, dry_run: bool = False) -> dict[str, int]:
        """Reports older than `retention` with their photos (`loket purge`): what people wrote and
        photographed is personal data. Their cases stay, as the agencies' records do."""
        return self._remove(ReportRow.created_at < clock.now() - retention, dry_run)

    def _remove(self, which, dry_run: bool) -> dict[str, int]:
        with self.db.session() as session:
            ids = list(session.scalars(select(ReportRow.id).where(which)))
            photos = remove(session, ReportPhotoRow, ReportPhotoRow.report_id.in_(ids), dry_run)
            removed = {
                "reports": remove(session, ReportRow, ReportRow.id.in_(ids), dry_run),
                "report photos": photos,
            }
        if not dry_run:
            for report_id in ids:
                shutil.rmtree(self.data_dir / PHOTOS / report_id, ignore_errors=True)
        return removed

    def _category(self, category_id: str, language: str) -> Category:
        category = self.categories.get(category_id)
        if category is None:
            known = ", ".join(self.categories)
            raise BadRequest(message(UNKNOWN_CATEGORY, language, category=category_id[:50], categories=known))
        return category

    def _reencode(self, name: str, file: BinaryIO, language: str) -> bytes:
        data = file.read(self.limits.max_bytes + 1)
        if len(data) > self.limits.max_bytes:
            raise PhotoTooLarge(message(PHOTO_TOO_LARGE, language, mb=str(self.limits.max_bytes // 2**20)))
        try:
            return reencode(data, self.limits.max_pixels)
        except NotAPhoto:
            raise PhotoRefused(message(NOT_A_PHOTO, language, name=name[:100])) from None
        except TooManyPixels:
            raise PhotoRefused(message(PHOTO_TOO_BIG, language, name=name[:100])) from None

    def follow(self, report_id: str, follower: Reporter, language: str) -> str:
        """A logged-in person follows an open report instead of sending it again: the report's running
        case becomes theirs too (made now when its reporter was anonymous). Its id."""
        report_id = report_id[:32]
        with self.db.session() as session:
            row = session.get(ReportRow, report_id)
            found = (row.category, row.created_at) if row and row.closed_at is None else None
        if found is None or not follower.national_number:
            raise NotFound(message(UNKNOWN_REPORT, language))
        category_id, received_at = found
        category = self._category(category_id, language)
        return self._case(report_id, category, FOLLOWER_ROLE, follower.national_number, received_at)

    def _case(
        self, report_id: str, category: Category, role: str, national_number: str, received_at: datetime
    ) -> str:
        """The report's running case with this person in it, beside whoever is there already. Its first
        status carries the report's own time, so a second person changes no status and no description."""
        case, _ = self.cases.upsert(
            CaseDraft(
                source=CASE_SOURCE,
                number=report_id,
                name=category.names["nl"],
                type=CASE_TYPE,
                status=Status(RECEIVED, at=received_at),
                subjects=(Subject(role, SubjectType.PERSON, national_number),),
                contact=Contact(service=category.authority),
            ),
            merge_subjects=True,
        )
        return case.id


def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Metres between two points on the earth (a sphere of its mean radius: within 0.5 %)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _reporters(owner: str | None, token_hash: str | None, person_id: str | None, token: str | None) -> bool:
    """Whether the logged-in person, or the holder of the token, sent the report."""
    by_login = person_id is not None and owner == person_id
    return by_login or (
        token is not None and token_hash is not None and hmac.compare_digest(token_hash, _hash(token))
    )


def _photo_count():
    return (
        select(func.count())
        .where(ReportPhotoRow.report_id == ReportRow.id)
        .correlate(ReportRow)
        .scalar_subquery()
    )


def _handled(row: ReportRow, photos: int, full: bool = False) -> Handled:
    return Handled(
        id=row.id,
        category=row.category,
        latitude=row.latitude,
        longitude=row.longitude,
        reported_at=row.created_at,
        status=row.status,
        status_details=row.status_details,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
        photos=photos,
        description=row.description if full else None,
        contact=row.contact if full else None,
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
