"""Partner access (issue 23, docs/adr/0019): OAuth2 client credentials at loket's own token endpoint,
scopes per API, a quota per client, the operators' page, and the sandbox.

The token endpoint and the write scopes keep state, so they run on both databases; what goes through
the assistant (the `openai` client, the sandbox) runs on SQLite only, where the database plays no part.
"""

from __future__ import annotations

import base64
import shutil
import time
from datetime import timedelta
from urllib.parse import quote

import httpx
import openai
import pytest
from fastapi.testclient import TestClient

from loket import clock
from loket.i18n import message, plain
from loket.partners.texts import AGENCY_NEEDED, BAD_QUOTA, SANDBOX_READS_ONLY
from tests.web_support import OWN_PAGE, csrf_token

QUESTION = "Hoe vraag ik een parkeerkaart aan?"
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def register(app: TestClient, *scopes: str, **options):
    return app.app.state.services.partners.register(
        options.pop("name", "Stad Zonnedorp"), list(scopes), options.pop("quota", "600/minute"), **options
    )


def token(app: TestClient, registered, scope: str | None = None) -> str:
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    response = app.post("/oauth/token", data=form, auth=(registered.client.id, registered.secret))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()["access_token"]


def bearer(value: str) -> dict[str, str]:
    return {"authorization": f"Bearer {value}"}


def test_the_token_endpoint_speaks_rfc_6749(client):
    registered = register(client, "search", "ask")
    basic = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(registered.client.id, registered.secret),
    )
    assert basic.status_code == 200
    issued = basic.json()
    assert issued["token_type"] == "Bearer" and issued["scope"] == "search ask"
    assert issued["expires_in"] == 3600 and issued["access_token"].startswith("lkp_")

    posted = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": registered.client.id,
            "client_secret": registered.secret,
            "scope": "search",
        },
    )
    assert posted.status_code == 200 and posted.json()["scope"] == "search"

    def error(response: httpx.Response) -> tuple[int, str]:
        assert response.headers["cache-control"] == "no-store"
        return response.status_code, response.json()["error"]

    credentials = (registered.client.id, registered.secret)
    assert error(
        client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(registered.client.id, "wrong")
        )
    ) == (401, "invalid_client")
    assert error(client.post("/oauth/token", data={"grant_type": "password"}, auth=credentials)) == (
        400,
        "unsupported_grant_type",
    )
    assert error(
        client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "cases:write"},
            auth=credentials,
        )
    ) == (400, "invalid_scope")
    assert error(
        client.post(
            "/oauth/token", data={"grant_type": "client_credentials", "scope": "everything"}, auth=credentials
        )
    ) == (400, "invalid_scope")
    assert error(
        client.post("/oauth/token", json={"grant_type": "client_credentials"}, auth=credentials)
    ) == (400, "invalid_request")
    twice = "grant_type=client_credentials&grant_type=client_credentials"
    sent_twice = client.post(
        "/oauth/token",
        content=twice,
        auth=credentials,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert error(sent_twice) == (400, "invalid_request")
    # RFC 6749 §2.3.1: the id and secret are form-encoded before they go into Basic.
    encoded = base64.b64encode(f"{quote(registered.client.id)}:{quote(registered.secret)}".encode()).decode()
    assert (
        client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"authorization": f"Basic {encoded}"},
        ).status_code
        == 200
    )

    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["token_endpoint"] == "http://testserver/oauth/token"
    assert metadata["scopes_supported"] == ["search", "ask", "cases:write", "messages:write", "events:write"]


def test_a_token_opens_only_its_scopes_and_dies_with_its_client(client):
    registered = register(client, "search", "ask")
    searching = token(client, registered, scope="search")
    assert (
        client.get("/api/v1/search", params={"q": "parkeren"}, headers=bearer(searching)).status_code == 200
    )
    refused = client.post("/api/v1/ask", json={"question": QUESTION}, headers=bearer(searching))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "insufficient_scope"
    assert refused.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="ask"'

    assert client.app.state.services.partners.revoke(registered.client.id)
    gone = client.get("/api/v1/search", params={"q": "parkeren"}, headers=bearer(searching))
    assert gone.status_code == 401 and gone.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert (
        client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(registered.client.id, registered.secret),
        ).status_code
        == 401
    )
    # Without a partner token, the APIs stay open to everyone, as before: OpenAI clients always send
    # some API key, which is no partner's.
    assert client.get("/api/v1/search", params={"q": "parkeren"}).status_code == 200
    assert client.get("/api/v1/search", params={"q": "parkeren"}, headers=bearer("none")).status_code == 200
    assert (
        client.get("/api/v1/search", params={"q": "parkeren"}, headers=bearer("lkp_made_up")).status_code
        == 401
    )


