"""The dashboard of operators and content owners (`/beheer`): questions per hour or per day as a bar
chart that needs no JavaScript, with the same numbers as a table; answers by status, kind of question,
language and channel; feedback; hand-offs and how fast an agent first answered. A plain GET form
filters by period, channel and staff's own questions.

Every table, on the page and in the CSV and JSON exports, is made from the one `Dashboard.tables()`:
the page says each key and value in words (`<data value>` and `<time datetime>` keep them as they are
exported), so what is shown is what is exported.

Page and exports alike: anonymous, the login page; logged in without the role `operator` or
`content_owner`, 403; a filter loket does not know, 400; both errors as pages in the person's language.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_time, get_datetime_format
from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from loket.i18n import plain, request_language
from loket.identity.schemas import Role
from loket.insight.service import CHANNELS, PERIODS, Dashboard, Filters, InsightService
from loket.web.cases import with_role
from loket.web.deps import InsightDep, SettingsDep
from loket.web.render import href_for, render

router = APIRouter(include_in_schema=False)
DASHBOARD = "/beheer"
ROLES = (Role.OPERATOR, Role.CONTENT_OWNER)
# The chart's drawing area, in the SVG's own units (it scales to the page's width).
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 260, 44, 36, 12
MOMENTS = ("questions", "reasons_down", "reasons_up")  # tables whose keys are moments
LABELS_EVERY = {"24h": 3, "30d": 5, "90d": 15}  # one axis label per so many bars


@dataclass(frozen=True)
class Row:
    key: str  # as exported
    value: int | float | str  # as exported
    label: str  # the key in words
    shown: str  # the value in words (first-response times in minutes)
    share: float  # of the table's largest value, for its bar


@dataclass(frozen=True)
class Table:
    name: str  # as exported
    caption: str
    key_heading: str
    value_heading: str
    rows: list[Row]
    bars: bool  # a small bar per row

    @property
    def moments(self) -> bool:
        """Its keys are moments (`<time datetime>` on the page)."""
        return self.name in MOMENTS


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str
    axis: str | None  # the label under it, on some bars only


@dataclass(frozen=True)
class Chart:
    title: str
    summary: str
    bars: list[Bar]
    most: str  # the top of the scale
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT  # the vertical axis
    top: int = TOP  # the largest bar's top
    base: int = HEIGHT - BOTTOM  # the horizontal axis


@router.get(DASHBOARD)
def dashboard(request: Request, insight: InsightDep, settings: SettingsDep) -> Response:
    language = request_language(request)
    found = _figures(request, insight, language)
    if isinstance(found, Response):
        return found
    zone = ZoneInfo(settings.timezone)
    tables = _tables(found, language, zone)
    questions = next(t for t in tables if t.name == "questions")
    href = href_for(language)
    query = found.filters.query()
    return render(
        request,
        "insight.html",
        language,
        page="insight",
        dashboard=found,
        filters=found.filters,
        since=_moment(found.since, language, zone),
        until=_moment(found.until, language, zone),
        total=format_decimal(found.total, locale=language),
        chart=_chart(questions, found, language, zone),
        tables=tables,
        periods=[(p, _period(p, language)) for p in PERIODS],
        channels=[(c, _channel(c, language)) for c in CHANNELS],
        csv_href=href(DASHBOARD + "/export.csv", **query),
        json_href=href(DASHBOARD + "/export.json", **query),
    )


@router.get(DASHBOARD + "/export.csv")
def export_csv(request: Request, insight: InsightDep) -> Response:
    """Columns `table,key,value`: one row per row of the page's tables."""
    found = _figures(request, insight, request_language(request))
    if isinstance(found, Response):
        return found
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(("table", "key", "value"))
    for name, rows in found.tables():
        writer.writerows((name, key, value) for key, value in rows)
    return _download(Response(text.getvalue(), media_type="text/csv; charset=utf-8"), found, "csv")


@router.get(DASHBOARD + "/export.json")
def export_json(request: Request, insight: InsightDep) -> Response:
    """`{"filters", "since", "until", "tables": {name: [[key, value], ...]}}`."""
    found = _figures(request, insight, request_language(request))
    if isinstance(found, Response):
        return found
    body = {
        "filters": asdict(found.filters),
        "since": found.since.isoformat(),
        "until": found.until.isoformat(),
        "tables": {name: [[key, value] for key, value in rows] for name, rows in found.tables()},
    }
    return _download(JSONResponse(body), found, "json")


def _figures(request: Request, insight: InsightService, language: str) -> Dashboard | Response:
    """The dashboard for the request's filters, for operators and content owners only."""
    refusal = plain(language, "Only operators and content owners can see the dashboard.")
    user = with_role(request, _here(request), ROLES, refusal)
    if isinstance(user, Response):
        return user
    return insight.dashboard(Filters.parse(dict(request.query_params), language))


def _here(request: Request) -> str:
    """The dashboard with the filters asked for, to come back to after logging in (an export too:
    landing on a download after logging in would leave the person on the login page)."""
    params = request.query_params
    query = {name: params[name][:8] for name in ("period", "channel", "staff", "test") if params.get(name)}
    return DASHBOARD + (f"?{urlencode(query)}" if query else "")


