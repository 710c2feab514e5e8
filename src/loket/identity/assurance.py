"""Login assurance: personal data (cases, mandates, and messages to come) needs a login of the level
the configuration asks (`LOKET_OIDC_ACR_VALUES`). The blocks that read it call `require_assurance`
where they read, so every way in (API, page, assistant) meets the same check.

A session a passkey unlocked has the level `LOKET_PASSKEY_ASSURANCE`; besides, the paths of
`LOKET_FRESH_LOGIN_PATHS` (cases and mandates, by default) always ask it for the full login
(`loket.identity.access.require_fresh_login`). Either way the person is sent to the full login.
"""

from __future__ import annotations

from loket.i18n import message
from loket.identity.schemas import SignedIn, StrongerLoginNeeded
from loket.identity.texts import FULL_LOGIN_NEEDED, STRONGER_LOGIN_NEEDED
from loket.logging import get_logger

log = get_logger(__name__)


def require_assurance(signed_in: SignedIn, language: str) -> None:
    """Refuses a login below the level: the person is asked to log in again with a stronger method."""
    if not signed_in.assured:
        log.info("identity.assurance_refused", person=signed_in.person.id, acr=signed_in.acr)
        if signed_in.unlocked:
            raise StrongerLoginNeeded(message(FULL_LOGIN_NEEDED, language))
        raise StrongerLoginNeeded(message(STRONGER_LOGIN_NEEDED, language))


def require_full_login(signed_in: SignedIn, language: str) -> None:
    """Refuses a session a passkey unlocked, whatever its level: the person logs in fully again."""
    if signed_in.unlocked:
        log.info("identity.full_login_required", person=signed_in.person.id)
        raise StrongerLoginNeeded(message(FULL_LOGIN_NEEDED, language))
