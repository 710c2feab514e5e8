"""Conversations as stored, feedback, retention, the kill switch, rate limits and streamed answers.

All through the real HTTP API or the real CLI (typer's CliRunner), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from loket.assistant.models import ConversationRow
from loket.cli import app as cli
from loket.config import Settings
from loket.logging import configure as configure_logging
from tests.conftest import VAC

BZK = VAC / "rijksoverheid_vacs_bzk.csv"
NATIONAL_NUMBER = "85.07.30-033.28"  # valid checksum; also written without separators below
NATIONAL_DIGITS = "85073003328"
IBAN = "BE71 0961 2345 6769"
EMAIL = "jan.peeters@example.be"
PHONE = "0470 12 34 56"
ASK_FIELDS = {
    "conversation_id",
    "conversation_token",
    "message_id",
    "status",
    "answer",
    "language",
    "citations",
    "notices",
    "trace_id",
}


pytestmark = pytest.mark.usefixtures("keep_structlog_configuration")


@pytest.fixture
def api(client, bzk_loaded) -> TestClient:
    return client


@pytest.fixture
def make_client(settings) -> Iterator:
    """A client for the same database with other settings, e.g. tighter rate limits."""
    from loket.web.app import create_app

    apps = []

    def make(**changes) -> TestClient:
        app = create_app(
            Settings(
                database_url=settings.sqlalchemy_url, data_dir=settings.data_dir, _env_file=None, **changes
            )
        )
        apps.append(app)
        return TestClient(app)

    yield make
    for app in apps:
        app.state.services.db.dispose()


@pytest.fixture
def loket(settings):
    """`loket ...` in-process, as a person types it, against the test database."""
    runner = CliRunner()
    env = {"LOKET_DATABASE_URL": settings.sqlalchemy_url, "LOKET_DATA_DIR": str(settings.data_dir)}

    def run(*args: str, input: str | None = None):
        return runner.invoke(cli, list(args), input=input, env=env, catch_exceptions=False)

    return run


def _ask(client: TestClient, question: str, **fields) -> dict:
    response = client.post("/api/v1/ask", json={"question": question, **fields})
    assert response.status_code == 200, response.text
    return response.json()


# --- GET /api/v1/conversations/{id} ---------------------------------------------------------------


def test_a_conversation_is_returned_exactly_as_stored(api):
    services = api.app.state.services
    first = _ask(api, "Hoe vraag ik een paspoort aan?")
    second = _ask(api, "en voor mijn kind?", conversation_id=first["conversation_id"])
    third = _ask(api, "Goedemorgen!", conversation_id=first["conversation_id"])
    response = api.get(f"/api/v1/conversations/{first['conversation_id']}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "created_at", "updated_at", "messages"}
    assert body["id"] == first["conversation_id"]
    assert datetime.fromisoformat(body["created_at"]) <= datetime.fromisoformat(body["updated_at"])
    assert [m["id"] for m in body["messages"]] == [a["message_id"] for a in (first, second, third)]
    assert [m["position"] for m in body["messages"]] == [0, 1, 2]
    for message, answer in zip(body["messages"], (first, second, third), strict=True):
        for name in ("status", "answer", "language", "citations", "notices", "trace_id"):
            assert message[name] == answer[name], name
        assert message["feedback"] is None
        assert [step["stage"] for step in message["trace"]][:6] == [
            "input_checks",
            "language",
            "crisis",
            "personal_data",
            "abuse",
            "routing",
        ]
    # What the API shows is what the store holds, field by field.
    stored = services.assistant.conversation(first["conversation_id"])
    for shown, kept in zip(body["messages"], stored.messages, strict=True):
        assert shown["question"] == kept.question and shown["standalone"] == kept.standalone
        assert shown["trace"] == kept.trace and shown["citations"] == kept.citations
        assert datetime.fromisoformat(shown["created_at"]) == kept.created_at
    assert datetime.fromisoformat(body["updated_at"]) == stored.updated_at
    assert stored.updated_at >= stored.messages[-1].created_at


def test_unknown_conversation_is_404_on_get_and_on_ask(api):
    missing = "00000000-0000-0000-0000-000000000000"
    response = api.get(f"/api/v1/conversations/{missing}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    asked = api.post(
        "/api/v1/ask", json={"question": "Hoe vraag ik een paspoort aan?", "conversation_id": missing}
    )
    assert asked.status_code == 404
    assert asked.json()["error"] == {
        "code": "not_found",
        "message": "Dit gesprek bestaat niet (meer). Begin een nieuw gesprek.",
    }
    in_english = api.post(
        "/api/v1/ask",
        json={"question": "How do I get a passport?", "conversation_id": missing, "language": "en"},
    )
    assert in_english.json()["error"]["message"].startswith("This conversation does not exist")
    assert api.get(f"/api/v1/conversations/{missing}").status_code == 404, "asking did not create it"


# --- personal data never kept, shown or logged ------------------------------------------------------

IDENTIFIERS = [
    (
        f"Mijn rijksregisternummer is {NATIONAL_NUMBER}, wanneer vervalt mijn paspoort?",
        NATIONAL_NUMBER,
        "national_number",
    ),
    (f"Ik ben {NATIONAL_DIGITS}, hoe vraag ik een paspoort aan?", NATIONAL_DIGITS, "national_number"),
    (f"Kunnen jullie de leges terugstorten op {IBAN}?", IBAN, "iban"),
    (f"Stuur de informatie over een paspoort naar {EMAIL}", EMAIL, "email"),
    (f"Bel mij op {PHONE} over mijn nieuwe paspoort", PHONE, "phone"),
]


@pytest.mark.parametrize(("question", "identifier", "kind"), IDENTIFIERS, ids=[i[2] for i in IDENTIFIERS])
def test_personal_identifiers_are_never_stored_traced_or_logged(
    api, capsys, caplog, question, identifier, kind
):
    caplog.set_level(logging.DEBUG)
    configure_logging("DEBUG")  # loket's own JSON logs, to the stderr capsys reads
    response = api.post("/api/v1/ask", json={"question": question})
    body = response.json()
    assert body["status"] == "refused_personal_data"
    shown = api.get(f"/api/v1/conversations/{body['conversation_id']}")
    (message,) = shown.json()["messages"]
    assert message["question"] == message["standalone"] == ""  # refused: counted, never kept
    stored = api.app.state.services.assistant.conversation(body["conversation_id"])
    captured = capsys.readouterr()
    assert "assistant.answered" in captured.out + captured.err, "the log line was captured"
    assert body["trace_id"] in captured.out + captured.err
    compact = identifier.replace(" ", "").replace(".", "").replace("-", "")
    everywhere = {
        "response": response.text,
        "conversation": shown.text,
        "stored": json.dumps([m.__dict__ for m in stored.messages], default=str, ensure_ascii=False),
        "logs": captured.out + captured.err + caplog.text,
    }
    for where, text in everywhere.items():
        assert identifier not in text, where
        assert compact not in text.replace(" ", ""), where


def test_an_iban_that_fails_its_check_is_still_never_stored_or_returned(api):
    """Tried as a new user would: an IBAN-shaped string whose bank code python-stdnum does not know."""
    answer = _ask(api, "Kunnen jullie de leges terugstorten op BE68 5390 0754 7034?")
    assert answer["status"] != "refused_personal_data", "a look-alike is redacted, not refused"
    stored = api.get(f"/api/v1/conversations/{answer['conversation_id']}").json()
    assert "5390" not in json.dumps(stored)
    assert stored["messages"][0]["question"] == "Kunnen jullie de leges terugstorten op [iban]?"


def test_redacted_questions_are_not_history_for_follow_ups(api):
    """A refused question is not answered, so a follow-up does not build on it."""
    first = _ask(api, f"Mijn nummer is {NATIONAL_NUMBER}. Hoe vraag ik een paspoort aan?")
    assert first["status"] == "refused_personal_data"
    follow_up = _ask(api, "en voor mijn kind?", conversation_id=first["conversation_id"])
    stored = api.get(f"/api/v1/conversations/{first['conversation_id']}").json()
    assert stored["messages"][1]["standalone"] == "en voor mijn kind?"
    assert "[national_number]" not in stored["messages"][1]["standalone"]
    assert follow_up["conversation_id"] == first["conversation_id"]


# --- feedback -------------------------------------------------------------------------------------


def test_feedback_up_and_down_shows_in_the_conversation(api):
    answer = _ask(api, "Hoe vraag ik een paspoort aan?")
    other = _ask(api, "Wat kost een paspoort of identiteitskaart?", conversation_id=answer["conversation_id"])
    up = api.post("/api/v1/feedback", json={"message_id": answer["message_id"], "rating": "up"})
    assert up.status_code == 204 and up.content == b""
    down = api.post(
        "/api/v1/feedback",
        json={"message_id": other["message_id"], "rating": "down", "reason": "  Te   vaag\u200b antwoord "},
    )
    assert down.status_code == 204
    messages = api.get(f"/api/v1/conversations/{answer['conversation_id']}").json()["messages"]
    assert messages[0]["feedback"] == {"rating": "up", "reason": None}
    assert messages[1]["feedback"] == {"rating": "down", "reason": "Te vaag antwoord"}


def test_new_feedback_replaces_the_old(api):
    answer = _ask(api, "Hoe vraag ik een paspoort aan?")
    api.post("/api/v1/feedback", json={"message_id": answer["message_id"], "rating": "up", "reason": "goed"})
    api.post("/api/v1/feedback", json={"message_id": answer["message_id"], "rating": "down"})
    (message,) = api.get(f"/api/v1/conversations/{answer['conversation_id']}").json()["messages"]
    assert message["feedback"] == {"rating": "down", "reason": None}


def test_a_feedback_reason_is_redacted_before_it_is_kept(api):
    answer = _ask(api, "Hoe vraag ik een paspoort aan?")
    reason = f"Niet duidelijk, mail me op {EMAIL} of bel {PHONE}"
    response = api.post(
        "/api/v1/feedback", json={"message_id": answer["message_id"], "rating": "down", "reason": reason}
    )
    assert response.status_code == 204
    shown = api.get(f"/api/v1/conversations/{answer['conversation_id']}")
    (message,) = shown.json()["messages"]
    assert message["feedback"] == {
        "rating": "down",
        "reason": "Niet duidelijk, mail me op [email] of bel [phone]",
    }
    assert EMAIL not in shown.text and PHONE not in shown.text


def test_bad_feedback_is_refused(api):
    answer = _ask(api, "Hoe vraag ik een paspoort aan?")
    bad_rating = api.post("/api/v1/feedback", json={"message_id": answer["message_id"], "rating": "meh"})
    assert bad_rating.status_code == 422
    assert "rating" in bad_rating.json()["error"]["message"]
    no_rating = api.post("/api/v1/feedback", json={"message_id": answer["message_id"]})
    assert no_rating.status_code == 422
    too_long = api.post(
        "/api/v1/feedback", json={"message_id": answer["message_id"], "rating": "up", "reason": "x" * 1001}
    )
    assert too_long.status_code == 422
    unknown = api.post(
        "/api/v1/feedback", json={"message_id": "00000000-0000-0000-0000-000000000000", "rating": "up"}
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    (message,) = api.get(f"/api/v1/conversations/{answer['conversation_id']}").json()["messages"]
    assert message["feedback"] is None, "nothing was kept from the refused feedback"


def test_feedback_through_the_python_api_checks_the_rating(services):
    from loket.errors import BadRequest

    answer = services.assistant.ask("Goedemorgen!")
    with pytest.raises(BadRequest) as refused:
        services.assistant.feedback(answer.message_id, "sideways", None, language="fr")
    assert "« up » ou « down »" in refused.value.message
    services.assistant.feedback(answer.message_id, "up", "   ")
    (message,) = services.assistant.conversation(answer.conversation_id).messages
    assert message.feedback == {"rating": "up", "reason": None}


# --- retention ------------------------------------------------------------------------------------


def _age(services, conversation_id: str, days: int) -> None:
    """Make a conversation look untouched for `days` days (time cannot be waited for in a test)."""
    with services.db.session() as session:
        session.execute(
            update(ConversationRow)
            .where(ConversationRow.id == conversation_id)
            .values(updated_at=datetime.now(UTC) - timedelta(days=days))
        )


def test_purge_removes_old_conversations_and_keeps_recent_ones(services):
    from loket.errors import NotFound

    old = services.assistant.ask("Goedemorgen!")
    services.assistant.feedback(old.message_id, "down", "niet nuttig")
    services.assistant.ask("Ik wil een medewerker spreken", conversation_id=old.conversation_id)
    recent = services.assistant.ask("Hallo")
    _age(services, old.conversation_id, 40)
    _age(services, recent.conversation_id, 5)
    assert services.assistant.purge(timedelta(days=30)) == 1
    with pytest.raises(NotFound):
        services.assistant.conversation(old.conversation_id)
    assert len(services.assistant.conversation(recent.conversation_id).messages) == 1
    # Its messages and feedback went with it: the message id cannot take feedback any more.
    with pytest.raises(NotFound):
        services.assistant.feedback(old.message_id, "up", None)
    assert services.assistant.purge(timedelta(days=30)) == 0


def test_a_new_message_keeps_an_old_conversation_alive(services):
    conversation = services.assistant.ask("Goedemorgen!")
    _age(services, conversation.conversation_id, 40)
    services.assistant.ask("Ik wil een medewerker spreken", conversation_id=conversation.conversation_id)
    assert services.assistant.purge(timedelta(days=30)) == 0
    assert len(services.assistant.conversation(conversation.conversation_id).messages) == 2


def test_cli_purge(services, loket):
    old = services.assistant.ask("Goedemorgen!")
    recent = services.assistant.ask("Hallo")
    _age(services, old.conversation_id, 400)
    kept = loket("conversations", "purge")  # the default: LOKET_CONVERSATION_RETENTION_DAYS, 365
    assert kept.exit_code == 0, kept.output
    assert "1 conversations older than 365 days removed" in kept.output
    assert services.assistant.conversation(recent.conversation_id)
    result = loket("conversations", "purge", "--days", "0")
    assert result.exit_code == 0, result.output
    assert "1 conversations older than 0 days removed" in result.output
    from loket.errors import NotFound

    with pytest.raises(NotFound):
        services.assistant.conversation(recent.conversation_id)
    assert loket("conversations", "purge", "--days", "-1").exit_code == 2


def test_cli_purge_keeps_conversations_within_the_days_given(services, loket):
    recent = services.assistant.ask("Hallo")
    _age(services, recent.conversation_id, 3)
    result = loket("conversations", "purge", "--days", "7")
    assert result.exit_code == 0, result.output
    assert "0 conversations older than 7 days removed" in result.output
    assert len(services.assistant.conversation(recent.conversation_id).messages) == 1


# --- `loket ask` in conversation -------------------------------------------------------------------


def test_cli_ask_continues_a_conversation(services, loket):
    assert services.catalog.ingest_location(str(BZK)).created == 175
    services.search.sync()  # what the job a catalogue change queues does
    first = loket("ask", "Hoe vraag ik een paspoort aan?", "--json")
    assert first.exit_code == 0, first.output
    answer = json.loads(first.stdout)
    assert answer["status"] == "answered"
    follow_up = loket("ask", "en voor mijn kind?", "--conversation", answer["conversation_id"], "--json")
    assert follow_up.exit_code == 0, follow_up.output
    assert json.loads(follow_up.stdout)["conversation_id"] == answer["conversation_id"]
    stored = services.assistant.conversation(answer["conversation_id"])
    assert [m.question for m in stored.messages] == ["Hoe vraag ik een paspoort aan?", "en voor mijn kind?"]
    assert "paspoort" in stored.messages[1].standalone
    unknown = loket("ask", "Hallo", "--conversation", "00000000-0000-0000-0000-000000000000")
    assert unknown.exit_code == 2
    assert "Dit gesprek bestaat niet (meer)." in unknown.output


def test_cli_ask_without_a_question_is_one_conversation(services, loket):
    """Typed questions, one per line, belong to one conversation; an empty line ends it."""
    assert services.catalog.ingest_location(str(BZK)).created == 175
    services.search.sync()  # what the job a catalogue change queues does
    result = loket("ask", input="Hoe vraag ik een paspoort aan?\nen voor mijn kind?\n\nHallo\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("(answered)") == 2
    assert "Kinderen hebben een eigen paspoort" in result.output
    with services.db.session() as session:
        from sqlalchemy import select

        from loket.assistant.models import MessageRow

        rows = session.execute(select(MessageRow.conversation_id, MessageRow.question)).all()
    assert len(rows) == 2, "the question after the empty line was not asked"
    assert len({conversation for conversation, _ in rows}) == 1


# --- the kill switch ------------------------------------------------------------------------------


def test_disable_and_enable_from_the_cli(api, loket):
    assert loket("assistant", "status").output.strip() == "enabled"
    disabled = loket("assistant", "disable", "--reason", "onderhoud")
    assert disabled.exit_code == 0, disabled.output
    assert "assistant disabled at" in disabled.output and "onderhoud" in disabled.output
    assert loket("assistant", "status").output.strip() == "disabled: onderhoud"
    response = api.post("/api/v1/ask", json={"question": "Hoe vraag ik een paspoort aan?"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "maintenance"
    assert "onderhoud" in response.json()["error"]["message"]
    assert response.json()["error"]["message"].startswith("De assistent is tijdelijk niet beschikbaar")
    french = api.post("/api/v1/ask", json={"question": "Comment demander un passeport ?", "language": "fr"})
    assert french.status_code == 503
    assert french.json()["error"]["message"] == (
        "L'assistant est temporairement indisponible : onderhoud. Réessayez plus tard."
    )
    services = api.app.state.services
    assert services.assistant.switch().enabled is False
    enabled = loket("assistant", "enable")
    assert enabled.exit_code == 0 and "assistant enabled" in enabled.output
    assert loket("assistant", "status").output.strip() == "enabled"
    back = api.post("/api/v1/ask", json={"question": "Hoe vraag ik een paspoort aan?"})
    assert back.status_code == 200 and back.json()["status"] == "answered"


def test_nothing_is_stored_while_disabled(api, loket):
    from sqlalchemy import func, select

    from loket.assistant.models import MessageRow

    assert loket("assistant", "disable", "--reason", "onderhoud").exit_code == 0
    assert api.post("/api/v1/ask", json={"question": "Hallo"}).status_code == 503
    with api.app.state.services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(MessageRow)) == 0


def test_disable_needs_a_reason(loket):
    result = loket("assistant", "disable")
    assert result.exit_code == 2
    assert loket("assistant", "status").output.strip() == "enabled"


def test_the_python_api_obeys_the_switch(services):
    from loket.assistant.service import AssistantDisabled

    services.assistant.set_enabled(False, "update")
    with pytest.raises(AssistantDisabled) as refused:
        services.assistant.ask("Hallo", language="en")
    assert refused.value.status_code == 503
    assert (
        refused.value.message == "The assistant is temporarily unavailable: update. Please try again later."
    )
    services.assistant.set_enabled(True)
    assert services.assistant.ask("Hallo").status == "out_of_scope"


# --- rate limits ----------------------------------------------------------------------------------


def test_the_fourth_question_of_a_client_in_a_minute_is_429(make_client):
    client = make_client(rate_limit_client="3/minute", rate_limit_conversation="100/minute")
    remaining = []
    for _ in range(3):
        response = client.post("/api/v1/ask", json={"question": "Hallo"})
        assert response.status_code == 200
        assert response.headers["RateLimit-Limit"] == "3"
        assert "Retry-After" not in response.headers
        remaining.append(response.headers["RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    refused = client.post("/api/v1/ask", json={"question": "Hallo", "language": "en"})
    assert refused.status_code == 429
    assert refused.headers["RateLimit-Limit"] == "3"
    assert refused.headers["RateLimit-Remaining"] == "0"
    reset = int(refused.headers["RateLimit-Reset"])
    assert 0 < reset <= 60
    assert int(refused.headers["Retry-After"]) == reset
    error = refused.json()["error"]
    assert error["code"] == "too_many_requests"
    assert (
        error["message"]
        == f"You are asking many questions in a short time. Wait {reset} seconds and try again."
    )
    dutch = client.post("/api/v1/ask", json={"question": "Hallo"})
    assert dutch.status_code == 429
    assert dutch.json()["error"]["message"].startswith("U stelt veel vragen kort na elkaar.")


def test_a_refused_question_is_not_answered_or_stored(make_client):
    client = make_client(rate_limit_client="1/minute")
    first = client.post("/api/v1/ask", json={"question": "Hallo"}).json()
    assert (
        client.post(
            "/api/v1/ask", json={"question": "Dag", "conversation_id": first["conversation_id"]}
        ).status_code
        == 429
    )
    messages = client.get(f"/api/v1/conversations/{first['conversation_id']}").json()["messages"]
    assert len(messages) == 1


def _started(client) -> tuple[str, dict]:
    """A new conversation's id, and the header that holds it."""
    body = client.post("/api/v1/ask", json={"question": "Hallo"}).json()
    return body["conversation_id"], {"Loket-Conversation-Token": body["conversation_token"]}


