"""Login assurance (issue 15, point 4) with real OpenID providers (tests/oidc.py), on SQLite and
PostgreSQL: a login below the configured level (`acr`) reads no cases and no mandates, and is asked
to log in again with a stronger method; an account is its issuer and subject, so a second issuer's
account with the same national number is another person; and no ID token is kept.

The test provider has one usual level per account; `acr=` at its login page stands for choosing
another method there (the same person, a stronger login).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select

from loket.cases.schemas import CaseDraft, Status, Subject, SubjectType
from loket.i18n import message
from loket.identity.models import PersonRow, SessionRow
from loket.identity.schemas import Login
from loket.identity.texts import STRONGER_LOGIN_NEEDED
from tests.oidc import (
    CITIZEN,
    DEMO_CLIENT_ID,
    Provider,
    confirm_logout_over_http,
    demo_client,
    login_over_http,
    oidc_provider,
)
from tests.test_identity import _oidc_app, _path

LOW = "http://eidas.europa.eu/LoA/low"
SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
HIGH = "http://eidas.europa.eu/LoA/high"
JAN = {**CITIZEN, "acr": LOW}  # Jan Peeters, who usually logs in with a password only
NUMBER = CITIZEN["claims"]["rrn"]
EN = {"accept-language": "en"}
JSON = {"content-type": "application/json"}
REFUSAL = message(STRONGER_LOGIN_NEEDED, "en")
OWN_CASE_QUESTION = "Hoe ver staat mijn aanvraag voor een omgevingsvergunning?"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with oidc_provider([JAN], [demo_client("http://testserver")]) as started:
        yield started


@pytest.fixture(scope="module")
def second_provider() -> Iterator[Provider]:
    """Another issuer that knows an account with the same subject and the same national number."""
    with oidc_provider([{**CITIZEN, "acr": HIGH}], [demo_client("http://testserver")]) as started:
        yield started


@pytest.fixture
def loket(settings, provider) -> Iterator[TestClient]:
    """loket asking for a substantial or high login, with a case about Jan."""
    with _oidc_app(settings, provider, oidc_acr_values=f"{SUBSTANTIAL} {HIGH}") as client:
        client.app.state.services.cases.upsert(
            CaseDraft(
                source="OMV",
                number="OMV-7",
                name="Omgevingsvergunning voor een carport",
                type="Omgevingsvergunning",
                status=Status("ONTVANGEN", "Indiening"),
                subjects=(Subject("Aanvrager", SubjectType.PERSON, NUMBER),),
            )
        )
        yield client
    client.app.state.services.db.dispose()


def log_in(
    client: TestClient, account: dict, acr: str | None = None, url: str = "/auth/login", browser=None
) -> httpx.Response:
    """From one of loket's login links through the provider's login page, back to loket's callback.
    `browser` keeps the provider's cookies, for a logout at the provider afterwards."""
    start = client.get(url)
    assert start.status_code == 303
    with httpx.Client() as fresh:
        back = login_over_http(browser or fresh, start.headers["location"], account["sub"], acr)
    return client.get(_path(back.headers["location"]))


def _mandate_for_jan(client: TestClient) -> str:
    """His mother, who logged in strongly, lets Jan act for her; the mandate's id."""
    identity = client.app.state.services.identity
    _, mother = identity.sessions.sign_in(
        Login(
            subject="test#mother",
            name="Maria Peeters",
            national_number="51680534681",
            method="oidc",
            acr=HIGH,
        )
    )
    return identity.mandates.grant(mother, NUMBER, "Jan Peeters", [], date.today(), None, "en").id


def test_a_weak_login_cannot_read_cases_and_is_told_why(loket):
    log_in(loket, JAN)
    case_id = loket.app.state.services.cases.get("OMV", "OMV-7").id
    for path in ("/api/v1/me/cases", f"/api/v1/me/cases/{case_id}"):
        response = loket.get(path, headers=EN)
        assert response.status_code == 403, path
        assert response.json()["error"] == {"code": "stronger_login_needed", "message": REFUSAL}
    assert "Log in again with a stronger method" in REFUSAL
    assert loket.get("/api/v1/me").status_code == 200  # the login itself stands
    user = loket.app.state.services.identity.sessions.signed_in(loket.cookies.get("loket_session"))
    assert (user.acr, user.assured) == (LOW, False)
    accesses = loket.app.state.services.identity.access_log.accesses(user)
    assert [a.what for a in accesses] == ["person"]  # /api/v1/me; no case was read


def test_the_cases_page_asks_a_weak_login_to_log_in_again_and_a_strong_one_reads(loket):
    log_in(loket, JAN)
    page = loket.get("/mijn-zaken?lang=en")
    assert page.status_code == 403
    assert "A stronger login is needed" in page.text
    assert REFUSAL in page.text
    assert "Omgevingsvergunning voor een carport" not in page.text
    link = "/auth/login?return_to=%2Fmijn-zaken&amp;again=1&amp;lang=en"
    assert link in page.text

    start = loket.get(link.replace("&amp;", "&"))
    asked = parse_qs(urlsplit(start.headers["location"]).query)
    assert asked["prompt"] == ["login"]  # the provider asks how to log in, even with a session
    assert asked["acr_values"] == [f"{SUBSTANTIAL} {HIGH}"]
    back = log_in(loket, JAN, acr=HIGH, url=link.replace("&amp;", "&"))
    assert back.headers["location"] == "/mijn-zaken"
    page = loket.get("/mijn-zaken?lang=en")
    assert page.status_code == 200
    assert "Omgevingsvergunning voor een carport" in page.text
    assert [c["number"] for c in loket.get("/api/v1/me/cases").json()["cases"]] == ["OMV-7"]


