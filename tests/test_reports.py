"""Reports ("meldingen"): categories, intake with photos, the reporter's own photos, nearby duplicates.

The photos are real images made here with Pillow; what is kept is opened again from disk, so the
checks are on the stored file, not on what the API says about it.
"""

from __future__ import annotations

import random
import struct
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from loket.config import Settings
from loket.errors import NotFound
from loket.reports.photos import MAX_SIDE
from loket.reports.schemas import Reporter
from loket.reports.service import haversine
from loket.web.app import create_app
from tests.test_identity import demo_login
from tests.web_support import OWN_PAGE, csrf_token

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
GHENT = (51.0543, 3.7174)  # the Korenmarkt
PARIS = (48.8566, 2.3522)
GPS_INFO = 34853  # the EXIF tag of the GPS block
ORIENTATION = 274


def jpeg(size: tuple[int, int] = (64, 48), gps: bool = False, rotated: bool = False) -> bytes:
    """A JPEG of `size`; with `gps` it carries EXIF with a camera, a GPS position and a comment."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    if gps:
        exif[0x010F] = "Phonemaker"  # Make
        exif[GPS_INFO] = {1: "N", 2: (51.0, 3.0, 15.48), 3: "E", 4: (3.0, 43.0, 2.64)}
    if rotated:
        exif[ORIENTATION] = 6  # to be turned 90° clockwise to stand up
    out = BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"taken at home" if gps else b"")
    return out.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG of a few bytes whose header declares width x height pixels."""
    image = BytesIO()
    Image.new("L", (1, 1)).save(image, "PNG")
    data = bytearray(image.getvalue())
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


def form(
    category: str = "street-light", place=GHENT, description: str = "The lamp is out.", **more: str
) -> dict:
    return {
        "category": category,
        "description": description,
        "latitude": place[0],
        "longitude": place[1],
        **more,
    }


def send(client: TestClient, photos=(("lamp.jpg", None),), headers=None, **fields):
    files = [("photo", (name, data if data is not None else jpeg(), "image/jpeg")) for name, data in photos]
    return client.post("/api/v1/reports", data=form(**fields), files=files, headers=headers or {})


def stored(services, report: dict) -> list[Path]:
    return sorted((services.settings.data_dir / "reports" / report["id"]).glob("*.jpg"))


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_categories_name_their_authority_in_the_asked_language(client):
    answer = client.get("/api/v1/report-categories", headers={"accept-language": "fr"}).json()
    light = next(c for c in answer["categories"] if c["id"] == "street-light")
    assert light["name"] == "Éclairage public défectueux"
    assert set(light["names"]) == {"nl", "fr", "en", "de"}
    assert light["authority"] == "Fluvius (openbare verlichting)", "the agency whose queue it is"
    assert light["authority_name"] == "Fluvius (éclairage public)"
    assert answer["area"]["south"] < GHENT[0] < answer["area"]["north"]


def test_an_anonymous_report_keeps_a_photo_without_any_metadata_for_its_token_only(client):
    response = send(client, photos=[("lamp.jpg", jpeg(gps=True))])
    assert response.status_code == 201, response.text
    report = response.json()
    assert "case_id" not in report
    assert len(report["photos"]) == 1
    token = response.headers["Report-Token"]
    (path,) = stored(client.app.state.services, report)
    with Image.open(path) as kept:
        assert kept.format == "JPEG"
        assert not kept.getexif()
        assert GPS_INFO not in kept.getexif()
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(kept.info)
    assert b"Phonemaker" not in path.read_bytes() and b"taken at home" not in path.read_bytes()

    url = report["photos"][0]
    mine = client.get(url)  # the cookie, scoped to this report's path
    assert mine.status_code == 200 and mine.headers["content-type"] == "image/jpeg"
    assert mine.content == path.read_bytes()
    client.cookies.clear()
    assert client.get(url, headers={"Report-Token": token}).status_code == 200
    assert client.get(url).status_code == 404
    assert client.get(url, headers={"Report-Token": token + "x"}).status_code == 404
    assert (
        client.get(url.replace("/photos/1", "/photos/2"), headers={"Report-Token": token}).status_code == 404
    )


