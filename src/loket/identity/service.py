"""The identity block, built once: who is logged in and as whom they act, and who read whose data.

Each concern has its own part, and callers use the part they need: `sessions` (login, profiles,
switching), `mandates` (acting for someone, checked on every use), `roles`, `access_log` (every read
of personal data, visible to the person) and `demo` (the demo's fictitious persons).
"""

from __future__ import annotations

from datetime import timedelta

from loket.db import Database
from loket.identity.access_log import AccessLog
from loket.identity.demo import DemoPersons
from loket.identity.mandates import Mandates
from loket.identity.roles import Roles
from loket.identity.sessions import Sessions


class IdentityService:
    def __init__(self, db: Database, idle_timeout: timedelta, max_age: timedelta) -> None:
        self.access_log = AccessLog(db)
        self.mandates = Mandates(db)
        self.roles = Roles(db)
        self.sessions = Sessions(db, idle_timeout, max_age, self.access_log)
        self.demo = DemoPersons(db)
