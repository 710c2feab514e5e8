"""The chat without JavaScript, as a browser posts its forms: ask, follow up, rate, give a reason, talk to
a person, start again. CSRF on every form. On SQLite and PostgreSQL, through the real assistant."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from loket.assistant.holders import COOKIE as CONVERSATION_COOKIE
from loket.config import Settings
from loket.web.app import create_app
from loket.web.security import CSRF_COOKIE
from tests.web_support import csrf_token, demo_settings, load_demo

BROWSER = {"Accept": "text/html", "Sec-Fetch-Site": "same-origin"}
FORM = {**BROWSER, "Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def browser(client) -> TestClient:
    load_demo(client.app)
    return client


def _post(client, path: str, fields: dict, token: str | None = None, **headers):
    data = {"csrf_token": token, **fields} if token else fields
    return client.post(path, data=data, headers={**FORM, **headers}, follow_redirects=False)


def _conversation(client) -> dict:
    """The conversation the browser holds: the page names it, the API shows it to the cookie's holder."""
    page = client.get("/", headers=BROWSER).text
    conversation_id = re.search(r'data-conversation="([^"]*)"', page).group(1)
    return client.get(f"/api/v1/conversations/{conversation_id}").json()


def test_a_whole_conversation_without_javascript(browser):
    start = browser.get("/", params={"lang": "en"}, headers=BROWSER)
    token = csrf_token(start.text)
    assert browser.cookies[CSRF_COOKIE] == token
    cookie = start.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie

    stolen = {"question": "My identity card was stolen, what should I do?"}
    asked = _post(browser, "/vraag?lang=en", stolen, token)
    assert asked.status_code == 303
    first = _conversation(browser)["messages"][0]
    assert asked.headers["location"] == f"/?lang=en#m-{first['id']}"
    assert "HttpOnly" in asked.headers["set-cookie"] and "SameSite=lax" in asked.headers["set-cookie"]
    assert first["status"] == "answered"

    page = browser.get(asked.headers["location"], headers=BROWSER).text
    assert f'<li class="exchange" id="m-{first["id"]}"' in page
    assert "My identity card was stolen, what should I do?" in page
    assert first["answer"].split("\n")[0][:60] in page
    citation = first["citations"][0]["url"]
    path, anchor = citation.split("#")
    assert f'href="{path}?lang=en#{anchor}"' in page, "citations open the cited section"
    assert '<abbr class="ai-badge" title="artificial intelligence">A.I.</abbr>' in page
    assert "This answer comes from an A.I. assistant." in page

    followed = _post(browser, "/vraag?lang=en", {"question": "And how much does a new one cost?"}, token)
    assert followed.status_code == 303
    assert len(_conversation(browser)["messages"]) == 2

    rated = _post(browser, "/feedback?lang=en", {"message_id": first["id"], "rating": "down"}, token)
    assert rated.headers["location"] == f"/?lang=en#m-{first['id']}"
    page = browser.get("/?lang=en", headers=BROWSER).text
    assert "Thank you for your feedback." in page
    assert f'<label for="reason-{first["id"]}">Would you tell us why? (optional)</label>' in page
    reason = {"message_id": first["id"], "rating": "down", "reason": "Mail jan@example.be, it was wrong"}
    _post(browser, "/feedback?lang=en", reason, token)
    feedback = _conversation(browser)["messages"][0]["feedback"]
    assert feedback["rating"] == "down"
    assert "jan@example.be" not in feedback["reason"] and "it was wrong" in feedback["reason"]

    handoff = _post(browser, "/vraag?lang=en", {"question": "I would like to talk to a person."}, token)
    assert handoff.status_code == 303
    last = _conversation(browser)["messages"][-1]
    assert last["status"] == "handoff" and "1700" in last["answer"]

    restarted = _post(browser, "/gesprek/nieuw?lang=en", {}, token)
    assert restarted.status_code == 303 and CONVERSATION_COOKIE not in browser.cookies
    assert 'class="exchange"' not in browser.get("/?lang=en", headers=BROWSER).text.split("<template")[0]


@pytest.mark.parametrize(
    ("language", "question"),
    [
        ("nl", "Ik wil met een medewerker spreken."),
        ("fr", "Je voudrais parler à une personne."),
        ("de", "Ich möchte mit einem Mitarbeiter sprechen."),
    ],
)
def test_the_talk_to_a_person_button_hands_off_in_every_language(browser, language, question):
    page = browser.get("/", params={"lang": language}, headers=BROWSER).text
    assert f'name="question" value="{question}"' in page.split("<template")[1], "the button's own text"
    _post(browser, f"/vraag?lang={language}", {"question": question}, csrf_token(page))
    assert _conversation(browser)["messages"][-1]["status"] == "handoff"


def test_forms_refuse_posts_without_the_right_token(browser):
    token = csrf_token(browser.get("/", headers=BROWSER).text)
    question = {"question": "Hoe vraag ik een eID aan?"}
    for response in (
        _post(browser, "/vraag", question),
        _post(browser, "/vraag", question, "forged-" + token[7:]),
        _post(browser, "/vraag", question, token, **{"Sec-Fetch-Site": "cross-site"}),
        _post(browser, "/gesprek/nieuw", {}),
        _post(browser, "/feedback", {"message_id": "x", "rating": "up"}),
    ):
        assert response.status_code == 403
        assert "Dit formulier is verlopen" in response.text
    assert CONVERSATION_COOKIE not in browser.cookies, "nothing was asked"
    browser.cookies.delete(CSRF_COOKIE)
    assert _post(browser, "/vraag", question, token).status_code == 403, "a token without its cookie"


def test_feedback_only_on_your_own_conversation(browser):
    token = csrf_token(browser.get("/", headers=BROWSER).text)
    with TestClient(browser.app) as someone_else:
        other = someone_else.post("/api/v1/ask", json={"question": "Hoe vraag ik een eID aan?"}).json()
    response = _post(browser, "/feedback", {"message_id": other["message_id"], "rating": "up"}, token)
    assert response.status_code == 404
    held = {"Loket-Conversation-Token": other["conversation_token"]}
    stored = browser.get(f"/api/v1/conversations/{other['conversation_id']}", headers=held).json()
    assert stored["messages"][0]["feedback"] is None


def test_a_bad_question_comes_back_with_the_reason_and_the_text_kept(browser):
    token = csrf_token(browser.get("/", headers=BROWSER).text)
    response = _post(browser, "/vraag?lang=fr", {"question": "x" * 1001}, token)
    assert response.status_code == 422
    assert "Votre question est trop longue" in response.text
    assert "x" * 1001 + "</textarea>" in response.text


def test_the_form_is_rate_limited_like_the_api(sqlite_template, tmp_path):
    settings: Settings = demo_settings(sqlite_template, tmp_path, rate_limit_client="2/minute")
    app = create_app(settings)
    load_demo(app)
    with TestClient(app) as client:
        token = csrf_token(client.get("/", headers=BROWSER).text)
        question = {"question": "eID aanvragen"}
        statuses = [_post(client, "/vraag", question, token).status_code for _ in range(3)]
        limited = _post(client, "/vraag", {"question": "eID aanvragen"}, token)
    app.state.services.db.dispose()
    assert statuses == [303, 303, 429]
    assert "U stelt veel vragen kort na elkaar" in limited.text
    assert int(limited.headers["retry-after"]) > 0
