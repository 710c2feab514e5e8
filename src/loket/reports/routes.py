"""The reports API: the categories, a report with its photos (multipart), the open reports nearby, and
each photo for its reporter only; and for each authority, its queue (`/reports/queue`, with an agency's
token or a partner's with `cases:write`): its reports to read, give a status and close.

Who the reporter is: the logged-in person (the session cookie), whose report becomes a running case
in Mijn zaken; else no one known, who gets a random token in the `Report-Token` header of the 201 and
in an HttpOnly cookie scoped to the report's own path, so a browser shows its photos and nothing else
of anyone's. Either shows the photos; anyone else gets a 404, as for a photo that does not exist.

A multipart form can be posted from another site without a preflight, so a request that carries a
session must come from loket's own origin (`Origin`), unlike the JSON API where content type suffices.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field

from loket.cases.access import AGENCY_ERRORS, CasesAgencyDep
from loket.config import Settings
from loket.deps import component, provided
from loket.errors import NotFound
from loket.i18n import message, request_language
from loket.identity.access import signed_in
from loket.identity.schemas import Forbidden
from loket.ratelimit import limited
from loket.reports.photos import served
from loket.reports.schemas import Handled, Handler, Nearby, Reporter
from loket.reports.service import QUEUE_PAGE, ReportService
from loket.reports.texts import NOT_SAME_SITE, UNKNOWN_PHOTO, UNKNOWN_REPORT_OF_YOURS
from loket.reports.tokens import TOKEN_COOKIE, remember_token

router = APIRouter(prefix="/api/v1", tags=["reports"])
ReportsDep = Annotated[ReportService, provided(ReportService)]
TOKEN_HEADER = "Report-Token"


class CategoryOut(BaseModel):
    id: str
    name: str  # in the request's language
    names: dict[str, str]
    authority: str  # the agency whose queue its reports go to
    authority_name: str  # in the request's language


class AreaOut(BaseModel):
    south: float
    west: float
    north: float
    east: float


class CategoriesOut(BaseModel):
    categories: list[CategoryOut]
    area: AreaOut


class ReportOut(BaseModel):
    id: str
    case_id: str | None = None
    photos: list[str]


class NearbyOut(BaseModel):
    id: str
    category: str
    latitude: float
    longitude: float
    distance_m: float
    reported_at: datetime


class NearbyListOut(BaseModel):
    reports: list[NearbyOut]


class ReporterStatusOut(BaseModel):
    id: str
    category: str
    reported_at: datetime
    status: str
    status_details: str
    updated_at: datetime | None
    closed_at: datetime | None


class HandledOut(BaseModel):
    id: str
    category: str
    latitude: float
    longitude: float
    reported_at: datetime
    status: str
    status_details: str
    updated_at: datetime | None
    closed_at: datetime | None
    photos: list[str]
    description: str | None = None  # one report read at a time only
    contact: str | None = None


class QueueOut(BaseModel):
    reports: list[HandledOut]
    next: str | None = Field(None, description="The next page's URL, while there may be more.")


class StatusIn(BaseModel):
    status: Annotated[str, Field(min_length=1, max_length=100, description="As the reporter will read it.")]
    details: Annotated[str, Field(max_length=2000)] = ""
    closed: bool = Field(False, description="Handled: the report changes no more.")


@router.get("/report-categories")
def categories(request: Request, reports: ReportsDep) -> CategoriesOut:
    """What may be reported, who handles each, and the area reports are taken in."""
    language = request_language(request)
    area = reports.area
    return CategoriesOut(
        categories=[
            CategoryOut(
                id=c.id,
                name=c.name(language),
                names=c.names,
                authority=c.authority,
                authority_name=c.authority_name(language),
            )
            for c in reports.categories.values()
        ],
        area=AreaOut(south=area.south, west=area.west, north=area.north, east=area.east),
    )


@router.post(
    "/reports",
    status_code=201,
    response_model_exclude_none=True,
    responses={
        201: {
            "description": "Taken in. `case_id` only for a logged-in reporter; an anonymous one gets the "
            f"`{TOKEN_HEADER}` header (and cookie) that shows them the photos.",
            "headers": {TOKEN_HEADER: {"schema": {"type": "string"}, "description": "Anonymous only."}},
        },
        400: {
            "description": "Unknown category, no description, a place outside the area, no photo, too "
            "many, or a file that is no photo we can read (`photo_refused`)."
        },
        403: {"description": "A session cookie on a request from another origin."},
        413: {"description": "A photo, or the request, is too large."},
        429: {"description": "Too many reports from this address."},
    },
    dependencies=[limited("reports")],
)
def submit(
    request: Request,
    response: Response,
    reports: ReportsDep,
    category: Annotated[str, Form(description="A category's `id` (GET /api/v1/report-categories).")],
    description: Annotated[str, Form()],
    latitude: Annotated[float, Form(description="WGS 84 degrees.")],
    longitude: Annotated[float, Form(description="WGS 84 degrees.")],
    photo: Annotated[list[UploadFile], File(description="One or more: JPEG, PNG or WebP.")],
    contact: Annotated[
        str, Form(description="How the authority may reach an anonymous reporter (e-mail or phone).")
    ] = "",
) -> ReportOut:
    """Reports a problem in public space, with its place and photos; the photos are kept re-encoded as
    JPEG without any metadata (no EXIF, no GPS)."""
    language = request_language(request)
    received = reports.submit(
        _reporter(request, language),
        category,
        description,
        latitude,
        longitude,
        [(upload.filename or "photo", upload.file) for upload in photo],
        language,
        contact,
    )
    if received.token:
        response.headers[TOKEN_HEADER] = received.token
        remember_token(request, response, received.id, received.token)
    photos = [
        str(request.url_for("report_photo", report_id=received.id, number=str(number)))
        for number in range(1, received.photos + 1)
    ]
    return ReportOut(id=received.id, case_id=received.case_id, photos=photos)


@router.get("/reports/nearby", responses={400: {"description": "No such category."}})
def nearby(
    request: Request,
    reports: ReportsDep,
    category: Annotated[str, Query(max_length=50)],
    latitude: Annotated[float, Query(ge=-90, le=90)],
    longitude: Annotated[float, Query(ge=-180, le=180)],
) -> NearbyListOut:
    """The open reports of this category close to this place, nearest first: offer to follow one of
    these instead of reporting the problem again. Neither descriptions nor photos nor reporters."""
    found = reports.nearby(category, latitude, longitude, request_language(request))
    return NearbyListOut(reports=[_nearby(report) for report in found])


@router.get(
    "/reports/{report_id}/status",
    responses={404: {"description": "No such report, or not the reporter's (login or report token)."}},
)
def reporters_status(
    request: Request, reports: ReportsDep, report_id: Annotated[str, Path(max_length=32)]
) -> ReporterStatusOut:
    """The report's status as its authority set it, for its reporter: the logged-in person who sent it,
    or the holder of its token (the `Report-Token` header or its cookie), who gets no message."""
    user = signed_in(request)
    found = reports.for_reporter(report_id, user.person.id if user else None, _token(request))
    if found is None:
        raise NotFound(message(UNKNOWN_REPORT_OF_YOURS, request_language(request)))
    return ReporterStatusOut(
        id=found.id,
        category=found.category,
        reported_at=found.reported_at,
        status=found.status,
        status_details=found.status_details,
        updated_at=found.updated_at,
        closed_at=found.closed_at,
    )


@router.get(
    "/reports/{report_id}/photos/{number}",
    name="report_photo",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "The photo, re-encoded."},
        404: {"description": "No such photo, or not the reporter's (login or report token)."},
    },
)
def photo(
    request: Request,
    reports: ReportsDep,
    report_id: Annotated[str, Path(max_length=32)],
    number: Annotated[int, Path(ge=1, le=100)],
) -> Response:
    """A report's photo, for its reporter: the logged-in person who sent it, or the holder of its token
    (the `Report-Token` header or its cookie)."""
    user = signed_in(request)
    data = reports.photo(report_id, number, user.person.id if user else None, _token(request))
    if data is None:
        raise NotFound(message(UNKNOWN_PHOTO, request_language(request)))
    return served(data)


ReportId = Annotated[str, Path(max_length=32)]
NOT_QUEUED = {404: {"description": "No such report in this authority's queue."}}


@router.get("/reports/queue", responses=AGENCY_ERRORS)
def queue(
    request: Request,
    agency: CasesAgencyDep,
    reports: ReportsDep,
    closed: bool = False,
    after: Annotated[
        str | None, Query(max_length=32, description="The last report of the page before.")
    ] = None,
) -> QueueOut:
    """The reports for this authority (the agency's name is a category's authority), open ones unless
    `closed`, oldest first, a page at a time (`next`). Without what reporters wrote: read one report
    for that."""
    found = reports.queue(agency.name, closed, after, QUEUE_PAGE)
    more = str(request.url.include_query_params(after=found[-1].id)) if len(found) == QUEUE_PAGE else None
    return QueueOut(reports=[_handled(request, report) for report in found], next=more)


@router.get("/reports/queue/{report_id}", responses={**AGENCY_ERRORS, **NOT_QUEUED})
def queued(request: Request, report_id: ReportId, agency: CasesAgencyDep, reports: ReportsDep) -> HandledOut:
    """One report of the queue, with its description and contact; its reporter sees the read."""
    found = reports.handled(report_id, Handler(agency.name), request_language(request))
    return _handled(request, found)


@router.get(
    "/reports/queue/{report_id}/photos/{number}",
    name="queued_photo",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "The photo, re-encoded."},
        **AGENCY_ERRORS,
        404: {"description": "No such photo in this authority's queue."},
    },
)
def queued_photo(
    request: Request,
    report_id: ReportId,
    number: Annotated[int, Path(ge=1, le=100)],
    agency: CasesAgencyDep,
    reports: ReportsDep,
) -> Response:
    """A photo of a report in the queue; its reporter sees the read."""
    data = reports.photo_for(report_id, number, Handler(agency.name))
    if data is None:
        raise NotFound(message(UNKNOWN_PHOTO, request_language(request)))
    return served(data)


@router.post(
    "/reports/queue/{report_id}/status",
    responses={**AGENCY_ERRORS, **NOT_QUEUED, 409: {"description": "The report is closed."}},
)
def report_status(
    request: Request, report_id: ReportId, body: StatusIn, agency: CasesAgencyDep, reports: ReportsDep
) -> HandledOut:
    """Gives a report a new status, and closes it with `closed`: the reporter's case in Mijn zaken takes
    the status, and each person following it gets a message (pushed as messages are)."""
    language = request_language(request)
    changed = reports.set_status(
        report_id, Handler(agency.name), body.status, body.details, body.closed, language
    )
    return _handled(request, changed)


def _handled(request: Request, report: Handled) -> HandledOut:
    photos = [
        str(request.url_for("queued_photo", report_id=report.id, number=str(number)))
        for number in range(1, report.photos + 1)
    ]
    return HandledOut(**{**report.__dict__, "photos": photos})


def _token(request: Request) -> str | None:
    return request.headers.get(TOKEN_HEADER) or request.cookies.get(TOKEN_COOKIE)


def _reporter(request: Request, language: str) -> Reporter:
    user = signed_in(request)
    if user is None:
        return Reporter()
    if not _same_origin(request):
        raise Forbidden(message(NOT_SAME_SITE, language))
    return Reporter(user.person.id, user.person.national_number)


def _same_origin(request: Request) -> bool:
    """No `Origin` (no browser sends a cross-site POST without one), or loket's own."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = {f"{request.url.scheme}://{request.url.netloc}"}
    public_url = component(request, Settings).public_url
    if public_url:
        parts = urlsplit(public_url)
        own.add(f"{parts.scheme}://{parts.netloc}")
    return origin.rstrip("/") in own


def _nearby(report: Nearby) -> NearbyOut:
    return NearbyOut(
        id=report.id,
        category=report.category,
        latitude=report.latitude,
        longitude=report.longitude,
        distance_m=round(report.distance_m, 1),
        reported_at=report.reported_at,
    )
