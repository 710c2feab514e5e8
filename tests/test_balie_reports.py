"""The reports queue on the agent console (`/balie/meldingen`): an agent sees the reports of the
authorities an operator let them work for and no others, reads one with its photos (which its reporter's
access log shows), gives it a status and closes it through the form, which the reporter's case
follows; a form with a problem comes back with it, in the agent's language."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from loket.errors import BadRequest
from loket.i18n import message, plain
from loket.identity.schemas import Role
from loket.reports.texts import REPORT_CLOSED, STATUS_NEEDED
from tests.test_identity import demo_login
from tests.test_reports import send
from tests.test_reports_queue import FLUVIUS, TOWN
from tests.web_support import OWN_PAGE, csrf_token

QUEUE = "/balie/meldingen"
MARIE = "90620400268"  # Marie Dubois, made an agent here
LOTTE = "95710800516"  # Lotte Maes, the demo's agent, who works every authority's queue


def post_status(app: TestClient, report_id: str, language: str = "en", **fields: str):
    page = app.get(f"{QUEUE}/{report_id}?lang={language}")
    data = {"csrf_token": csrf_token(page.text), "status": "", "details": "", **fields}
    return app.post(f"{QUEUE}/{report_id}?lang={language}", data=data, headers=OWN_PAGE)


def test_an_agent_handles_only_their_authorities_reports_and_the_reporters_case_follows(demo_app):
    services = demo_app.app.state.services
    services.identity.roles.grant(MARIE, Role.AGENT)
    assert services.reports.authorities_for(LOTTE) == services.reports.authorities(), "the demo's agent"
    assert services.reports.remove_handler(LOTTE, TOWN)
    demo_login(demo_app, "jan-janssens")
    light = send(demo_app, photos=[("a.jpg", None), ("b.jpg", None)], description="Lamp 12 is out.").json()
    assert demo_app.get(f"{QUEUE}?lang=en").status_code == 403, "a citizen is refused"
    assert demo_app.get(f"{QUEUE}/{light['id']}/fotos/1").status_code == 403
    demo_app.cookies.clear()
    hole = send(demo_app, category="road-surface", description="A deep hole.", contact="jan@example.org")
    hole = hole.json()
    assert demo_app.get(QUEUE).headers["location"].startswith("/aanmelden")

    demo_login(demo_app, "marie-dubois")
    nothing = plain(
        "en", "You work for no authority that handles reports yet. An operator can add you to one."
    )
    assert nothing in demo_app.get(f"{QUEUE}?lang=en").text, "an agent, but of no authority: no reports"
    demo_login(demo_app, "lotte-maes")
    console = demo_app.get("/balie?lang=en").text
    assert f'href="{QUEUE}?lang=en"' in console, "the console links the reports"
    listed = demo_app.get(f"{QUEUE}?lang=en").text
    assert light["id"] in listed and hole["id"] not in listed
    assert "Broken street light" in listed and "Fluvius (street lighting)" in listed
    page = demo_app.get(f"{QUEUE}/{light['id']}?lang=en")
    assert page.status_code == 200 and "Lamp 12 is out." in page.text
    assert (
        "https://www.openstreetmap.org/?mlat=51.054300&amp;mlon=3.717400#map=18/51.054300/3.717400"
        in page.text
    )
    for number in (1, 2):
        assert f'<img src="{QUEUE}/{light["id"]}/fotos/{number}"' in page.text
    photo = demo_app.get(f"{QUEUE}/{light['id']}/fotos/2")
    assert photo.headers["content-type"] == "image/jpeg" and photo.content[:2] == b"\xff\xd8"
    assert photo.headers["cache-control"] == "private, no-store"
    assert demo_app.get(f"{QUEUE}/{light['id']}/fotos/3").status_code == 404
    assert demo_app.get(f"{QUEUE}/{hole['id']}?lang=en").status_code == 404, "another authority's"
    assert demo_app.get(f"{QUEUE}/{hole['id']}/fotos/1").status_code == 404

    assert services.reports.add_handler(MARIE, TOWN)
    demo_login(demo_app, "marie-dubois")
    listed = demo_app.get(f"{QUEUE}?lang=fr").text
    assert hole["id"] in listed and light["id"] not in listed
    assert "Commune, service technique" in listed
    assert "jan@example.org" in demo_app.get(f"{QUEUE}/{hole['id']}?lang=fr").text
    assert demo_app.get(f"{QUEUE}/{light['id']}?lang=fr").status_code == 404
    assert demo_app.get(f"{QUEUE}/{light['id']}/fotos/1").status_code == 404
    moved = demo_app.post(
        f"{QUEUE}/{light['id']}?lang=fr",
        data={"csrf_token": csrf_token(listed), "status": "Gedaan", "close": "on"},
        headers=OWN_PAGE,
    )
    assert moved.status_code == 404, "nor can she change it"

    demo_login(demo_app, "lotte-maes")
    working = post_status(demo_app, light["id"], status="In behandeling", details="Een ploeg komt langs.")
    assert working.status_code == 303
    assert working.headers["location"] == f"{QUEUE}/{light['id']}?saved=1&lang=en"
    shown = demo_app.get(working.headers["location"]).text
    assert (
        plain("en", "The status has been saved.") in shown
        and "In behandeling: Een ploeg komt langs." in shown
    )
    done = post_status(demo_app, light["id"], status="Hersteld", close="on")
    assert done.status_code == 303
    shown = demo_app.get(done.headers["location"]).text
    assert "Closed on" in shown and 'name="status"' not in shown, "a closed report has no form"
    assert light["id"] not in demo_app.get(f"{QUEUE}?lang=en").text
    assert light["id"] in demo_app.get(f"{QUEUE}?closed=true&lang=en").text

    demo_login(demo_app, "jan-janssens")
    case = demo_app.get(f"/api/v1/me/cases/{light['case_id']}").json()
    assert [s["code"] for s in case["timeline"]][-2:] == ["In behandeling", "Hersteld"]
    assert case["status"]["code"] == "Hersteld"
    reads = [a for a in demo_app.get("/api/v1/me/access-log").json() if a["why"] == "report"]
    assert {a["by"] for a in reads} == {"Lotte Maes"}, "the agent read it, under her own name"
    assert {a["what"] for a in reads} >= {"report", "report_photo:2"}


def test_a_status_form_with_a_problem_comes_back_with_it_in_the_agents_language(demo_app):
    report = send(demo_app).json()
    demo_login(demo_app, "lotte-maes")
    for language, status in (("fr", ""), ("de", "x" * 101)):
        refused = post_status(demo_app, report["id"], language, status=status, details="Bijna.")
        assert refused.status_code == 400
        problem = message(STATUS_NEEDED, language, count="100")
        assert f'<a href="#status">{problem}</a>' in refused.text, "listed first, linked to its field"
        assert f'<p class="error" id="status-error">{problem}</p>' in refused.text
        assert 'aria-invalid="true"' in refused.text and "Bijna." in refused.text, "kept as typed"
        assert refused.text.count(plain(language, "Error:")) == 1
    assert "Ontvangen" in demo_app.get(f"{QUEUE}/{report['id']}?lang=en").text, "nothing changed"

    # A second agent's form, opened before the first one closed the report.
    stale = demo_app.get(f"{QUEUE}/{report['id']}?lang=nl")
    assert post_status(demo_app, report["id"], status="Hersteld", close="on").status_code == 303
    late = demo_app.post(
        f"{QUEUE}/{report['id']}?lang=nl",
        data={"csrf_token": csrf_token(stale.text), "status": "Toch niet"},
        headers=OWN_PAGE,
    )
    assert late.status_code == 409
    assert f'<a href="#current-status">{message(REPORT_CLOSED, "nl")}</a>' in late.text
    no_token = demo_app.post(f"{QUEUE}/{report['id']}?lang=nl", data={"status": "x"}, headers=OWN_PAGE)
    assert no_token.status_code in (400, 403)


def test_only_an_operator_adds_an_agent_to_an_authority_of_the_categories(services):
    reports = services.reports
    assert reports.add_handler("90.62.04-002.68", FLUVIUS), "written as people write it"
    assert not reports.add_handler(MARIE, FLUVIUS), "once"
    assert (MARIE, FLUVIUS) in reports.handlers()
    for number, authority in ((MARIE, "Fluvius"), ("12345678901", FLUVIUS)):
        with pytest.raises(BadRequest):
            reports.add_handler(number, authority)
    assert reports.authorities_for(MARIE) == [FLUVIUS]
    assert reports.remove_handler(MARIE, FLUVIUS) and not reports.remove_handler(MARIE, FLUVIUS)
    assert reports.authorities_for(MARIE) == []
