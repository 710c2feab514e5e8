"""Questions about who used one's data ("wie heeft mijn gegevens bekeken?"), answered from the access
log of the profile the person acts in, as "Who used my data" in their loket shows it.

The answer names the latest uses by others (someone acting for the person, loket's own jobs, a civil
servant), newest first and in plain words, and links to the page that has them all. The person's own
uses are left out: they asked who else. Reading the log is itself logged, as the person's own view of
their data, after it is read (so the answer does not name the question itself).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_datetime_format

from loket.assistant.schemas import Citation
from loket.assistant.texts import (
    ACCESS_BY_LOKET,
    ACCESS_FOR_YOU,
    ACCESS_LOG_INTRO,
    ACCESS_LOG_LINE,
    ACCESS_LOG_MORE,
    ACCESS_LOG_NOTHING,
    ACCESS_LOG_ORGANISATION_INTRO,
    ACCESS_LOG_PAGE,
)
from loket.consent.processing import category_name, register
from loket.db import as_utc
from loket.i18n import message
from loket.identity.access_log import LOKET, AccessLog
from loket.identity.schemas import Access, AccessQuery, Kind, SignedIn

MY_DATA = "/mijn-gegevens"  # the page (`loket.web.my_data`)
LISTED = 5  # uses named in one answer
READ = 200  # the latest records the answer looks through for uses by others


@dataclass(frozen=True)
class UsesAnswer:
    text: str
    cited: list[Citation]
    uses: int  # named in the text


OwnAccesses = Callable[[str], UsesAnswer]  # in the language given


def accesses_of(access_log: AccessLog, user: SignedIn, zone: ZoneInfo) -> OwnAccesses:
    """Who used the active profile's data, as the assistant may say it: read, and logged, only when
    called, in the language of the answer (known once the question's language is)."""

    def answer(language: str) -> UsesAnswer:
        latest = access_log.accesses(user, AccessQuery(limit=READ))
        access_log.record_own_view(user)
        others = [a for a in latest if a.actor_id != user.person.id][:LISTED]
        page = Citation(url=MY_DATA, title=message(ACCESS_LOG_PAGE, language), snippet="")
        if not others:
            return UsesAnswer(message(ACCESS_LOG_NOTHING, language), [page], 0)
        organisation = user.active.kind not in (Kind.CITIZEN, Kind.MANDATE)
        intro = (
            message(ACCESS_LOG_ORGANISATION_INTRO, language, name=user.active.name)
            if organisation
            else message(ACCESS_LOG_INTRO, language)
        )
        lines = [_line(access, language, zone) for access in others]
        text = " ".join([intro, *lines, message(ACCESS_LOG_MORE, language)])
        return UsesAnswer(text, [page], len(others))

    return answer


def _line(access: Access, language: str, zone: ZoneInfo) -> str:
    purpose = register().purposes.get(access.why.partition(":")[0])
    return message(
        ACCESS_LOG_LINE,
        language,
        date=said_when(access.at, zone, language),
        who=_who(access, language),
        what=category_name(access.what, language),
        why=purpose.said(purpose.name, language) if purpose else access.why,
    )


def _who(access: Access, language: str) -> str:
    if access.actor_id == LOKET:
        return message(ACCESS_BY_LOKET, language)
    if access.for_you:
        return message(ACCESS_FOR_YOU, language, name=access.actor)
    return access.actor


def said_when(at: datetime, zone: ZoneInfo, language: str) -> str:
    """A moment in the deployment's time zone, as the language writes a date and a time."""
    local = as_utc(at).astimezone(zone)
    return get_datetime_format("long", locale=language).format(
        format_time(local, "short", locale=language), format_date(local, "long", locale=language)
    )
