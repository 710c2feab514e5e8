"""A case as loket keeps it, shaped after MAGDA's DossierMutatie (OSLO "dossier"): the same fields
whether it arrives through the back-office API or from a GeefDossiers response."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class SubjectType(StrEnum):
    PERSON = "person"  # key: national number (INSZ)
    COMPANY = "company"  # key: enterprise number (KBO)


@dataclass(frozen=True)
class Subject:
    role: str  # as the source names it, e.g. "Aanvrager", "Raadpleger"
    type: SubjectType
    key: str  # digits only


@dataclass(frozen=True)
class Status:
    code: str
    phase: str = ""
    details: str = ""
    action_needed: bool = False
    action: str = ""
    at: datetime | None = None  # when the source changed it; None: when loket received it


@dataclass(frozen=True)
class Contact:
    name: str = ""
    service: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    address: str = ""


@dataclass(frozen=True)
class CaseDraft:
    """One case as a source describes it, before loket stores it."""

    source: str
    number: str
    name: str
    type: str
    status: Status
    subjects: tuple[Subject, ...]
    product: str | None = None  # the catalogue's product number (IPDC), when the source gives one
    contact: Contact = field(default_factory=Contact)
    link: str | None = None  # the case in the source's own portal
    confidential: bool = False  # Vertrouwelijk: only the subjects themselves, never under a mandate
    hidden: bool = False  # IsNietRaadpleegbaar: the source says it may not be shown at all
    period_start: date | None = None
    period_end: date | None = None
    modified: datetime | None = None


@dataclass(frozen=True)
class Skipped:
    """What an import could not take, and why, in words an operator can act on."""

    where: str  # file and position, e.g. "31612199733.xml: DossierMutatie 2"
    reason: str
