"""The reports queue on the agent console (`/balie/meldingen`, issue 24): for an authority without a
system of its own, its reports to read, give a status and close, as plain forms (no JavaScript needed).
Agencies with a system use the API's queue instead (`/api/v1/reports/queue`).

Which authorities an agent works for: those an operator granted them (`loket reports handlers add
NATIONAL_NUMBER AUTHORITY`), beside the role `agent`. Every read of a logged-in reporter's report or
photo lands in that person's access log under the agent's name.

Another authority's report or photo is a 404, as one that does not exist.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from loket.assistant.own_accesses import said_when
from loket.errors import BadRequest, NotFound
from loket.i18n import message, request_language
from loket.identity.schemas import SignedIn
from loket.reports.photos import served
from loket.reports.schemas import Handled, Handler, ReportClosed
from loket.reports.service import MAX_DESCRIPTION, MAX_STATUS, ReportService
from loket.reports.texts import NOT_IN_QUEUE, UNKNOWN_PHOTO
from loket.web.balie import CONSOLE, agent_form, console_agent
from loket.web.deps import ReportsDep, SettingsDep
from loket.web.render import href_for, render

router = APIRouter(include_in_schema=False)
QUEUE = CONSOLE + "/meldingen"
OSM = "https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=18/{lat:.6f}/{lon:.6f}"


@router.get(QUEUE)
def reports_queue(
    request: Request, reports: ReportsDep, settings: SettingsDep, closed: bool = False
) -> Response:
    """The open reports (or the closed ones) of each of the agent's authorities, oldest first."""
    agent = console_agent(request, QUEUE)
    if isinstance(agent, Response):
        return agent
    language = request_language(request)
    zone = ZoneInfo(settings.timezone)

    def listed(authority: str) -> list[tuple[Handled, str]]:
        return [
            (found, said_when(found.reported_at, zone, language))
            for found in reports.queue(authority, closed)
        ]

    queues = [(name, listed(authority)) for authority, name in _authorities(reports, agent, language).items()]
    return render(
        request,
        "balie_reports.html",
        language,
        page="balie",
        queues=queues,
        closed=closed,
        categories=reports.categories,
    )


@router.get(QUEUE + "/{report_id}")
def report(
    report_id: str,
    request: Request,
    reports: ReportsDep,
    settings: SettingsDep,
    saved: bool = False,
) -> Response:
    """One report with its description, contact, place and photos, and the form to change its status;
    reading it lands in its reporter's access log."""
    report_id = report_id[:32]
    agent = console_agent(request, f"{QUEUE}/{report_id}")
    if isinstance(agent, Response):
        return agent
    return _report_page(request, reports, ZoneInfo(settings.timezone), agent, report_id, saved=saved)


@router.get(QUEUE + "/{report_id}/fotos/{number}")
def photo(report_id: str, number: int, request: Request, reports: ReportsDep) -> Response:
    """A report's photo (its reporter's access log shows the read); never kept by a cache."""
    report_id = report_id[:32]
    agent = console_agent(request, f"{QUEUE}/{report_id}")
    if isinstance(agent, Response):
        return agent
    language = request_language(request)
    data = reports.photo_for(report_id, number, _handler(reports, agent, report_id, language))
    if data is None:
        raise NotFound(message(UNKNOWN_PHOTO, language))
    return served(data)


@router.post(QUEUE + "/{report_id}")
async def set_status(
    report_id: str, request: Request, reports: ReportsDep, settings: SettingsDep
) -> Response:
    """The form's new status (closing the report when asked), then back to the report, which says it
    was saved; a problem (no status, too long, the report closed meanwhile) comes back on the form."""
    report_id = report_id[:32]
    agent, form, language = await agent_form(request, f"{QUEUE}/{report_id}")
    if isinstance(agent, Response):
        return agent
    status, details, close = form.get("status", ""), form.get("details", ""), form.get("close") == "on"
    handler = await run_in_threadpool(_handler, reports, agent, report_id, language)
    try:
        await run_in_threadpool(reports.set_status, report_id, handler, status, details, close, language)
    except (BadRequest, ReportClosed) as problem:
        # A closed report has no form any more: its problem points at the status it shows.
        field = "current-status" if isinstance(problem, ReportClosed) else "status"
        return await run_in_threadpool(
            _report_page,
            request,
            reports,
            ZoneInfo(settings.timezone),
            agent,
            report_id,
            errors={field: problem.message},
            entered={"status": status, "details": details, "close": close},
            status_code=problem.status_code,
        )
    return RedirectResponse(href_for(language)(f"{QUEUE}/{report_id}", saved="1"), status_code=303)


def _report_page(
    request: Request,
    reports: ReportService,
    zone: ZoneInfo,
    agent: SignedIn,
    report_id: str,
    *,
    saved: bool = False,
    errors: dict[str, str] | None = None,
    entered: dict | None = None,
    status_code: int = 200,
) -> Response:
    """`errors`: the form's problems by the id of the field they are about; `entered`: what the form
    held, to be shown again."""
    language = request_language(request)
    found = reports.handled(report_id, _handler(reports, agent, report_id, language), language)
    category = reports.categories.get(found.category)
    return render(
        request,
        "balie_report.html",
        language,
        status_code=status_code,
        page="balie",
        report=found,
        category=category.name(language) if category else found.category,
        authority=category.authority_name(language) if category else "",
        reported=said_when(found.reported_at, zone, language),
        updated=said_when(found.updated_at, zone, language) if found.updated_at else None,
        closed=said_when(found.closed_at, zone, language) if found.closed_at else None,
        map_link=OSM.format(lat=found.latitude, lon=found.longitude),
        photos=[f"{QUEUE}/{found.id}/fotos/{number}" for number in range(1, found.photos + 1)],
        saved=saved,
        errors=errors or {},
        entered=entered or {"status": "", "details": "", "close": False},
        max_status=MAX_STATUS,
        max_details=MAX_DESCRIPTION,
    )


def _authorities(reports: ReportService, agent: SignedIn, language: str) -> dict[str, str]:
    """The authorities the agent may work for, each with its name in `language`."""
    names = {
        category.authority: category.authority_name(language) for category in reports.categories.values()
    }
    return {
        authority: names[authority] for authority in reports.authorities_for(agent.person.national_number)
    }


def _handler(reports: ReportService, agent: SignedIn, report_id: str, language: str) -> Handler:
    """The agent, for the authority whose queue the report is in, when it is one of theirs; NotFound
    otherwise, as for a report that does not exist."""
    authority = reports.authority_of(report_id)
    if authority is None or authority not in _authorities(reports, agent, language):
        raise NotFound(message(NOT_IN_QUEUE, language, id=report_id))
    return Handler(authority, agent)
