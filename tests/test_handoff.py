"""Hand-off: a person asks for a human, waits in the queue, an agent claims (exactly one of many), they
talk while the assistant keeps quiet, and it ends with a reason. Office hours with a fixed clock.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from loket import clock
from loket.assistant.texts import PASSED_TO_AGENT
from loket.config import Settings
from loket.handoff.service import Conflict, State
from loket.i18n import message, plain
from loket.identity.schemas import Login, Role
from loket.web.app import create_app
from tests.web_support import OWN_PAGE, csrf_token

AN, LOTTE = "an-peeters", "lotte-maes"
TOKEN = "Loket-Conversation-Token"
# Monday 7 December 2026, 10:00 in Brussels: an ordinary working morning.
WORKING = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(settings) -> Iterator[TestClient]:
    changes = {"demo": True, "office_hours": "mon-fri 09:00-17:00"}
    application = create_app(Settings(_env_file=None, **(settings.model_dump() | changes)))
    services = application.state.services
    services.db.upgrade()
    services.identity.demo.load()
    with TestClient(application, follow_redirects=False) as client:
        yield client
    services.db.dispose()


@pytest.fixture
def at_work(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: WORKING)


def login(client: TestClient, person: str) -> None:
    client.cookies.clear()
    assert client.post("/auth/demo-login", json={"person": person}).status_code == 200


def conversation(client: TestClient, question: str = "Hoe vraag ik een parkeerkaart aan?") -> dict[str, str]:
    """A new conversation, as a browser or app holds it: its id and token."""
    answer = client.post("/api/v1/ask", json={"question": question}).json()
    return {"id": answer["conversation_id"], "token": answer["conversation_token"]}


def request(client: TestClient, held: dict[str, str]):
    return client.post(
        "/api/v1/handoff", json={"conversation_id": held["id"]}, headers={TOKEN: held["token"]}
    )


def agents(services, count: int) -> list:
    """`count` logged-in agents (made-up test persons, role agent), online."""
    found = []
    for number in range(count):
        national_number = f"9571080{number:02d}"
        national_number += f"{97 - int(national_number) % 97:02d}"
        services.identity.roles.grant(national_number, Role.AGENT)
        token, _ = services.identity.sessions.sign_in(
            Login(
                subject=f"test#agent{number}",
                name=f"Agent {number}",
                national_number=national_number,
                method="demo",
            )
        )
        agent = services.identity.sessions.signed_in(token)
        services.handoff.set_presence(agent, "online")
        found.append(agent)
    return found


def test_a_request_gets_a_place_in_the_queue_and_the_estimated_wait(app, at_work):
    first, second = conversation(app), conversation(app)
    assert request(app, first).json() == {
        "state": "queued",
        "position": 1,
        "estimated_wait_seconds": 300,
        "contact_form": None,
    }
    assert request(app, second).json()["position"] == 2
    assert request(app, first).json()["position"] == 1  # asking again keeps one's place
    assert app.post("/api/v1/handoff", json={"conversation_id": first["id"]}).status_code == 404  # not held
    login(app, LOTTE)
    queue = app.get("/api/v1/agent/queue").json()["conversations"]
    assert [c["id"] for c in queue] == [first["id"], second["id"]]
    assert all(c["state"] == "waiting" for c in queue)


@pytest.mark.parametrize(
    ("moment", "why"),
    [
        (datetime(2026, 12, 25, 9, 0, tzinfo=UTC), "Christmas, a Friday"),
        (datetime(2026, 7, 21, 9, 0, tzinfo=UTC), "the national holiday, a Tuesday"),
        (datetime(2026, 12, 5, 9, 0, tzinfo=UTC), "a Saturday"),
        (datetime(2026, 12, 7, 18, 0, tzinfo=UTC), "a Monday evening, 19:00 in Brussels"),
    ],
)
def test_out_of_office_hours_there_is_a_contact_form_and_no_queue(app, monkeypatch, moment, why):
    held = conversation(app)
    monkeypatch.setattr(clock, "now", lambda: moment)
    answer = request(app, held).json()
    assert answer["state"] == "closed", why
    assert answer["contact_form"]
    login(app, LOTTE)
    assert app.get("/api/v1/agent/queue").json()["conversations"] == []


def test_ten_agents_claim_at_once_and_exactly_one_gets_it(app, at_work):
    services = app.app.state.services
    held = conversation(app)
    request(app, held)
    outcomes, start = [], threading.Barrier(10)

    def claim(agent) -> None:
        start.wait()
        try:
            services.handoff.claim(held["id"], agent)
            outcomes.append("claimed")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=claim, args=(agent,)) for agent in agents(services, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["claimed"] + ["conflict"] * 9
    with services.db.engine.connect() as connection:
        claimed = connection.execute(
            text("SELECT COUNT(*) FROM handoff_events WHERE kind = 'claimed' AND conversation_id = :id"),
            {"id": held["id"]},
        ).scalar()
        announced = connection.execute(
            text("SELECT data FROM events WHERE stream = :stream AND kind = 'handoff'"),
            {"stream": f"conversation:{held['id']}"},
        ).all()
    assert claimed == 1
    kinds = [(json.loads(row.data) if isinstance(row.data, str) else row.data)["kind"] for row in announced]
    assert kinds == ["requested", "claimed"]


def test_an_agent_takes_over_and_the_assistant_keeps_quiet(app, at_work):
    services = app.app.state.services
    login(app, AN)
    held = conversation(app, "Ik wil iemand spreken over mijn parkeerkaart")
    assert request(app, held).json()["state"] == "queued"
    citizen_cookies = dict(app.cookies)

    login(app, "jan-janssens")
    assert app.get("/api/v1/agent/queue").status_code == 403  # not an agent
    login(app, LOTTE)
    assert app.post(f"/api/v1/agent/conversations/{held['id']}/claim", json={}).status_code == 200
    assert app.post(f"/api/v1/agent/conversations/{held['id']}/claim", json={}).status_code == 409
    seen = app.get(f"/api/v1/agent/conversations/{held['id']}").json()
    assert seen["state"] == "assigned" and seen["profile"] == "An Peeters"
    assert seen["transcript"][0]["question"] == "Ik wil iemand spreken over mijn parkeerkaart"
    reply = app.post(
        f"/api/v1/agent/conversations/{held['id']}/messages", json={"text": "Goedemorgen, ik help u."}
    )
    assert reply.status_code == 200

    app.cookies.clear()
    app.cookies.update(citizen_cookies)
    answer = app.post(
        "/api/v1/ask",
        json={"question": "Mijn IBAN is BE71 0961 2345 6769", "conversation_id": held["id"]},
        headers={TOKEN: held["token"]},
    ).json()
    assert answer["status"] == "handoff"
    assert answer["answer"] == message(PASSED_TO_AGENT, "nl")
    state = app.get(f"/api/v1/handoff/{held['id']}", headers={TOKEN: held["token"]}).json()
    assert [(m["from"], m["text"]) for m in state["messages"]] == [
        ("agent", "Goedemorgen, ik help u."),
        ("citizen", state["messages"][1]["text"]),
    ]
    assert "BE71" not in state["messages"][1]["text"]  # redacted like any question
    accesses = app.get("/api/v1/me/access-log").json()
    assert any(a["why"] == "handoff" and a["what"] == f"conversation:{held['id']}" for a in accesses)

    login(app, LOTTE)
    offline = agents(services, 1)[0]
    services.handoff.set_presence(offline, "offline")
    refused = app.post(
        f"/api/v1/agent/conversations/{held['id']}/transfer", json={"agent": offline.person.id}
    )
    assert refused.status_code == 409
    assert (
        app.post(f"/api/v1/agent/conversations/{held['id']}/end", json={"reason": "solved"}).status_code
        == 422
    )
    ended = app.post(
        f"/api/v1/agent/conversations/{held['id']}/end", json={"reason": "answered", "topic": "parkeren"}
    )
    assert ended.json()["state"] == "ended"
    assert services.handoff.holds(held["id"]) is False


def test_a_transfer_to_a_team_puts_it_back_in_that_queue(app, at_work):
    services = app.app.state.services
    held = conversation(app)
    request(app, held)
    first, second = agents(services, 2)
    services.handoff.claim(held["id"], first)
    services.handoff.transfer(held["id"], first, "belastingen", None)
    assert [h.conversation_id for h in services.handoff.queue("belastingen")] == [held["id"]]
    assert services.handoff.queue("general") == []
    services.handoff.claim(held["id"], second)
    with pytest.raises(Exception, match="another agent"):
        services.handoff.reply(held["id"], first, "Ik ben er nog")


def test_a_continuation_code_opens_the_same_conversation_until_it_expires(app, at_work, monkeypatch):
    held = conversation(app)
    code = app.post(f"/api/v1/handoff/{held['id']}/code", headers={TOKEN: held["token"]}).json()["code"]
    assert len(code) == 7 and code[3] == "-"
    login(app, LOTTE)
    assert app.post("/api/v1/agent/continue", json={"code": code}).json() == {"conversation_id": held["id"]}
    assert (
        app.post(
            "/api/v1/agent/continue", json={"code": "000-000" if code != "000-000" else "111-111"}
        ).status_code
        == 404
    )
    later = WORKING + timedelta(minutes=31)
    monkeypatch.setattr(clock, "now", lambda: later)
    login(app, LOTTE)  # the first login has ended meanwhile too
    assert app.post("/api/v1/agent/continue", json={"code": code}).status_code == 404


def test_an_idle_handoff_ends_as_left_unknown(app, at_work, monkeypatch):
    services = app.app.state.services
    held = conversation(app)
    request(app, held)
    assert services.handoff.end_idle() == 0
    later = WORKING + timedelta(minutes=31)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert services.handoff.end_idle() == 1
    assert services.handoff.get(held["id"]).state is State.ENDED


def test_business_hours_leave_out_nights_weekends_and_holidays():
    from loket.business_hours import OfficeHours

    hours = OfficeHours.parse("mon-fri 09:00-17:00", "Europe/Brussels")
    friday_afternoon = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # 16:00 in Brussels
    monday_morning = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 10:00
    assert hours.business_seconds(friday_afternoon, monday_morning) == 2 * 3600
    christmas_eve = datetime(2026, 12, 24, 15, 0, tzinfo=UTC)  # Thursday 16:00; Friday is Christmas
    assert hours.business_seconds(christmas_eve, datetime(2026, 12, 28, 9, 0, tzinfo=UTC)) == 2 * 3600
    with pytest.raises(ValueError, match="mon-fri 09:00-17:00"):
        OfficeHours.parse("weekdays 9-5", "Europe/Brussels")


# The pages: the person's panel on the chat page, and the agent console


def _form(client: TestClient, path: str, fields: dict | None = None, page: str = "/"):
    token = csrf_token(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **(fields or {})}, headers=OWN_PAGE)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_chat_page_offers_a_person_and_the_console_takes_over(app, at_work):
    assert _form(app, "/vraag", {"question": "Ik wil met een medewerker spreken"}).status_code == 303
    page = app.get("/").text
    assert "/wachtrij" in page  # the offer, after the assistant's hand-off answer
    assert _form(app, "/wachtrij").headers["location"].endswith("#handoff")
    waiting = app.get("/").text
    assert plain("nl", "Talk to a person") in waiting and 'class="handoff-panel"' in waiting
    citizen = dict(app.cookies)

    login(app, LOTTE)
    console = app.get("/balie")
    assert console.status_code == 200 and "/claim" in console.text
    [claim_path] = re.findall(r'action="(/balie/[^"]+/claim)[^"]*"', console.text)
    assert _form(app, claim_path, page="/balie").status_code == 303
    conversation_page = claim_path.removesuffix("/claim")
    assert "Ik wil met een medewerker spreken" in app.get(conversation_page).text
    reply = {"text": "Dag, ik ben Lotte. Waarmee kan ik helpen?"}
    assert _form(app, conversation_page + "/reply", reply, page=conversation_page).status_code == 303
    assert _form(app, claim_path, page="/balie").status_code == 409  # taken already

    app.cookies.clear()
    app.cookies.update(citizen)
    assert "Dag, ik ben Lotte." in app.get("/").text

    login(app, LOTTE)
    ended = _form(app, conversation_page + "/end", {"reason": "answered"}, page=conversation_page)
    assert ended.status_code == 303
    assert app.get("/api/v1/agent/queue").json()["conversations"] == []
    login(app, "jan-janssens")
    assert app.get("/balie").status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_out_of_hours_the_contact_form_takes_a_callback_with_consent(app, monkeypatch):
    saturday = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: saturday)
    _form(app, "/vraag", {"question": "Ik wil met een medewerker spreken"})
    assert _form(app, "/wachtrij").headers["location"].startswith("/contact")
    assert app.get("/contact").status_code == 200
    refused = _form(app, "/contact", {"channel": "phone", "contact": "0470 12 34 56"}, page="/contact")
    assert refused.status_code == 400  # no consent
    sent = _form(
        app, "/contact", {"channel": "phone", "contact": "0470 12 34 56", "consent": "on"}, page="/contact"
    )
    assert sent.status_code == 200
    assert [(c[1], c[2]) for c in app.app.state.services.handoff.contact_requests()] == [
        ("phone", "0470 12 34 56")
    ]
    login(app, LOTTE)
    assert "0470 12 34 56" in app.get("/balie").text  # the agents see whom to call back


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_assistant_drafts_a_reply_the_agent_checks_before_sending(app, at_work):
    services_of(app).catalog.load_demo_if_empty()
    services_of(app).search.sync()
    held = conversation(app, "Hoe vraag ik een parkeerkaart aan?")
    request(app, held)
    login(app, LOTTE)
    app.post(f"/api/v1/agent/conversations/{held['id']}/claim", json={})
    plain_page = app.get(f"/balie/{held['id']}").text
    assert "draft-note" not in plain_page
    page = app.get(f"/balie/{held['id']}", params={"suggest": "1"}).text
    assert (
        plain("nl", "Drafted by the assistant from the catalogue: check and edit it before you send it.")
        in page
    )
    draft = re.search(r'<textarea id="reply-text"[^>]*>([^<]+)</textarea>', page).group(1)
    assert "http://testserver/diensten/" in draft
    assert services_of(app).handoff.get(held["id"]).messages == []  # nothing sent until the agent sends it


def services_of(client: TestClient):
    return client.app.state.services


def test_hand_offs_go_with_their_conversations_retention(app, at_work, monkeypatch):
    services = services_of(app)
    held = conversation(app)
    request(app, held)
    services.handoff.continuation_code(held["id"])
    kept = timedelta(days=services.settings.conversation_retention_days)
    assert services.handoff.remove_expired(kept) == {"hand-off steps": 0, "continuation codes": 0}
    later = WORKING + kept + timedelta(days=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert services.handoff.remove_expired(kept, dry_run=True) == {
        "hand-off steps": 1,
        "continuation codes": 1,
    }
    assert services.handoff.remove_expired(kept) == {"hand-off steps": 1, "continuation codes": 1}
    assert services.handoff.get(held["id"]).state is State.BOT


def test_first_response_and_resolution_are_counted_in_office_hours(app, monkeypatch):
    """Requested on Friday 16:50 in Brussels, answered on Monday 9:05, ended at 9:20: 15 and 30
    minutes of office hours, not the weekend between."""
    services = services_of(app)
    moments = iter(
        [
            datetime(2026, 12, 4, 15, 50, tzinfo=UTC),  # request (and its place in the queue)
            datetime(2026, 12, 7, 8, 0, tzinfo=UTC),  # claim, Monday 9:00
            datetime(2026, 12, 7, 8, 5, tzinfo=UTC),  # the agent's first reply
            datetime(2026, 12, 7, 8, 20, tzinfo=UTC),  # end
        ]
    )
    now = {"at": next(moments)}
    monkeypatch.setattr(clock, "now", lambda: now["at"])
    held = conversation(app)
    request(app, held)
    [agent] = agents(services, 1)
    for step in (
        lambda: services.handoff.claim(held["id"], agent),
        lambda: services.handoff.reply(held["id"], agent, "Goedemorgen"),
        lambda: services.handoff.end(held["id"], agent, "answered"),
    ):
        now["at"] = next(moments)
        step()
    [timing] = services.handoff.timings(datetime(2026, 12, 1, tzinfo=UTC))
    assert (timing.first_response, timing.resolution) == (15 * 60, 30 * 60)


def test_people_waiting_hear_when_the_queue_moves(app, at_work):
    services = services_of(app)
    first, second = conversation(app), conversation(app)
    request(app, first)
    request(app, second)
    heard = services.events.latest_id(f"conversation:{second['id']}")
    [agent] = agents(services, 1)
    services.handoff.claim(first["id"], agent)
    moved = services.events.read(f"conversation:{second['id']}", heard)
    assert [(e.kind, e.data) for e in moved] == [("handoff", {"kind": "queue_moved"})]
    assert request(app, second).json()["position"] == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_console_transfers_to_a_colleague_who_is_online(app, at_work):
    services = services_of(app)
    held = conversation(app)
    request(app, held)
    [colleague] = agents(services, 1)
    login(app, LOTTE)
    page = f"/balie/{held['id']}"
    assert _form(app, page + "/claim", page="/balie").status_code == 303
    assert f'<option value="{colleague.person.id}">Agent 0</option>' in app.get(page).text
    assert _form(app, page + "/transfer", {"agent": colleague.person.id}, page=page).status_code == 303
    assert services.handoff.get(held["id"]).agent == colleague.person.id
    services.handoff.set_presence(colleague, "offline")
    assert "transfer-agent" not in app.get(page).text  # no one else online


def test_a_person_who_does_not_share_their_conversation_is_helped_without_it(app, at_work):
    login(app, AN)
    held = conversation(app)
    asked = app.post(
        "/api/v1/handoff",
        json={"conversation_id": held["id"], "share_conversation": False},
        headers={TOKEN: held["token"]},
    )
    assert asked.status_code == 200, asked.text
    assert [(c["purpose"], c["granted"]) for c in app.get("/api/v1/me/choices").json()["choices"]] == [
        ("handoff", False)
    ]
    reads_before = len(app.get("/api/v1/me/access-log").json())
    login(app, LOTTE)
    app.post(f"/api/v1/agent/conversations/{held['id']}/claim")
    seen = app.get(f"/api/v1/agent/conversations/{held['id']}").json()
    assert seen["transcript"] == [] and seen["transcript_shared"] is False
    page = app.get(f"/balie/{held['id']}")
    assert "Hoe vraag ik een parkeerkaart aan?" not in page.text
    login(app, AN)
    assert len(app.get("/api/v1/me/access-log").json()) == reads_before  # no agent read it
    services = app.app.state.services
    assert not services.handoff.shared(held["id"])

    shared = conversation(app, "Hoe verhuis ik?")
    request(app, shared)  # sharing is what a person gets unless they say otherwise
    login(app, LOTTE)
    app.post(f"/api/v1/agent/conversations/{shared['id']}/claim")
    assert app.get(f"/api/v1/agent/conversations/{shared['id']}").json()["transcript"][0]["question"] == (
        "Hoe verhuis ik?"
    )