def test_one_conversation_has_its_own_limit(make_client):
    client = make_client(rate_limit_client="100/minute", rate_limit_conversation="2/minute")
    # An API client holding two conversations: each continued with its own token.
    busy, busy_token = _started(client)
    calm, calm_token = _started(client)
    for _ in range(2):
        response = client.post(
            "/api/v1/ask", json={"question": "Dag", "conversation_id": busy}, headers=busy_token
        )
        assert response.status_code == 200
        assert response.headers["RateLimit-Limit"] == "2", "the tighter limit is reported"
    refused = client.post(
        "/api/v1/ask", json={"question": "Dag", "conversation_id": busy, "language": "fr"}, headers=busy_token
    )
    assert refused.status_code == 429
    assert refused.json()["error"]["message"].startswith("Vous posez beaucoup de questions")
    assert refused.headers["RateLimit-Limit"] == "2" and "Retry-After" in refused.headers
    other = client.post("/api/v1/ask", json={"question": "Dag", "conversation_id": calm}, headers=calm_token)
    assert other.status_code == 200, "another conversation of the same client may still ask"
    fresh = client.post("/api/v1/ask", json={"question": "Dag"})
    assert fresh.status_code == 200


# --- server-sent events ---------------------------------------------------------------------------


def _events(text: str) -> list[tuple[str, object]]:
    events = []
    for block in text.replace("\r\n", "\n").strip().split("\n\n"):
        fields: dict[str, list[str]] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value[1:] if value.startswith(" ") else value)
        if "event" in fields:
            events.append((fields["event"][0], json.loads("\n".join(fields["data"]))))
    return events


