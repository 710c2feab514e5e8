"""The processing register (`processing.yaml`): every purpose loket uses personal data for, with its
legal basis, the data it uses, its retention and whether it needs consent; published at
`GET /api/v1/processing`, and enforced: a read of personal data that names no registered purpose, or
data the purpose does not cover, is refused before anything is returned (`Register.check`).

A use is written `purpose` or `purpose:detail` (`proactive:kids-id`: the rule); the data read as the
access log's `what`, `category` or `category:id` (`case:…`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from loket.consent.texts import CATEGORIES
from loket.errors import LoketError
from loket.i18n import DEFAULT, message

REGISTER = Path(__file__).with_name("processing.yaml")
OPT_IN, OPT_OUT = "opt_in", "opt_out"


class UnregisteredUse(LoketError):
    """A read of personal data for a purpose the register does not list, or of data it does not cover:
    a defect in loket, never the person's doing, so it is refused as a server error."""

    status_code = 500
    code = "unregistered_use"


@dataclass(frozen=True)
class Purpose:
    id: str
    name: dict[str, str]
    legal_basis: dict[str, str]
    data_categories: tuple[str, ...]
    retention: str
    consent_needed: bool
    basis: str  # what an access record names: the GDPR article, as `gdpr-6.1.e`
    choice: str | None  # opt_in (off until granted), opt_out (on until withdrawn), or no choice

    def said(self, field: dict[str, str], language: str) -> str:
        return field.get(language) or field[DEFAULT]


class Register:
    def __init__(self, purposes: dict[str, Purpose]) -> None:
        self.purposes = purposes

    def check(self, why: str, what: str) -> Purpose:
        """The purpose of a use; refused when it is not registered or does not cover the data."""
        purpose = self.purposes.get(why.partition(":")[0])
        if purpose is None:
            raise UnregisteredUse(f"no registered purpose {why.partition(':')[0]!r} (processing.yaml)")
        category = what.partition(":")[0]
        if category not in purpose.data_categories:
            raise UnregisteredUse(f"purpose {purpose.id!r} does not cover {category!r} (processing.yaml)")
        return purpose

    def choice(self, purpose: str) -> bool:
        """Whether a purpose the person may choose for is on before they chose (refused for others)."""
        found = self.purposes.get(purpose)
        if found is None or found.choice is None:
            raise UnregisteredUse(f"no purpose {purpose!r} with a choice (processing.yaml)")
        return found.choice == OPT_OUT


@cache
def register() -> Register:
    entries = yaml.safe_load(REGISTER.read_text(encoding="utf-8"))["purposes"]
    return Register(
        {
            key: Purpose(
                key,
                entry["name"],
                entry["legal_basis"],
                tuple(entry["data_categories"]),
                entry["retention"],
                entry["consent_needed"],
                entry["basis"],
                entry.get("choice"),
            )
            for key, entry in entries.items()
        }
    )


def category_name(what: str, language: str) -> str:
    """The data an access record names, in plain words (`case:ID` is "one of your cases")."""
    name = CATEGORIES.get(what.partition(":")[0])
    return message(name, language) if name else what
