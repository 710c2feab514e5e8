"""MAGDA DOSIS "GeefDossiers" responses (the data behind Mijn Burgerprofiel's "lopende zaken") as CaseDrafts.

Every DossierMutatie becomes one CaseDraft, or one Skipped that says why not; a response often holds
several mutations of the same case (its status history), and they are all returned, in document order.
Every Uitzondering (an error MAGDA or a source reports instead of cases) becomes a Skipped too.

The rules, kept deliberately few:
- A mutation is skipped when it lacks a source (Identificatie/Bron), a case number (Dossiernummer), a name
  (Naam) or a status code (Status/Code); when any subject has a Type other than PERS or OND; or when no
  subject has a usable key: a national number for PERS (test persons included) or a 10-digit enterprise
  number for OND, check digits verified, after dropping spaces, dots, dashes and slashes. A subject
  without a usable key next to usable ones is left out of the case and reported as a Skipped of its own
  ("...: DossierMutatie 3, Subject 2"); when no subject is usable, only the mutation's Skipped is given.
- Anything else that cannot be read becomes empty rather than a reason to skip: a malformed date or time
  becomes None, a referral link that is not http(s) becomes None.
- Times without an offset are Europe/Brussels local time; every datetime returned is timezone-aware UTC.
- Texts have their whitespace normalised (the files break lines inside texts).
- Elements are matched by local name, with or without a namespace. The parser never resolves entities or
  touches the network, and a document with a DTD is refused outright.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from lxml import etree
from stdnum.be import vat

from loket import __version__
from loket.cases.schemas import CaseDraft, Contact, Skipped, Status, Subject, SubjectType
from loket.harvest import HarvestPolicy, Refused
from loket.identity import national_number

BRUSSELS = ZoneInfo("Europe/Brussels")
TIMEOUT = 20.0
NOT_A_RESPONSE = "not a GeefDossiers response"
_SUBJECT_TYPES = {"PERS": SubjectType.PERSON, "OND": SubjectType.COMPANY}
_KEY_RULES = {
    SubjectType.PERSON: ("a valid national number", national_number.is_valid),
    SubjectType.COMPANY: ("a valid enterprise number", lambda key: len(key) == 10 and vat.is_valid(key)),
}
_KEY_SEPARATORS = re.compile(r"[\s./-]")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2})?")


class CaseSourceError(Exception):
    """A location that could not be read: a missing path, an unreadable file or a failed HTTP request."""


def parse_geef_dossiers(data: bytes, where: str) -> tuple[list[CaseDraft], list[Skipped]]:
    """The cases in one GeefDossiers response, and what was skipped and why. Never raises on bad input."""
    response, problem = _response(data)
    if response is None:
        return [], [Skipped(where, f"{NOT_A_RESPONSE}: {problem}")]
    drafts: list[CaseDraft] = []
    skipped: list[Skipped] = []
    for number, mutation in enumerate(response.iterfind(".//{*}DossierMutatie"), start=1):
        draft, problems = _mutation(mutation, f"{where}: DossierMutatie {number}")
        if draft is not None:
            drafts.append(draft)
        skipped.extend(problems)
    for number, exception in enumerate(response.iterfind(".//{*}Uitzondering"), start=1):
        skipped.append(Skipped(f"{where}: Uitzondering {number}", _exception_reason(exception)))
    return drafts, skipped


def read_location(location: str, harvest: HarvestPolicy | None = None) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) for a file, for every *.xml in a folder (sorted by name), or for an http(s) URL,
    fetched only as `harvest` allows (default: that URL's host, and only if public).

    A generator: CaseSourceError is raised while iterating, not on the call.
    """
    if location.startswith(("http://", "https://")):
        policy = (harvest or HarvestPolicy()).starting_at(location)
        headers = {"User-Agent": f"loket/{__version__} (case import)"}
        try:
            with policy.client(headers, TIMEOUT) as client:
                response, body = policy.get(client, location)
            response.raise_for_status()
        except Refused as refused:
            raise CaseSourceError(f"refused: {refused}") from refused
        except httpx.HTTPStatusError as error:
            raise CaseSourceError(f"cannot fetch {location}: HTTP {error.response.status_code}") from error
        except httpx.HTTPError as error:
            raise CaseSourceError(f"cannot fetch {location}: {type(error).__name__}") from error
        yield location, body
        return
    path = Path(location)
    if path.is_dir():
        files = sorted(path.glob("*.xml"))
    elif path.is_file():
        files = [path]
    else:
        raise CaseSourceError(f"no such file or folder: {location}")
    for file in files:
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CaseSourceError(f"cannot read {file}: {error.strerror or error}") from error
        yield file.name, data


def _response(data: bytes) -> tuple[etree._Element | None, str]:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True, remove_pis=True
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError, TypeError) as error:
        return None, f"not well-formed XML ({_clip(str(error)) or type(error).__name__})"
    if root is None:
        return None, "empty document"
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        return None, "documents with a DTD (DOCTYPE) are refused"
    if _local(root) == "GeefDossiersResponse":
        return root, ""
    response = next(root.iterfind(".//{*}GeefDossiersResponse"), None)
    if response is not None:
        return response, ""
    fault = next(root.iterfind(".//{*}Fault"), None)
    if fault is not None:
        return None, f"SOAP fault: {_text(fault, 'faultstring') or _text(fault, 'Reason') or 'no reason'}"
    return None, f"the root element is <{_local(root)}>"


