"""Roles beyond citizen (agent, content owner, operator), granted by national number (`loket users`)."""

from __future__ import annotations

from sqlalchemy import delete, select

from loket import clock
from loket.db import Database
from loket.errors import BadRequest
from loket.i18n import message
from loket.identity import national_number
from loket.identity.models import RoleRow
from loket.identity.schemas import Role
from loket.identity.texts import BAD_NATIONAL_NUMBER


class Roles:
    def __init__(self, db: Database) -> None:
        self.db = db

    def grant(self, number: str, role: Role) -> bool:
        """False when the person held the role already."""
        number = valid_number(number)
        with self.db.session() as session:
            return add_role(session, number, role)

    def revoke(self, number: str, role: Role) -> bool:
        number = valid_number(number)
        with self.db.session() as session:
            result = session.execute(
                delete(RoleRow).where(RoleRow.national_number == number, RoleRow.role == role)
            )
        return result.rowcount > 0

    def all(self) -> list[tuple[str, Role]]:
        with self.db.session() as session:
            rows = session.scalars(select(RoleRow).order_by(RoleRow.national_number, RoleRow.role)).all()
            return [(row.national_number, Role(row.role)) for row in rows]


def held(session, number: str | None) -> frozenset[Role]:
    """Every person is a citizen; other roles go with a national number."""
    roles = {Role.CITIZEN}
    if number:
        roles |= {
            Role(r) for r in session.scalars(select(RoleRow.role).where(RoleRow.national_number == number))
        }
    return frozenset(roles)


def add_role(session, number: str, role: Role | str) -> bool:
    """In the caller's transaction; False when the person held the role already."""
    exists = session.scalar(select(RoleRow).where(RoleRow.national_number == number, RoleRow.role == role))
    if exists is None:
        session.add(RoleRow(national_number=number, role=role, granted_at=clock.now()))
    return exists is None


def valid_number(number: str) -> str:
    """The number as stored (digits only), or BadRequest: what operators type in commands."""
    compacted = national_number.compact(number)
    if not national_number.is_valid(compacted):
        raise BadRequest(message(BAD_NATIONAL_NUMBER, "en"))
    return compacted
