"""Holds: an access record kept from its subject's view until a date, for a reason (an investigation
that telling would harm), or until disclosed earlier; then shown with when and why it was held. The
record stays in the tamper-evident log throughout: a hold changes who sees it, not what it says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select

from loket import clock
from loket.consent.models import HoldRow
from loket.db import Database, as_utc, insert_new
from loket.errors import BadRequest


@dataclass(frozen=True)
class Hold:
    until: datetime
    reason: str
    disclosed_at: datetime | None


class Holds:
    def __init__(self, db: Database) -> None:
        self.db = db

    def hide(self, record_seq: int, until: datetime, reason: str) -> bool:
        """Holds one record (by its place in the log) until `until`; False when it is held already."""
        if as_utc(until) <= clock.now() or not reason.strip():
            raise BadRequest("a hold ends in the future and gives its reason")
        values = {"record_seq": record_seq, "until": until, "reason": reason.strip(), "at": clock.now()}
        with self.db.session() as session:
            return insert_new(session, HoldRow, values, ["record_seq"])

    def disclose(self, record_seq: int) -> bool:
        """Ends a hold now; False when there is none in force."""
        with self.db.session() as session:
            row = session.scalars(
                select(HoldRow).where(HoldRow.record_seq == record_seq, *_in_force())
            ).first()
            if row is None:
                return False
            row.disclosed_at = clock.now()
            return True

    def in_force(self) -> set[int]:
        """The places of the records held from view now."""
        with self.db.session() as session:
            return set(session.scalars(select(HoldRow.record_seq).where(*_in_force())))

    def ended(self, record_seqs: list[int]) -> dict[int, Hold]:
        """The holds, over now, of these records: shown beside them."""
        with self.db.session() as session:
            rows = session.scalars(
                select(HoldRow).where(HoldRow.record_seq.in_(record_seqs), ~and_(*_in_force()))
            )
            return {row.record_seq: Hold(row.until, row.reason, row.disclosed_at) for row in rows}


def _in_force():
    return HoldRow.until > clock.now(), HoldRow.disclosed_at.is_(None)
