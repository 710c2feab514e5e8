"""Messages: agencies send signed messages, people read them in their inbox, anyone may check a code.

Every refusal is shown to change nothing; every read of someone else's message is shown to fail the
same way as a missing one: through the API, the page, the check and the assistant.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from joserfc import jws
from joserfc.jwk import OKPKey

from loket import clock
from loket.config import Settings
from loket.i18n import message
from loket.jobs import RETRY_LATER, TryAgain
from loket.messages.notify import Preference, application_server_key, vapid_key
from loket.messages.schemas import Receipt
from loket.messages.texts import MANDATE_WITHOUT_MESSAGES
from loket.web.app import create_app
from tests.push_service import PushService, Subscriber, vapid_claims
from tests.web_support import OWN_PAGE, csrf_token

LOKET = str(Path(sys.executable).with_name("loket"))
AN, JAN, MARIE = "an-peeters", "jan-janssens", "marie-dubois"
AN_NUMBER, JAN_NUMBER = "85671500157", "78631200367"
BAKERY = "0712345630"


@pytest.fixture
def app(settings) -> Iterator[TestClient]:
    """The demo, in development (push to any host, keys kept in the data folder)."""
    changes = {"demo": True, "push_hosts": ""}
    application = create_app(Settings(_env_file=None, **(settings.model_dump() | changes)))
    services = application.state.services
    services.db.upgrade()
    services.identity.demo.load()
    services.cases.load_demo()
    with TestClient(application, follow_redirects=False) as client:
        yield client
    services.db.dispose()


class Agency:
    """A back office with its token and signing key, as `loket agencies add` and `keys add` set it up."""

    def __init__(self, client: TestClient, name: str, source: str, host: str = "financien.example") -> None:
        services = client.app.state.services
        self.client = client
        self.source = source
        self.headers = {"authorization": f"Bearer {services.cases.add_agency(name, source)}"}
        self.key = OKPKey.generate_key("Ed25519")
        self.kid = services.messages.add_key(name, self.key.as_pem(private=False))
        services.messages.allow_host(name, host)

    def sign(self, body: bytes, key: OKPKey | None = None, kid: str | None = None) -> str:
        """A compact JWS over `body`, its payload part left out (RFC 7515 Appendix F)."""
        header = {"alg": "EdDSA", "kid": kid or self.kid}
        signed = jws.serialize_compact(header, body, key or self.key, algorithms=["EdDSA"])
        protected, _, signature = signed.split(".")
        return f"{protected}..{signature}"

    def send(
        self, reference: str, message: dict | bytes, signature: str | None = None, source: str | None = None
    ):
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        headers = {**self.headers, "content-type": "application/json"}
        headers["loket-signature"] = signature if signature is not None else self.sign(body)
        return self.client.put(
            f"/api/v1/messages/{source or self.source}/{reference}", content=body, headers=headers
        )


@pytest.fixture
def tax(app) -> Agency:
    return Agency(app, "FOD Financiën", "FIN")


def letter(key: str = AN_NUMBER, **changes) -> dict:
    return {
        "recipient": {"type": "person", "key": key},
        "subject": "Uw aanslagbiljet 2026",
        "body": "Uw aanslagbiljet staat klaar. Lees het op [MyMinfin](https://eservices.financien.example/).",
        **changes,
    }


def login(client: TestClient, person: str) -> None:
    client.cookies.clear()
    assert client.post("/auth/demo-login", json={"person": person}).status_code == 200


def inbox(client: TestClient) -> list[dict]:
    response = client.get("/api/v1/me/messages")
    assert response.status_code == 200, response.text
    return response.json()["messages"]


def stored(client: TestClient) -> int:
    with client.app.state.services.db.session() as session:
        from sqlalchemy import text

        return session.scalar(text("SELECT COUNT(*) FROM messages_messages"))


# Sending


def test_a_signed_message_is_received_once_and_read_by_its_recipient(app, tax):
    first = tax.send("AJ-2026-1", letter())
    assert first.status_code == 201, first.text
    again = tax.send("AJ-2026-1", letter())
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert stored(app) == 1
    code = first.json()["verification_code"]
    assert code.startswith("LKT-") and len(code) == 13

    login(app, AN)
    [summary] = inbox(app)
    assert summary == {
        "id": first.json()["id"],
        "sender": "FOD Financiën",
        "subject": "Uw aanslagbiljet 2026",
        "received_at": summary["received_at"],
        "read": False,
        "verified": True,
        "verification_code": code,
        "priority": "normal",
        "archived": False,
    }
    full = app.get(f"/api/v1/me/messages/{summary['id']}").json()
    assert full["body"] == letter()["body"]
    assert (
        '<a href="https://eservices.financien.example/" rel="noopener noreferrer">MyMinfin</a>'
        in full["body_html"]
    )
    assert app.post(f"/api/v1/me/messages/{summary['id']}/read", json={}).json()["read"] is True
    assert inbox(app)[0]["read"] is True


def test_unread_messages_come_first(app, tax):
    for number in range(3):
        assert tax.send(f"R-{number}", letter(subject=f"Bericht {number}")).status_code == 201
    login(app, AN)
    oldest = next(m for m in inbox(app) if m["subject"] == "Bericht 0")
    app.post(f"/api/v1/me/messages/{oldest['id']}/read", json={})
    newest = next(m for m in inbox(app) if m["subject"] == "Bericht 2")
    app.post(f"/api/v1/me/messages/{newest['id']}/read", json={})
    assert [m["subject"] for m in inbox(app)] == ["Bericht 1", "Bericht 2", "Bericht 0"]
    app.post(f"/api/v1/me/messages/{newest['id']}/archive", json={})
    assert [m["subject"] for m in inbox(app)] == ["Bericht 1", "Bericht 0"]
    archived = app.get("/api/v1/me/messages", params={"archived": "true"}).json()["messages"]
    assert [m["subject"] for m in archived] == ["Bericht 2"]


@pytest.mark.parametrize(
    ("tamper", "status"),
    [
        ("body changed after signing", 401),
        ("no signature", 401),
        ("payload attached", 422),
        ("signed with another key under this kid", 401),
        ("another agency's key", 401),
        ("unknown kid", 401),
        ("alg HS256", 422),
        ("not a JWS", 422),
    ],
)
def test_a_bad_signature_is_refused_and_stores_nothing(app, tax, tamper, status):
    other = Agency(app, "Kind en Gezin", "KG", host="kindengezin.example")
    body = json.dumps(letter()).encode()
    signature = {
        "body changed after signing": tax.sign(json.dumps(letter(subject="Betaal nu")).encode()),
        "no signature": "",
        "payload attached": jws.serialize_compact(
            {"alg": "EdDSA", "kid": tax.kid}, body, tax.key, algorithms=["EdDSA"]
        ),
        "signed with another key under this kid": tax.sign(body, key=OKPKey.generate_key("Ed25519")),
        "another agency's key": other.sign(body),
        "unknown kid": tax.sign(body, kid="no-such-key"),
        "alg HS256": "eyJhbGciOiJIUzI1NiIsImtpZCI6IngifQ..c2lnbmF0dXJl",
        "not a JWS": "hello",
    }[tamper]
    response = tax.send("AJ-2026-2", body, signature=signature)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]
    assert stored(app) == 0


def test_a_replay_with_another_body_is_refused_and_the_original_kept(app, tax):
    assert tax.send("AJ-2026-3", letter()).status_code == 201
    replay = tax.send("AJ-2026-3", letter(subject="Dringend: betaal vandaag"))
    assert replay.status_code == 409
    assert "never rewritten" in replay.json()["error"]["message"]
    login(app, AN)
    assert [m["subject"] for m in inbox(app)] == ["Uw aanslagbiljet 2026"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"sender_name": "x"}, "Extra inputs are not permitted"),
        ({"body": "x" * 10_001}, "at most 10000 characters"),
        ({"body": "Betaal via https://phish.example/pay"}, "may link only to https addresses"),
        ({"body": "Ga naar www.financien-terugbetaling.example"}, "may link only to https addresses"),
        ({"body": "[Lees](http://eservices.financien.example/)"}, "may link only to https addresses"),
        ({"recipient": {"type": "person", "key": "12345678901"}}, "not a valid national number"),
        ({"valid_until": "2020-01-01T00:00:00+00:00"}, "in the future"),
        ({"valid_until": "2020-01-01T00:00:00"}, "in the future"),
        ({"case": {"source": "FIN", "number": "NO-SUCH-CASE"}}, "is not a case of source"),
    ],
)
def test_a_message_that_breaks_a_rule_is_refused_clearly_and_changes_nothing(app, tax, change, expected):
    response = tax.send("AJ-2026-4", letter(**change))
    assert response.status_code == 422, response.text
    assert expected in response.json()["error"]["message"]
    assert stored(app) == 0


def test_an_oversized_request_is_refused_unread(app, tax):
    response = tax.send("AJ-2026-5", json.dumps(letter(body="x" * 70_000)).encode())
    assert response.status_code == 413
    assert stored(app) == 0


def test_an_agency_sends_only_as_its_own_source_and_with_its_token(app, tax):
    assert tax.send("AJ-1", letter(), source="KG").status_code == 403
    body = json.dumps(letter()).encode()
    response = app.put("/api/v1/messages/FIN/AJ-1", content=body, headers={"loket-signature": tax.sign(body)})
    assert response.status_code == 401
    assert stored(app) == 0


def test_a_message_may_point_to_the_recipients_running_case(app):
    services = app.app.state.services
    [case] = services.cases.for_reader(_reader(AN_NUMBER))[:1]
    omv = Agency(app, "Omgevingsloket", case.source, host="financien.example")
    linked = {"source": case.source, "number": case.number}
    assert omv.send("M-1", letter(case=linked)).status_code == 201
    refused = omv.send("M-2", letter(key=JAN_NUMBER, case=linked))
    assert refused.status_code == 422
    assert "not about this recipient" in refused.json()["error"]["message"]


def _reader(number: str):
    from loket.cases.schemas import SubjectType
    from loket.cases.service import Reader

    return Reader(SubjectType.PERSON, number)


# Who reads what


def test_someone_elses_message_is_never_visible(app, tax):
    sent = tax.send("AJ-2026-6", letter()).json()
    login(app, MARIE)
    assert inbox(app) == []
    assert app.get(f"/api/v1/me/messages/{sent['id']}").status_code == 404
    assert app.post(f"/api/v1/me/messages/{sent['id']}/read", json={}).status_code == 404
    assert app.get(f"/mijn-berichten/{sent['id']}").status_code == 404
    check = app.post("/api/v1/verify", json={"code": sent["verification_code"]}).json()
    assert check["verdict"] == "genuine"
    assert check["message_id"] is None
    login(app, AN)
    assert (
        app.post("/api/v1/verify", json={"code": sent["verification_code"]}).json()["message_id"]
        == sent["id"]
    )


def test_a_companys_messages_are_read_in_its_profile_only(app, tax):
    tax.send("VEN-1", letter(recipient={"type": "company", "key": BAKERY}, subject="Btw-aangifte"))
    login(app, AN)
    assert inbox(app) == []
    me = app.get("/api/v1/me").json()
    bakery = next(p for p in me["profiles"] if p["kind"] == "EA")
    assert app.post("/api/v1/me/profile", json={"profile": bakery["id"]}).status_code == 200
    assert [m["subject"] for m in inbox(app)] == ["Btw-aangifte"]


def test_a_mandate_shows_the_mandators_messages_only_when_it_includes_them(app, tax):
    tax.send("JAN-1", letter(key=JAN_NUMBER, subject="Voor Jan"))
    login(app, AN)  # Jan gave An a mandate (the demo's), without his messages
    me = app.get("/api/v1/me").json()
    mandate = next(p for p in me["profiles"] if p["kind"] == "MANDATE")
    app.post("/api/v1/me/profile", json={"profile": mandate["id"]})
    refused = app.get("/api/v1/me/messages")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == message(MANDATE_WITHOUT_MESSAGES, "nl")

    login(app, JAN)
    granted = app.post(
        "/api/v1/me/mandates",
        json={"mandatary": AN_NUMBER, "name": "An Peeters", "messages": True},
    )
    assert granted.status_code == 201 and granted.json()["messages"] is True
    login(app, AN)
    profiles = app.get("/api/v1/me").json()["profiles"]
    with_messages = [p for p in profiles if p["kind"] == "MANDATE"]
    seen = []
    for profile in with_messages:
        app.post("/api/v1/me/profile", json={"profile": profile["id"]})
        response = app.get("/api/v1/me/messages")
        if response.status_code == 200:
            seen += [m["subject"] for m in response.json()["messages"]]
    assert seen == ["Voor Jan"]
    login(app, JAN)
    accesses = app.get("/api/v1/me/access-log").json()
    assert any(a["what"] == "messages" and a["why"] == "mandate_use" for a in accesses)


# "Is this message real?"


def test_the_check_knows_codes_texts_and_campaigns_and_tells_strangers_nothing(app, tax):
    sent = tax.send("AJ-2026-7", letter()).json()
    code = sent["verification_code"]
    services = app.app.state.services
    services.messages.add_phishing(
        "Uw belastingteruggave van 412,50 euro staat klaar. Bevestig uw rekeningnummer via de link"
    )
    check = app.post("/api/v1/verify", json={"code": code.lower().replace("-", " ")}).json()
    assert check["verdict"] == "genuine" and check["sender"] == "FOD Financiën"
    assert set(check) == {"verdict", "advice", "sender", "message_id"}
    assert AN_NUMBER not in json.dumps(check) and "aanslagbiljet" not in json.dumps(check)
    pasted = f"Beste, u hebt een nieuw bericht. Referentie {code}."
    assert app.post("/api/v1/verify", json={"text": pasted}).json()["verdict"] == "genuine"
    phishing = (
        "Beste Jan Janssens, uw belastingteruggave van 980,00 euro staat klaar! Bevestig uw "
        "rekeningnummer via de link: https://minfin-terugbetaling.example"
    )
    assert app.post("/api/v1/verify", json={"text": phishing}).json()["verdict"] == "known_phishing"
    assert app.post("/api/v1/verify", json={"code": "LKT-2345-6789"}).json()["verdict"] == "not_found"
    french = app.post("/api/v1/verify?lang=fr", json={"code": "LKT-2345-6789"}).json()
    assert french["advice"] != app.post("/api/v1/verify", json={"code": "LKT-2345-6789"}).json()["advice"]
    assert app.post("/api/v1/verify", json={}).status_code == 422


def test_the_check_is_rate_limited(app):
    answers = [app.post("/api/v1/verify", json={"code": "LKT-2345-6789"}).status_code for _ in range(21)]
    assert answers[:20] == [200] * 20
    assert answers[20] == 429


# Set-up by the command line


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_loket_agencies_keys_add_prints_the_key_id(settings, tmp_path):
    env = {"LOKET_DATABASE_URL": settings.sqlalchemy_url, "LOKET_DATA_DIR": str(tmp_path), "PATH": ""}
    run = lambda *args: subprocess.run(  # noqa: E731
        [LOKET, *args], env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    assert run("agencies", "add", "FOD Financiën", "--source", "FIN").returncode == 0
    key = OKPKey.generate_key("Ed25519")
    pem = tmp_path / "fin.pem"
    pem.write_bytes(key.as_pem(private=False))
    added = run("agencies", "keys", "add", "FOD Financiën", str(pem))
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == key.thumbprint()
    private = tmp_path / "private.pem"
    private.write_bytes(key.as_pem(private=True))
    refused = run("agencies", "keys", "add", "FOD Financiën", str(private))
    assert refused.returncode == 2
    assert "private key" in refused.stderr
    unknown = run("agencies", "keys", "add", "Nobody", str(pem))
    assert unknown.returncode == 2 and "no active agency" in unknown.stderr
    vapid = run("keys", "vapid")
    public = vapid.stderr.strip().rsplit(" ", 1)[-1]
    assert application_server_key(vapid_key(vapid.stdout.strip(), tmp_path, production=True)) == public
    sealing = Fernet(run("keys", "data").stdout.strip().encode())
    assert sealing.decrypt(sealing.encrypt(b"a callback token")) == b"a callback token"


def test_expired_messages_fail_to_their_agency_once(app, tax, monkeypatch):
    services = app.app.state.services
    services.receipts.set_callback("FOD Financiën", "http://127.0.0.1:9/receipts", "s3cret")
    sent = tax.send("AJ-2026-8", letter(valid_until=(clock.now() + timedelta(seconds=2)).isoformat())).json()
    assert services.messages.queue_failed_receipts() == 0
    later = clock.now() + timedelta(minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert services.messages.queue_failed_receipts() == 1
    assert services.messages.queue_failed_receipts() == 0
    assert ("receipt:failed", 0, "queued") in services.messages.attempts(sent["id"])


# The assistant


def ask(client: TestClient, question: str) -> dict:
    response = client.post("/api/v1/ask", json={"question": question})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_assistant_answers_from_the_inbox_of_whoever_asks_and_no_one_else(app, tax):
    tax.send("AJ-2026-9", letter())
    tax.send("JAN-2", letter(key=JAN_NUMBER, subject="Herinnering voor Jan"))
    assert ask(app, "Heb ik nieuwe berichten?")["status"] == "needs_login"

    login(app, AN)
    answer = ask(app, "Heb ik nieuwe berichten?")
    assert answer["status"] == "answered"
    assert "Uw aanslagbiljet 2026" in answer["answer"] and "FOD Financiën" in answer["answer"]
    assert "Jan" not in answer["answer"]
    [citation] = answer["citations"]
    assert citation["url"].startswith("/mijn-berichten/")
    english = ask(app, "What did FOD Financiën send me?")
    assert english["status"] == "answered" and "Uw aanslagbiljet 2026" in english["answer"]

    login(app, MARIE)
    nothing = ask(app, "Heb ik nieuwe berichten?")
    assert "aanslagbiljet" not in nothing["answer"] and "Herinnering" not in nothing["answer"]
    assert nothing["citations"] == []


# Notifications


@pytest.fixture
def push_service() -> Iterator[PushService]:
    with PushService() as service:
        yield service


def subscribe(client: TestClient, person: str, endpoint: str, subscriber: Subscriber) -> None:
    login(client, person)
    response = client.post("/api/v1/me/push-subscriptions", json=subscriber.subscription(endpoint))
    assert response.status_code == 201, response.text


def test_a_notification_says_who_and_nothing_else_and_reaches_only_the_recipient(app, tax, push_service):
    services = app.app.state.services
    an, marie = Subscriber(), Subscriber()
    subscribe(app, AN, push_service.endpoint("an"), an)
    subscribe(app, MARIE, push_service.endpoint("marie"), marie)
    sent = tax.send("AJ-2026-10", letter(priority="high")).json()
    assert services.notifier.notify(sent["id"]) == 1

    [push] = push_service.wait_for(1, "an")
    payload = an.decrypt(push.body).decode()
    assert payload == json.dumps(
        {"sender": "FOD Financiën", "text": "U hebt een nieuw bericht in uw loket"}, ensure_ascii=False
    )
    for secret in (
        "An",
        "Peeters",
        AN_NUMBER,
        "aanslagbiljet",
        "http",
        sent["verification_code"],
        sent["id"],
    ):
        assert secret not in payload
    assert push.headers["ttl"] == str(services.settings.push_ttl)
    assert push.headers["urgency"] == "high"
    assert push.headers["content-encoding"] == "aes128gcm"
    claims = vapid_claims(push.headers)
    assert claims["sub"].startswith(("mailto:", "https:"))
    assert claims["aud"] == push_service.url
    assert 0 < claims["exp"] - clock.now().timestamp() <= 24 * 3600
    assert push_service.received("marie") == []
    assert ("push:webpush", 1, "HTTP 201") in services.messages.attempts(sent["id"])


def test_a_subscription_the_push_service_forgot_is_deleted_and_one_unreachable_stops_no_other(
    app, tax, push_service
):
    services = app.app.state.services
    subscribe(app, AN, "http://127.0.0.1:9/push/unreachable", Subscriber())
    subscribe(app, AN, push_service.endpoint("gone"), Subscriber())
    subscribe(app, AN, push_service.endpoint("phone"), Subscriber())
    push_service.answer("gone", 410)
    sent = tax.send("AJ-2026-11", letter()).json()
    assert services.notifier.notify(sent["id"]) == 1
    assert len(push_service.received("phone")) == 1
    assert services.notifier.subscriptions("an-peeters") == 2
    outcomes = [
        outcome for kind, _, outcome in services.messages.attempts(sent["id"]) if kind == "push:webpush"
    ]
    assert sorted(outcomes) == ["HTTP 201", "HTTP 410", "error: ConnectionError"]


def test_an_expired_or_read_message_is_never_pushed(app, tax, push_service, monkeypatch):
    services = app.app.state.services
    subscribe(app, AN, push_service.endpoint("an"), Subscriber())
    soon = (clock.now() + timedelta(minutes=5)).isoformat()
    expiring = tax.send("AJ-2026-12", letter(valid_until=soon)).json()
    read = tax.send("AJ-2026-13", letter(subject="Al gelezen")).json()
    app.post(f"/api/v1/me/messages/{read['id']}/read", json={})
    assert services.notifier.notify(read["id"]) == 0
    later = clock.now() + timedelta(minutes=10)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert services.notifier.notify(expiring["id"]) == 0
    assert push_service.received() == []


def test_preferences_and_quiet_hours_hold_notifications_back(app, tax, push_service):
    services = app.app.state.services
    subscribe(app, AN, push_service.endpoint("an"), Subscriber())
    preferences = app.get("/api/v1/me/notification-preferences").json()["preferences"]
    assert {p["channel"]: p["enabled"] for p in preferences} == {
        "webpush": True,
        "email": False,
        "sms": False,
    }
    off = [{"channel": "webpush", "enabled": False}]
    assert app.put("/api/v1/me/notification-preferences", json=off).status_code == 200
    sent = tax.send("AJ-2026-14", letter()).json()
    assert services.notifier.notify(sent["id"]) == 0
    all_day = [{"channel": "webpush", "enabled": True, "quiet_from": "00:00", "quiet_until": "23:59:59"}]
    assert app.put("/api/v1/me/notification-preferences", json=all_day).status_code == 200
    assert services.notifier.notify(sent["id"]) == 0
    assert push_service.received() == []
    half = [{"channel": "webpush", "enabled": True, "quiet_from": "22:00"}]
    assert app.put("/api/v1/me/notification-preferences", json=half).status_code == 400


@pytest.mark.parametrize(
    ("now", "quiet_from", "quiet_until", "ends"),
    [
        ("23:30", "22:00", "07:00", "07:00 next day"),
        ("06:00", "22:00", "07:00", "07:00"),
        ("12:00", "22:00", "07:00", None),
        ("12:00", "09:00", "17:00", "17:00"),
        ("17:00", "09:00", "17:00", None),
    ],
)
def test_quiet_hours_end_when_they_say(now, quiet_from, quiet_until, ends):
    zone = ZoneInfo("Europe/Brussels")
    day = datetime(2026, 12, 5, tzinfo=zone)
    moment = datetime.combine(day.date(), time.fromisoformat(now), zone).astimezone(UTC)
    preference = Preference("webpush", True, time.fromisoformat(quiet_from), time.fromisoformat(quiet_until))
    found = preference.quiet_end(moment, zone)
    if ends is None:
        assert found is None
        return
    clock_time, _, next_day = ends.partition(" ")
    expected = datetime.combine(
        day.date() + timedelta(days=1 if next_day else 0), time.fromisoformat(clock_time), zone
    )
    assert found == expected.astimezone(UTC)


def test_a_message_queues_its_notification_in_its_own_transaction(app, tax):
    """On PostgreSQL the job is a row beside the message; on SQLite it is handed to the worker at commit."""
    services = app.app.state.services
    sent = tax.send("AJ-2026-15", letter()).json()
    if services.db.embedded:
        pytest.skip("SQLite hands jobs to `loket serve`'s own worker, which the test client does not run")
    with services.db.engine.connect() as connection:
        from sqlalchemy import text

        rows = connection.execute(
            text("SELECT args FROM procrastinate_jobs WHERE task_name = 'messages.notify'")
        ).all()
    assert [row.args for row in rows] == [{"message_id": sent["id"]}]


# Receipts to the agency


class Agencies:
    """The agency's receipt endpoint: answers each request with the next status it was given."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.requests: list[tuple[dict, dict]] = []
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/receipts"

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((dict(self.headers), body))
                self.send_response(outer.statuses.pop(0) if outer.statuses else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *args):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("status", "tried_again"),
    [
        (200, False),
        (204, False),
        (400, False),
        (401, False),
        (404, False),
        (429, True),
        (500, True),
        (503, True),
    ],
)
def test_a_receipt_is_tried_again_only_when_that_can_help(app, tax, status, tried_again):
    services = app.app.state.services
    with Agencies() as agencies:
        services.receipts.set_callback("FOD Financiën", agencies.url, "agency-s3cret\n")
        sent = tax.send("AJ-2026-16", letter()).json()
        agencies.statuses = [status]
        if tried_again:
            with pytest.raises(TryAgain):
                services.receipts.send(sent["id"], Receipt.DELIVERED, 1)
        else:
            assert services.receipts.send(sent["id"], Receipt.DELIVERED, 1) == f"HTTP {status}"
    [(headers, body)] = agencies.requests
    assert headers["Authorization"] == "Bearer agency-s3cret"
    assert body == {"source": "FIN", "reference": "AJ-2026-16", "event": "delivered", "at": body["at"]}
    assert ("receipt:delivered", 1, f"HTTP {status}") in services.messages.attempts(sent["id"])
    decision = RETRY_LATER.get_retry_decision(exception=TryAgain("x"), job=_job(attempts=1))
    assert decision is not None


