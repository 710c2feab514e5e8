"""Sessions and logins: who is logged in, with which profiles, and logins under way at the provider.

Sessions live on the server: the browser holds a random token, the database only its hash. Every
login gets a new token, with an idle and an absolute timeout. A login is linked to its person by the
provider's issuer and subject only: a national number is a claim, never what merges two accounts. A
passkey opens a session too (`unlock`), at the level `passkey_acr`, for a while after the person's
last full login.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete, select

from loket import clock
from loket.db import Database
from loket.i18n import message
from loket.identity.access_log import AccessLog
from loket.identity.assurance import require_assurance
from loket.identity.mandates import mandate_profile, received_by
from loket.identity.models import LoginAttemptRow, PasskeyChallengeRow, PersonRow, SessionRow
from loket.identity.roles import held
from loket.identity.schemas import (
    PASSKEY,
    Forbidden,
    Kind,
    Login,
    LoginAttempt,
    Person,
    Profile,
    SignedIn,
)
from loket.identity.texts import PROFILE_NOT_HELD
from loket.logging import get_logger

log = get_logger(__name__)
SELF = "self"
# Seen-at is written at most this often, so reading pages does not write on every request.
TOUCH_EVERY = timedelta(seconds=60)
# How long someone may take at the identity provider before the login must start again.
LOGIN_TIMEOUT = timedelta(minutes=10)


class Sessions:
    def __init__(
        self,
        db: Database,
        idle_timeout: timedelta,
        max_age: timedelta,
        access_log: AccessLog,
        acr_values: tuple[str, ...] = (),
        passkey_acr: str = PASSKEY,
    ) -> None:
        """`acr_values`: the login levels that may read personal data; empty, any full login may.
        `passkey_acr`: the level of a passkey's unlock, which reads personal data only when it is one
        of `acr_values`."""
        self.db = db
        self.idle_timeout = idle_timeout
        self.max_age = max_age
        self.access_log = access_log
        self.acr_values = acr_values
        self.passkey_acr = passkey_acr

    def sign_in(self, login: Login) -> tuple[str, SignedIn]:
        """A new session with a new token: whatever session the browser had before is not reused."""
        moment = clock.now()
        organisations = [_organisation_profile(o) for o in login.organisations]
        organisations = [p for p in organisations if p]
        active = next((p.id for p in organisations if p.kind == login.active_kind), SELF)
        with self.db.session() as session:
            person_id = person_for(session, login, moment).id
        log.info("identity.signed_in", person=person_id, method=login.method, acr=login.acr)
        return self._start(person_id, active, organisations, login.method, login.acr, moment + self.max_age)

    def unlock(self, person_id: str, until: datetime) -> tuple[str, SignedIn]:
        """A new session a passkey opened, ending by `until` at the latest. It is no login: the
        person's last full login stays what it was, and no organisation profile comes with it (only
        the identity provider vouches for those)."""
        log.info("identity.unlocked", person=person_id, acr=self.passkey_acr)
        until = min(until, clock.now() + self.max_age)
        return self._start(person_id, SELF, [], PASSKEY, self.passkey_acr, until)

    def _start(
        self,
        person_id: str,
        active: str,
        organisations: list[Profile],
        method: str,
        acr: str | None,
        expires_at: datetime,
    ) -> tuple[str, SignedIn]:
        moment = clock.now()
        token = secrets.token_urlsafe(32)
        with self.db.session() as session:
            session.execute(delete(SessionRow).where(SessionRow.expires_at < moment))
            session.add(
                SessionRow(
                    token_hash=token_hash(token),
                    person_id=person_id,
                    active_profile=active,
                    profiles=[_profile_json(p) for p in organisations],
                    method=method,
                    acr=acr,
                    created_at=moment,
                    last_seen_at=moment,
                    expires_at=expires_at,
                )
            )
        signed_in = self._signed_in(token_hash(token))
        assert signed_in is not None
        return token, signed_in

    def signed_in(self, token: str | None) -> SignedIn | None:
        """The session of a cookie's token, or None when there is none or it timed out."""
        return self._signed_in(token_hash(token)) if token else None

    def _signed_in(self, hashed: str) -> SignedIn | None:
        moment = clock.now()
        with self.db.session() as session:
            row = session.get(SessionRow, hashed)
            if row is None:
                return None
            if row.expires_at <= moment or row.last_seen_at + self.idle_timeout <= moment:
                session.delete(row)
                log.info("identity.session_expired", person=row.person_id)
                return None
            if moment - row.last_seen_at >= TOUCH_EVERY:
                row.last_seen_at = moment
            person_row = session.get(PersonRow, row.person_id)
            person = Person(person_row.id, person_row.name, person_row.national_number)
            profiles = (
                Profile(SELF, Kind.CITIZEN, person.name, f"person:{person.id}"),
                *(_profile_from_json(p) for p in row.profiles),
                *(mandate_profile(m) for m in received_by(session, person, moment.date())),
            )
            active = next((p for p in profiles if p.id == row.active_profile), profiles[0])
            roles = held(session, person.national_number)
            if row.method == PASSKEY:
                assured = row.acr in self.acr_values
            else:
                assured = not self.acr_values or row.acr in self.acr_values
            return SignedIn(row.token_hash, person, profiles, active, roles, row.method, row.acr, assured)

    def sign_out(self, signed_in: SignedIn) -> None:
        with self.db.session() as session:
            session.execute(delete(SessionRow).where(SessionRow.token_hash == signed_in.token_hash))
        log.info("identity.signed_out", person=signed_in.person.id)

    def switch(self, signed_in: SignedIn, profile_id: str, language: str) -> SignedIn:
        """Acting under a mandate is a use of it, recorded as one, and needs the login level."""
        profile = next((p for p in signed_in.profiles if p.id == profile_id), None)
        if profile is None:
            log.warning("identity.profile_refused", person=signed_in.person.id)
            raise Forbidden(message(PROFILE_NOT_HELD, language))
        if profile.kind is Kind.MANDATE:
            require_assurance(signed_in, language)
        with self.db.session() as session:
            row = session.get(SessionRow, signed_in.token_hash)
            row.active_profile = profile.id
        if profile.kind is Kind.MANDATE:
            self.access_log.record(signed_in, profile.subject, "mandate", "mandate_use", profile)
        log.info("identity.profile_switched", person=signed_in.person.id, kind=profile.kind)
        switched = self._signed_in(signed_in.token_hash)
        assert switched is not None
        return switched

    # Logins under way at the identity provider

    def start_login(self, browser: str, state: str, nonce: str, code_verifier: str, return_to: str) -> None:
        keep_pending(
            self.db,
            LoginAttemptRow,
            browser,
            LOGIN_TIMEOUT,
            state=state,
            nonce=nonce,
            code_verifier=code_verifier,
            return_to=return_to,
        )

    def take_login(self, browser: str) -> LoginAttempt | None:
        """The browser's login under way, which can be used once only."""
        row = take_pending(self.db, LoginAttemptRow, browser, LOGIN_TIMEOUT)
        return None if row is None else LoginAttempt(row.state, row.nonce, row.code_verifier, row.return_to)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# What a browser has under way (a login at the provider, a passkey's challenge): one per browser, kept