def _download(response: Response, found: Dashboard, extension: str) -> Response:
    name = f"loket-dashboard-{found.filters.period}-{found.until:%Y%m%d%H%M}.{extension}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Cookie"
    return response


def _tables(found: Dashboard, language: str, zone: ZoneInfo) -> list[Table]:
    """`Dashboard.tables()` in words: the same keys and values, in the same order."""
    per_hour = PERIODS[found.filters.period][0] == "hour"
    questions = plain(language, "Questions")
    answers = plain(language, "Answers")
    heads = {
        "questions": (
            plain(language, "Questions per hour") if per_hour else plain(language, "Questions per day"),
            plain(language, "Hour") if per_hour else plain(language, "Day"),
            questions,
        ),
        "status": (plain(language, "Answers by status"), plain(language, "Status of the answer"), answers),
        "route": (plain(language, "Questions by kind"), plain(language, "Kind of question"), questions),
        "language": (plain(language, "Questions by language"), plain(language, "Language"), questions),
        "channel": (plain(language, "Questions by channel"), plain(language, "Channel"), questions),
        "feedback": (plain(language, "Feedback on answers"), plain(language, "Feedback"), answers),
        "handoffs": (
            plain(language, "Hand-offs to a person"),
            plain(language, "Figure"),
            plain(language, "Value"),
        ),
        "latency_p50_ms": (
            plain(language, "Time per step of an answer, median (ms)"),
            plain(language, "Step"),
            plain(language, "Milliseconds"),
        ),
        "latency_p95_ms": (
            plain(language, "Time per step of an answer, 95th percentile (ms)"),
            plain(language, "Step"),
            plain(language, "Milliseconds"),
        ),
        "llm_costs": (
            plain(language, "Costs of the language model"),
            plain(language, "Figure"),
            plain(language, "Value"),
        ),
        "reasons_down": (
            plain(language, "Latest reasons given with a thumbs down"),
            plain(language, "When"),
            plain(language, "Reason (as kept, personal data removed)"),
        ),
        "reasons_up": (
            plain(language, "Latest reasons given with a thumbs up"),
            plain(language, "When"),
            plain(language, "Reason (as kept, personal data removed)"),
        ),
        "cited": (plain(language, "Pages cited most"), plain(language, "Page"), answers),
        "never_cited": (
            plain(language, "Pages never cited in this period"),
            plain(language, "Page"),
            plain(language, "Days since it changed"),
        ),
        "stale": (
            plain(language, "Pages unchanged for a year or more"),
            plain(language, "Page"),
            plain(language, "Days since it changed"),
        ),
    }
    names = _names(language)
    tables = []
    for name, pairs in found.tables():
        caption, key_heading, value_heading = heads.get(name, (name, name, name))
        numbers = [value for _, value in pairs if not isinstance(value, str)]
        largest = max(numbers, default=0) or 1
        rows = [
            Row(
                key,
                value,
                _label(name, key, names, language, zone, per_hour),
                _shown(name, key, value, language),
                0 if isinstance(value, str) else value / largest,
            )
            for key, value in pairs
        ]
        bars = name in ("status", "route", "language", "channel", "feedback")
        tables.append(Table(name, caption, key_heading, value_heading, rows, bars))
    return tables


def _label(name: str, key: str, names: dict, language: str, zone: ZoneInfo, per_hour: bool) -> str:
    if name == "questions":
        return _bucket(datetime.fromisoformat(key), language, zone, per_hour)
    if name in MOMENTS:
        return _date_time(datetime.fromisoformat(key), "yMMMd", language, zone)
    if name == "language":
        return _language(key, language)
    if name == "channel":
        return _channel(key, language)
    return names.get(name, {}).get(key, key)


def _shown(name: str, key: str, value: int | float | str, language: str) -> str:
    if isinstance(value, str):
        return value
    if name == "handoffs" and key in ("p50", "p90"):
        return format_decimal(value / 60, "#,##0.#", locale=language)  # seconds as minutes
    return format_decimal(value, locale=language)