def test_an_expired_token_is_refused(client, clock):
    registered = register(client, "search")
    issued = token(client, registered)
    clock.advance(3599)
    assert client.get("/api/v1/search", params={"q": "parkeren"}, headers=bearer(issued)).status_code == 200
    clock.advance(2)
    assert client.get("/api/v1/search", params={"q": "parkeren"}, headers=bearer(issued)).status_code == 401


def test_write_scopes_act_for_the_partners_agency_only(client):
    services = client.app.state.services
    services.cases.add_agency("Omgevingsloket", "OMV")
    case = {
        "name": "Omgevingsvergunning voor een tuinhuis",
        "type": "Omgevingsvergunning",
        "subjects": [{"role": "Aanvrager", "type": "person", "key": "78631200367"}],
        "status": {
            "code": "ONTVANGEN",
            "phase": "Indiening",
            "details": "Ontvangen.",
            "action_needed": False,
        },
    }
    writer = token(client, register(client, "cases:write", name="Omgevingsapp", agency="Omgevingsloket"))
    assert client.put("/api/v1/cases/OMV/OMV-1", json=case, headers=bearer(writer)).status_code in (200, 201)
    assert client.put("/api/v1/cases/BOUW/B-1", json=case, headers=bearer(writer)).status_code == 403

    reader = token(client, register(client, "search", name="Zoekapp"))
    refused = client.put("/api/v1/cases/OMV/OMV-2", json=case, headers=bearer(reader))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"
    assert client.put("/api/v1/cases/OMV/OMV-2", json=case, headers=bearer("lkp_unknown")).status_code == 401


def test_registration_refuses_what_cannot_work_in_the_operators_language(client):
    partners = client.app.state.services.partners
    refusals = [
        ((["cases:write"], "600/minute"), {}, message(AGENCY_NEEDED, "nl", scopes="cases:write")),
        ((["search", "cases:write"], "600/minute"), {"sandbox": True}, message(SANDBOX_READS_ONLY, "nl")),
        ((["search"], "veel"), {}, message(BAD_QUOTA, "nl", quota="veel")),
    ]
    for (scopes, quota), options, text in refusals:
        with pytest.raises(Exception) as refused:
            partners.register("Stad Zonnedorp", scopes, quota, language="nl", **options)
        assert refused.value.message == text
    assert partners.clients() == []


@SQLITE
def test_the_openai_client_with_a_token_gets_answers_403_without_the_scope_and_429_past_its_quota(demo_app):
    demo_app.app.state.services.search.sync()
    asking = token(demo_app, register(demo_app, "ask", quota="2/minute"))
    client = openai.OpenAI(
        base_url="http://testserver/v1", api_key=asking, http_client=demo_app, max_retries=0
    )
    raw = client.chat.completions.with_raw_response.create(
        model="loket", messages=[{"role": "user", "content": QUESTION}]
    )
    assert raw.parse().model_extra["loket"]["status"] == "answered"
    assert raw.headers["ratelimit-limit"] == "2" and raw.headers["ratelimit-remaining"] == "1"
    client.chat.completions.create(model="loket", messages=[{"role": "user", "content": QUESTION}])
    with pytest.raises(openai.RateLimitError) as exhausted:
        client.chat.completions.create(model="loket", messages=[{"role": "user", "content": QUESTION}])
    assert int(exhausted.value.response.headers["retry-after"]) > 0

    searching = token(demo_app, register(demo_app, "search", name="Zoekapp"))
    unscoped = openai.OpenAI(
        base_url="http://testserver/v1", api_key=searching, http_client=demo_app, max_retries=0
    )
    with pytest.raises(openai.PermissionDeniedError):
        unscoped.chat.completions.create(
            model="loket", messages=[{"role": "user", "content": QUESTION}], stream=True
        )