# under its cookie's hash, taken once, and void after a timeout.
Pending = TypeVar("Pending", LoginAttemptRow, PasskeyChallengeRow)


def keep_pending(db: Database, kind: type[Pending], browser: str, timeout: timedelta, **values) -> None:
    """The browser's one `kind` under way: a new one replaces the one before, and every one past
    `timeout` goes meanwhile."""
    moment = clock.now()
    with db.session() as session:
        session.execute(delete(kind).where(kind.created_at < moment - timeout))
        session.merge(kind(browser_hash=token_hash(browser), created_at=moment, **values))


def take_pending(db: Database, kind: type[Pending], browser: str, timeout: timedelta) -> Pending | None:
    """The browser's `kind` under way, gone once taken; None when there is none, or it is past `timeout`."""
    with db.session() as session:
        row = session.get(kind, token_hash(browser))
        if row is None:
            return None
        session.delete(row)
        return None if row.created_at < clock.now() - timeout else row


def person_for(session, login: Login, moment: datetime) -> PersonRow:
    """The person of a login's issuer and subject, else a new one. The national number is what the
    provider says now: another issuer's account with the same number is another person."""
    row = session.scalar(select(PersonRow).where(PersonRow.subject == login.subject))
    if row is None:
        row = PersonRow(
            id=login.person_id or uuid.uuid4().hex,
            subject=login.subject,
            national_number=login.national_number,
            name=login.name,
            created_at=moment,
            last_login_at=moment,
        )
        session.add(row)
        session.flush()
    else:
        row.name = login.name or row.name
        row.national_number = login.national_number or row.national_number
        row.last_login_at = moment
    return row


def _organisation_profile(organisation: dict) -> Profile | None:
    """A company, association or local government the provider vouched for; others are ignored."""
    try:
        kind = Kind(organisation["kind"])
    except (KeyError, ValueError):
        return None
    number = "".join(c for c in str(organisation.get("number", "")) if c.isalnum())
    if kind in (Kind.CITIZEN, Kind.MANDATE) or not number:
        return None
    name = organisation.get("name") or number
    return Profile(f"{kind.value.lower()}:{number}", kind, name, f"organisation:{number}")


def _profile_json(profile: Profile) -> dict:
    return {"id": profile.id, "kind": profile.kind.value, "name": profile.name, "subject": profile.subject}


def _profile_from_json(data: dict) -> Profile:
    return Profile(data["id"], Kind(data["kind"]), data["name"], data["subject"])
