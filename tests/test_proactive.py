"""Proactive services: life events in through the API, suggestions out to the person they concern.

Intake and evaluation run on both databases (idempotency rests on their unique keys); what is read
back, the assistant and the command line on SQLite, where the database plays no part.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from loket import clock
from loket.assistant import routing
from loket.assistant.routing import Route
from loket.i18n import message
from loket.proactive.models import EventRow, FactRow, SuggestionRow
from loket.proactive.service import DEMO_SENDER, demo_event
from loket.proactive.texts import MANDATE_WITHOUT_SUGGESTIONS, OFFER_SUBJECT
from tests.web_support import OWN_PAGE, csrf_token

LOKET = str(Path(sys.executable).with_name("loket"))
AN, JAN = "an-peeters", "jan-janssens"
AN_NUMBER, JAN_NUMBER = "85671500157", "78631200367"
BAKERY = "0712345630"
BIRTH = "loket.birth.registered"
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def app(demo_app: TestClient) -> TestClient:
    """The demo as `make run` seeds it: catalogue, persons, their mandate and cases, where they live."""
    return demo_app


@pytest.fixture
def registry(app) -> dict[str, str]:
    """The population register as an authentic source: its token, allowed to send births and moves."""
    services = app.app.state.services
    token = services.cases.add_agency("Rijksregister", "RR")
    services.proactive.allow("Rijksregister", [BIRTH, "loket.address.changed"])
    return {"authorization": f"Bearer {token}", "content-type": "application/cloudevents+json"}


def born(days_ago: int = 5, subject: str = AN_NUMBER, **data) -> dict:
    birth_date = (clock.now().date() - timedelta(days=days_ago)).isoformat()
    return demo_event(BIRTH, {"subject": subject, "birth_date": birth_date, **data})


def send(app: TestClient, headers: dict, event: dict | bytes):
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    return app.post("/api/v1/events", content=body, headers=headers)


def evaluated(app: TestClient, event_id: int) -> None:
    """What the worker does with the queued job (here at once, whatever the in-process worker did)."""
    app.app.state.services.proactive.evaluate_event(event_id)


def count(app: TestClient, model) -> int:
    with app.app.state.services.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def login(client: TestClient, person: str) -> None:
    client.cookies.clear()
    assert client.post("/auth/demo-login", json={"person": person}).status_code == 200


def suggestions(client: TestClient, **params) -> list[dict]:
    response = client.get("/api/v1/me/suggestions", params=params)
    assert response.status_code == 200, response.text
    return response.json()["suggestions"]


def by_rule(found: list[dict]) -> dict[str, dict]:
    return {s["rule"]["id"]: s for s in found}


# Intake


def test_a_life_event_is_received_once_and_evaluated_for_its_subject(app, registry):
    event = born()
    first = send(app, registry, event)
    assert first.status_code == 201, first.text
    assert first.json()["new"] is True
    again = send(app, registry, event)
    assert again.status_code == 200 and again.json() == {"id": first.json()["id"], "new": False}
    assert count(app, EventRow) == 1
    evaluated(app, first.json()["id"])
    evaluated(app, first.json()["id"])  # a job run twice has its effect once

    login(app, AN)
    found = by_rule(suggestions(app))
    start = found["groeipakket-startbedrag"]
    assert start["outcome"] == "eligible"
    assert start["service"]["id"] == "groeipakket-startbedrag"
    assert start["service"]["title"] == "Startbedrag van het Groeipakket"
    assert start["service"]["url"].startswith("http")
    assert start["rule"]["version"] and start["rule"]["legal_source"].startswith("https://")
    assert start["event"]["type"] == BIRTH and start["event"]["id"] == event["id"]
    assert set(start["used"]) == {"youngest_child_birth_date", "lives_in_flanders"}
    assert found["groeipakket-basisbedrag"]["outcome"] == "granted"
    assert all(s["outcome"] in ("eligible", "granted", "need_info") for s in found.values())
    [offer] = app.get("/api/v1/me/messages").json()["messages"]
    assert offer["sender"] == "loket" and offer["subject"] == message(OFFER_SUBJECT, "nl")


def test_every_reason_names_the_facts_used_in_the_pages_language(app, registry):
    event = born(days_ago=3)
    evaluated(app, send(app, registry, event).json()["id"])
    login(app, AN)
    birth = date.fromisoformat(event["data"]["birth_date"])
    for language, month in (("nl", "december"), ("fr", "décembre"), ("en", "December"), ("de", "Dezember")):
        start = by_rule(suggestions(app, lang=language))["groeipakket-startbedrag"]
        said = " ".join(start["reasons"])
        assert str(birth.day) in said and str(birth.year) in said, said
        if birth.month == 12:
            assert month in said
        assert len(start["reasons"]) == len(start["used"]) + 1  # one per fact, then what follows


def test_a_missing_fact_is_asked_never_reported_as_not_eligible(app, registry):
    evaluated(app, send(app, registry, born()).json()["id"])
    login(app, AN)
    childcare = by_rule(suggestions(app))["groeipakket-kinderopvangtoeslag"]
    assert childcare["outcome"] == "need_info"
    assert childcare["questions"] and all(q.endswith("?") for q in childcare["questions"])
    assert "child_in_childcare" not in childcare["used"]


def test_an_event_that_breaks_a_rule_is_refused_clearly_and_stores_nothing(app, registry):
    cases = {
        "unknown type": ({**born(), "type": "loket.pet.adopted"}, 422, "unknown event type"),
        "bad number": (born(subject="12345678901"), 422, "not a valid national number"),
        "unknown field": ({**born(), "data": {**born()["data"], "name": "Lotte"}}, 422, "Extra inputs"),
        "no id": ({k: v for k, v in born().items() if k != "id"}, 422, "id"),
        "other specversion": ({**born(), "specversion": "0.3"}, 422, "specversion"),
        "bad extension": ({**born(), "Trace-Id": "x"}, 422, "not a CloudEvents attribute"),
        "not allowed type": (
            demo_event("loket.unemployment.started", {"subject": AN_NUMBER, "since": "2026-11-01"}),
            403,
            "may not send",
        ),
    }
    for what, (event, status, said) in cases.items():
        response = send(app, registry, event)
        assert response.status_code == status, (what, response.text)
        assert said in response.json()["error"]["message"], what
    assert send(app, registry, b"[1, 2]").status_code == 422
    assert send(app, registry, b"x" * 70_000).status_code == 413
    assert send(app, {**registry, "content-type": "text/plain"}, born()).status_code == 415
    assert send(app, {"content-type": "application/json"}, born()).status_code == 401
    assert count(app, EventRow) == 0


def test_another_event_under_a_used_id_is_refused(app, registry):
    event = born()
    assert send(app, registry, event).status_code == 201
    changed = {**event, "data": {**event["data"], "birth_date": "2026-01-01"}}
    refused = send(app, registry, changed)
    assert refused.status_code == 409
    assert "its own id" in refused.json()["error"]["message"]


# Suggestions


def test_a_new_event_re_evaluates_and_a_dismissed_offer_is_not_proposed_again(app, registry):
    evaluated(app, send(app, registry, born(days_ago=40)).json()["id"])
    login(app, AN)
    start = by_rule(suggestions(app))["groeipakket-startbedrag"]
    assert app.post(f"/api/v1/me/suggestions/{start['id']}/dismiss", json={}).status_code == 204
    assert "groeipakket-startbedrag" not in by_rule(suggestions(app))

    second = born(days_ago=2)  # a second child: another event, the same rules
    evaluated(app, send(app, registry, second).json()["id"])
    found = by_rule(suggestions(app))
    assert "groeipakket-startbedrag" not in found
    basis = found["groeipakket-basisbedrag"]
    assert basis["used"]["youngest_child_birth_date"] == second["data"]["birth_date"]
    assert basis["event"]["id"] == second["id"]
    with app.app.state.services.db.session() as session:
        rules = session.scalars(select(SuggestionRow.rule_id)).all()
    assert len(rules) == len(set(rules))  # one suggestion per rule, however many events


def test_another_persons_suggestion_cannot_be_dismissed(app, registry):
    evaluated(app, send(app, registry, born()).json()["id"])
    login(app, AN)
    theirs = suggestions(app)[0]["id"]
    login(app, JAN)
    refused = app.post(f"/api/v1/me/suggestions/{theirs}/dismiss", json={})
    assert refused.status_code == 404
    login(app, AN)
    assert theirs in {s["id"] for s in suggestions(app)}


def test_turning_proactive_use_off_removes_the_facts_and_stops_evaluation(app, registry):
    evaluated(app, send(app, registry, born()).json()["id"])
    login(app, AN)
    assert app.get("/api/v1/me/proactive").json() == {"enabled": True}
    assert app.put("/api/v1/me/proactive", json={"enabled": False}).json() == {"enabled": False}
    assert suggestions(app) == []
    with app.app.state.services.db.session() as session:
        assert session.scalar(select(func.count()).where(FactRow.subject_key == AN_NUMBER)) == 0
    evaluated(app, send(app, registry, born(days_ago=1)).json()["id"])
    assert suggestions(app) == []
    explained = app.post(
        "/api/v1/ask", json={"question": "Waar heb ik recht op na de geboorte van mijn zoon?"}
    )
    assert "Startbedrag van het Groeipakket" in explained.json()["answer"]
    assert app.put("/api/v1/me/proactive", json={"enabled": True}).json() == {"enabled": True}


def test_a_mandatary_sees_suggestions_only_when_the_mandate_includes_them(app):
    services = app.app.state.services
    evaluated(app, services.proactive.receive(DEMO_SENDER, born(subject=JAN_NUMBER)).id)
    login(app, AN)  # Jan gave An a mandate (the demo's), without his suggestions
    mandate = next(p for p in app.get("/api/v1/me").json()["profiles"] if p["kind"] == "MANDATE")
    app.post("/api/v1/me/profile", json={"profile": mandate["id"]})
    refused = app.get("/api/v1/me/suggestions")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == message(MANDATE_WITHOUT_SUGGESTIONS, "nl")
    assert app.put("/api/v1/me/proactive", json={"enabled": False}).status_code == 403

    login(app, JAN)
    granted = app.post(
        "/api/v1/me/mandates", json={"mandatary": AN_NUMBER, "name": "An Peeters", "suggestions": True}
    )
    assert granted.status_code == 201 and granted.json()["suggestions"] is True
    login(app, AN)
    seen = []
    for profile in [p for p in app.get("/api/v1/me").json()["profiles"] if p["kind"] == "MANDATE"]:
        app.post("/api/v1/me/profile", json={"profile": profile["id"]})
        response = app.get("/api/v1/me/suggestions")
        if response.status_code == 200:
            seen += [s["event"]["id"] for s in response.json()["suggestions"]]
    assert seen and len(set(seen)) == 1  # Jan's, and nothing of An's own
    login(app, JAN)
    accesses = app.get("/api/v1/me/access-log").json()
    assert any(a["what"] == "suggestions" and a["why"] == "mandate_use" for a in accesses)


def test_every_evaluation_of_a_persons_facts_is_in_their_access_log(app, registry):
    evaluated(app, send(app, registry, born()).json()["id"])
    login(app, AN)
    accesses = app.get("/api/v1/me/access-log").json()
    purposes = {a["why"] for a in accesses if a["by"] == "loket" and a["what"] == "suggestions"}
    rules = {rule.id for rule in app.app.state.services.proactive.rules.for_event(BIRTH)}
    assert purposes == {f"proactive:{rule}" for rule in rules}


@sqlite_only
def test_a_companys_suggestions_are_seen_in_its_profile(app):
    services = app.app.state.services
    started = demo_event(
        "loket.enterprise.started", {"subject": BAKERY, "start_date": clock.now().date().isoformat()}
    )
    evaluated(app, services.proactive.receive(DEMO_SENDER, started).id)
    login(app, AN)
    assert all(s["service"]["id"] != "btw-nummer-activeren" for s in suggestions(app))
    bakery = next(p for p in app.get("/api/v1/me").json()["profiles"] if p["kind"] == "EA")
    app.post("/api/v1/me/profile", json={"profile": bakery["id"]})
    assert "btw-nummer-activeren" in by_rule(suggestions(app))


@sqlite_only
def test_anyone_reads_the_rules_of_a_life_event(app):
    rules = app.get("/api/v1/rules", params={"event": BIRTH, "lang": "fr"}).json()["rules"]
    assert {r["rule"] for r in rules} == {
        r.id for r in app.app.state.services.proactive.rules.for_event(BIRTH)
    }
    start = next(r for r in rules if r["rule"] == "groeipakket-startbedrag")
    assert start["title"] == "Montant de naissance du Groeipakket" and start["questions"]
    assert app.get("/api/v1/rules", params={"event": "loket.pet.adopted"}).status_code == 422


@sqlite_only
def test_the_page_shows_why_and_takes_not_relevant(app):
    evaluated(app, app.app.state.services.proactive.receive(DEMO_SENDER, born()).id)
    login(app, AN)
    page = app.get("/voor-u")
    assert page.status_code == 200
    assert "Startbedrag van het Groeipakket" in page.text and "Waarom zie ik dit?" in page.text
    start = by_rule(suggestions(app))["groeipakket-startbedrag"]
    form = {"csrf_token": csrf_token(page.text)}
    assert app.post(f"/voor-u/{start['id']}/niet-relevant", data=form, headers=OWN_PAGE).status_code == 303
    assert "Startbedrag van het Groeipakket" not in app.get("/voor-u").text


# The assistant


@sqlite_only
def test_the_assistant_answers_from_the_persons_suggestions_or_explains_the_rules(app):
    question = "Waar heb ik recht op na de geboorte van mijn dochter?"
    anonymous = app.post("/api/v1/ask", json={"question": question}).json()
    assert anonymous["status"] == "answered"
    assert "Startbedrag van het Groeipakket" in anonymous["answer"]
    assert any(c["url"].endswith(".html") or "/diensten/" in c["url"] for c in anonymous["citations"])

    evaluated(app, app.app.state.services.proactive.receive(DEMO_SENDER, born()).id)
    login(app, AN)
    own = app.post("/api/v1/ask", json={"question": question}).json()
    assert own["status"] == "answered"
    assert {c["url"] for c in own["citations"]} == {"/voor-u"}
    assert "automatisch" in own["answer"]  # the basic amount, granted to her


@pytest.mark.parametrize(
    ("question", "route"),
    [
        ("Waar heb ik recht op na de geboorte van mijn dochter?", Route.ENTITLEMENTS),
        ("Waar heb ik allemaal recht op?", Route.ENTITLEMENTS),
        ("Welke premies krijg ik als ik verhuis?", Route.ENTITLEMENTS),
        ("What am I entitled to after my partner died?", Route.ENTITLEMENTS),
        ("À quoi ai-je droit après la naissance de mon fils ?", Route.ENTITLEMENTS),
        ("Worauf habe ich Anspruch, seit ich arbeitslos bin?", Route.ENTITLEMENTS),
        # About one service, or another subject than a life event: the catalogue answers.
        ("Heb ik recht op de schooltoeslag?", Route.INFORMATION),
        ("Welke premie krijg ik als ik mijn huis renoveer?", Route.INFORMATION),
        ("Waar heb ik recht op als ik mijn huis renoveer?", Route.INFORMATION),
    ],
)
def test_entitlement_questions_are_told_from_questions_about_a_service(question, route):
    assert routing.route(question) is route


# The command line


@sqlite_only
def test_loket_events_simulate_sends_through_the_same_intake(settings, tmp_path):
    env = {"LOKET_DATABASE_URL": settings.sqlalchemy_url, "LOKET_DATA_DIR": str(tmp_path), "PATH": ""}
    run = lambda *args: subprocess.run(  # noqa: E731
        [LOKET, "events", "simulate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    birth = json.dumps({"birth_date": clock.now().date().isoformat()})
    sent = run(BIRTH, "--subject", AN_NUMBER, "--data", birth)
    assert sent.returncode == 0, sent.stderr
    assert re.search(r"received: [1-9]\d* new offer\(s\)", sent.stdout), sent.stdout
    unknown = run("loket.pet.adopted", "--subject", AN_NUMBER)
    assert unknown.returncode == 2 and "unknown event type" in unknown.stderr
    bad = run(BIRTH, "--subject", AN_NUMBER, "--data", "{not json")
    assert bad.returncode == 2 and "not JSON" in bad.stderr


def test_evaluated_life_events_are_purged_and_what_they_said_is_kept(app, registry, clock):
    evaluated(app, send(app, registry, born()).json()["id"])
    unevaluated = send(app, registry, born(days_ago=1)).json()["id"]
    services = app.app.state.services
    clock.advance(91 * 24 * 3600)
    assert services.purge()["life events"] == 1
    with services.db.session() as session:
        assert session.scalars(select(EventRow.id)).all() == [unevaluated]  # its job has yet to run
    assert services.proactive.facts(("person", AN_NUMBER))["youngest_child_birth_date"]