@SQLITE
def test_a_photo_stands_upright_and_is_brought_down_to_a_screens_size(client):
    response = send(client, photos=[("big.jpg", jpeg((MAX_SIDE * 2, 1000), rotated=True))])
    assert response.status_code == 201, response.text
    (path,) = stored(client.app.state.services, response.json())
    with Image.open(path) as kept:
        assert kept.size == (MAX_SIDE * 1000 // (MAX_SIDE * 2), MAX_SIDE)  # turned: now taller than wide


def test_a_logged_in_report_is_a_running_case_and_its_photos_are_theirs_alone(demo_app):
    demo_login(demo_app, "jan-janssens")
    response = send(demo_app, photos=[("a.jpg", None), ("b.png", _png())])
    assert response.status_code == 201, response.text
    report = response.json()
    assert "Report-Token" not in response.headers
    assert len(report["photos"]) == 2
    cases = demo_app.get("/api/v1/me/cases").json()["cases"]
    case = next(c for c in cases if c["id"] == report["case_id"])
    assert case["status"]["code"] == "Ontvangen"
    assert case["name"] == "Defecte straatverlichting"
    for url in report["photos"]:
        assert demo_app.get(url).headers["content-type"] == "image/jpeg"

    demo_login(demo_app, "an-peeters")
    assert demo_app.get(report["photos"][0]).status_code == 404
    demo_app.post("/auth/logout")
    demo_app.cookies.clear()
    assert demo_app.get(report["photos"][0]).status_code == 404


@SQLITE
def test_a_session_on_a_report_from_another_site_is_refused(demo_app):
    demo_login(demo_app, "jan-janssens")
    response = send(demo_app, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert send(demo_app, headers={"Origin": "http://testserver"}).status_code == 201


@SQLITE
@pytest.mark.parametrize(
    ("photos", "status", "code", "says"),
    [
        (
            [("lamp.jpg", b"%PDF-1.7 not a photo at all" * 10)],
            400,
            "photo_refused",
            "lamp.jpg is not a photo",
        ),
        ([("lamp.jpg", jpeg()[:200])], 400, "photo_refused", "is not a photo"),
        ([("bomb.png", png_bomb())], 400, "photo_refused", "too many pixels"),
        (
            [("wide.png", png_bomb(12_000, 5_000))],
            400,
            "photo_refused",
            "too many pixels",
        ),  # below Pillow's cap
        ([("lamp.jpg", None)] * 6, 400, "bad_request", "at most 5 photos"),
    ],
)
def test_what_is_no_photo_we_can_keep_is_refused_and_nothing_is_kept(client, photos, status, code, says):
    response = send(client, photos=photos, headers={"accept-language": "en"})
    assert response.status_code == status, response.text
    assert error_code(response) == code
    assert says in response.json()["error"]["message"]
    assert not (client.app.state.services.settings.data_dir / "reports").exists() or not any(
        (client.app.state.services.settings.data_dir / "reports").iterdir()
    )


@SQLITE
def test_an_oversized_photo_is_refused(database_url, tmp_path):
    settings = Settings(database_url=database_url, data_dir=tmp_path, report_photo_max_mb=1, _env_file=None)
    with TestClient(create_app(settings)) as client:
        noise = Image.frombytes("RGB", (1000, 1000), random.Random(1).randbytes(3_000_000))
        out = BytesIO()
        noise.save(out, "PNG")
        assert len(out.getvalue()) > 2**20
        response = send(client, photos=[("big.png", out.getvalue())], headers={"accept-language": "en"})
        assert response.status_code == 413
        assert error_code(response) == "photo_too_large"
        # A body beyond all the photos a report may carry is refused before it is read.
        many = [("p.jpg", b"x" * 2**20)] * 6
        assert send(client, photos=many).status_code == 413
        client.app.state.services.db.dispose()


@SQLITE
@pytest.mark.parametrize(
    ("fields", "code", "says"),
    [
        ({"place": PARIS}, "bad_request", "outside the area"),
        ({"category": "unicorns"}, "bad_request", "There is no category unicorns"),
        ({"description": "   "}, "bad_request", "Describe the problem"),
    ],
)
def test_a_report_outside_the_area_of_no_category_or_without_words_is_refused(client, fields, code, says):
    response = send(client, headers={"accept-language": "en"}, **fields)
    assert response.status_code == 400
    assert error_code(response) == code and says in response.json()["error"]["message"]


@SQLITE
@pytest.mark.parametrize("missing", ["category", "description", "latitude", "longitude", "photo"])
def test_a_report_without_one_of_its_fields_is_refused(client, missing):
    data = {key: value for key, value in form().items() if key != missing}
    files = [] if missing == "photo" else [("photo", ("lamp.jpg", jpeg(), "image/jpeg"))]
    response = client.post("/api/v1/reports", data=data, files=files or None)
    assert response.status_code in (400, 422)
    assert "error" in response.json()


def test_nearby_finds_the_open_reports_of_the_same_category_close_by_and_recent(services, clock):
    reports = services.reports
    here = GHENT
    near = (here[0] + 0.0002, here[1])  # 22 m north
    far = (here[0] + 0.001, here[1])  # 111 m
    ids = {
        name: reports.submit(Reporter(), category, "x", *place, [("a.jpg", BytesIO(jpeg()))], "en").id
        for name, category, place in [
            ("same", "street-light", near),
            ("far", "street-light", far),
            ("other", "dumping", near),
        ]
    }
    found = reports.nearby("street-light", *here)
    assert [report.id for report in found] == [ids["same"]]
    assert 20 < found[0].distance_m < 25
    assert [r.id for r in reports.nearby("dumping", *here)] == [ids["other"]]
    clock.advance(31 * 86400)
    assert reports.nearby("street-light", *here) == []


@SQLITE
def test_nearby_is_in_the_api_without_what_the_reporter_wrote(client):
    report = send(client, description="My neighbour Piet broke it").json()
    answer = client.get(
        "/api/v1/reports/nearby",
        params={"category": "street-light", "latitude": GHENT[0], "longitude": GHENT[1]},
    ).json()
    (found,) = answer["reports"]
    assert found["id"] == report["id"] and found["distance_m"] == 0
    assert "Piet" not in str(answer)
    unknown = client.get("/api/v1/reports/nearby", params={"category": "x", "latitude": 51, "longitude": 4})
    assert unknown.status_code == 400


def test_haversine_measures_a_degree_of_latitude():
    assert haversine(51.0, 4.0, 52.0, 4.0) == pytest.approx(111_195, rel=1e-3)


def _png() -> bytes:
    out = BytesIO()
    Image.new("RGBA", (40, 30), (0, 128, 0, 128)).save(out, "PNG")
    return out.getvalue()


def test_following_a_report_makes_its_case_the_followers_too_and_changes_nothing_else(demo_app):
    """Jan reports; An follows from the page instead of sending it again: the same case is in both
    their Mijn zaken, with one status. An anonymous report gets its case when someone follows it."""
    demo_login(demo_app, "jan-janssens")
    report = send(demo_app).json()

    demo_login(demo_app, "an-peeters")
    page = demo_app.get("/melden?lang=nl").text
    followed = demo_app.post(
        f"/melden/{report['id']}/volgen?lang=nl",
        data={"csrf_token": csrf_token(page)},
        headers=OWN_PAGE,
        follow_redirects=False,
    )
    assert followed.status_code == 303
    assert followed.headers["location"].startswith(f"/mijn-zaken/{report['case_id']}")
    case = demo_app.get(f"/api/v1/me/cases/{report['case_id']}").json()
    assert [entry["code"] for entry in case["timeline"]] == ["Ontvangen"]
    demo_login(demo_app, "jan-janssens")
    assert demo_app.get(f"/api/v1/me/cases/{report['case_id']}").status_code == 200

    demo_app.post("/auth/logout")
    demo_app.cookies.clear()
    anonymous = send(demo_app, place=(GHENT[0] + 0.01, GHENT[1])).json()
    assert "case_id" not in anonymous or anonymous["case_id"] is None
    reports = demo_app.app.state.services.reports
    case_id = reports.follow(anonymous["id"], Reporter("someone", "78631200367"), "nl")
    assert case_id
    with pytest.raises(NotFound):
        reports.follow("0" * 32, Reporter("someone", "78631200367"), "nl")
    with pytest.raises(NotFound):
        reports.follow(anonymous["id"], Reporter(), "nl")


def test_purge_removes_reports_past_their_retention_with_their_photos(services, clock):
    reports = services.reports
    old = reports.submit(Reporter(), "street-light", "x", *GHENT, [("a.jpg", BytesIO(jpeg()))], "en")
    clock.advance(200 * 86400)
    recent = reports.submit(Reporter(), "dumping", "y", *GHENT, [("b.jpg", BytesIO(jpeg()))], "en")
    clock.advance(166 * 86400)  # the first is 366 days old, the second 166

    counted = services.purge(dry_run=True)
    assert (counted["reports"], counted["report photos"]) == (1, 1)
    assert (services.settings.data_dir / "reports" / old.id).is_dir(), "a dry run removes nothing"
    removed = services.purge()
    assert (removed["reports"], removed["report photos"]) == (1, 1)
    assert not (services.settings.data_dir / "reports" / old.id).exists()
    assert reports.photo(old.id, 1, None, old.token) is None
    assert reports.photo(recent.id, 1, None, recent.token) is not None
