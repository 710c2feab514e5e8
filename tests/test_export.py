"""My data (issue 21): "download my data" as JSON-LD and as a readable page, and the choices a person
makes for the optional uses of their data, checked where the data would be used: proactive evaluation
(on until withdrawn) and e-mail notifications (off until granted)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pyld import jsonld
from sqlalchemy import func, select

from loket.clock import now
from loket.consent.texts import CHOICE_END
from loket.i18n import message, plain
from loket.identity.models import AccessRow
from loket.proactive.models import FactRow
from tests.test_proactive import (  # noqa: F401
    AN,
    AN_NUMBER,
    born,
    evaluated,
    login,
    registry,
    send,
    suggestions,
)

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def app(demo_app: TestClient) -> TestClient:
    return demo_app


def pruned(value):
    """A document without its empty lists, which compaction leaves out."""
    if isinstance(value, dict):
        return {key: pruned(item) for key, item in value.items() if item != []}
    if isinstance(value, list):
        return [pruned(item) for item in value]
    return value


def proactive_reads(app: TestClient) -> int:
    with app.app.state.services.db.session() as session:
        return session.scalar(select(func.count()).where(AccessRow.why.startswith("proactive:")))


def facts_of_an(app: TestClient) -> int:
    with app.app.state.services.db.session() as session:
        return session.scalar(select(func.count()).where(FactRow.subject_key == AN_NUMBER))


def test_consent_withdrawn_the_next_evaluation_does_not_read_the_data(app, registry):  # noqa: F811
    login(app, AN)
    evaluated(app, send(app, registry, born()).json()["id"])
    before = proactive_reads(app)
    assert before > 0 and facts_of_an(app) > 0
    assert app.put("/api/v1/me/proactive", json={"enabled": False}).json() == {"enabled": False}
    evaluated(app, send(app, registry, born(days_ago=2)).json()["id"])
    assert proactive_reads(app) == before  # no rule read An's facts
    assert facts_of_an(app) == 0  # and what the event said was not kept
    choices = app.get("/api/v1/me/choices").json()["choices"]
    assert [(c["purpose"], c["granted"]) for c in choices] == [("proactive", False)]
    app.put("/api/v1/me/proactive", json={"enabled": True})
    evaluated(app, send(app, registry, born(days_ago=1)).json()["id"])
    assert proactive_reads(app) > before
    history = app.get("/api/v1/me/choices").json()["choices"]
    assert [c["granted"] for c in history] == [True, False]  # newest first, each with its time


@sqlite_only
def test_one_rule_can_be_turned_off_and_a_grant_can_end(app, registry, clock):  # noqa: F811
    login(app, AN)
    off = app.put("/api/v1/me/proactive", json={"enabled": False, "rule": "kids-id"})
    assert off.json() == {"enabled": True}  # the rest stays on
    evaluated(app, send(app, registry, born()).json()["id"])
    found = {s["rule"]["id"] for s in suggestions(app)}
    assert "groeipakket-startbedrag" in found and "kids-id" not in found
    choices = app.get("/api/v1/me/choices").json()["choices"]
    assert [(c["purpose"], c["scope"], c["granted"]) for c in choices] == [("proactive", "kids-id", False)]
    app.put("/api/v1/me/proactive", json={"enabled": True, "rule": "kids-id"})
    evaluated(app, send(app, registry, born(days_ago=3)).json()["id"])
    assert "kids-id" in {s["rule"]["id"] for s in suggestions(app)}  # on again: it is suggested

    tomorrow = (now() + timedelta(days=1)).isoformat()
    app.put("/api/v1/me/proactive", json={"enabled": True, "until": tomorrow})
    assert app.get("/api/v1/me/proactive").json() == {"enabled": True}
    clock.advance(2 * 86400)  # the grant ended: off, and nothing read any more
    login(app, AN)  # the session, idle for two days, ended too
    assert app.get("/api/v1/me/proactive").json() == {"enabled": False}
    before = proactive_reads(app)
    evaluated(app, send(app, registry, born(days_ago=1)).json()["id"])
    assert proactive_reads(app) == before

    past = app.put("/api/v1/me/proactive", json={"enabled": True, "until": "2020-01-01T00:00:00Z"})
    assert past.status_code == 400 and past.json()["error"]["message"] == message(CHOICE_END, "nl")
    unknown = app.put("/api/v1/me/proactive", json={"enabled": False, "rule": "no-such-rule"})
    assert unknown.status_code == 404
    assert len(app.get("/api/v1/me/choices").json()["choices"]) == 3  # refusals recorded nothing


@sqlite_only
def test_e_mail_notifications_need_consent_recorded_when_given_and_withdrawn(app):
    login(app, AN)
    preferences = {
        p["channel"]: p for p in app.get("/api/v1/me/notification-preferences").json()["preferences"]
    }
    assert preferences["email"]["enabled"] is False  # opt-in: off until granted
    email = {"channel": "email", "enabled": True}
    turned_on = app.put("/api/v1/me/notification-preferences", json=[email])
    assert turned_on.status_code == 200, turned_on.text
    assert {p["channel"]: p["enabled"] for p in turned_on.json()["preferences"]}["email"] is True
    app.put("/api/v1/me/notification-preferences", json=[email | {"enabled": False}])
    choices = app.get("/api/v1/me/choices").json()["choices"]
    assert [(c["purpose"], c["granted"]) for c in choices] == [
        ("email_notifications", False),
        ("email_notifications", True),
    ]
    assert all(c["at"] and c["scope"] == "all" for c in choices)


@sqlite_only
def test_the_export_is_json_ld_that_expands_without_loss(app, registry):  # noqa: F811
    login(app, AN)
    evaluated(app, send(app, registry, born()).json()["id"])
    asked = app.post("/api/v1/ask", json={"question": "Hoe vraag ik een identiteitskaart aan?"})
    assert asked.status_code == 200
    app.put("/api/v1/me/proactive", json={"enabled": False})
    app.put("/api/v1/me/proactive", json={"enabled": True})
    response = app.get("/api/v1/me/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    document = response.json()
    assert document["@type"] == "Person" and document["identifier"][0]["notation"] == AN_NUMBER
    assert document["cases"] and document["messages"] and document["conversations"]
    assert document["conversations"][0]["questions"][0]["text"] == "Hoe vraag ik een identiteitskaart aan?"
    assert [c["status"]["@id"] for c in document["choices"]] == ["dpv:ConsentGiven", "dpv:ConsentWithdrawn"]
    assert {r["purpose"] for r in document["accessRecords"]} >= {"own_view"}
    expanded = jsonld.expand(document)
    person = expanded[0]
    assert person["@type"] == ["http://www.w3.org/ns/person#Person"]
    assert "https://data.vlaanderen.be/ns/persoon#volledigeNaam" in person
    assert "https://data.vlaanderen.be/ns/dossier#Dossier" in str(expanded)
    # Without loss: every key is a term of the context, so compacting the expansion gives it back.
    compacted = jsonld.compact(expanded, {"@context": document["@context"]})
    assert pruned(compacted) == pruned(document)


@sqlite_only
def test_the_export_reads_as_the_person_and_is_logged_and_readable(app):
    assert app.get("/api/v1/me/export").status_code == 401
    login(app, AN)
    before = app.get("/api/v1/me/access-log", params={"purpose": "own_view"}).json()
    page = app.get("/api/v1/me/export", headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "An Peeters" in page.text and plain("nl", "Who used your data") in page.text
    after = app.get("/api/v1/me/access-log", params={"purpose": "own_view"}).json()
    assert {a["what"] for a in after[: len(after) - len(before)]} >= {"person", "cases", "messages"}