def test_a_weak_login_cannot_see_give_revoke_or_use_mandates(loket):
    mandate_id = _mandate_for_jan(loket)
    log_in(loket, JAN)
    body = {"mandatary": "51680534681", "name": "Maria Peeters"}
    refused = [
        loket.get("/api/v1/me/mandates", headers=EN),
        loket.post("/api/v1/me/mandates", json=body, headers=EN),
        loket.delete(f"/api/v1/me/mandates/{mandate_id}", headers={**EN, **JSON}),
        loket.post("/api/v1/me/profile", json={"profile": f"mandate:{mandate_id}"}, headers=EN),
    ]
    assert [(r.status_code, r.json()["error"]["code"]) for r in refused] == [
        (403, "stronger_login_needed")
    ] * 4
    assert loket.get("/api/v1/me").json()["active_profile"]["id"] == "self"
    page = loket.get("/mijn-profiel?lang=en")
    assert page.status_code == 200  # the profile page stays; its mandates ask for a stronger login
    assert REFUSAL in page.text
    assert "Mandates given to you" not in page.text

    log_in(loket, JAN, acr=SUBSTANTIAL)
    mandates = loket.get("/api/v1/me/mandates").json()
    assert [m["mandator"] for m in mandates["received"]] == ["Maria Peeters"]
    assert "Mandates given to you" in loket.get("/mijn-profiel?lang=en").text
    assert loket.post("/api/v1/me/profile", json={"profile": f"mandate:{mandate_id}"}).status_code == 200


def test_the_assistant_asks_a_weak_login_to_log_in_again_for_its_cases(loket):
    log_in(loket, JAN)
    answer = loket.post("/api/v1/ask", json={"question": OWN_CASE_QUESTION, "language": "en"}).json()
    assert (answer["status"], answer["answer"]) == ("needs_login", REFUSAL)
    log_in(loket, JAN, acr=HIGH)
    answer = loket.post("/api/v1/ask", json={"question": OWN_CASE_QUESTION, "language": "en"}).json()
    assert answer["status"] == "answered"
    assert "OMV-7" in answer["answer"]


def test_the_same_number_from_a_second_issuer_is_another_person(loket, settings, second_provider):
    log_in(loket, JAN, acr=HIGH)
    first = loket.get("/api/v1/me").json()["person"]
    body = {"mandatary": "51680534681", "name": "Maria Peeters"}
    assert loket.post("/api/v1/me/mandates", json=body).status_code == 201
    asked = loket.post("/api/v1/ask", json={"question": "Hoe vraag ik een parkeerkaart aan?"}).json()
    conversation = {"Loket-Conversation-Token": asked["conversation_token"]}
    assert loket.get(f"/api/v1/conversations/{asked['conversation_id']}", headers=conversation).is_success

    with _oidc_app(settings, second_provider, oidc_acr_values=HIGH) as elsewhere:  # the same database
        log_in(elsewhere, CITIZEN)
        second = elsewhere.get("/api/v1/me").json()["person"]
        assert second["id"] != first["id"]
        assert second["national_number"] == first["national_number"] == NUMBER
        assert elsewhere.get("/api/v1/me/mandates").json()["granted"] == []
        read = elsewhere.get(f"/api/v1/conversations/{asked['conversation_id']}", headers=conversation)
        assert read.status_code == 404
        # The cases are about the number: its holder reads them, whichever issuer vouched for it.
        assert [c["number"] for c in elsewhere.get("/api/v1/me/cases").json()["cases"]] == ["OMV-7"]
        elsewhere.app.state.services.db.dispose()

    with loket.app.state.services.db.session() as session:
        persons = session.scalars(select(PersonRow).where(PersonRow.national_number == NUMBER)).all()
        assert sorted(p.subject for p in persons) == sorted(
            f"{issuer}#{CITIZEN['sub']}"
            for issuer in (loket.app.state.services.oidc.issuer, second_provider.issuer)
        )


def test_a_session_keeps_no_id_token_and_logout_still_ends_the_provider_session(loket, provider):
    with httpx.Client() as browser:
        log_in(loket, JAN, acr=HIGH, browser=browser)
        database = loket.app.state.services.db
        columns = {c["name"] for c in inspect(database.engine).get_columns("identity_sessions")}
        assert "id_token" not in columns
        with database.session() as session:
            row = session.scalars(select(SessionRow)).one()
            assert row.acr == HIGH
            stored = [str(getattr(row, column)) for column in columns]
        assert not any(value.startswith("eyJ") or ".eyJ" in value for value in stored)  # no JWT at all

        end_session = loket.post("/auth/logout", headers=JSON).json()["logout_url"]
        assert end_session.startswith(provider.end_session_endpoint)
        query = parse_qs(urlsplit(end_session).query)
        assert query == {"post_logout_redirect_uri": ["http://testserver/"], "client_id": [DEMO_CLIENT_ID]}
        back = confirm_logout_over_http(browser, end_session)
        assert back.headers["location"] == "http://testserver/"
        # The provider's session ended: a new login there asks again who logs in.
        again = browser.get(loket.get("/auth/login").headers["location"], follow_redirects=False)
        assert again.headers["location"].startswith("/interaction/")
    assert loket.get("/api/v1/me").status_code == 401
