"""Conversations have a holder: another browser or app cannot read, continue or rate one.

The attacks of the trust issue's first point, each through the route a citizen's data would leak by:
the JSON API, server-sent events, the page without JavaScript and the widget's header; after logout;
and a login that must not take over a conversation begun before it. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from loket.assistant.holders import COOKIE
from loket.assistant.models import ConversationRow
from loket.config import Settings
from loket.web.app import create_app
from tests.web_support import csrf_token

TOKEN = "Loket-Conversation-Token"
QUESTION = {"question": "Hoe vraag ik een paspoort aan?"}
PAGE = {"Accept": "text/html", "Sec-Fetch-Site": "same-origin"}
FORM = {**PAGE, "Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def app(settings, bzk_loaded) -> Iterator:
    """The demo's persons (to log in) over the VAC content, with room for many questions."""
    changes = {"demo": True, "rate_limit_client": "1000/minute", "rate_limit_conversation": "1000/minute"}
    application = create_app(Settings(_env_file=None, **(settings.model_dump() | changes)))
    application.state.services.identity.demo.load()
    yield application
    application.state.services.db.dispose()


@pytest.fixture
def browsers(app) -> Iterator[tuple[TestClient, TestClient]]:
    """Two browsers: the citizen's, and someone else's who learnt the conversation's id."""
    with TestClient(app) as mine, TestClient(app) as other:
        yield mine, other


def _started(client: TestClient, **headers) -> dict:
    response = client.post("/api/v1/ask", json=QUESTION, headers=headers)
    assert response.status_code == 200
    return response.json()


def _read(client: TestClient, conversation_id: str, token: str | None = None):
    return client.get(f"/api/v1/conversations/{conversation_id}", headers={TOKEN: token} if token else {})


def test_the_answer_that_starts_a_conversation_carries_its_token_and_a_cookie(browsers):
    mine, _ = browsers
    started = _started(mine)
    token = started["conversation_token"]
    assert token and token != started["conversation_id"]
    assert mine.cookies[COOKIE] == token, "the browser holds it as a cookie"
    continued = mine.post("/api/v1/ask", json={**QUESTION, "conversation_id": started["conversation_id"]})
    assert continued.status_code == 200 and continued.json()["conversation_token"] is None


def test_another_browser_cannot_read_continue_or_rate_a_conversation(browsers):
    mine, other = browsers
    started = _started(mine)
    conversation_id, message_id = started["conversation_id"], started["message_id"]

    mine_read = _read(mine, conversation_id)
    assert mine_read.status_code == 200 and len(mine_read.json()["messages"]) == 1
    unknown = _read(other, "00000000-0000-0000-0000-000000000000")
    for attempt in (
        _read(other, conversation_id),
        _read(other, conversation_id, "x" * 43),
        other.post("/api/v1/ask", json={**QUESTION, "conversation_id": conversation_id}),
        other.post(
            "/api/v1/ask",
            json={**QUESTION, "conversation_id": conversation_id},
            headers={"Accept": "text/event-stream"},
        ),
        other.post("/api/v1/feedback", json={"message_id": message_id, "rating": "down"}),
    ):
        assert attempt.status_code == 404
        assert attempt.json()["error"]["code"] == unknown.json()["error"]["code"], "reveals nothing"
    stored = _read(mine, conversation_id).json()
    assert len(stored["messages"]) == 1 and stored["messages"][0]["feedback"] is None, "nothing changed"


def test_an_api_client_holds_its_conversations_by_the_header(browsers):
    _, app_client = browsers
    first, second = _started(app_client), _started(app_client)
    app_client.cookies.clear()  # an app keeps no cookies: only the header
    for held in (first, second):
        read = _read(app_client, held["conversation_id"], held["conversation_token"])
        assert read.status_code == 200
        rated = app_client.post(
            "/api/v1/feedback",
            json={"message_id": held["message_id"], "rating": "up"},
            headers={TOKEN: held["conversation_token"]},
        )
        assert rated.status_code == 204
    crossed = _read(app_client, first["conversation_id"], second["conversation_token"])
    assert crossed.status_code == 404, "one conversation's token does not open another"


