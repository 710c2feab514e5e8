"""The reports page (`/melden`) in Chromium as a phone, against a live server with the demo persons: a
logged-in report with a photo carrying EXIF GPS and the device's location, kept without any metadata;
a second nearby report offered as "already reported"; axe on the form, the offer and the confirmation
in every language; and without JavaScript, a report placed by its address.

The map's tiles come from OpenStreetMap, which the tests never reach (the machine may be offline): the
browser is answered with a local 1×1 PNG for them, and the tile URLs are checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from loket.i18n import LANGUAGES, plain
from loket.reports.models import ReportRow
from loket.reports.places import municipalities
from loket.web.reports import tile_map
from loket.web.security import TILE_SERVER
from tests.test_reports import GPS_INFO, jpeg
from tests.test_web_browser import _expect, assert_accessible, checked_context, chromium  # noqa: F401
from tests.web_support import demo_settings, live_server

PHONE = {
    "viewport": {"width": 412, "height": 915},
    "device_scale_factor": 2.625,
    "is_mobile": True,
    "has_touch": True,
}
# One spot per language in Ghent, each far (> 50 m) from the others and from the municipality's centre.
SPOTS = {language: (51.0500 + 0.002 * number, 3.7300) for number, language in enumerate(LANGUAGES)}
GHENT = "9000 Gent"


def png_1x1() -> bytes:
    out = BytesIO()
    Image.new("RGB", (1, 1), "white").save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def server(sqlite_template, tmp_path_factory) -> Iterator[tuple[str, object]]:
    settings = demo_settings(
        sqlite_template, tmp_path_factory.mktemp("reports-page"), demo=True, rate_limit_reports="1000/hour"
    )
    with live_server(settings) as (url, app):
        app.state.services.identity.demo.load()
        yield url, app


def phone(chromium, **options):  # noqa: F811
    """A phone's context whose map tiles are answered locally; the tiles it asked for are kept."""
    context = checked_context(chromium, **(PHONE | options))
    context.tiles = []
    tile = png_1x1()

    def answer(route):
        context.tiles.append(route.request.url)
        route.fulfill(body=tile, content_type="image/png")

    context.route(f"{TILE_SERVER}/**", answer)
    return context


def fill_report(page, language: str, category: str, description: str) -> None:
    page.get_by_label(plain(language, "What is the problem?")).select_option(category)
    page.get_by_label(plain(language, "Describe the problem")).fill(description)
    page.get_by_label(plain(language, "Photos")).set_input_files(
        [{"name": "lamp.jpg", "mimeType": "image/jpeg", "buffer": jpeg(gps=True)}]
    )


def stored(app, report_id: str) -> ReportRow:
    with app.state.services.db.session() as session:
        return session.scalars(select(ReportRow).where(ReportRow.id == report_id)).one()


def report_number(page, language: str) -> str:
    text = page.get_by_role("status").inner_text()
    match = re.search(r"[0-9a-f]{32}", text)
    assert match, text
    return match.group(0)


def assert_kept_without_metadata(app, report_id: str) -> None:
    (path,) = (app.state.services.settings.data_dir / "reports" / report_id).glob("*.jpg")
    with Image.open(path) as kept:
        assert kept.format == "JPEG"
        assert not kept.getexif() and GPS_INFO not in kept.getexif()
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(kept.info)
    assert b"Phonemaker" not in path.read_bytes()


def test_only_the_report_page_lets_in_the_map_tiles_and_the_location(server):
    url, _ = server
    page = httpx.get(f"{url}/melden?lang=nl")
    assert page.status_code == 200
    assert f"img-src 'self' {TILE_SERVER};" in page.headers["content-security-policy"]
    assert "geolocation=(self)" in page.headers["permissions-policy"]
    start = httpx.get(f"{url}/?lang=nl")
    assert "img-src 'self';" in start.headers["content-security-policy"]
    assert "geolocation=()" in start.headers["permissions-policy"]
    assert 'href="/melden?lang=nl"' in start.text, "the footer links the reports page"