def test_a_receipt_to_an_unreachable_agency_is_tried_again_and_its_token_is_kept_sealed(app, tax):
    services = app.app.state.services
    services.receipts.set_callback("FOD Financiën", "http://127.0.0.1:9/receipts", "agency-s3cret")
    sent = tax.send("AJ-2026-17", letter()).json()
    with pytest.raises(TryAgain):
        services.receipts.send(sent["id"], Receipt.READ, 3)
    assert services.messages.attempts(sent["id"])[-1] == ("receipt:read", 3, "error: ConnectError")
    with services.db.session() as session:
        from sqlalchemy import text

        sealed = session.scalar(text("SELECT token FROM messages_callbacks"))
    assert "agency-s3cret" not in sealed
    # Other errors fail the job at once; TryAgain runs out after its attempts.
    assert RETRY_LATER.get_retry_decision(exception=ValueError("x"), job=_job(attempts=1)) is None
    assert RETRY_LATER.get_retry_decision(exception=TryAgain("x"), job=_job(attempts=8)) is None


def _job(attempts: int):
    from procrastinate.jobs import Job

    return Job(
        id=1, queue="default", lock=None, queueing_lock=None, task_name="messages.receipt", attempts=attempts
    )


def test_reading_tells_the_agency_once(app, tax):
    services = app.app.state.services
    services.receipts.set_callback("FOD Financiën", "http://127.0.0.1:9/receipts", "t")
    sent = tax.send("AJ-2026-18", letter()).json()
    login(app, AN)
    queued = []
    original = services.jobs.enqueue
    services.jobs.enqueue = lambda session, task, **kw: (
        queued.append((task, kw)) or original(session, task, **kw)
    )
    app.post(f"/api/v1/me/messages/{sent['id']}/read", json={})
    app.post(f"/api/v1/me/messages/{sent['id']}/read", json={})
    assert queued == [("messages.receipt", {"message_id": sent["id"], "event": Receipt.READ})]


def test_the_inbox_page_turns_push_off_and_sets_quiet_hours(app):
    login(app, AN)
    page = app.get("/mijn-berichten")
    assert page.status_code == 200
    form = {"csrf_token": csrf_token(page.text), "quiet_from": "22:00", "quiet_until": "07:00"}
    assert app.post("/mijn-berichten/meldingen", data=form, headers=OWN_PAGE).status_code == 303
    [push] = [
        p
        for p in app.get("/api/v1/me/notification-preferences").json()["preferences"]
        if p["channel"] == "webpush"
    ]
    assert push == {
        "channel": "webpush",
        "enabled": False,
        "quiet_from": "22:00:00",
        "quiet_until": "07:00:00",
    }
    form = {"csrf_token": csrf_token(page.text), "push": "on", "quiet_from": "25:00"}
    assert app.post("/mijn-berichten/meldingen", data=form, headers=OWN_PAGE).status_code == 400
    assert app.get("/api/v1/me/notification-preferences").json()["preferences"][0] == push
