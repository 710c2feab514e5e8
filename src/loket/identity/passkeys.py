"""Passkeys (WebAuthn): after a full login a person registers one on their device, and later opens
loket there with it, for a while after their last full login and at a lower level (`Sessions.unlock`).

Every challenge lives on the server, bound to the browser that asked for it (a cookie's hash), and is
taken once: an answer sent again finds none. User verification (fingerprint, face, PIN) is required
both ways, and an authenticator's sign count must grow. Registering, unlocking and removing a passkey
are written in the person's access log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url, parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from loket import clock
from loket.db import Database
from loket.errors import BadRequest, NotFound
from loket.i18n import message
from loket.identity.access_log import AccessLog
from loket.identity.models import PasskeyChallengeRow, PasskeyRow, PersonRow
from loket.identity.schemas import Forbidden, Passkey, SignedIn
from loket.identity.sessions import Sessions, keep_pending, take_pending
from loket.identity.texts import (
    PASSKEY_AFTER_FULL_LOGIN,
    PASSKEY_EXPIRED,
    PASSKEY_NAME,
    PASSKEY_NOT_REGISTERED,
    PASSKEY_REFUSED,
    UNKNOWN_PASSKEY,
)
from loket.logging import get_logger

log = get_logger(__name__)
# How long a browser may take between asking for a challenge and answering it.
CHALLENGE_TIMEOUT = timedelta(minutes=5)
REGISTER, UNLOCK = "register", "unlock"
WHY = "passkey"  # the purpose in the processing register


class PasskeyRefused(Forbidden):
    code = "passkey_refused"


@dataclass(frozen=True)
class Challenge:
    value: bytes
    person_id: str | None  # who asked for it, for a registration


class Passkeys:
    def __init__(
        self, db: Database, sessions: Sessions, access_log: AccessLog, unlock_for: timedelta
    ) -> None:
        """`unlock_for`: how long after a person's last full login a passkey may open loket."""
        self.db = db
        self.sessions = sessions
        self.access_log = access_log
        self.unlock_for = unlock_for

    def registration_options(self, signed_in: SignedIn, browser: str, rp_id: str, language: str) -> str:
        """The options for `navigator.credentials.create`, as JSON: a discoverable credential if the
        device can, user verification required, none of the person's passkeys again."""
        if signed_in.unlocked:
            raise PasskeyRefused(message(PASSKEY_AFTER_FULL_LOGIN, language))
        person = signed_in.person
        options = generate_registration_options(
            rp_id=rp_id,
            rp_name="loket",
            user_id=person.id.encode(),
            user_name=person.name,
            user_display_name=person.name,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[
                PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.id)) for p in self.of(signed_in)
            ],
        )
        self._keep(browser, REGISTER, options.challenge, person.id)
        return options_to_json(options)

    def register(
        self,
        signed_in: SignedIn,
        browser: str,
        credential: str,
        name: str,
        rp_id: str,
        origin: str,
        language: str,
    ) -> Passkey:
        """Checks the browser's answer to its own challenge, asked by this person, and keeps the key."""
        name = _valid_name(name, language)
        challenge = self._take(browser, REGISTER)
        if challenge is None or challenge.person_id != signed_in.person.id or signed_in.unlocked:
            log.warning("identity.passkey_refused", step="register", reason="no challenge of this person's")
            raise PasskeyRefused(message(PASSKEY_NOT_REGISTERED, language))
        try:
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=challenge.value,
                expected_rp_id=rp_id,
                expected_origin=origin,
                require_user_verification=True,
            )
            transports = json.loads(credential).get("response", {}).get("transports") or []
        except (WebAuthnException, ValueError, AttributeError) as error:
            log.warning("identity.passkey_refused", step="register", reason=str(error)[:200])
            raise PasskeyRefused(message(PASSKEY_NOT_REGISTERED, language)) from error
        row = PasskeyRow(
            id=bytes_to_base64url(verified.credential_id),
            person_id=signed_in.person.id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=[str(t) for t in transports][:10],
            name=name,
            created_at=clock.now(),
            last_used_at=None,
        )
        with self.db.session() as session:
            if session.get(PasskeyRow, row.id) is not None:
                raise PasskeyRefused(message(PASSKEY_NOT_REGISTERED, language))
            session.add(row)
        self.access_log.record(signed_in, signed_in.own.subject, "passkey_added", WHY, signed_in.own)
        log.info("identity.passkey_registered", person=signed_in.person.id)
        return _passkey(row)

    def unlock_options(self, browser: str, rp_id: str) -> str:
        """The options for `navigator.credentials.get`: any passkey of loket's on the device (none is
        named, so the device offers its own), user verification required."""
        options = generate_authentication_options(
            rp_id=rp_id, allow_credentials=[], user_verification=UserVerificationRequirement.REQUIRED
        )
        self._keep(browser, UNLOCK, options.challenge, None)
        return options_to_json(options)

    def unlock(
        self, browser: str, credential: str, rp_id: str, origin: str, language: str
    ) -> tuple[str, SignedIn]:
        """A new session for the passkey's owner, once the answer is checked against this browser's
        challenge, the key and its sign count; refused after the period since the last full login."""
        refused = PasskeyRefused(message(PASSKEY_REFUSED, language))
        challenge = self._take(browser, UNLOCK)
        if challenge is None:
            log.warning("identity.passkey_refused", step="unlock", reason="no challenge")
            raise refused
        try:
            parsed = parse_authentication_credential_json(credential)
        except WebAuthnException as error:
            log.warning("identity.passkey_refused", step="unlock", reason=str(error)[:200])
            raise refused from error
        moment = clock.now()
        with self.db.session() as session:
            row = session.get(PasskeyRow, bytes_to_base64url(parsed.raw_id))
            handle = parsed.response.user_handle
            if row is None or (handle is not None and handle != row.person_id.encode()):
                log.warning("identity.passkey_refused", step="unlock", reason="unknown or another's")
                raise refused
            try:
                verified = verify_authentication_response(
                    credential=parsed,
                    expected_challenge=challenge.value,
                    expected_rp_id=rp_id,
                    expected_origin=origin,
                    credential_public_key=row.public_key,
                    credential_current_sign_count=row.sign_count,
                    require_user_verification=True,
                )
            except WebAuthnException as error:
                log.warning("identity.passkey_refused", step="unlock", reason=str(error)[:200])
                raise refused from error
            until = session.get(PersonRow, row.person_id).last_login_at + self.unlock_for
            if until <= moment:
                log.info("identity.passkey_refused", step="unlock", reason="last full login too long ago")
                days = self.unlock_for.days
                raise PasskeyRefused(message(PASSKEY_EXPIRED, language, days=days))
            row.sign_count = verified.new_sign_count
            row.last_used_at = moment
            person_id = row.person_id
        token, signed_in = self.sessions.unlock(person_id, until)
        self.access_log.record(signed_in, signed_in.own.subject, "passkey_used", WHY)
        return token, signed_in

    def of(self, signed_in: SignedIn) -> list[Passkey]:
        """The person's passkeys, oldest first."""
        with self.db.session() as session:
            rows = session.scalars(
                select(PasskeyRow)
                .where(PasskeyRow.person_id == signed_in.person.id)
                .order_by(PasskeyRow.created_at)
            ).all()
            return [_passkey(row) for row in rows]

    def rename(self, signed_in: SignedIn, passkey_id: str, name: str, language: str) -> None:
        name = _valid_name(name, language)
        with self.db.session() as session:
            self._own(session, signed_in, passkey_id, language).name = name

    def remove(self, signed_in: SignedIn, passkey_id: str, language: str) -> None:
        """The passkey opens loket no more, at once."""
        with self.db.session() as session:
            session.delete(self._own(session, signed_in, passkey_id, language))
        self.access_log.record(signed_in, signed_in.own.subject, "passkey_removed", WHY, signed_in.own)
        log.info("identity.passkey_removed", person=signed_in.person.id)

    @staticmethod
    def _own(session, signed_in: SignedIn, passkey_id: str, language: str) -> PasskeyRow:
        row = session.get(PasskeyRow, passkey_id[:1400])
        if row is None or row.person_id != signed_in.person.id:
            raise NotFound(message(UNKNOWN_PASSKEY, language))
        return row

    def _keep(self, browser: str, purpose: str, challenge: bytes, person_id: str | None) -> None:
        """The browser's one challenge under way: a new one replaces the one before."""
        keep_pending(
            self.db,
            PasskeyChallengeRow,
            browser,
            CHALLENGE_TIMEOUT,
            purpose=purpose,
            challenge=bytes_to_base64url(challenge),
            person_id=person_id,
        )

    def _take(self, browser: str | None, purpose: str) -> Challenge | None:
        """The browser's challenge for `purpose`, gone once taken; None when there is none (any more)."""
        row = take_pending(self.db, PasskeyChallengeRow, browser, CHALLENGE_TIMEOUT) if browser else None
        if row is None or row.purpose != purpose:
            return None
        return Challenge(base64url_to_bytes(row.challenge), row.person_id)


def _valid_name(name: str, language: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 100:
        raise BadRequest(message(PASSKEY_NAME, language))
    return name


def _passkey(row: PasskeyRow) -> Passkey:
    return Passkey(row.id, row.name, row.created_at, row.last_used_at, tuple(row.transports))
