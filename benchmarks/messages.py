"""Messages: agencies' signed messages in through the API, one person's inbox of 1,000, push fan-out.

Accept: the real app (`create_app`, all middleware) through Starlette's TestClient; one agency PUTs
1,000 messages one after another, each to another test person, signed beforehand (compact JWS, detached
payload, EdDSA) so only loket's side is timed: token, fields, signature over the body's bytes, links,
insert, notify job. On SQLite the app runs no job worker here, so the jobs are only handed over (logged
`jobs.not_queued`) and never run; on PostgreSQL they wait in procrastinate's table for a worker.

Inbox: one test person with 1,000 messages (a third read), in through `MessageService.receive` (also
timed: no HTTP, no signature check), among the 11,000 of 1,000 other persons: the 1,000 above plus
10,000 bulk-inserted rows of the same shape (signature not a real one), as 10,000 calls would only slow
the run. Measured 200 times each after a few warm-up calls: `GET /api/v1/me/messages` (session cookie,
access log entry, JSON of 1,000 summaries) and `MessageService.for_party` alone.

Push: 200 persons, each signed in once (which creates the person) with one subscription at a local Web
Push service (tests/push_service.py: a real HTTP server on 127.0.0.1 answering 201, in a thread of this
process, so it takes CPU from loket) and one message. Then `Notifier.notify` for each message, one after
another: the `messages.notify` job's body as one worker runs it. Each notification is encrypted for its
subscription (RFC 8291, aes128gcm), signed with loket's VAPID key (RFC 8292), sent as one HTTP request
and its attempt stored.

Run: `.venv/bin/python benchmarks/messages.py [--postgresql]` (about 40 s on SQLite, 45 s with
PostgreSQL, its start by pgserver included).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid
import warnings
from datetime import timedelta
from pathlib import Path

from joserfc import jws
from joserfc.jwk import OKPKey
from sqlalchemy import func, insert, select, update
from starlette.testclient import TestClient

from cases import spread, test_number, timed
from common import ROOT, database_url, print_figures
from loket import clock
from loket.config import Settings
from loket.identity.access import SESSION_COOKIE
from loket.identity.schemas import Login, Party
from loket.messages.models import MessageRow
from loket.messages.schemas import Draft, Priority
from loket.services import Services
from loket.web.app import create_app

sys.path.insert(0, str(ROOT))
from tests.push_service import PushService, Subscriber

AGENCY, SOURCE, HOST = "FOD Financiën", "FIN", "financien.example"
ACCEPTED = 1000  # PUT through the API, one per recipient
OWN_MESSAGES = 1000
OTHER_PERSONS = 1000
OTHER_MESSAGES_EACH = 10
REQUESTS = 200
PUSHED = 200
OWN, PUSH_PERSONS = 0, 5000  # test_number counters: the inbox's person, the first push person


class Sender:
    """The agency as `loket agencies add`, `keys add` and `hosts add` set it up, with its signing key."""

    def __init__(self, services: Services) -> None:
        self.token = services.cases.add_agency(AGENCY, SOURCE)
        self.key = OKPKey.generate_key("Ed25519")
        self.kid = services.messages.add_key(AGENCY, self.key.as_pem(private=False))
        services.messages.allow_host(AGENCY, HOST)
        self.agency = services.messages.agency(AGENCY)

    def sign(self, body: bytes) -> str:
        """A compact JWS over `body`, its payload part left out (RFC 7515 Appendix F)."""
        signed = jws.serialize_compact(
            {"alg": "EdDSA", "kid": self.kid}, body, self.key, algorithms=["EdDSA"]
        )
        protected, _, signature = signed.split(".")
        return f"{protected}..{signature}"

    def draft(self, reference: str, number: str, index: int) -> Draft:
        sent = letter(number, index)
        body = json.dumps(sent).encode()
        return Draft(
            source=SOURCE,
            reference=reference,
            recipient_type="person",
            recipient_key=number,
            subject=sent["subject"],
            body=sent["body"],
            priority=Priority.NORMAL,
            valid_until=None,
            case_source=None,
            case_number=None,
            signed_body=body.decode(),
            signature=self.sign(body),
            key_id=self.kid,
        )


def letter(number: str, index: int) -> dict:
    return {
        "recipient": {"type": "person", "key": number},
        "subject": f"Uw aanslagbiljet {2000 + index % 27}",
        "body": f"Bericht {index}: uw aanslagbiljet staat klaar. Lees het op "
        f"[MyMinfin](https://eservices.{HOST}/).",
    }


def measure_accept(client: TestClient, sender: Sender, figures: dict[str, str]) -> None:
    requests = []
    for index in range(ACCEPTED):
        body = json.dumps(letter(test_number(index + 1), index)).encode()
        headers = {
            "authorization": f"Bearer {sender.token}",
            "content-type": "application/json",
            "loket-signature": sender.sign(body),
        }
        requests.append((f"/api/v1/messages/{SOURCE}/A-{index:05d}", body, headers))
    durations = []
    started = time.perf_counter()
    for path, body, headers in requests:
        begun = time.perf_counter()
        response = client.put(path, content=body, headers=headers)
        durations.append((time.perf_counter() - begun) * 1000)
        assert response.status_code == 201, response.text
    seconds = time.perf_counter() - started
    figures[f"PUT /api/v1/messages, {ACCEPTED:,} signed"] = f"{ACCEPTED / seconds:.0f} messages/s"
    figures["PUT /api/v1/messages, ms p50/p95/max"] = spread(durations)


def insert_other_messages(services: Services, sender: Sender) -> None:
    """The other persons' messages as the rows `receive` would write (signature not a real one)."""
    moment = clock.now()
    rows = []
    for person in range(1, OTHER_PERSONS + 1):
        for index in range(OTHER_MESSAGES_EACH):
            sent = letter(test_number(person), index)
            rows.append(
                {
                    "id": uuid.uuid4().hex,
                    "source": SOURCE,
                    "reference": f"B-{person:04d}-{index:02d}",
                    "agency": AGENCY,
                    "recipient_type": "person",
                    "recipient_key": test_number(person),
                    "subject": sent["subject"],
                    "body": sent["body"],
                    "priority": "normal",
                    "signed_body": json.dumps(sent),
                    "signature": "bulk..inserted",
                    "key_id": sender.kid,
                    "verification_code": f"LKT-{person:04d}-{index:04d}",  # a 0 or 1: no code receive gives
                    "received_at": moment - timedelta(minutes=index),
                }
            )
    with services.db.session() as session:
        session.execute(insert(MessageRow), rows)


