"""Running cases: the MAGDA importer over every shared GeefDossiers file, the back-office API, the citizen's
API and pages, mandates and profiles, the access log, and the assistant answering from one's own cases.

Object-level authorization is tried every way the issue names: another person's case by id, by page,
by case number through the assistant; another source's cases by an agency; a mandate's scope.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from loket.config import Settings
from loket.web.app import create_app
from tests.conftest import SHARED_DATA

MAGDA = SHARED_DATA / "magda_mock_dossiers" / "GeefDossiers"
LOKET = str(Path(sys.executable).with_name("loket"))
AN, JAN, MARIE = "an-peeters", "jan-janssens", "marie-dubois"
AN_NUMBER, JAN_NUMBER = "85671500157", "78631200367"
JSON = {"content-type": "application/json"}


@pytest.fixture
def app(settings) -> Iterator[TestClient]:
    """The demo (persons, their mandate and their cases), as `make run` serves it."""
    application = create_app(Settings(_env_file=None, **(settings.model_dump() | {"demo": True})))
    services = application.state.services
    services.db.upgrade()
    services.identity.demo.load()
    services.cases.load_demo()
    with TestClient(application, follow_redirects=False) as client:
        yield client
    services.db.dispose()


@pytest.fixture
def agency(app) -> dict[str, str]:
    token = app.app.state.services.cases.add_agency("Omgevingsloket", "OMV")
    return {"authorization": f"Bearer {token}"}


def login(client: TestClient, person: str) -> None:
    assert client.post("/auth/demo-login", json={"person": person}).status_code == 200


def case_body(key: str = AN_NUMBER, **changes) -> dict:
    return {
        "name": "Omgevingsvergunning voor een tuinhuis",
        "type": "Omgevingsvergunning",
        "subjects": [{"role": "Aanvrager", "type": "person", "key": key}],
        "status": {
            "code": "ONTVANGEN",
            "phase": "Indiening",
            "details": "Ontvangen.",
            "action_needed": False,
        },
        "contact": {"service": "Gemeente Zonnedorp"},
        "link": "https://omgevingsloket.example/dossiers/OMV-9",
        **changes,
    }


def my_cases(client: TestClient) -> list[dict]:
    response = client.get("/api/v1/me/cases")
    assert response.status_code == 200
    return response.json()["cases"]


# The MAGDA importer


def test_every_shared_geef_dossiers_file_imports_and_says_what_it_skipped(settings):
    env = {
        **os.environ,
        "LOKET_DATABASE_URL": settings.sqlalchemy_url,
        "LOKET_DATA_DIR": str(settings.data_dir),
    }

    def ingest() -> subprocess.CompletedProcess:
        return subprocess.run(
            [LOKET, "ingest-cases", str(MAGDA)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )

    first = ingest()
    assert first.returncode == 0, first.stderr
    summary, *skipped = first.stdout.splitlines()
    files = len(list(MAGDA.glob("*.xml")))
    assert summary.startswith(f"{MAGDA}: {files} files, 26 cases created")
    assert f"{len(skipped)} skipped" in summary
    exceptions = sum(path.read_text(encoding="utf-8").count("<Uitzondering>") for path in MAGDA.glob("*.xml"))
    assert sum("Uitzondering" in line for line in skipped) == exceptions
    assert any("source VAPH: Ongekende foutcode van de bron" in line for line in skipped)
    assert any("DossierMutatie" in line and "Bron" in line for line in skipped)  # the one without a source
    again = ingest()
    assert ", 0 cases created, 0 updated," in again.stdout.splitlines()[0]


def test_an_imported_case_is_its_subjects_to_read(app):
    services = app.app.state.services
    services.cases.ingest_location(str(MAGDA / "31612199733.xml"))
    from loket.identity.schemas import Login

    token, _ = services.identity.sessions.sign_in(
        Login(subject="test#jef", name="Jef Jefferson", national_number="31612199733", method="demo")
    )
    app.cookies.set("loket_session", token, domain="testserver.local")
    cases = my_cases(app)
    assert {"2017_HO_31612199733", "VAPH Dossier X"} <= {case["number"] for case in cases}
    study = next(case for case in cases if case["number"] == "2017_HO_31612199733")
    assert study["action_needed"] is True
    detail = app.get(f"/api/v1/me/cases/{study['id']}").json()
    assert detail["status"]["action"].startswith("U moet nog een document bezorgen")
    assert detail["link"] == "https://loket-ti-studietoelagen.vlaanderen.be/dossier"


# The back-office API


def test_the_back_office_api_round_trips_a_case_and_its_statuses(app, agency):
    created = app.put("/api/v1/cases/OMV/OMV-9", json=case_body(), headers=agency)
    assert created.status_code == 201
    assert created.json()["version"] == 1
    same = app.put("/api/v1/cases/OMV/OMV-9", json=case_body(), headers=agency)
    assert (same.status_code, same.json()["change"], same.json()["version"]) == (200, "unchanged", 1)
    status = {
        "code": "ONVOLLEDIG",
        "phase": "Behandeling",
        "action_needed": True,
        "action": "Bezorg het plan",
    }
    assert app.post("/api/v1/cases/OMV/OMV-9/status", json=status, headers=agency).status_code == 201
    stored = app.get("/api/v1/cases/OMV/OMV-9", headers=agency).json()
    assert [s["code"] for s in stored["timeline"]] == ["ONTVANGEN", "ONVOLLEDIG"]
    assert stored["status"]["action"] == "Bezorg het plan" and stored["action_needed"] is True
    assert stored["subjects"] == [{"role": "Aanvrager", "type": "person", "key": AN_NUMBER}]
    assert stored["version"] == 2
    renamed = app.put("/api/v1/cases/OMV/OMV-9", json=case_body(name="Tuinhuis"), headers=agency).json()
    assert (renamed["change"], renamed["name"], renamed["version"]) == ("updated", "Tuinhuis", 3)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (case_body(key="12345678901"), "not a valid national number"),
        (case_body(subjects=[{"type": "company", "key": "071234563"}]), "10 digits"),
        (case_body(subjects=[]), "subjects"),
        (case_body(name=""), "name"),
        (case_body(status={"phase": "x"}), "status.code"),
        (case_body(link="javascript:alert(1)"), "link"),
        (case_body(subjects=[{"type": "animal", "key": AN_NUMBER}]), "subjects.0.type"),
    ],
)
def test_bad_cases_are_refused_clearly_and_change_nothing(app, agency, body, problem):
    before = app.app.state.services.cases.counts()
    response = app.put("/api/v1/cases/OMV/OMV-10", json=body, headers=agency)
    assert response.status_code == 422
    assert problem in response.json()["error"]["message"]
    assert app.app.state.services.cases.counts() == before


def test_an_agency_can_never_touch_another_sources_cases(app, agency):
    before = app.app.state.services.cases.counts()
    response = app.put("/api/v1/cases/STL/2026_HO_85671500157", json=case_body(), headers=agency)
    assert response.status_code == 403
    assert "'OMV' only" in response.json()["error"]["message"]
    assert (
        app.post(
            "/api/v1/cases/STL/2026_HO_85671500157/status", json={"code": "X"}, headers=agency
        ).status_code
        == 403
    )
    assert app.get("/api/v1/cases/STL/2026_HO_85671500157", headers=agency).status_code == 403
    assert app.app.state.services.cases.counts() == before


def test_cases_need_a_valid_unrevoked_agency_token(app, agency):
    assert app.put("/api/v1/cases/OMV/OMV-9", json=case_body()).status_code == 401
    wrong = {"authorization": "Bearer lkt_guessed"}
    assert app.put("/api/v1/cases/OMV/OMV-9", json=case_body(), headers=wrong).status_code == 401
    assert app.app.state.services.cases.revoke_agency("Omgevingsloket")
    assert app.put("/api/v1/cases/OMV/OMV-9", json=case_body(), headers=agency).status_code == 401
    login(app, AN)  # a person's session is no agency token
    assert app.put("/api/v1/cases/OMV/OMV-9", json=case_body()).status_code == 401


def test_agencies_add_prints_a_token_that_works(app, settings):
    env = {
        **os.environ,
        "LOKET_DATABASE_URL": settings.sqlalchemy_url,
        "LOKET_DATA_DIR": str(settings.data_dir),
    }
    result = subprocess.run(
        [LOKET, "agencies", "add", "Gemeente Zonnedorp", "--source", "OMV"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    headers = {"authorization": f"Bearer {token}"}
    assert app.put("/api/v1/cases/OMV/OMV-11", json=case_body(), headers=headers).status_code == 201


# The citizen's own cases


def test_the_cases_follow_the_contract_and_the_active_profile(app):
    login(app, AN)
    cases = my_cases(app)
    assert {c["number"] for c in cases} == {"OMV_2026_004512", "2026_HO_85671500157"}
    assert set(cases[0]) == {
        "id",
        "source",
        "number",
        "name",
        "type",
        "status",
        "action_needed",
        "updated_at",
        "link",
    }
    permit = next(c for c in cases if c["source"] == "OMV")
    detail = app.get(f"/api/v1/me/cases/{permit['id']}").json()
    assert [s["code"] for s in detail["timeline"]] == ["ONTVANGEN", "ONVOLLEDIG"]
    assert detail["action_needed"] is True
    app.post("/api/v1/me/profile", json={"profile": "ea:0712345630"})
    assert [c["number"] for c in my_cases(app)] == ["VLAIO-KMO-88213"]  # the bakery's, not hers
    assert app.get(f"/api/v1/me/cases/{permit['id']}").status_code == 404


def test_nobody_reads_anothers_case_by_id_page_or_number(app):
    login(app, AN)
    permit = next(c for c in my_cases(app) if c["source"] == "OMV")
    login(app, MARIE)
    assert app.get(f"/api/v1/me/cases/{permit['id']}", headers={"accept-language": "en"}).status_code == 404
    missing = app.get("/api/v1/me/cases/doesnotexist", headers={"accept-language": "en"})
    other = app.get(f"/api/v1/me/cases/{permit['id']}", headers={"accept-language": "en"})
    assert missing.json() == other.json()  # the same answer whether it exists or not
    assert app.get(f"/mijn-zaken/{permit['id']}").status_code == 404
    for question in (
        "Waar staat mijn aanvraag voor een omgevingsvergunning OMV_2026_004512?",
        "Wat is de status van dossier OMV_2026_004512?",
        "Moet ik nog iets doen voor mijn omgevingsvergunning?",
    ):
        answer = app.post("/api/v1/ask", json={"question": question}).json()
        assert "verbouwen van een woning" not in answer["answer"], question
        assert "bouwplan" not in answer["answer"], question
        assert all(permit["id"] not in c["url"] for c in answer["citations"]), question


def test_anonymous_people_get_no_cases(app):
    assert app.get("/api/v1/me/cases").status_code == 401
    assert app.get("/mijn-zaken").headers["location"].startswith("/aanmelden")
    question = {"question": "Waar staat mijn aanvraag voor een omgevingsvergunning?"}
    assert app.post("/api/v1/ask", json=question).json()["status"] == "needs_login"


def test_a_mandatary_sees_only_what_the_mandate_covers(app):
    login(app, AN)  # the demo's mandate from Jan covers everything
    jans = next(p for p in app.get("/api/v1/me").json()["profiles"] if p["kind"] == "MANDATE")
    app.post("/api/v1/me/profile", json={"profile": jans["id"]})
    assert [c["number"] for c in my_cases(app)] == ["ZB-2026-3311"]

    login(app, JAN)
    for scope in (["Subsidie"], ["zorgbudget"]):
        grant = {"mandatary": "90620400268", "name": "Marie Dubois", "case_types": scope}
        assert app.post("/api/v1/me/mandates", json=grant).status_code == 201
    login(app, MARIE)
    mandates = [p for p in app.get("/api/v1/me").json()["profiles"] if p["kind"] == "MANDATE"]
    seen = []
    for mandate in mandates:
        app.post("/api/v1/me/profile", json={"profile": mandate["id"]})
        seen.append([c["number"] for c in my_cases(app)])
    assert sorted(seen) == [[], ["ZB-2026-3311"]]  # subsidies: none of Jan's; care budget: his one


def test_a_confidential_case_is_never_shown_under_a_mandate(app, agency):
    body = case_body(key=JAN_NUMBER, confidential=True, name="Vertrouwelijk dossier")
    assert app.put("/api/v1/cases/OMV/OMV-SECRET", json=body, headers=agency).status_code == 201
    login(app, JAN)
    assert "OMV-SECRET" in {c["number"] for c in my_cases(app)}
    login(app, AN)
    jans = next(p for p in app.get("/api/v1/me").json()["profiles"] if p["kind"] == "MANDATE")
    app.post("/api/v1/me/profile", json={"profile": jans["id"]})
    assert "OMV-SECRET" not in {c["number"] for c in my_cases(app)}


def test_a_hidden_case_is_shown_to_no_one(app, agency):
    body = case_body(hidden=True, name="Niet raadpleegbaar")
    assert app.put("/api/v1/cases/OMV/OMV-HIDDEN", json=body, headers=agency).status_code == 201
    login(app, AN)
    assert "OMV-HIDDEN" not in {c["number"] for c in my_cases(app)}


def test_every_read_lands_in_the_access_log_of_whose_cases_they_are(app):
    login(app, AN)
    jans = next(p for p in app.get("/api/v1/me").json()["profiles"] if p["kind"] == "MANDATE")
    app.post("/api/v1/me/profile", json={"profile": jans["id"]})
    case = my_cases(app)[0]
    app.get(f"/api/v1/me/cases/{case['id']}")
    login(app, JAN)
    entries = [(e["by"], e["what"], e["why"]) for e in app.get("/api/v1/me/access-log").json()]
    assert ("An Peeters", "cases", "mandate_use") in entries
    assert ("An Peeters", f"case:{case['id']}", "mandate_use") in entries


def test_the_case_pages_show_the_timeline_and_what_to_do(app):
    login(app, AN)
    page = app.get("/mijn-zaken?lang=en")
    assert page.status_code == 200
    assert "1 case needs something from you" in page.text
    permit = next(c for c in my_cases(app) if c["source"] == "OMV")
    detail = app.get(f"/mijn-zaken/{permit['id']}?lang=en")
    assert "You still need to do something" in detail.text
    assert "Bezorg het ondertekende bouwplan via het omgevingsloket" in detail.text
    assert detail.text.index("Behandeling: Er ontbreekt") < detail.text.index(
        "Indiening: We hebben"
    )  # newest first


# The assistant


def test_the_assistant_answers_from_ones_own_cases_and_keeps_them_for_that_person_only(app):
    login(app, AN)
    permit = next(c for c in my_cases(app) if c["source"] == "OMV")
    answer = app.post(
        "/api/v1/ask", json={"question": "Waar staat mijn aanvraag voor een bouwvergunning?"}
    ).json()
    assert answer["status"] == "answered"
    assert answer["citations"][0]["url"] == f"/mijn-zaken/{permit['id']}"
    assert "OMV_2026_004512" in answer["answer"]
    assert "Bezorg het ondertekende bouwplan via het omgevingsloket" in answer["answer"]
    conversation = f"/api/v1/conversations/{answer['conversation_id']}"
    stored = app.get(conversation).json()["messages"][0]
    assert stored["answer"] == answer["answer"] and stored["citations"] == answer["citations"]
    held = {"Loket-Conversation-Token": answer["conversation_token"]}
    login(app, JAN)  # the same browser and token, another person
    assert app.get(conversation, headers=held).status_code == 404
    app.post("/auth/logout", json={})
    assert app.get(conversation, headers=held).status_code == 404


def test_the_assistant_says_what_is_still_to_do(app):
    login(app, AN)
    answer = app.post("/api/v1/ask", json={"question": "Moet ik nog iets doen?"}).json()
    assert answer["status"] == "answered"
    assert "bouwplan" in answer["answer"]
    assert "Studietoelage" not in answer["answer"]  # granted, nothing to do


def test_the_assistant_follows_the_profile(app):
    login(app, MARIE)  # no cases of her own
    answer = app.post("/api/v1/ask", json={"question": "Waar staat mijn aanvraag?"}).json()
    assert answer["status"] == "unanswerable"
    assert "geen lopende dossiers" in answer["answer"]
    app.post("/api/v1/me/profile", json={"profile": "ver:0876543270"})
    answer = app.post("/api/v1/ask", json={"question": "Waar staat mijn aanvraag voor subsidie?"}).json()
    assert answer["status"] == "answered"
    assert "Werkingssubsidie" in answer["answer"]
    # The association's cases are not hers to keep: her right to see them may end.
    stored = app.get(f"/api/v1/conversations/{answer['conversation_id']}").json()["messages"][0]
    assert "Werkingssubsidie" not in stored["answer"] and stored["citations"] == []