def test_an_answer_streams_as_server_sent_events(api):
    question = "Hoe vraag ik een paspoort aan?"
    response = api.post("/api/v1/ask", json={"question": question}, headers={"Accept": "text/event-stream"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "RateLimit-Limit" in response.headers
    events = _events(response.text)
    names = [name for name, _ in events]
    sentences = names.count("sentence")
    assert sentences >= 1
    assert names == ["status"] + ["sentence"] * sentences + ["citations", "notices", "done"]
    data = dict((name, payload) for name, payload in events if name != "sentence")
    done = data["done"]
    assert set(done) == ASK_FIELDS
    assert data["status"] == {
        "status": "answered",
        "conversation_id": done["conversation_id"],
        "message_id": done["message_id"],
        "language": done["language"],
    }
    assert " ".join(payload["text"] for name, payload in events if name == "sentence") == done["answer"]
    assert data["citations"] == done["citations"] and data["notices"] == done["notices"]
    # The done payload is the JSON answer: the same question asked as JSON gives the same answer.
    as_json = _ask(api, question)
    for name in ("status", "answer", "language", "citations", "notices"):
        assert done[name] == as_json[name], name
    # And it is what was stored.
    held = {"Loket-Conversation-Token": done["conversation_token"]}  # the JSON ask began another
    (message,) = api.get(f"/api/v1/conversations/{done['conversation_id']}", headers=held).json()["messages"]
    assert message["id"] == done["message_id"] and message["answer"] == done["answer"]


def test_a_canned_answer_streams_too(api):
    response = api.post(
        "/api/v1/ask",
        json={"question": "Ik wil een medewerker spreken"},
        headers={"Accept": "text/event-stream"},
    )
    events = _events(response.text)
    names = [name for name, _ in events]
    assert names[0] == "status" and names[-3:] == ["citations", "notices", "done"]
    done = events[-1][1]
    assert done["status"] == "handoff" and "1700" in done["answer"]
    assert events[0][1]["status"] == "handoff"
    assert dict(events[-3:-1]) == {"citations": [], "notices": []}


def test_without_the_accept_header_the_answer_is_json(api):
    response = api.post("/api/v1/ask", json={"question": "Hallo"}, headers={"Accept": "application/json"})
    assert response.headers["content-type"].startswith("application/json")
    assert set(response.json()) == ASK_FIELDS