def measure_inbox(client: TestClient, services: Services, sender: Sender, figures: dict[str, str]) -> None:
    insert_other_messages(services, sender)
    own = test_number(OWN)
    drafts = [sender.draft(f"O-{index:05d}", own, index) for index in range(OWN_MESSAGES)]
    started = time.perf_counter()
    for draft in drafts:
        services.messages.receive(sender.agency, draft)
    seconds = time.perf_counter() - started
    figures[f"MessageService.receive, {OWN_MESSAGES:,} messages"] = f"{OWN_MESSAGES / seconds:.0f} messages/s"
    with services.db.session() as session:
        read = [draft.reference for draft in drafts[::3]]
        session.execute(update(MessageRow).where(MessageRow.reference.in_(read)).values(read_at=clock.now()))
        total = session.scalar(select(func.count()).select_from(MessageRow))
    figures["table: messages (own / all)"] = f"{OWN_MESSAGES:,} / {total:,}"

    token, _ = services.identity.sessions.sign_in(
        Login(subject="bench#own", name="Bench Person", national_number=own, method="demo")
    )
    client.cookies.set(SESSION_COOKIE, token)
    listed = client.get("/api/v1/me/messages")
    listed.raise_for_status()
    assert len(listed.json()["messages"]) == OWN_MESSAGES, len(listed.json()["messages"])
    assert listed.json()["unread"] == OWN_MESSAGES - len(read), listed.json()["unread"]
    api = timed(lambda: client.get("/api/v1/me/messages").raise_for_status(), REQUESTS)
    client.cookies.clear()
    party = Party(type="person", key=own, subject=own)
    assert len(services.messages.for_party(party)) == OWN_MESSAGES
    service = timed(lambda: services.messages.for_party(party), REQUESTS)
    figures["GET /api/v1/me/messages, ms p50/p95/max"] = spread(api)
    figures["for_party alone, ms p50/p95/max"] = spread(service)


def measure_push(services: Services, sender: Sender, figures: dict[str, str]) -> None:
    subscribers = [Subscriber() for _ in range(PUSHED)]
    with PushService() as push:
        message_ids = []
        for index, subscriber in enumerate(subscribers):
            number = test_number(PUSH_PERSONS + index)
            login = Login(subject=f"bench#push{index}", name="Push", national_number=number, method="demo")
            _, user = services.identity.sessions.sign_in(login)
            endpoint = push.endpoint(f"s{index}")
            keys = subscriber.subscription(endpoint)["keys"]
            services.notifier.subscribe(user.person.id, endpoint, keys["p256dh"], keys["auth"], "nl")
            found, _ = services.messages.receive(sender.agency, sender.draft(f"P-{index:05d}", number, index))
            message_ids.append(found.id)
        durations = []
        started = time.perf_counter()
        for message_id in message_ids:
            begun = time.perf_counter()
            sent = services.notifier.notify(message_id)
            durations.append((time.perf_counter() - begun) * 1000)
            assert sent == 1, (message_id, services.messages.attempts(message_id))
        seconds = time.perf_counter() - started
        received = push.wait_for(PUSHED)
        first = push.received("s0")[0]
    assert len(received) == PUSHED
    assert json.loads(subscribers[0].decrypt(first.body))["sender"] == AGENCY
    figures[f"Notifier.notify, {PUSHED} persons, 1 worker"] = f"{PUSHED / seconds:.0f} notifications/s"
    figures["Notifier.notify, ms p50/p95/max"] = spread(durations)


def main() -> None:
    warnings.filterwarnings("ignore", "EdDSA is deprecated")  # the contract's alg; RFC 9864 prefers Ed25519
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url(__doc__, tmp)
        started = time.perf_counter()
        settings = Settings(database_url=url, data_dir=Path(tmp), demo=True, push_hosts="", _env_file=None)
        app = create_app(settings)
        services: Services = app.state.services
        services.db.upgrade()
        sender = Sender(services)
        figures: dict[str, str] = {}
        with TestClient(app) as client:
            measure_accept(client, sender, figures)
            measure_inbox(client, services, sender, figures)
        measure_push(services, sender, figures)
        figures["jobs waiting for a worker"] = f"{services.jobs.figures()[0].get('todo', 0):,}"
        services.db.dispose()
        seconds = time.perf_counter() - started

    print_figures(
        url,
        seconds,
        f"1 person with {OWN_MESSAGES:,} messages (a third read), plus "
        f"{ACCEPTED + OTHER_PERSONS * OTHER_MESSAGES_EACH:,} messages of {OTHER_PERSONS:,} other persons; "
        f"{REQUESTS} timed requests / calls; {PUSHED} push subscriptions",
        figures,
    )


if __name__ == "__main__":
    main()
