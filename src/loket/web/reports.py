"""Reporting a problem in public space (`/melden`): the reports block's page, in two steps.

The form (multipart, with the CSRF token) takes the category, the description, one or more photos and
the place: the device's location, asked only when the person presses the button (that press is the
consent; `static/js/report.js`), or without JavaScript a street and a place of the shipped list (a postal
code or a name, typed with the list's suggestions): the address itself with `LOKET_REPORT_ADDRESS_API`,
else, or when that service cannot find it, the place's centre. When open reports of the same category are
close by, the person sees them first and may report anyway: the photos, already re-encoded, travel
along in the form (base64), so nothing is kept on the server before the report is. Then the
confirmation: the report's number, its photos, and a map of OpenStreetMap tiles drawn as plain images
(no JavaScript), the only page whose policy lets in another host's images (`security.REPORT_PAGE`).

Anonymous reporting is allowed; a logged-in person's report becomes a case in Mijn zaken.
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass
from io import BytesIO

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from loket.deps import optional_component
from loket.errors import LoketError
from loket.i18n import message, plain, request_language
from loket.identity.access import signed_in
from loket.ratelimit import limited
from loket.reports.addresses import AddressRegister
from loket.reports.places import find_place, municipalities
from loket.reports.schemas import Reporter
from loket.reports.service import MAX_DESCRIPTION, ReportService
from loket.reports.texts import DESCRIPTION_NEEDED, OUTSIDE_AREA
from loket.reports.tokens import remember_token
from loket.web.account import form_for
from loket.web.cases import login_first
from loket.web.chat import expired
from loket.web.deps import AddressesDep, ReportsDep
from loket.web.render import href_for, render
from loket.web.security import REPORT_PAGE, TILE_SERVER, check_csrf

router = APIRouter(include_in_schema=False)
ZOOM = 17
TILE = 256  # px
STEPS = 16  # the marker's place within its tile, in steps the style sheet has a class for
FIELDS = 20


@dataclass(frozen=True)
class TileMap:
    """A 3×3 grid of tiles around a place, the place's tile in the middle; `column` and `row` put the
    marker within that tile, in 1/STEPS of a tile (a CSS class each: no inline style under the CSP)."""

    tiles: list[list[str]]
    column: int
    row: int


def tile_map(latitude: float, longitude: float, zoom: int = ZOOM) -> TileMap:
    """The OpenStreetMap tiles (the slippy map's Web Mercator numbering) around a place."""
    size = 2**zoom
    x = (longitude + 180) / 360 * size
    y = (1 - math.asinh(math.tan(math.radians(latitude))) / math.pi) / 2 * size
    tile_x, tile_y = int(x), int(y)
    tiles = [
        [f"{TILE_SERVER}/{zoom}/{tile_x + dx}/{tile_y + dy}.png" for dx in (-1, 0, 1)] for dy in (-1, 0, 1)
    ]
    return TileMap(tiles, int((x - tile_x) * STEPS), int((y - tile_y) * STEPS))


@router.get(REPORT_PAGE)
def report_page(request: Request, reports: ReportsDep, categorie: str | None = None) -> Response:
    """`categorie`: the category chosen beforehand (the assistant's offer links here with one)."""
    language = request_language(request)
    chosen = {"category": categorie} if categorie in reports.categories else {}
    return _form(request, language, reports, chosen)


@router.post(REPORT_PAGE, dependencies=[limited("reports")])
async def send_report(request: Request, reports: ReportsDep, addresses: AddressesDep) -> Response:
    language = request_language(request)
    limits = reports.limits
    async with request.form(
        max_files=limits.max_count + 1,
        max_fields=FIELDS + limits.max_count,
        max_part_size=limits.max_bytes * 2,
    ) as form:
        fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
        check_csrf(request, fields, expired(language))
        uploads = [
            (upload.filename or "photo", BytesIO(await upload.read(limits.max_bytes + 1)))
            for upload in form.getlist("photo")
            if not isinstance(upload, str) and upload.filename
        ]
        held = [value for value in form.getlist("photo_data") if isinstance(value, str)]
    try:
        held_photos = [("photo", BytesIO(base64.b64decode(value, validate=True))) for value in held]
    except binascii.Error:
        held_photos = []
    return await run_in_threadpool(
        _step, request, language, reports, addresses, fields, held_photos or uploads, bool(held_photos)
    )


def _step(
    request: Request,
    language: str,
    reports: ReportService,
    addresses: AddressRegister | None,
    fields: dict[str, str],
    photos: list[tuple[str, BytesIO]],
    anyway: bool,
) -> Response:
    """The form again with what is wrong, the reports already made nearby, or the report taken in."""
    category = fields.get("category", "")
    description = fields.get("description", "").strip()
    if not description or len(description) > MAX_DESCRIPTION:
        text = message(DESCRIPTION_NEEDED, language, count=str(MAX_DESCRIPTION))
        return _form(request, language, reports, fields, {"description": text})
    if category not in reports.categories:
        return _form(request, language, reports, fields, {"category": plain(language, "Choose a category.")})
    place = _place(fields, addresses)
    if place is None:
        text = (
            plain(language, "We do not know this postal code or municipality. Choose one of the list.")
            if fields.get("municipality", "").strip()
            else plain(language, "Use your location, or choose the municipality.")
        )
        return _form(request, language, reports, fields, {"municipality": text})
    latitude, longitude, address, centre_of = place
    notice = (
        plain(
            language,
            "We could not find this address: the report is placed at the centre of %(place)s.",
            place=centre_of,
        )
        if centre_of
        else ""
    )
    if not reports.area.holds(latitude, longitude):
        return _form(request, language, reports, fields, {"municipality": message(OUTSIDE_AREA, language)})
    if address:
        description = f"{description}\n\n{address}"
    try:
        encoded = reports.photos_for(photos, language)
    except LoketError as error:
        return _form(request, language, reports, fields, {"photo": error.message})
    nearby = [] if anyway else reports.nearby(category, latitude, longitude, language)
    if nearby:
        return render(
            request,
            "report.html",
            language,
            page="report",
            step="nearby",
            nearby=nearby,
            notice=notice,
            category=reports.categories[category],
            held={
                "category": category,
                "description": description,
                "latitude": str(latitude),
                "longitude": str(longitude),
                "contact": fields.get("contact", ""),
            },
            photo_data=[base64.b64encode(data).decode() for data in encoded],
        )
    user = signed_in(request)
    reporter = Reporter(user.person.id, user.person.national_number) if user else Reporter()
    try:
        received = reports.submit(
            reporter,
            category,
            description,
            latitude,
            longitude,
            [(f"{number}.jpg", BytesIO(data)) for number, data in enumerate(encoded, 1)],
            language,
            "" if user else fields.get("contact", ""),
        )
    except LoketError as error:
        return _form(request, language, reports, fields, {"description": error.message})
    response = render(
        request,
        "report.html",
        language,
        page="report",
        step="done",
        received=received,
        notice=notice,
        category=reports.categories[category],
        photos=[
            str(request.url_for("report_photo", report_id=received.id, number=str(number)))
            for number in range(1, received.photos + 1)
        ],
        map=tile_map(latitude, longitude),
    )
    if received.token:
        remember_token(request, response, received.id, received.token)
    return response


@router.post(REPORT_PAGE + "/{report_id}/volgen")
async def follow(report_id: str, request: Request, reports: ReportsDep) -> Response:
    """Follow an open report close by instead of sending the same again: its case in Mijn zaken."""
    user, _, language = await form_for(request)
    if user is None:
        return login_first(request, REPORT_PAGE)
    follower = Reporter(user.person.id, user.person.national_number)
    case_id = await run_in_threadpool(reports.follow, report_id, follower, language)
    return RedirectResponse(href_for(language)(f"/mijn-zaken/{case_id}"), status_code=303)


def _place(fields: dict[str, str], addresses: AddressRegister | None) -> tuple[float, float, str, str] | None:
    """The device's location (latitude, longitude), else the typed address's (with the address for the
    description), else the chosen place's centre (and that place's name, to say so when the address was
    looked up but not found); None when neither is given."""
    try:
        latitude, longitude = float(fields.get("latitude", "")), float(fields.get("longitude", ""))
        if math.isfinite(latitude) and math.isfinite(longitude):
            return latitude, longitude, "", ""
    except ValueError:
        pass
    place = find_place(fields.get("municipality", ""))
    if place is None:
        return None
    street = " ".join(fields.get("street", "").split())[:200]
    address = f"{street}, {place.key}" if street else place.key
    if addresses is None or not street:
        return place.latitude, place.longitude, address, ""
    located = addresses.locate(street, place)
    if located is None:
        return place.latitude, place.longitude, address, place.key
    return located.latitude, located.longitude, address, ""


def _form(
    request: Request,
    language: str,
    reports: ReportService,
    fields: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Response:
    """The form, as sent after an error."""
    return render(
        request,
        "report.html",
        language,
        status_code=400 if errors else 200,
        page="report",
        step="form",
        categories=list(reports.categories.values()),
        municipalities=list(municipalities().values()),
        address_lookup=optional_component(request, AddressRegister) is not None,
        form=fields,
        errors=errors or {},
        max_photos=reports.limits.max_count,
    )
