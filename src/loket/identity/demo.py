"""The demo's fictitious persons (`demo_persons.json`): logging in as them, and what they hold.

Only with `LOKET_DEMO=1`, never in production (the settings refuse it). A demo login counts as the
weakest login level that may read personal data, so the demo shows what a real login would.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from functools import cache
from pathlib import Path

from loket import clock
from loket.db import Database
from loket.identity.models import MandateRow
from loket.identity.roles import add_role
from loket.identity.schemas import Login
from loket.identity.sessions import person_for

DEMO_PERSONS = Path(__file__).parent / "demo_persons.json"


class DemoPersons:
    def __init__(self, db: Database, acr: str | None = None) -> None:
        self.db = db
        self.acr = acr

    def persons(self) -> list[dict]:
        return _demo()["persons"]

    def login(self, person_id: str) -> Login | None:
        person = next((p for p in self.persons() if p["id"] == person_id), None)
        if person is None:
            return None
        return Login(
            subject=f"demo#{person['id']}",
            name=person["name"],
            national_number=person["national_number"],
            method="demo",
            organisations=person["profiles"],
            acr=self.acr,
            person_id=person["id"],
        )

    def load(self) -> None:
        """The demo persons' mandates and roles, once: logging in as them then shows what they hold."""
        demo = _demo()
        by_id = {p["id"]: p for p in demo["persons"]}
        moment = clock.now()
        with self.db.session() as session:
            for person in demo["persons"]:
                person_for(session, self.login(person["id"]), moment)
                for role in person["roles"]:
                    add_role(session, person["national_number"], role)
            for index, mandate in enumerate(demo["mandates"]):
                mandate_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"loket-demo-mandate-{index}"))
                if session.get(MandateRow, mandate_id) is None:
                    mandatary = by_id[mandate["mandatary"]]
                    session.add(
                        MandateRow(
                            id=mandate_id,
                            mandator_id=mandate["mandator"],
                            mandatary_national_number=mandatary["national_number"],
                            mandatary_name=mandatary["name"],
                            case_types=mandate["case_types"],
                            starts_on=date.fromisoformat(mandate["starts_on"]),
                            ends_on=None,
                            created_at=moment,
                            revoked_at=None,
                        )
                    )


@cache
def _demo() -> dict:
    return json.loads(DEMO_PERSONS.read_text(encoding="utf-8"))
