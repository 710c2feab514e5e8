"""Login assurance: personal data (cases, mandates, and messages to come) needs a login of the level
the configuration asks (`LOKET_OIDC_ACR_VALUES`). The blocks that read it call `require_assurance`
where they read, so every way in (API, page, assistant) meets the same check.
"""

from __future__ import annotations

from loket.i18n import message
from loket.identity.schemas import SignedIn, StrongerLoginNeeded
from loket.identity.texts import STRONGER_LOGIN_NEEDED
from loket.logging import get_logger

log = get_logger(__name__)


def require_assurance(signed_in: SignedIn, language: str) -> None:
    """Refuses a login below the level: the person is asked to log in again with a stronger method."""
    if not signed_in.assured:
        log.info("identity.assurance_refused", person=signed_in.person.id, acr=signed_in.acr)
        raise StrongerLoginNeeded(message(STRONGER_LOGIN_NEEDED, language))
