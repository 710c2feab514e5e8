""" "Who used my data" in Mijn loket: the access log of the profile one acts in (one's own, or that of
the organisation one acts for), newest first and in plain words: who, which data, why, on what legal
basis. Filtered by period, reader and purpose with a plain GET form; a record kept from view for a
while shows, once shown, until when and why. Reading the page is itself logged (the person's own view).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.responses import Response

from loket.assistant.own_accesses import MY_DATA, said_when
from loket.consent.processing import Purpose, category_name, register
from loket.db import as_utc
from loket.i18n import plain, request_language
from loket.identity.access import signed_in
from loket.identity.access_log import LOKET
from loket.identity.schemas import Access, AccessQuery, Reader, SignedIn
from loket.web.cases import login_first
from loket.web.deps import IdentityDep, SettingsDep
from loket.web.render import render

router = APIRouter(include_in_schema=False)
SHOWN = 100  # uses on the page at most; the filters find older ones
MAX_READER = 64  # an actor id's length in the log


@dataclass(frozen=True)
class Use:
    """One use of the data as the page says it."""

    at: datetime
    when: str
    who: str
    what: str
    why: str
    basis: str
    held: str | None


@dataclass(frozen=True)
class Filters:
    since: date | None = None
    until: date | None = None
    by: str | None = None
    purpose: str | None = None

    @property
    def any(self) -> bool:
        return any((self.since, self.until, self.by, self.purpose))

    def query(self, zone: ZoneInfo, limit: int) -> AccessQuery:
        """The days from `since` to `until`, both whole, in loket's time zone."""
        start = datetime.combine(self.since, time(), zone) if self.since else None
        end = datetime.combine(self.until + timedelta(days=1), time(), zone) if self.until else None
        return AccessQuery(start, end, self.purpose, self.by, limit)


@router.get(MY_DATA)
def my_data(request: Request, identity: IdentityDep, settings: SettingsDep) -> Response:
    user = signed_in(request)
    if user is None:
        return login_first(request, MY_DATA)
    language = request_language(request)
    zone = ZoneInfo(settings.timezone)
    identity.access_log.record_own_view(user)
    filters, errors = _filters(request, language)
    found = [] if errors else identity.access_log.accesses(user, filters.query(zone, SHOWN + 1))
    return render(
        request,
        "my_data.html",
        language,
        status_code=422 if errors else 200,
        page="my_data",
        uses=[_use(access, user, language, zone) for access in found[:SHOWN]],
        more=len(found) > SHOWN,
        filters=filters,
        dates={field: (request.query_params.get(field) or "")[:32] for field in ("since", "until")},
        errors=errors,
        readers=_readers(user, identity.access_log.readers(user), filters.by, language),
        purposes=sorted(
            ((p.id, p.said(p.name, language)) for p in register().purposes.values()), key=lambda p: p[1]
        ),
    )


def _filters(request: Request, language: str) -> tuple[Filters, dict[str, str]]:
    """The form's values; a value that is no date, or no purpose of the register, is said per field."""
    params = request.query_params
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for field in ("since", "until"):
        value = (params.get(field) or "").strip()
        try:
            days[field] = date.fromisoformat(value) if value else None
        except ValueError:
            days[field] = None
            errors[field] = plain(language, "Enter a date as year-month-day, for example 2026-03-01.")
    if days["since"] and days["until"] and days["until"] < days["since"]:
        errors["until"] = plain(language, "The end date cannot be before the start date.")
    purpose = params.get("purpose") or None
    if purpose and purpose not in register().purposes:
        errors["purpose"] = plain(language, "Choose a purpose from the list.")
        purpose = None
    by = (params.get("by") or "")[:MAX_READER] or None
    return Filters(days["since"], days["until"], by, purpose), errors


def _who(access: Access | Reader, user: SignedIn, language: str) -> str:
    if access.for_you:
        return plain(language, "%(name)s, acting for you", name=access.actor)
    return _reader(access.actor_id, user, language) or access.actor


def _reader(actor_id: str, user: SignedIn, language: str) -> str | None:
    if actor_id == user.person.id:
        return plain(language, "you")
    if actor_id == LOKET:
        return plain(language, "loket (automatically)")
    return None


def _readers(
    user: SignedIn, readers: list[Reader], chosen: str | None, language: str
) -> list[tuple[str, str]]:
    """Who used the data, for the filter: you first, then the others by name, loket last; the reader
    chosen stays offered, even one whose uses are now on hold."""
    found = {reader.actor_id: _who(reader, user, language) for reader in readers}
    if chosen and chosen not in found:
        found[chosen] = _reader(chosen, user, language) or chosen
    order = {user.person.id: 0, LOKET: 2}
    return sorted(found.items(), key=lambda item: (order.get(item[0], 1), item[1].casefold()))


def _use(access: Access, user: SignedIn, language: str, zone: ZoneInfo) -> Use:
    purpose: Purpose | None = register().purposes.get(access.why.partition(":")[0])
    held = None
    if access.held:
        ended = as_utc(access.held.disclosed_at or access.held.until).astimezone(zone)
        held = plain(
            language,
            "Kept from view until %(date)s because: %(reason)s",
            date=format_date(ended, "long", locale=language),
            reason=access.held.reason,
        )
    return Use(
        at=access.at,
        when=said_when(access.at, zone, language),
        who=_who(access, user, language),
        what=category_name(access.what, language),
        why=purpose.said(purpose.name, language) if purpose else access.why,
        basis=purpose.said(purpose.legal_basis, language) if purpose else (access.basis or ""),
        held=held,
    )
