"""Input checks that run before a question is searched, answered, stored or logged.

Personal identifiers are found with validating libraries (checksums, not just shapes), so an
amount or a year is not mistaken for a national number, and a real number is never let through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from stdnum import iban
from stdnum.be import nn as belgian_national_number
from stdnum.be import vat as belgian_enterprise_number
from stdnum.nl import bsn as dutch_citizen_number

# Unicode "tag" characters carry invisible instructions to language models; zero-width and
# direction controls hide text from the person reading it; C0 controls have no place in a question.
_INVISIBLE = re.compile(
    "[\U000e0000-\U000e007f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b", re.IGNORECASE)
_DIGITS = re.compile(r"(?<![\w.])\d[\d .\-/]{7,16}\d(?![\w])")
_NUMBER_CHECKS = (
    ("national_number", belgian_national_number.is_valid, 11),
    ("citizen_service_number", dutch_citizen_number.is_valid, 9),
    ("enterprise_number", belgian_enterprise_number.is_valid, 10),
)
PHONE_REGIONS = ("BE", "NL")


@dataclass(frozen=True)
class PersonalData:
    kind: str
    start: int
    end: int


def strip_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text)


def normalise(text: str) -> str:
    """Typed text as it is checked and kept: hidden characters gone, runs of spaces made one."""
    return " ".join(strip_invisible(text).split())


def find_personal_data(text: str) -> list[PersonalData]:
    found = [PersonalData("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    for match in _IBAN.finditer(text):
        candidate = match.group()  # may have run on into a short word: drop trailing groups until valid
        while candidate and not iban.is_valid(candidate):
            candidate = candidate.rsplit(" ", 1)[0] if " " in candidate else ""
        if candidate:
            found.append(PersonalData("iban", match.start(), match.start() + len(candidate)))
    for match in _DIGITS.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        kind = next(
            (kind for kind, valid, size in _NUMBER_CHECKS if len(digits) == size and valid(digits)), None
        )
        if kind:
            found.append(PersonalData(kind, match.start(), match.end()))
    for region in PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(text, region):
            found.append(PersonalData("phone", match.start, match.end))
    return _without_overlaps(found)


def redact(text: str, found: list[PersonalData]) -> str:
    """The text with each identifier replaced by its kind, e.g. `[national_number]`."""
    for item in sorted(found, key=lambda f: f.start, reverse=True):
        text = f"{text[: item.start]}[{item.kind}]{text[item.end :]}"
    return text


def _without_overlaps(found: list[PersonalData]) -> list[PersonalData]:
    """A number can look like several kinds: keep the first found of any overlapping ones."""
    kept: list[PersonalData] = []
    for item in found:
        if all(item.end <= other.start or item.start >= other.end for other in kept):
            kept.append(item)
    return sorted(kept, key=lambda f: f.start)
