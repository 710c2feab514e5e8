"""What an importer produces and what the catalogue gives back.

Importers only build `ItemDraft`s; the catalogue service decides whether a draft is new, changed
or unchanged by comparing content hashes, so every format gets idempotence and versioning for free.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property


class Audience(StrEnum):
    """Who a service is for; the values follow the IPDC `doelgroep` code list."""

    CITIZEN = "citizen"
    BUSINESS = "business"
    ASSOCIATION = "association"
    LOCAL_GOVERNMENT = "local_government"
    FLEMISH_GOVERNMENT = "flemish_government"
    OTHER_ORGANISATION = "other_organisation"


class ItemStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Section:
    heading: str
    text: str
    anchor: str = ""

    def __post_init__(self) -> None:
        if not self.anchor:
            object.__setattr__(self, "anchor", slugify(self.heading) or "section")


@dataclass(frozen=True)
class ItemDraft:
    """One public service in one language, as read from a source, before it is stored."""

    source: str
    source_id: str
    url: str
    language: str
    title: str
    summary: str = ""
    sections: tuple[Section, ...] = ()
    audiences: tuple[Audience, ...] = ()
    themes: tuple[str, ...] = ()
    authority: str = ""
    keywords: tuple[str, ...] = ()
    created: datetime | None = None
    modified: datetime | None = None
    valid_until: datetime | None = None
    licence: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """The identity of a draft within the catalogue: one item per source record and language."""
        return (self.source, self.source_id, self.language)

    @property
    def item_id(self) -> str:
        """A stable id derived from the key, so the same record gets the same id on every database."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "loket:" + "|".join(self.key)))

    def to_json(self) -> dict:
        data = asdict(self)
        for name in ("created", "modified", "valid_until"):
            value = data[name]
            data[name] = value.isoformat() if value else None
        data["audiences"] = [str(a) for a in self.audiences]
        return data

    @classmethod
    def from_json(cls, data: dict) -> ItemDraft:
        """The draft back from `to_json`, as the catalogue keeps it with every version."""
        return cls(
            **data
            | {
                "sections": tuple(Section(**section) for section in data["sections"]),
                "audiences": tuple(Audience(value) for value in data["audiences"]),
                "themes": tuple(data["themes"]),
                "keywords": tuple(data["keywords"]),
            }
            | {name: _moment(data[name]) for name in ("created", "modified", "valid_until")}
        )

    @cached_property
    def content_hash(self) -> str:
        payload = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class Problem:
    """A record or file that could not be read; `where` names the file, URL or record."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class CatalogItem:
    """A stored item: the draft's content plus what the catalogue keeps about it."""

    id: str
    source: str
    source_id: str
    url: str
    language: str
    title: str
    summary: str
    sections: tuple[Section, ...]
    audiences: tuple[Audience, ...]
    themes: tuple[str, ...]
    authority: str
    keywords: tuple[str, ...]
    created: datetime | None
    modified: datetime | None
    valid_until: datetime | None
    licence: str
    content_hash: str
    status: ItemStatus
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class ItemVersion:
    """A version of an item as the catalogue recorded it, or, `withdrawn`, the withdrawal of its last
    version: a change, as the catalogue's change feed publishes it."""

    item_id: str
    number: int
    recorded_at: datetime
    first_seen_at: datetime
    draft: ItemDraft
    withdrawn: bool = False


@dataclass
class IngestReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def seen(self) -> int:
        return self.created + self.updated + self.unchanged


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def slugify(text: str) -> str:
    """An ASCII anchor for a heading, stable across imports so citations keep pointing at a section."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80]
