"""Personal identifiers in typed text, found before a question or a query is searched, answered,
stored, logged or sent to a model, an embedder or a re-ranker; and typed text normalised.

Personal identifiers are found twice over. Validating libraries (checksums, not just shapes) find
the real ones, so an amount or a year is not mistaken for a national number: a question holding one
is refused. And whatever merely has an identifier's shape (an IBAN whose bank code is unknown, a
national number with a typo, a card number, a phone number in the wrong format) is redacted all
the same before anything is stored, logged or sent on: a mistyped number is still someone's.
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
# Shapes alone, whatever the checksum: redacted, never a reason to refuse.
_SHAPES = (
    ("iban", re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,3})?\b")),
    ("national_number", re.compile(r"(?<![\w.,])\d{2}\.?\d{2}\.?\d{2}[-. ]?\d{3}\.?\d{2}(?![\w]|[.,]\d)")),
    ("card_number", re.compile(r"(?<![\w.,])(?:\d{4}[ -]?){3}\d{1,7}(?![\w]|[.,]\d)")),
    # a leading + or 0 and 9 to 12 digits: what people type as a phone number, not an amount or a date
    ("phone", re.compile(r"(?<![\w.,/])(?:\+\d{2}[ .]?|0)\d(?:[ ./-]?\d){7,10}(?![\w]|[.,/]\d)")),
)


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


def find_shaped(text: str) -> list[PersonalData]:
    """What has an identifier's shape, valid or not (to redact, not to refuse)."""
    found = [PersonalData(kind, m.start(), m.end()) for kind, shape in _SHAPES for m in shape.finditer(text)]
    return _without_overlaps(sorted(found, key=lambda item: item.start))


def redacted(text: str) -> str:
    """The text as it may be stored, logged or sent on: real identifiers and look-alikes replaced."""
    return redact(text, _without_overlaps(find_personal_data(text) + find_shaped(text)))


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
