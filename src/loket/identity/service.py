"""The identity block, built once: who is logged in and as whom they act, and who read whose data.

Each concern has its own part, and callers use the part they need: `sessions` (login, profiles,
switching), `passkeys` (opening loket on a device after a full login), `mandates` (acting for
someone, checked on every use), `roles`, `access_log` (every read of personal data, visible to the
person), `retention` (what `loket purge` and `loket persons erase` remove) and `demo` (the demo's
fictitious persons).
"""

from __future__ import annotations

from datetime import timedelta

from loket.consent.log import TamperEvidentLog
from loket.db import Database
from loket.identity.access_log import AccessLog
from loket.identity.demo import DemoPersons
from loket.identity.mandates import Mandates
from loket.identity.passkeys import Passkeys
from loket.identity.retention import Retention
from loket.identity.roles import Roles
from loket.identity.schemas import PASSKEY
from loket.identity.sessions import Sessions


class IdentityService:
    def __init__(
        self,
        db: Database,
        idle_timeout: timedelta,
        max_age: timedelta,
        log: TamperEvidentLog,
        acr_values: tuple[str, ...] = (),
        passkey_unlock: timedelta = timedelta(days=30),
        passkey_acr: str = PASSKEY,
    ) -> None:
        """`acr_values`: the login levels that may read personal data, weakest first; empty, any may.
        `log`: the tamper-evident log every access-log row is also written to. `passkey_unlock`: how
        long after a full login a passkey may open loket, at the level `passkey_acr`."""
        self.access_log = AccessLog(db, log)
        self.mandates = Mandates(db)
        self.roles = Roles(db)
        self.sessions = Sessions(db, idle_timeout, max_age, self.access_log, acr_values, passkey_acr)
        self.passkeys = Passkeys(db, self.sessions, self.access_log, passkey_unlock)
        self.demo = DemoPersons(db, acr_values[0] if acr_values else None)
        self.retention = Retention(db, idle_timeout)