def test_the_map_is_the_tiles_around_the_place_with_the_marker_in_the_middle_one():
    at_origin = tile_map(0.0, 0.0)
    assert at_origin.tiles[1][1] == f"{TILE_SERVER}/17/65536/65536.png"
    assert at_origin.tiles[0][0] == f"{TILE_SERVER}/17/65535/65535.png"
    assert at_origin.tiles[2][2] == f"{TILE_SERVER}/17/65537/65537.png"
    assert (at_origin.column, at_origin.row) == (0, 0)
    # Half a tile east and south of the origin: the marker in the middle of the middle tile.
    half = 360 / 2**17 / 2
    assert (tile_map(-half * 0.9999, half).column, tile_map(-half * 0.9999, half).row) == (8, 7)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_logged_in_phone_report_then_a_nearby_one_is_offered_as_already_reported(
    server,
    chromium,  # noqa: F811
    language,
):
    url, app = server
    latitude, longitude = SPOTS[language]
    context = phone(chromium, geolocation={"latitude": latitude, "longitude": longitude})
    context.grant_permissions(["geolocation"], origin=url)
    page = context.new_page()
    expect = _expect()
    page.goto(f"{url}/aanmelden?lang={language}")
    page.get_by_role("button", name=plain(language, "Log in as %(name)s", name="Jan Janssens")).click()
    page.goto(f"{url}/melden?lang={language}")
    assert_accessible(page, f"/melden in {language}")

    for attempt in ("first", "second"):
        fill_report(page, language, "street-light", f"The lamp is out ({attempt}).")
        page.get_by_role("button", name=plain(language, "Use my location")).click()
        expect(page.locator("#location-status")).to_have_text(
            plain(language, "Your location has been added to the report.")
        )
        page.get_by_role("button", name=plain(language, "Send the report")).click()
        if attempt == "second":
            expect(page.get_by_role("heading", level=1)).to_have_text(plain(language, "Already reported"))
            expect(page.locator(".nearby li")).to_have_count(1)
            assert_accessible(page, f"the duplicate offer in {language}")
            page.get_by_role("button", name=plain(language, "Report it anyway")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            plain(language, "Your report has been received")
        )
        report_id = report_number(page, language)
        row = stored(app, report_id)
        assert (row.latitude, row.longitude) == pytest.approx((latitude, longitude), abs=1e-5)
        assert row.person_id and row.case_id
        assert_kept_without_metadata(app, report_id)
        expect(
            page.get_by_role("link", name=plain(language, "Follow your report in Your cases"))
        ).to_have_attribute("href", re.compile(rf"^/mijn-zaken/{row.case_id}\?"))
        photo = page.get_by_role("img", name=plain(language, "Photo %(number)s of your report", number=1))
        expect(photo).to_be_visible()
        assert photo.evaluate("img => img.complete && img.naturalWidth > 0"), "the reporter sees the photo"
        tiles = page.locator(".map .tiles img")
        expect(tiles).to_have_count(9)
        expected = [tile for row_ in tile_map(latitude, longitude).tiles for tile in row_]
        assert [tiles.nth(n).get_attribute("src") for n in range(9)] == expected
        expect(page.get_by_role("link", name="© OpenStreetMap contributors")).to_be_visible()
        assert_accessible(page, f"the confirmation in {language}")
        assert page.evaluate("window.__blocked") == [], "the Content Security Policy blocked something"
        page.get_by_role("link", name=plain(language, "Report another problem")).click()
    assert set(expected) <= set(context.tiles), "the browser asked for the map's tiles (answered locally)"
    context.close()


def test_without_javascript_a_report_is_placed_by_its_address(server, chromium):  # noqa: F811
    url, app = server
    context = phone(chromium, java_script_enabled=False)
    page = context.new_page()
    expect = _expect()
    page.goto(f"{url}/melden?lang=nl")
    expect(page.get_by_role("button", name=plain("nl", "Use my location"))).to_be_hidden()
    fill_report(page, "nl", "road-surface", "Een put in de weg.")
    page.get_by_label(plain("nl", "Your e-mail address or phone number (optional)")).fill("0470 12 34 56")
    page.get_by_label(plain("nl", "Street and number")).fill("Korenmarkt 1")
    page.get_by_label(plain("nl", "Postal code or municipality")).fill(GHENT)
    page.get_by_role("button", name=plain("nl", "Send the report")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(plain("nl", "Your report has been received"))
    report_id = report_number(page, "nl")
    row = stored(app, report_id)
    centre = municipalities()[GHENT]
    assert (row.latitude, row.longitude) == (centre.latitude, centre.longitude)
    assert row.description == "Een put in de weg.\n\nKorenmarkt 1, 9000 Gent"
    assert row.person_id is None and row.case_id is None
    assert row.contact == "0470 12 34 56", "the service may reach an anonymous reporter"
    assert_kept_without_metadata(app, report_id)
    # The anonymous reporter's browser holds the report's token: it sees the photo, no one else does.
    photo_url = page.get_by_role(
        "img", name=plain("nl", "Photo %(number)s of your report", number=1)
    ).get_attribute("src")
    mine = context.request.get(photo_url)
    assert mine.status == 200 and mine.headers["content-type"] == "image/jpeg"
    assert photo_url.startswith(f"{url}/api/v1/reports/{report_id}/photos/")
    assert httpx.get(photo_url).status_code == 404
    context.close()


def test_without_a_place_the_form_says_so_and_keeps_what_was_written(server, chromium):  # noqa: F811
    url, _ = server
    context = phone(chromium, java_script_enabled=False)
    page = context.new_page()
    expect = _expect()
    page.goto(f"{url}/melden?lang=en")
    fill_report(page, "en", "graffiti", "Spray paint on the wall.")
    page.get_by_role("button", name=plain("en", "Send the report")).click()
    expect(page.get_by_role("alert")).to_contain_text(
        plain("en", "Use your location, or choose the municipality.")
    )
    expect(page.get_by_label(plain("en", "Describe the problem"))).to_have_value("Spray paint on the wall.")
    context.close()