def _mutation(mutation: etree._Element, where: str) -> tuple[CaseDraft | None, list[Skipped]]:
    source = _text(mutation, "Identificatie/Bron")
    number = _text(mutation, "Identificatie/Dossiernummer")
    name = _text(mutation, "Naam")
    code = _text(mutation, "Status/Code")
    case = f"Bron {source or '-'}, Dossiernummer {number or '-'}"
    missing = [
        label
        for label, value in (
            ("a source (Identificatie/Bron)", source),
            ("a case number (Identificatie/Dossiernummer)", number),
            ("a name (Naam)", name),
            ("a status code (Status/Code)", code),
        )
        if not value
    ]
    if missing:
        return None, [Skipped(where, f"lacks {' and '.join(missing)}; {case}")]

    subjects: dict[tuple[SubjectType, str], Subject] = {}
    unusable: list[Skipped] = []
    for position, element in enumerate(mutation.iterfind("{*}Subjecten/{*}Subject"), start=1):
        raw_type = _text(element, "Type")
        kind = _SUBJECT_TYPES.get(raw_type.upper())
        if kind is None:
            reason = f"subject {position} has an unknown Type {raw_type!r}, expected PERS or OND; {case}"
            return None, [Skipped(where, reason)]
        raw_key = _text(element, "Sleutel")
        key = _KEY_SEPARATORS.sub("", raw_key)
        expected, is_valid = _KEY_RULES[kind]
        if not (key.isascii() and key.isdigit() and is_valid(key)):
            reason = f"subject left out: unusable key {raw_key!r} for {raw_type}, expected {expected}; {case}"
            unusable.append(Skipped(f"{where}, Subject {position}", reason))
            continue
        subjects.setdefault((kind, key), Subject(role=_text(element, "Rol"), type=kind, key=key))
    if not subjects:
        return None, [Skipped(where, f"has no subject with a usable key (Subjecten/Subject/Sleutel); {case}")]

    details = " ".join(filter(None, (_norm(e) for e in mutation.iterfind("{*}Status/{*}Details/{*}Detail"))))
    link = _text(mutation, "Doorverwijzing")
    draft = CaseDraft(
        source=source,
        number=number,
        name=name,
        type=_text(mutation, "Type"),
        status=Status(
            code=code,
            phase=_text(mutation, "Status/Fase"),
            details=details,
            action_needed=_flag(_text(mutation, "Status/Actie/ActieNodig")),
            action=_text(mutation, "Status/Actie/Omschrijving"),
            at=_datetime(_text(mutation, "Status/DatumModificatie")),
        ),
        subjects=tuple(subjects.values()),
        product=_text(mutation, "Producten/Product") or None,
        contact=_contact(mutation),
        link=link if link.lower().startswith(("http://", "https://")) else None,
        confidential=_flag(_text(mutation, "Eigenschappen/Vertrouwelijk")),
        hidden=_flag(_text(mutation, "Eigenschappen/IsNietRaadpleegbaar")),
        period_start=_date(_text(mutation, "Periode/Begin/Datum")),
        period_end=_date(_text(mutation, "Periode/Einde/Datum")),
        modified=_datetime(_text(mutation, "DatumModificatie")),
    )
    return draft, unusable


def _contact(mutation: etree._Element) -> Contact:
    street = " ".join(
        filter(None, (_text(mutation, f"Beheerder/Adres/{p}") for p in ("Straat/Naam", "Huisnummer")))
    )
    if street and (box := _text(mutation, "Beheerder/Adres/Busnummer")):
        street += f" bus {box}"
    town = " ".join(
        filter(None, (_text(mutation, f"Beheerder/Adres/Gemeente/{p}") for p in ("Postcode", "Naam")))
    )
    return Contact(
        name=_text(mutation, "Beheerder/Contact/Naam"),
        service=_text(mutation, "Beheerder/Contact/Dienst/Omschrijving"),
        email=_text(mutation, "Beheerder/Contact/Email"),
        phone=_text(mutation, "Beheerder/Contact/Telefoon"),
        website=_text(mutation, "Beheerder/Contact/Website"),
        address=", ".join(filter(None, (street, town))),
    )


def _exception_reason(exception: etree._Element) -> str:
    """E.g. "source VAPH: Ongekende foutcode van de bron, contacteer Magda helpdesk (MAGDA 99986, FOUT)"."""
    sources = [
        _text(annotation, "Waarde")
        for annotation in exception.iterfind("{*}Annotaties/{*}Annotatie")
        if _text(annotation, "Naam").lower() == "bron" and _text(annotation, "Waarde")
    ]
    reason = _text(exception, "Diagnose") or "MAGDA reports an error without a diagnosis"
    circumstance = _text(exception, "Omstandigheid")
    if circumstance and not circumstance.isdigit():
        reason += f": {circumstance}"
    if sources:
        reason = f"{'sources' if len(sources) > 1 else 'source'} {', '.join(sources)}: {reason}"
    code = " ".join(filter(None, (_text(exception, "Oorsprong"), _text(exception, "Identificatie"))))
    tail = ", ".join(filter(None, (code, _text(exception, "Type"))))
    return f"{reason} ({tail})" if tail else reason


def _text(element: etree._Element, path: str) -> str:
    """The whitespace-normalised text of the first element at path (local names, any namespace)."""
    found = element.find(_any_namespace(path))
    return _norm(found) if found is not None else ""


@lru_cache(maxsize=64)
def _any_namespace(path: str) -> str:
    return "/".join("{*}" + step for step in path.split("/"))


def _norm(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _flag(value: str) -> bool:
    return value.lower() in {"1", "true"}


def _datetime(value: str) -> datetime | None:
    """ISO 8601 with or without offset and fractional seconds; naive means Brussels time. UTC or None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BRUSSELS)
    return moment.astimezone(UTC)


def _date(value: str) -> date | None:
    """An xs:date, which may carry a zone ("2018-01-01", "2018-01-01+01:00"); None when unreadable."""
    match = _DATE.fullmatch(value)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