@SQLITE
def test_a_sandbox_client_is_answered_from_the_demo_catalogue_apart_from_the_real_conversations(
    vac_loaded, client, settings, sqlite_template
):
    """The app's own catalogue here is Rijksoverheid's, not the demo catalogue; the sandbox keeps its own
    records. Its database starts from the tests' template, which holds the demo's vectors: otherwise the
    first request would embed the whole demo catalogue."""
    (settings.data_dir / "sandbox").mkdir()
    shutil.copyfile(sqlite_template, settings.data_dir / "sandbox" / "loket.db")
    services = client.app.state.services
    services.search.sync()
    real_titles = {item.title for item in services.catalog.active_items()}
    assert real_titles
    sandbox = token(client, register(client, "ask", "search", sandbox=True))
    preparing = client.post("/api/v1/ask", json={"question": QUESTION}, headers=bearer(sandbox))
    assert preparing.status_code == 503 and preparing.headers["retry-after"] == "30"
    for _ in range(600):
        asked = client.post("/api/v1/ask", json={"question": QUESTION}, headers=bearer(sandbox))
        if asked.status_code != 503:
            break
        time.sleep(0.1)
    assert asked.status_code == 200, asked.text
    answer = asked.json()
    assert answer["status"] == "answered" and answer["citations"]
    assert not {citation["title"] for citation in answer["citations"]} & real_titles
    found = client.get("/api/v1/search", params={"q": "parkeerkaart"}, headers=bearer(sandbox)).json()[
        "results"
    ]
    assert found and all(result["title"] not in real_titles for result in found)
    # The real app has no such conversation: it lives in the sandbox's database.
    assert services.assistant.conversations.messages([answer["message_id"]]) == {}


def test_operators_register_see_the_secret_once_and_revoke_on_their_page(demo_app):
    client = demo_app
    assert client.get("/beheer/partners", follow_redirects=False).status_code == 303
    client.post("/auth/demo-login", json={"person": "jan-janssens"})
    assert client.get("/beheer/partners").status_code == 403
    client.cookies.clear()
    assert client.post("/auth/demo-login", json={"person": "lotte-maes"}).status_code == 200
    page = client.get("/beheer/partners?lang=nl")
    assert page.status_code == 200
    form = {"csrf_token": csrf_token(page.text), "name": "Stad Zonnedorp", "scope-ask": "1", "quota": "veel"}
    refused = client.post("/beheer/partners?lang=nl", data=form, headers=OWN_PAGE)
    assert refused.status_code == 400
    assert plain("nl", "Check the client") in refused.text
    assert client.app.state.services.partners.clients() == []

    form["quota"] = "100/minute"
    made = client.post("/beheer/partners?lang=nl", data=form, headers=OWN_PAGE)
    assert made.status_code == 200
    [registered] = client.app.state.services.partners.clients()
    assert registered.id in made.text and "lks_" in made.text
    assert "lks_" not in client.get("/beheer/partners?lang=nl").text, "the secret is shown once"

    revoke = {"csrf_token": csrf_token(made.text)}
    gone = client.post(
        f"/beheer/partners/{registered.id}/intrekken?lang=nl",
        data=revoke,
        headers=OWN_PAGE,
        follow_redirects=False,
    )
    assert gone.status_code == 303
    assert client.app.state.services.partners.clients()[0].revoked


@SQLITE
def test_what_partners_apps_ask_is_counted_apart_in_the_figures(client):
    """A partner's question counts on the channel `partner`, whatever channel the request says."""
    asking = token(client, register(client, "ask"), scope="ask")
    for headers, said in (({}, "web"), (bearer(asking), "web"), (bearer(asking), "api")):
        asked = client.post("/api/v1/ask", json={"question": QUESTION, "channel": said}, headers=headers)
        assert asked.status_code == 200, asked.text
    openai.OpenAI(
        base_url="http://testserver/v1", api_key=asking, http_client=client
    ).chat.completions.create(model="loket", messages=[{"role": "user", "content": QUESTION}])
    conversations = client.app.state.services.assistant.conversations
    now = clock.now()  # the figures count whole hours: ask for those around now
    figures = conversations.figures(now - timedelta(hours=2), now + timedelta(hours=2))
    assert figures.channels == {"web": 1, "partner": 3}