def test_the_page_without_javascript_shows_only_the_conversation_its_browser_holds(browsers):
    mine, other = browsers
    token = csrf_token(mine.get("/", headers=PAGE).text)
    asked = mine.post("/vraag", data={"csrf_token": token, **QUESTION}, headers=FORM, follow_redirects=False)
    assert asked.status_code == 303
    assert re.search(r"HttpOnly", asked.headers["set-cookie"]) and COOKIE in asked.headers["set-cookie"]
    page = mine.get("/", headers=PAGE).text
    conversation_id = re.search(r'data-conversation="([^"]+)"', page).group(1)
    assert conversation_id not in mine.cookies[COOKIE], "the cookie holds the token, not the id"
    assert "Hoe vraag ik een paspoort aan?" in page

    other.cookies.set(COOKIE, conversation_id)  # someone who copied the id into the cookie
    assert 'data-conversation=""' in other.get("/", headers=PAGE).text
    assert QUESTION["question"] not in other.get("/", headers=PAGE).text


def test_a_conversation_begun_logged_in_is_the_persons_alone_and_ends_with_the_logout(browsers):
    mine, other = browsers
    assert mine.post("/auth/demo-login", json={"person": "jan-janssens"}).status_code == 200
    started = _started(mine)
    conversation_id, token = started["conversation_id"], started["conversation_token"]
    assert _read(mine, conversation_id).status_code == 200

    assert _read(other, conversation_id, token).status_code == 404, "the token alone is not enough"
    assert other.post("/auth/demo-login", json={"person": "an-peeters"}).status_code == 200
    assert _read(other, conversation_id, token).status_code == 404, "nor another person with it"

    logout = mine.post("/auth/logout", json={})
    assert logout.status_code == 200 and COOKIE not in mine.cookies, "logout drops the capability"
    assert _read(mine, conversation_id, token).status_code == 404


def test_logging_in_does_not_take_over_a_conversation_begun_before(browsers):
    mine, _ = browsers
    anonymous = _started(mine)
    login = mine.post("/auth/demo-login", json={"person": "jan-janssens"})
    assert login.status_code == 200 and COOKIE not in mine.cookies, "the login drops the cookie"
    assert _read(mine, anonymous["conversation_id"]).status_code == 404
    with_token = _read(mine, anonymous["conversation_id"], anonymous["conversation_token"])
    assert with_token.status_code == 200, "the token still opens it: it stayed anonymous"
    with mine.app.state.services.db.session() as session:
        assert session.get(ConversationRow, anonymous["conversation_id"]).person_id is None


def test_the_token_is_never_stored(browsers, app):
    mine, _ = browsers
    started = _started(mine)
    with app.state.services.db.session() as session:
        row = session.get(ConversationRow, started["conversation_id"])
        stored = {column.name: getattr(row, column.key) for column in ConversationRow.__table__.columns}
    assert started["conversation_token"] not in {str(value) for value in stored.values()}
    assert len(stored["token_hash"]) == 64


def test_knowing_a_conversations_id_does_not_use_up_its_holders_questions(settings, bzk_loaded):
    changes = {"rate_limit_client": "1000/minute", "rate_limit_conversation": "2/minute"}
    app = create_app(Settings(_env_file=None, **(settings.model_dump() | changes)))
    with TestClient(app) as mine, TestClient(app) as other:
        started = _started(mine)
        follow_up = {**QUESTION, "conversation_id": started["conversation_id"]}
        for _ in range(3):
            assert other.post("/api/v1/ask", json=follow_up).status_code == 404
        assert mine.post("/api/v1/ask", json=follow_up).status_code == 200
        assert mine.post("/api/v1/ask", json=follow_up).status_code == 200
        assert mine.post("/api/v1/ask", json=follow_up).status_code == 429, "the holder's own limit holds"
    app.state.services.db.dispose()
