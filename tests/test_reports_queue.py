"""The authority's queue of reports: it lists its own open reports, reads one (which its reporter's
access log shows), gives it a status and closes it; the case in Mijn zaken follows, and each person
following the report gets a message in their inbox, which is what a push then announces."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.test_identity import demo_login
from tests.test_reports import GHENT, send
from tests.web_support import OWN_PAGE, csrf_token

FLUVIUS = "Fluvius (openbare verlichting)"  # the authority of `street-light` in categories.yaml
TOWN = "Gemeente, technische dienst"  # of `road-surface`


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def logout(app: TestClient) -> None:
    app.post("/auth/logout")
    app.cookies.clear()


def test_an_authority_handles_its_queue_and_the_people_following_a_report_hear_of_it(demo_app):
    cases = demo_app.app.state.services.cases
    fluvius, town = (
        bearer(cases.add_agency(FLUVIUS, "meldingen")),
        bearer(cases.add_agency(TOWN, "meldingen")),
    )
    demo_login(demo_app, "jan-janssens")
    report = send(demo_app, photos=[("a.jpg", None), ("b.jpg", None)], description="Lamp 12 is out.").json()
    demo_login(demo_app, "an-peeters")
    page = demo_app.get("/melden?lang=nl")
    demo_app.post(
        f"/melden/{report['id']}/volgen?lang=nl",
        data={"csrf_token": csrf_token(page.text)},
        headers=OWN_PAGE,
    )
    logout(demo_app)
    pothole = send(demo_app, category="road-surface", description="A deep hole.", contact="jan@example.org")
    assert pothole.status_code == 201, pothole.text
    pothole = pothole.json()

    assert demo_app.get("/api/v1/reports/queue").status_code == 401
    listed = demo_app.get("/api/v1/reports/queue", headers=fluvius).json()["reports"]
    assert [r["id"] for r in listed] == [report["id"]], "another authority's report is not in the queue"
    assert listed[0]["status"] == "Ontvangen" and listed[0]["description"] is None
    assert demo_app.get(f"/api/v1/reports/queue/{pothole['id']}", headers=fluvius).status_code == 404
    assert demo_app.get(f"/api/v1/reports/queue/{report['id']}", headers=town).status_code == 404

    read = demo_app.get(f"/api/v1/reports/queue/{report['id']}", headers=fluvius).json()
    assert read["description"] == "Lamp 12 is out." and len(read["photos"]) == 2
    photo = demo_app.get(read["photos"][1], headers=fluvius)
    assert photo.headers["content-type"] == "image/jpeg" and photo.content[:2] == b"\xff\xd8"
    assert demo_app.get(read["photos"][1], headers=town).status_code == 404
    assert demo_app.get(read["photos"][1]).status_code == 401
    anonymous = demo_app.get(f"/api/v1/reports/queue/{pothole['id']}", headers=town).json()
    assert anonymous["contact"] == "jan@example.org"

    changed = demo_app.post(
        f"/api/v1/reports/queue/{report['id']}/status",
        json={"status": "In behandeling", "details": "Een ploeg komt deze week langs."},
        headers=fluvius,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "In behandeling" and changed.json()["closed_at"] is None
    closed = demo_app.post(
        f"/api/v1/reports/queue/{report['id']}/status",
        json={"status": "Hersteld", "closed": True},
        headers=fluvius,
    ).json()
    assert closed["closed_at"] is not None
    again = demo_app.post(
        f"/api/v1/reports/queue/{report['id']}/status", json={"status": "Toch niet"}, headers=fluvius
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "report_closed"
    assert demo_app.get("/api/v1/reports/queue", headers=fluvius).json()["reports"] == []
    done = demo_app.get("/api/v1/reports/queue", params={"closed": "true"}, headers=fluvius).json()
    assert [r["id"] for r in done["reports"]] == [report["id"]]
    nearby = demo_app.get(
        "/api/v1/reports/nearby",
        params={"category": "street-light", "latitude": GHENT[0], "longitude": GHENT[1]},
    ).json()
    assert report["id"] not in [r["id"] for r in nearby["reports"]], "a closed report is no duplicate"

    for person in ("jan-janssens", "an-peeters"):
        demo_login(demo_app, person)
        case = demo_app.get(f"/api/v1/me/cases/{report['case_id']}").json()
        assert [s["code"] for s in case["timeline"]][-2:] in (
            ["In behandeling", "Hersteld"],
            ["Hersteld", "In behandeling"],
        )
        assert case["status"]["code"] == "Hersteld"
        inbox = demo_app.get("/api/v1/me/messages").json()
        told = [m for m in inbox["messages"] if m["subject"] == "Uw melding: Defecte straatverlichting"]
        assert len(told) == 2 and inbox["unread"] >= 2
        bodies = [demo_app.get(f"/api/v1/me/messages/{m['id']}").json()["body"] for m in told]
        assert any("Hersteld" in b and "afgehandeld" in b for b in bodies), bodies
        assert any("In behandeling" in b and FLUVIUS in b for b in bodies), bodies

    demo_login(demo_app, "jan-janssens")
    log = demo_app.get("/api/v1/me/access-log", params={"by": FLUVIUS}).json()
    assert sorted(a["what"] for a in log) == ["report", "report_photo:2"]
    assert {a["why"] for a in log} == {"report"}


def test_a_status_without_words_or_too_long_and_a_contact_too_long_are_refused(demo_app):
    cases = demo_app.app.state.services.cases
    fluvius = bearer(cases.add_agency(FLUVIUS, "meldingen"))
    report = send(demo_app).json()
    for body in ({"status": ""}, {"status": "x" * 101}, {"status": "ok", "details": "x" * 2001}, {}):
        refused = demo_app.post(f"/api/v1/reports/queue/{report['id']}/status", json=body, headers=fluvius)
        assert refused.status_code == 422, body
    assert (
        demo_app.get(f"/api/v1/reports/queue/{report['id']}", headers=fluvius).json()["status"] == "Ontvangen"
    )
    too_long = send(demo_app, contact="x" * 201)
    assert too_long.status_code == 400 and "200" in too_long.json()["error"]["message"]


def test_a_reporter_reads_the_status_the_authority_gave_and_no_one_else_does(demo_app):
    """An anonymous reporter gets no message: the report's token shows them its status instead."""
    fluvius = bearer(demo_app.app.state.services.cases.add_agency(FLUVIUS, "meldingen"))
    sent = send(demo_app)
    report, token = sent.json(), sent.headers["Report-Token"]
    status = f"/api/v1/reports/{report['id']}/status"
    assert demo_app.get(status).json()["status"] == "Ontvangen", "the cookie the report set"
    demo_app.cookies.clear()
    assert demo_app.get(status).status_code == 404
    assert demo_app.get(status, headers={"Report-Token": "lkr_" + "x" * 43}).status_code == 404
    demo_app.post(
        f"/api/v1/reports/queue/{report['id']}/status",
        json={"status": "Hersteld", "details": "De lamp is vervangen.", "closed": True},
        headers=fluvius,
    )
    seen = demo_app.get(status, headers={"Report-Token": token}).json()
    assert (seen["status"], seen["status_details"]) == ("Hersteld", "De lamp is vervangen.")
    assert seen["closed_at"] is not None and "description" not in seen
    demo_login(demo_app, "an-peeters")
    assert demo_app.get(status).status_code == 404, "a login is not the reporter"


def test_a_long_queue_comes_a_page_at_a_time_oldest_first(demo_app, clock, monkeypatch):
    monkeypatch.setattr("loket.reports.routes.QUEUE_PAGE", 2)
    clock.freeze()
    fluvius = bearer(demo_app.app.state.services.cases.add_agency(FLUVIUS, "meldingen"))
    sent = []
    for number in range(5):
        sent.append(send(demo_app, description=f"Lamp {number} is out.").json()["id"])
        if number != 2:  # two reports in the same instant: their ids order them
            clock.advance(60)
    pages, url = [], "/api/v1/reports/queue"
    for _ in range(5):  # never more pages than reports
        page = demo_app.get(url, headers=fluvius).json()
        pages.append([report["id"] for report in page["reports"]])
        url = page["next"]
        if url is None:
            break
    listed = [report_id for page in pages for report_id in page]
    assert listed == sent[:2] + sorted(sent[2:4]) + sent[4:], "each once, oldest first"
    assert [len(page) for page in pages] == [2, 2, 1]