def _names(language: str) -> dict[str, dict[str, str]]:
    """Statuses (BRIEF §4), kinds of question (`loket.assistant.routing.Route`), feedback and the
    hand-off figures in plain words."""
    return {
        "status": {
            "answered": plain(language, "Answered"),
            "unanswerable": plain(language, "Not answered: our information does not say"),
            "out_of_scope": plain(language, "Not answered: not about public services"),
            "needs_login": plain(language, "Asked to log in first"),
            "signposted": plain(language, "Pointed to emergency or crisis help"),
            "refused_personal_data": plain(language, "Refused: personal data in the question"),
            "refused_abuse": plain(language, "Refused: misuse or manipulation"),
            "handoff": plain(language, "Passed on to a person"),
            "error": plain(language, "Something went wrong"),
        },
        "route": {
            "information": plain(language, "Looking for information"),
            "greeting": plain(language, "A greeting"),
            "handoff": plain(language, "Asking for a person"),
            "own_case": plain(language, "About their own case"),
            "own_messages": plain(language, "About their own messages"),
            "entitlements": plain(language, "What they may be entitled to"),
            "access_log": plain(language, "Who used their data"),
            "out_of_scope": plain(language, "Not about public services"),
        },
        "feedback": {
            "up": plain(language, "Helpful (thumbs up)"),
            "down": plain(language, "Not helpful (thumbs down)"),
        },
        "handoffs": {
            "requested": plain(language, "Asked for a person"),
            "p50": plain(language, "Minutes until an agent first answered, for half of them (office hours)"),
            "p90": plain(language, "Minutes until an agent first answered, for 9 in 10 (office hours)"),
        },
        "llm_costs": {
            "llm_answers": plain(language, "Answers written by the language model"),
            "prompt_tokens": plain(language, "Tokens read (prompts)"),
            "completion_tokens": plain(language, "Tokens written (answers)"),
            "cost": plain(language, "Cost in the period (euro)"),
            "cost_per_1000_answers": plain(language, "Cost per 1,000 answers (euro)"),
        },
    }


def _period(period: str, language: str) -> str:
    return {
        "24h": plain(language, "The last 24 hours, per hour"),
        "30d": plain(language, "The last 30 days, per day"),
        "90d": plain(language, "The last 90 days, per day"),
    }[period]


def _channel(channel: str, language: str) -> str:
    return {
        "web": plain(language, "loket's website"),
        "widget": plain(language, "Chat window on another site"),
        "api": plain(language, "API"),
        "partner": plain(language, "Partners' apps"),
    }.get(channel, channel)


def _language(code: str, language: str) -> str:
    """A detected language's name in the reader's language; its code when Babel does not know it."""
    try:
        return Locale.parse(code).get_language_name(language) or code
    except (ValueError, UnknownLocaleError):
        return code


def _moment(moment: datetime, language: str, zone: ZoneInfo) -> str:
    return _date_time(moment, "yMMMd", language, zone)


def _bucket(start: datetime, language: str, zone: ZoneInfo, per_hour: bool) -> str:
    """An hour as its day and time, a day as its weekday and date, in loket's time zone."""
    if per_hour:
        return _date_time(start, "MMMd", language, zone)
    return format_skeleton("yMMMEd", start, tzinfo=zone, locale=language)


def _date_time(moment: datetime, date_skeleton: str, language: str, zone: ZoneInfo) -> str:
    """A date (CLDR skeleton) and a time, joined as the language joins them."""
    return get_datetime_format("short", locale=language).format(
        format_time(moment, "short", tzinfo=zone, locale=language),
        format_skeleton(date_skeleton, moment, tzinfo=zone, locale=language),
    )


def _chart(questions: Table, found: Dashboard, language: str, zone: ZoneInfo) -> Chart:
    """The questions table as bars scaled to the largest, an axis label under every few."""
    per_hour = PERIODS[found.filters.period][0] == "hour"
    largest = max((row.value for row in questions.rows), default=0)
    slot = (WIDTH - LEFT) / max(len(questions.rows), 1)
    tall = HEIGHT - BOTTOM - TOP
    every = LABELS_EVERY[found.filters.period]
    bars = []
    for index, row in enumerate(questions.rows):
        height = tall * row.value / largest if largest else 0
        start = datetime.fromisoformat(row.key)
        axis = None
        if index % every == 0:
            axis = (
                format_time(start, "short", tzinfo=zone, locale=language)
                if per_hour
                else format_skeleton("MMMd", start, tzinfo=zone, locale=language)
            )
        bars.append(
            Bar(
                x=round(LEFT + index * slot + slot * 0.15, 1),
                y=round(TOP + tall - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                title=f"{row.label}: {row.shown}",
                axis=axis,
            )
        )
    return Chart(
        title=questions.caption,
        summary=_summary(questions, found, language, zone, per_hour),
        bars=bars,
        most=format_decimal(largest, locale=language),
    )


def _summary(questions: Table, found: Dashboard, language: str, zone: ZoneInfo, per_hour: bool) -> str:
    """The chart in one sentence: its period, the total, and when most questions came."""
    when = {"since": _moment(found.since, language, zone), "until": _moment(found.until, language, zone)}
    if not found.total and per_hour:
        return plain(language, "Questions per hour from %(since)s to %(until)s: none.", **when)
    if not found.total:
        return plain(language, "Questions per day from %(since)s to %(until)s: none.", **when)
    busiest = max(questions.rows, key=lambda row: row.value)
    when |= {"total": format_decimal(found.total, locale=language), "most": busiest.shown}
    if per_hour:
        return plain(
            language,
            "Questions per hour from %(since)s to %(until)s: %(total)s in all; the most, %(most)s, "
            "in the hour from %(hour)s.",
            hour=busiest.label,
            **when,
        )
    return plain(
        language,
        "Questions per day from %(since)s to %(until)s: %(total)s in all; the most, %(most)s, on %(day)s.",
        day=busiest.label,
        **when,
    )
