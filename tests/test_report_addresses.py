"""A typed address placed by the address register (`LOKET_REPORT_ADDRESS_API`), and the fallback to the
place's centre when the register fails or finds nothing.

The register here is a real HTTP server on this machine answering as Digitaal Vlaanderen's Geolocation
API v4 does (`GET /Location?q=...&c=1`, `{"LocationResult": [...]}`): it stands in for the external
government service, which this machine cannot reach.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from loket.i18n import plain
from loket.reports.addresses import AddressRegister
from loket.reports.models import ReportRow
from loket.reports.places import find_place
from tests.test_reports import jpeg
from tests.web_support import OWN_PAGE, csrf_token

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
KORENMARKT = (51.05452, 3.72137)  # what the stand-in answers for Korenmarkt 1, Gent
GENTBRUGGE = find_place("9050 Gentbrugge")


def result(street: str, number: str, place: tuple[str, str], where: tuple[float, float]) -> dict:
    """One LocationResult as the Geolocation API v4 writes it."""
    postal_code, municipality = place
    return {
        "Municipality": municipality,
        "Zipcode": postal_code,
        "Thoroughfarename": street,
        "Housenumber": number,
        "ID": 1,
        "FormattedAddress": f"{street} {number}, {postal_code} {municipality}",
        "Location": {
            "Lat_WGS84": where[0],
            "Lon_WGS84": where[1],
            "X_Lambert72": 104_719.0,
            "Y_Lambert72": 194_169.0,
        },
        "LocationType": "crab_huisnummer_afgeleidVanGebouw",
        "BoundingBox": {
            "LowerLeft": {
                "Lat_WGS84": where[0],
                "Lon_WGS84": where[1],
                "X_Lambert72": 0.0,
                "Y_Lambert72": 0.0,
            },
            "UpperRight": {
                "Lat_WGS84": where[0],
                "Lon_WGS84": where[1],
                "X_Lambert72": 0.0,
                "Y_Lambert72": 0.0,
            },
        },
    }


class Register(BaseHTTPRequestHandler):
    """Answers by the street asked for: found, not found, far away, slow, broken, or of another shape."""

    asked: ClassVar[list[dict[str, list[str]]]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        Register.asked.append(query)
        q = query.get("q", [""])[0]
        if url.path != "/Location":
            return self._answer(404, {})
        if q.startswith("Traagstraat"):
            time.sleep(1.0)
        if q.startswith("Kapotstraat"):
            return self._answer(503, {"message": "Service Unavailable"})
        if q.startswith("Vreemdstraat"):
            return self._answer(200, {"Results": []})
        if q.startswith("Korenmarkt 1"):
            return self._answer(
                200, {"LocationResult": [result("Korenmarkt", "1", ("9000", "Gent"), KORENMARKT)]}
            )
        if q.startswith("Verstraat"):  # a street of that name at the coast, far from the place chosen
            return self._answer(
                200, {"LocationResult": [result("Verstraat", "1", ("8400", "Oostende"), (51.2155, 2.927))]}
            )
        self._answer(200, {"LocationResult": []})

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def register_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Register)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def register(register_url) -> Iterator[AddressRegister]:
    client = AddressRegister(register_url, timeout=0.3)
    yield client
    client.close()


def test_an_address_found_is_placed_at_its_coordinates(register):
    Register.asked.clear()
    located = register.locate("Korenmarkt 1", find_place("9000 Gent"))
    assert located is not None and (located.latitude, located.longitude) == KORENMARKT
    assert Register.asked == [{"q": ["Korenmarkt 1, 9000 Gent"], "c": ["1"]}]


@pytest.mark.parametrize(
    "street",
    [
        "Nergensstraat 5",  # nothing found: an empty LocationResult
        "Verstraat 1",  # found, but 20 km and more from the place chosen: another street of that name
        "Kapotstraat 1",  # the service answers 503
        "Traagstraat 1",  # no answer within the timeout
        "Vreemdstraat 1",  # an answer of another shape
    ],
)
def test_an_address_not_found_or_a_failing_register_gives_none(register, street):
    started = time.monotonic()
    assert register.locate(street, GENTBRUGGE) is None
    assert time.monotonic() - started < 0.9, "the person waits no longer than the timeout"


def test_the_address_never_reaches_the_logs(register, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    for street in ("Korenmarkt 1", "Nergensstraat 5", "Kapotstraat 1", "Traagstraat 1"):
        register.locate(street, GENTBRUGGE if street != "Korenmarkt 1" else find_place("9000 Gent"))
    captured = capsys.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert "address_not_found" in logs and "address_lookup_failed" in logs, "the logs were captured"
    for typed in ("Korenmarkt", "Nergensstraat", "Kapotstraat", "Traagstraat", "Gentbrugge"):
        assert typed not in logs


def report_by_address(client, street: str, place: str, language: str = "nl"):
    """The page's form without JavaScript: a street and a place typed, no device location."""
    token = csrf_token(client.get(f"/melden?lang={language}").text)
    return client.post(
        f"/melden?lang={language}",
        data={
            "csrf_token": token,
            "category": "road-surface",
            "description": "Een put in de weg.",
            "street": street,
            "municipality": place,
        },
        files=[("photo", ("put.jpg", jpeg(), "image/jpeg"))],
        headers=OWN_PAGE,
    )


def stored(client, page: str) -> ReportRow:
    with client.app.state.services.db.session() as session:
        rows = session.scalars(select(ReportRow).order_by(ReportRow.created_at)).all()
    assert rows, page
    return rows[-1]


@SQLITE
def test_the_page_places_a_typed_address_by_the_register_and_says_when_it_cannot(client, register):
    client.app.state.components[AddressRegister] = register
    found = report_by_address(client, "Korenmarkt 1", "9000 Gent")
    assert found.status_code == 200
    row = stored(client, found.text)
    assert (row.latitude, row.longitude) == KORENMARKT
    assert row.description == "Een put in de weg.\n\nKorenmarkt 1, 9000 Gent"
    notice = "We could not find this address: the report is placed at the centre of %(place)s."
    assert plain("nl", notice, place="9000 Gent") not in found.text

    # Typed as a postal code alone; the register finds nothing: the place's centre, and the page says so.
    missing = report_by_address(client, "Nergensstraat 5", "9050")
    assert missing.status_code == 200
    row = stored(client, missing.text)
    assert (row.latitude, row.longitude) == (GENTBRUGGE.latitude, GENTBRUGGE.longitude)
    assert row.description == "Een put in de weg.\n\nNergensstraat 5, 9050 Gentbrugge"
    assert plain("nl", notice, place="9050 Gentbrugge") in missing.text


@SQLITE
def test_without_a_register_a_typed_address_is_placed_at_the_centre_without_a_notice(client):
    answer = report_by_address(client, "Kerkstraat 1", "merelbeke", language="en")
    assert answer.status_code == 200
    row = stored(client, answer.text)
    merelbeke = find_place("9820 Merelbeke")
    assert (row.latitude, row.longitude) == (merelbeke.latitude, merelbeke.longitude)
    assert "We could not find this address" not in answer.text


@SQLITE
def test_a_place_not_in_the_list_is_refused_with_what_to_do(client):
    answer = report_by_address(client, "Rue Neuve 1", "4000 Liège", language="en")
    assert answer.status_code == 400
    assert (
        plain("en", "We do not know this postal code or municipality. Choose one of the list.") in answer.text
    )
