"""People's choices for the optional uses of their data: the purposes of the processing register that
have a `choice`. Opt-in purposes (consent) are off until granted; opt-out purposes (a public task the
person may refuse) are on until withdrawn. A choice has a scope (`all`, or one part of the purpose)
and a grant may end; the latest choice that covers a use decides. Choices are never changed, only
followed by newer ones, so the history shows who chose what and when; the code that would use the
data asks `allows` first.

Whose choice: a person by national number or an organisation by its number (`("person", number)`,
`("company", number)`), as data arrives about them before they log in; or one login (`("login", id)`)
for what belongs to it, such as its notification channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select

from loket import clock
from loket.consent.models import ChoiceRow
from loket.consent.processing import register
from loket.consent.texts import CHOICE_END
from loket.db import Database, as_utc, remove
from loket.errors import BadRequest
from loket.i18n import DEFAULT, message

ALL = "all"
Subject = tuple[str, str]


@dataclass(frozen=True)
class Choice:
    purpose: str
    scope: str
    granted: bool
    at: datetime
    until: datetime | None
    by: str
    id: int


class Choices:
    def __init__(self, db: Database) -> None:
        self.db = db

    def allows(self, subject: Subject, purpose: str, scope: str = ALL) -> bool:
        return scope in self.allowed(subject, purpose, [scope])

    def allowed(self, subject: Subject, purpose: str, scopes: list[str]) -> set[str]:
        """Which of these scopes the subject allows, read at once: for each, the latest choice for the
        whole purpose or that scope decides; a grant past its end counts as withdrawn; none made, the
        register's default."""
        default = register().choice(purpose)
        with self.db.session() as session:
            rows = session.execute(
                select(ChoiceRow.id, ChoiceRow.scope, ChoiceRow.granted, ChoiceRow.until)
                .where(*_of(subject), ChoiceRow.purpose == purpose, ChoiceRow.scope.in_((ALL, *scopes)))
                .order_by(ChoiceRow.id)
            ).all()
        latest = {row.scope: row for row in rows}  # the last of each scope
        found = set()
        for scope in scopes:
            row = max((latest[s] for s in (ALL, scope) if s in latest), key=lambda r: r.id, default=None)
            if default if row is None else row.granted and _running(row.until):
                found.add(scope)
        return found

    def make(
        self,
        subject: Subject,
        purpose: str,
        granted: bool,
        by: str,
        scope: str = ALL,
        until: datetime | None = None,
        language: str = DEFAULT,
    ) -> Choice:
        """Records a grant or a withdrawal; a withdrawal has no end."""
        register().choice(purpose)
        if not scope or len(scope) > 128:
            raise ValueError("a scope is 1 to 128 characters")
        if until is not None and (not granted or as_utc(until) <= clock.now()):
            raise BadRequest(message(CHOICE_END, language))
        row = ChoiceRow(
            subject_kind=subject[0],
            subject_key=subject[1],
            purpose=purpose,
            scope=scope,
            granted=granted,
            at=clock.now(),
            until=until,
            by=by,
        )
        with self.db.session() as session:
            session.add(row)
            session.flush()
            return _choice(row)

    def history(self, subject: Subject) -> list[Choice]:
        """Every choice made, newest first."""
        with self.db.session() as session:
            rows = session.scalars(select(ChoiceRow).where(*_of(subject)).order_by(ChoiceRow.id.desc()))
            return [_choice(row) for row in rows]

    def erase(self, subjects: list[Subject], dry_run: bool = False) -> int:
        """The choices of these subjects (erasure): with their data gone, nothing is left to use."""
        if not subjects:
            return 0
        with self.db.session() as session:
            return remove(session, ChoiceRow, or_(*(and_(*_of(subject)) for subject in subjects)), dry_run)


def _running(until: datetime | None) -> bool:
    return until is None or as_utc(until) > clock.now()


def _of(subject: Subject):
    return ChoiceRow.subject_kind == subject[0], ChoiceRow.subject_key == subject[1]


def _choice(row: ChoiceRow) -> Choice:
    return Choice(row.purpose, row.scope, row.granted, row.at, row.until, row.by, row.id)
