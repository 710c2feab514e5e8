"""Where a report is when the device gives no location: a municipality of the shipped starting list
(`municipalities.yaml`), placed at its centre."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

MUNICIPALITIES = Path(__file__).parent / "municipalities.yaml"


@dataclass(frozen=True)
class Municipality:
    name: str
    postal_code: str
    latitude: float  # its centre, approximately
    longitude: float

    @property
    def key(self) -> str:
        """What the address form sends: postal codes alone are shared by several municipalities."""
        return f"{self.postal_code} {self.name}"


@cache
def municipalities() -> dict[str, Municipality]:
    """The shipped list by `key`, in postal code order."""
    data = yaml.safe_load(MUNICIPALITIES.read_text(encoding="utf-8"))
    found = [
        Municipality(str(m["name"]), str(m["postal_code"]), float(m["latitude"]), float(m["longitude"]))
        for m in data["municipalities"]
    ]
    return {m.key: m for m in sorted(found, key=lambda m: (m.postal_code, m.name))}
