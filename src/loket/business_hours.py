"""When people are at work: office hours, public holidays, and time counted in business hours (the
handoff block's queue, and its figures).

`LOKET_OFFICE_HOURS` reads like a notice on a door: `mon-fri 09:00-17:00`, several separated by `;`
(`mon-thu 09:00-17:00; fri 09:00-12:00`), or `always`. Holidays come from the `holidays` package for
the calendar configured (Belgium's public holidays by default; a region as `BE` or `DE-BY`), plus any
extra dates an organisation closes (`LOKET_EXTRA_HOLIDAYS`). Times are local (`LOKET_TIMEZONE`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = "always"
_ENTRY = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})$"
)


@dataclass(frozen=True)
class OfficeHours:
    spans: tuple[tuple[int, time, time], ...]  # (weekday, from, until); empty: always open
    zone: ZoneInfo
    closed_days: frozenset[date] | None = None  # besides the calendar's
    calendar: str = "BE"

    @classmethod
    def parse(cls, spec: str, zone: str, calendar: str = "BE", extra: str = "") -> OfficeHours:
        """ValueError, naming the part, for anything it cannot read."""
        spans = []
        if spec.strip().lower() != ALWAYS:
            for part in filter(None, (p.strip().lower() for p in spec.split(";"))):
                found = _ENTRY.match(part)
                if not found or found["first"] not in DAYS or (found["last"] or found["first"]) not in DAYS:
                    raise ValueError(f"{part!r}: write office hours as `mon-fri 09:00-17:00`, or `always`")
                first, last = DAYS.index(found["first"]), DAYS.index(found["last"] or found["first"])
                start, end = time.fromisoformat(found["start"]), time.fromisoformat(found["end"])
                if end <= start or last < first:
                    raise ValueError(f"{part!r}: the hours or days run backwards")
                spans += [(day, start, end) for day in range(first, last + 1)]
        country, _, region = calendar.partition("-")
        try:
            holidays.country_holidays(country, subdiv=region or None)
        except NotImplementedError as error:
            raise ValueError(f"{calendar!r} is not a holiday calendar the holidays package knows") from error
        closed = frozenset(date.fromisoformat(d.strip()) for d in extra.split(",") if d.strip())
        return cls(tuple(spans), ZoneInfo(zone), closed, calendar)

    def is_holiday(self, day: date) -> bool:
        country, _, region = self.calendar.partition("-")
        return day in _calendar(country, region or None, day.year) or day in (self.closed_days or ())

    def is_open(self, moment: datetime) -> bool:
        if not self.spans:
            return True
        local = moment.astimezone(self.zone)
        if self.is_holiday(local.date()):
            return False
        now = local.time()
        return any(day == local.weekday() and start <= now < end for day, start, end in self.spans)

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds between two moments that fall in office hours (all of them when always open)."""
        if not self.spans:
            return max(0.0, (end - start).total_seconds())
        total, day = 0.0, start.astimezone(self.zone).date()
        while day <= end.astimezone(self.zone).date():
            if not self.is_holiday(day):
                for weekday, opens, closes in self.spans:
                    if weekday == day.weekday():
                        window_start = max(start, datetime.combine(day, opens, self.zone))
                        window_end = min(end, datetime.combine(day, closes, self.zone))
                        total += max(0.0, (window_end - window_start).total_seconds())
            day += timedelta(days=1)
        return total


_calendars: dict[tuple[str, str | None, int], holidays.HolidayBase] = {}


def _calendar(country: str, region: str | None, year: int) -> holidays.HolidayBase:
    key = (country, region, year)
    if key not in _calendars:
        _calendars[key] = holidays.country_holidays(country, subdiv=region, years=year)
    return _calendars[key]
