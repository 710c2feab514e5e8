"""The reports block's public types: categories, the area served, a report as sent and as kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from loket.errors import LoketError
from loket.identity.schemas import SignedIn

LANGUAGES = ("nl", "fr", "en", "de")


@dataclass(frozen=True)
class Category:
    """`authority`: who handles reports of this category, by the name of its agency (the queue they go
    to); `authority_names` how it reads in other languages."""

    id: str
    names: dict[str, str]  # one per language of LANGUAGES
    authority: str
    authority_names: dict[str, str] = field(default_factory=dict)

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["nl"]

    def authority_name(self, language: str) -> str:
        return self.authority_names.get(language) or self.authority


@dataclass(frozen=True)
class Area:
    """The bounding box loket takes reports in, in WGS 84 degrees."""

    south: float
    west: float
    north: float
    east: float

    @classmethod
    def parse(cls, text: str) -> Area:
        """`south,west,north,east`, as LOKET_REPORT_AREA writes it."""
        try:
            south, west, north, east = (float(part) for part in text.split(","))
        except ValueError:
            raise ValueError(f"{text!r} is not south,west,north,east in degrees") from None
        if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
            raise ValueError(f"{text!r} is no area: south < north and west < east, in degrees")
        return cls(south, west, north, east)

    def holds(self, latitude: float, longitude: float) -> bool:
        return self.south <= latitude <= self.north and self.west <= longitude <= self.east


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int
    max_count: int
    max_pixels: int


@dataclass(frozen=True)
class Reporter:
    """Who sent a report: a logged-in person (identity's person id, and their national number for the
    case), or no one known, who then holds the report's token."""

    person_id: str | None = None
    national_number: str | None = None


@dataclass(frozen=True)
class Received:
    """A report just taken in: `token` only for an anonymous reporter, shown this once."""

    id: str
    case_id: str | None
    photos: int
    token: str | None


@dataclass(frozen=True)
class Nearby:
    """An open report of the same category close by: what may be shown to anyone (no description, no
    photos, no reporter)."""

    id: str
    category: str
    latitude: float
    longitude: float
    distance_m: float
    reported_at: datetime


@dataclass(frozen=True)
class Handler:
    """Who works an authority's queue: the agency itself through its API (`agency`, no one logged in at
    loket), or a logged-in agent of its team on the console (`agent`). Their reads are in the reporter's
    access log under their name."""

    authority: str
    agent: SignedIn | None = None


@dataclass(frozen=True)
class Handled:
    """A report as its authority handles it. `description` and `contact` only when one report is read,
    which its reporter's access log shows; the queue lists without them."""

    id: str
    category: str
    latitude: float
    longitude: float
    reported_at: datetime
    status: str
    status_details: str
    updated_at: datetime | None
    closed_at: datetime | None
    photos: int
    description: str | None = None
    contact: str | None = None


class ReportClosed(LoketError):
    status_code = 409
    code = "report_closed"


class PhotoRefused(LoketError):
    status_code = 400
    code = "photo_refused"


class PhotoTooLarge(LoketError):
    status_code = 413
    code = "photo_too_large"
