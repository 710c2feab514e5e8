"""Logging in with a real OpenID provider (oidc-provider under Node, tests/oidc.py) and the demo login,
profiles, mandates, roles and the access log, at the HTTP level, on SQLite and PostgreSQL.

The attacks of the identity issue are each tried here: session fixation, CSRF, open redirects,
tampered state or nonce, expired tokens and sessions, a profile not held, a mandate outside its scope
or period. Each must be refused with a clear message, leave nothing changed, and be logged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from loket.config import Settings
from loket.identity.oidc import OidcFailed
from loket.identity.schemas import Forbidden, Login, Role
from loket.logging import configure as configure_logging
from loket.web.account import safe_return
from loket.web.app import create_app
from tests.oidc import (
    CITIZEN,
    DEMO_ACCOUNTS,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    ENTREPRENEUR,
    Provider,
    cancel_login_over_http,
    confirm_logout_over_http,
    demo_client,
    login_over_http,
    oidc_demo,  # noqa: F401
    oidc_provider,
)
from tests.web_support import OWN_PAGE, csrf_token

AN, JAN, MARIE = "an-peeters", "jan-janssens", "marie-dubois"
JSON = {"content-type": "application/json"}


def _app(settings: Settings, **overrides) -> TestClient:
    app = create_app(Settings(_env_file=None, **(settings.model_dump() | overrides)))
    app.state.services.db.upgrade()
    if app.state.services.settings.demo_login:
        app.state.services.identity.demo.load()
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def demo(settings) -> Iterator[TestClient]:
    with _app(settings, demo=True) as client:
        yield client
    client.app.state.services.db.dispose()


@pytest.fixture
def oidc(settings, oidc_demo: Provider) -> Iterator[TestClient]:  # noqa: F811
    with _oidc_app(settings, oidc_demo) as client:
        yield client
    client.app.state.services.db.dispose()


def _oidc_app(settings: Settings, provider: Provider, **overrides) -> TestClient:
    return _app(
        settings,
        oidc_issuer=provider.issuer,
        oidc_client_id=DEMO_CLIENT_ID,
        oidc_client_secret=DEMO_CLIENT_SECRET,
        **overrides,
    )


def login_at_provider(client: TestClient, account: dict, return_to: str = "/") -> httpx.Response:
    """The whole browser round trip: loket, the provider's login page, and back to loket's callback."""
    start = client.get("/auth/login", params={"return_to": return_to})
    assert start.status_code == 303
    with httpx.Client() as browser:
        back = login_over_http(browser, start.headers["location"], account["sub"])
    return client.get(_path(back.headers["location"]))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def demo_login(client: TestClient, person: str) -> dict:
    response = client.post("/auth/demo-login", json={"person": person})
    assert response.status_code == 200, response.text
    return response.json()


def _logs(capsys) -> str:
    captured = capsys.readouterr()
    return captured.out + captured.err


# OpenID Connect


def test_login_with_the_provider_maps_the_flemish_claims(oidc):
    response = login_at_provider(oidc, ENTREPRENEUR, return_to="/mijn-profiel")
    assert response.status_code == 303
    assert response.headers["location"] == "/mijn-profiel"
    me = oidc.get("/api/v1/me").json()
    claims = ENTREPRENEUR["claims"]
    assert me["person"]["name"] == claims["name"]
    assert me["person"]["national_number"] == claims["rrn"]
    company = {"id": f"ea:{claims['vo_orgcode']}", "kind": "EA", "name": claims["vo_orgnaam"]}
    assert me["profiles"] == [{"id": "self", "kind": "BUR", "name": claims["name"]}, company]
    assert me["active_profile"] == company  # chosen at the provider


def test_the_session_cookie_is_http_only_and_same_site(oidc):
    response = login_at_provider(oidc, CITIZEN)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("loket_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "loket_login=" in " ".join(response.headers.get_list("set-cookie"))  # the attempt cookie goes


def test_logout_ends_the_session_here_and_at_the_provider(oidc, oidc_demo):  # noqa: F811
    login_at_provider(oidc, CITIZEN)
    page = oidc.get("/mijn-profiel?lang=en")
    response = oidc.post("/auth/logout", data={"csrf_token": csrf_token(page.text)}, headers=OWN_PAGE)
    assert response.status_code == 303
    end_session = response.headers["location"]
    assert end_session.startswith(oidc_demo.end_session_endpoint)
    assert parse_qs(urlsplit(end_session).query)["client_id"] == [DEMO_CLIENT_ID]  # no ID token kept
    assert oidc.get("/api/v1/me").status_code == 401
    with httpx.Client() as browser:
        back = confirm_logout_over_http(browser, end_session)
    assert back.headers["location"] == "http://testserver/"


def test_a_new_login_never_reuses_a_session_fixed_before_it(oidc, capsys):
    oidc.cookies.set("loket_session", "chosen-by-an-attacker", domain="testserver.local")
    login_at_provider(oidc, CITIZEN)
    token = oidc.cookies.get("loket_session")
    assert token and token != "chosen-by-an-attacker"
    login_at_provider(oidc, ENTREPRENEUR)  # a second login in the same browser
    assert oidc.cookies.get("loket_session") != token
    oidc.cookies.set("loket_session", token, domain="testserver.local")
    assert oidc.get("/api/v1/me").status_code == 401  # the first session ended with the second login


def test_a_tampered_or_replayed_state_is_refused(oidc, capsys):
    start = oidc.get("/auth/login")
    with httpx.Client() as browser:
        back = login_over_http(browser, start.headers["location"], CITIZEN["sub"])
    query = parse_qs(urlsplit(back.headers["location"]).query)
    tampered = oidc.get("/auth/callback", params={"code": query["code"][0], "state": "x" + query["state"][0]})
    assert tampered.status_code == 400
    assert "Het aanmelden is niet gelukt" in tampered.text
    assert "loket_session" not in oidc.cookies
    # The attempt was used up by the refused try: the genuine answer cannot be replayed after it.
    replay = oidc.get(_path(back.headers["location"]))
    assert replay.status_code == 400
    assert "loket_session" not in oidc.cookies
    assert "identity.login_refused" in _logs(capsys)


def test_a_callback_in_another_browser_is_refused(oidc, settings, oidc_demo):  # noqa: F811
    """Login CSRF: an attacker's own code and state, sent to a victim, log the victim into nothing."""
    start = oidc.get("/auth/login")
    with httpx.Client() as browser:
        back = login_over_http(browser, start.headers["location"], CITIZEN["sub"])
    with _oidc_app(settings, oidc_demo) as victim:
        response = victim.get(_path(back.headers["location"]))
        assert response.status_code == 400
        assert victim.get("/api/v1/me").status_code == 401
        victim.app.state.services.db.dispose()


def test_a_cancelled_login_says_so(oidc):
    start = oidc.get("/auth/login?lang=en")
    with httpx.Client() as browser:
        back = cancel_login_over_http(browser, start.headers["location"])
    assert "error=access_denied" in back.headers["location"]
    response = oidc.get(_path(back.headers["location"]) + "&lang=en")
    assert response.status_code == 400
    assert "You cancelled logging in" in response.text


def test_a_mandate_is_used_after_an_openid_login(oidc):
    """The mandator logs in too (a session made directly: one provider account suffices here)."""
    identity = oidc.app.state.services.identity
    _, mandator = identity.sessions.sign_in(
        Login(subject="test#mother", name="Maria Peeters", national_number="51680534681", method="oidc")
    )
    claims = CITIZEN["claims"]
    identity.mandates.grant(mandator, claims["rrn"], claims["name"], [], date.today(), None, "en")
    login_at_provider(oidc, CITIZEN)
    mandate = next(p for p in oidc.get("/api/v1/me").json()["profiles"] if p["kind"] == "MANDATE")
    assert mandate["name"] == "Maria Peeters"
    assert oidc.post("/api/v1/me/profile", json={"profile": mandate["id"]}).status_code == 200
    assert [(a.actor, a.why) for a in identity.access_log.accesses(mandator)] == [
        (claims["name"], "mandate_use")
    ]


def id_token_at_login(client: TestClient, account: dict, monkeypatch) -> str:
    """Logs in and returns the ID token loket checked on the way: loket itself keeps none."""
    oidc = client.app.state.services.oidc
    validate, seen = oidc.validate, []

    def spy(id_token: str, nonce: str) -> dict:
        seen.append(id_token)
        return validate(id_token, nonce)

    monkeypatch.setattr(oidc, "validate", spy)
    login_at_provider(client, account)
    return seen[-1]


def test_an_id_token_with_another_nonce_or_a_changed_claim_is_refused(oidc, monkeypatch):
    id_token = id_token_at_login(oidc, CITIZEN, monkeypatch)
    services = oidc.app.state.services
    nonce = json.loads(_payload(id_token))["nonce"]
    assert services.oidc.validate(id_token, nonce)["sub"] == CITIZEN["sub"]
    with pytest.raises(OidcFailed, match="InvalidClaimError"):
        services.oidc.validate(id_token, "another-nonce")
    header, _, signature = id_token.split(".")
    forged = _b64(json.loads(_payload(id_token)) | {"rrn": "85671500157"})
    with pytest.raises(OidcFailed, match="BadSignatureError"):
        services.oidc.validate(f"{header}.{forged}.{signature}", nonce)


def test_an_expired_id_token_is_refused(settings, clock, monkeypatch):
    clients = [demo_client("http://testserver")]
    with (
        oidc_provider(DEMO_ACCOUNTS, clients, id_token_ttl=1) as provider,
        _oidc_app(settings, provider, oidc_clock_skew=0) as client,
    ):
        id_token = id_token_at_login(client, CITIZEN, monkeypatch)
        services = client.app.state.services
        clock.advance(2)
        with pytest.raises(OidcFailed, match="ExpiredTokenError"):
            services.oidc.validate(id_token, json.loads(_payload(id_token))["nonce"])
        services.db.dispose()


def _payload(token: str) -> bytes:
    import base64

    part = token.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64(claims: dict) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("asked", "kept"),
    [
        ("/mijn-profiel", "/mijn-profiel"),
        ("/zoeken?q=paspoort", "/zoeken?q=paspoort"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/%0d%0aSet-Cookie:x=y", "/%0d%0aSet-Cookie:x=y"),  # stays a path on loket, encoded
        ("/\r\nSet-Cookie: x=y", "/"),
        (None, "/"),
    ],
)
def test_return_addresses_stay_on_loket(asked, kept):
    assert safe_return(asked) == kept


def test_an_open_redirect_through_the_login_is_refused_and_logged(oidc, demo, capsys):
    configure_logging("INFO")
    response = login_at_provider(oidc, CITIZEN, return_to="https://evil.example/phish")
    assert response.headers["location"] == "/"
    page = demo.get("/aanmelden?lang=en")
    form = {"csrf_token": csrf_token(page.text), "person": AN, "return_to": "//evil.example"}
    assert demo.post("/auth/demo-login", data=form, headers=OWN_PAGE).headers["location"] == "/"
    logs = _logs(capsys)
    assert logs.count("identity.return_refused") >= 2
    assert "evil.example" not in logs


# Demo login


def test_demo_persons_and_login_follow_the_contract(demo):
    persons = demo.get("/auth/demo-persons").json()["persons"]
    assert {"id": AN, "name": "An Peeters"} in persons
    assert demo.get("/api/v1/me").status_code == 401
    me = demo_login(demo, AN)
    assert me == demo.get("/api/v1/me").json()
    assert me["person"] == {"id": AN, "name": "An Peeters", "national_number": "85671500157"}
    assert [p["kind"] for p in me["profiles"]] == ["BUR", "EA", "MANDATE"]
    assert me["active_profile"]["kind"] == "BUR"


def test_demo_login_takes_the_login_page_form(demo):
    page = demo.get("/aanmelden?lang=en")
    assert "Log in as An Peeters" in page.text
    form = {"csrf_token": csrf_token(page.text), "person": MARIE, "return_to": "/mijn-profiel"}
    response = demo.post("/auth/demo-login", data=form, headers=OWN_PAGE)
    assert response.status_code == 303
    assert response.headers["location"] == "/mijn-profiel"
    assert "Voetbalclub De Ster vzw" in demo.get("/mijn-profiel?lang=en").text


def test_demo_login_refuses_unknown_persons_clearly(demo):
    response = demo.post("/auth/demo-login", json={"person": "nobody"}, headers={"accept-language": "en"})
    assert response.status_code == 400
    assert (
        response.json()["error"]["message"]
        == "That demo person does not exist. Choose a person from the list."
    )
    assert demo.post("/auth/demo-login", json=["an-peeters"]).status_code == 400
    assert "loket_session" not in demo.cookies


@pytest.mark.parametrize(
    "overrides",
    [{}, {"demo": True, "oidc_issuer": "http://127.0.0.1:9/", "oidc_client_id": "x"}],
    ids=["demo off", "a real provider configured"],
)
def test_demo_login_exists_only_on_the_demo_without_a_provider(settings, overrides):
    with _app(settings, **overrides) as client:
        assert client.get("/auth/demo-persons").status_code == 404
        assert client.post("/auth/demo-login", json={"person": AN}).status_code == 404
        client.app.state.services.db.dispose()


def test_production_never_runs_the_demo():
    with pytest.raises(ValueError, match="LOKET_DEMO"):
        Settings(env="production", demo=True, _env_file=None)


# Sessions


def test_a_session_ends_after_its_idle_timeout(settings, clock):
    with _app(settings, demo=True, session_idle_timeout=300) as client:
        demo_login(client, JAN)
        assert client.get("/api/v1/me").status_code == 200
        clock.advance(301)
        response = client.get("/api/v1/me", headers={"accept-language": "en"})
        assert response.status_code == 401
        assert response.json()["error"]["message"].startswith("You are not logged in")
        client.app.state.services.db.dispose()


def test_a_session_ends_at_its_absolute_limit_however_busy(settings, clock):
    with _app(settings, demo=True, session_idle_timeout=300, session_max_age=1000) as client:
        demo_login(client, JAN)
        for _ in range(4):  # a request every 200 s: never idle for long
            clock.advance(200)
            assert client.get("/api/v1/me").status_code == 200
        clock.advance(201)
        assert client.get("/api/v1/me").status_code == 401
        client.app.state.services.db.dispose()


def test_the_database_holds_no_usable_session_token(demo):
    demo_login(demo, JAN)
    token = demo.cookies.get("loket_session")
    from sqlalchemy import text

    with demo.app.state.services.db.engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM identity_sessions")).scalars().all()
    assert token not in stored
    assert len(stored) == 1 and len(stored[0]) == 64


# CSRF and JSON


def test_forms_without_the_csrf_token_are_refused_and_logged(demo, capsys):
    configure_logging("INFO")
    assert demo.post("/auth/demo-login", data={"person": AN}).status_code == 403
    demo_login(demo, AN)
    assert demo.post("/profiel", data={"profile": "ea:0712345630"}).status_code == 403
    assert demo.post("/auth/logout", data={}).status_code == 403
    me = demo.get("/api/v1/me").json()
    assert me["active_profile"]["id"] == "self"  # nothing changed, still logged in
    assert _logs(capsys).count("web.csrf_refused") == 3


def test_api_changes_with_the_session_cookie_must_be_json(demo):
    demo_login(demo, AN)
    response = demo.post(
        "/api/v1/me/profile", data={"profile": "ea:0712345630"}, headers={"accept-language": "en"}
    )
    assert response.status_code == 403
    assert "as JSON" in response.json()["error"]["message"]
    assert demo.get("/api/v1/me").json()["active_profile"]["id"] == "self"


def test_the_api_grants_no_other_origin_a_preflight(demo):
    response = demo.options(
        "/api/v1/me/profile",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers


# Profiles


def test_switching_profile_changes_the_active_one(demo):
    demo_login(demo, AN)
    me = demo.post("/api/v1/me/profile", json={"profile": "ea:0712345630"}).json()
    assert me["active_profile"] == {"id": "ea:0712345630", "kind": "EA", "name": "Bakkerij Peeters BV"}
    assert demo.get("/api/v1/me").json()["active_profile"]["kind"] == "EA"


def test_switching_into_a_profile_not_held_is_refused_and_logged(demo, capsys):
    configure_logging("INFO")
    demo_login(demo, MARIE)
    response = demo.post(
        "/api/v1/me/profile", json={"profile": "ea:0712345630"}, headers={"accept-language": "en"}
    )
    assert response.status_code == 403
    assert (
        response.json()["error"]["message"]
        == "You cannot act in that profile. Choose one of your own profiles."
    )
    assert demo.get("/api/v1/me").json()["active_profile"]["id"] == "self"
    logs = _logs(capsys)
    assert "identity.profile_refused" in logs
    assert "90620400268" not in logs  # the national number never reaches a log


def test_the_assistant_asks_for_a_login_only_when_anonymous(demo):
    question = {"question": "Hoe ver staat mijn aanvraag voor een omgevingsvergunning?"}
    assert demo.post("/api/v1/ask", json=question).json()["status"] == "needs_login"
    demo_login(demo, JAN)
    assert demo.post("/api/v1/ask", json=question).json()["status"] != "needs_login"


# Mandates


def test_a_mandate_gives_a_profile_whose_every_use_the_mandator_sees(demo, settings, capsys):
    configure_logging("INFO")
    demo_login(demo, MARIE)
    granted = demo.post(
        "/api/v1/me/mandates",
        json={"mandatary": "95.71.08-005.16", "name": "Lotte Maes", "case_types": ["bouwvergunning"]},
    )
    assert granted.status_code == 201
    mandate = granted.json()
    assert mandate["case_types"] == ["bouwvergunning"]
    assert demo.get("/api/v1/me/mandates").json()["granted"] == [mandate]

    demo_login(demo, "lotte-maes")
    me = demo.get("/api/v1/me").json()
    profile = next(p for p in me["profiles"] if p["kind"] == "MANDATE")
    assert profile == {"id": f"mandate:{mandate['id']}", "kind": "MANDATE", "name": "Marie Dubois"}
    demo.post("/api/v1/me/profile", json={"profile": profile["id"]})

    identity = demo.app.state.services.identity
    lotte = identity.sessions.signed_in(demo.cookies.get("loket_session"))
    marie_subject = identity.mandates.authorize(lotte, "bouwvergunning", "en")
    assert marie_subject.startswith("person:")
    with pytest.raises(Forbidden, match="does not cover this kind of case"):
        identity.mandates.authorize(lotte, "kinderbijslag", "en")
    assert "identity.mandate_refused" in _logs(capsys)

    demo_login(demo, MARIE)
    log = demo.get("/api/v1/me/access-log").json()
    assert {"by": "Lotte Maes", "what": "mandate", "why": "mandate_use"} in [
        {k: entry[k] for k in ("by", "what", "why")} for entry in log
    ]


def test_a_revoked_mandate_stops_at_once(demo):
    demo_login(demo, AN)
    mandate_profile = next(p for p in demo.get("/api/v1/me").json()["profiles"] if p["kind"] == "MANDATE")
    demo.post("/api/v1/me/profile", json={"profile": mandate_profile["id"]})
    an_session = demo.cookies.get("loket_session")
    identity = demo.app.state.services.identity

    with _app(demo.app.state.services.settings) as jans_browser:
        demo_login(jans_browser, JAN)
        mandate_id = mandate_profile["id"].removeprefix("mandate:")
        assert jans_browser.delete(f"/api/v1/me/mandates/{mandate_id}", headers=JSON).status_code == 204
        jans_browser.app.state.services.db.dispose()

    an = identity.sessions.signed_in(an_session)
    assert an.active.kind == "BUR"  # the mandate profile is gone; she acts as herself again
    assert demo.post("/api/v1/me/profile", json={"profile": mandate_profile["id"]}).status_code == 403


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        (date.today() + timedelta(days=3), None),
        (date.today() - timedelta(days=9), date.today() - timedelta(days=1)),
    ],
    ids=["not started", "ended"],
)
def test_a_mandate_outside_its_period_gives_no_profile(demo, starts, ends):
    demo_login(demo, MARIE)
    body = {"mandatary": "95710800516", "name": "Lotte Maes", "starts_on": starts.isoformat()}
    if ends:
        body["ends_on"] = ends.isoformat()
    mandate = demo.post("/api/v1/me/mandates", json=body).json()
    demo_login(demo, "lotte-maes")
    assert "MANDATE" not in [p["kind"] for p in demo.get("/api/v1/me").json()["profiles"]]
    response = demo.post("/api/v1/me/profile", json={"profile": f"mandate:{mandate['id']}"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"mandatary": "12345678901", "name": "X"}, "not a valid national number"),
        ({"mandatary": "90620400268", "name": "Marie"}, "cannot give a mandate to yourself"),
        ({"mandatary": "95710800516", "name": "  "}, "Fill in the name"),
        (
            {"mandatary": "95710800516", "name": "L", "starts_on": "2027-01-02", "ends_on": "2027-01-01"},
            "end date is before the start date",
        ),
    ],
)
def test_bad_mandates_are_refused_clearly_and_change_nothing(demo, body, message):
    demo_login(demo, MARIE)
    response = demo.post("/api/v1/me/mandates", json=body, headers={"accept-language": "en"})
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert demo.get("/api/v1/me/mandates").json()["granted"] == []


def test_mandates_are_managed_only_as_oneself(demo):
    demo_login(demo, AN)
    demo.post("/api/v1/me/profile", json={"profile": "ea:0712345630"})
    body = {"mandatary": "95710800516", "name": "Lotte Maes"}
    assert demo.post("/api/v1/me/mandates", json=body).status_code == 403
    assert demo.get("/api/v1/me/mandates").status_code == 403


def test_someone_elses_mandate_cannot_be_revoked(demo):
    demo_login(demo, AN)
    jans = next(p for p in demo.get("/api/v1/me").json()["profiles"] if p["kind"] == "MANDATE")
    response = demo.delete(f"/api/v1/me/mandates/{jans['id'].removeprefix('mandate:')}", headers=JSON)
    assert response.status_code == 404
    assert "MANDATE" in [p["kind"] for p in demo.get("/api/v1/me").json()["profiles"]]


# Roles and route access


def test_roles_are_checked_on_the_admin_api(demo):
    assert demo.get("/api/v1/admin/roles").status_code == 401
    demo_login(demo, JAN)
    assert demo.get("/api/v1/admin/roles").status_code == 403
    demo_login(demo, "lotte-maes")  # the demo's operator
    roles = demo.get("/api/v1/admin/roles").json()
    assert {"national_number": "95710800516", "role": "operator"} in roles


def test_a_granted_role_applies_from_the_next_request(demo):
    demo_login(demo, JAN)
    identity = demo.app.state.services.identity
    assert identity.roles.grant("78.63.12-003.67", Role.OPERATOR)
    assert "operator" in demo.get("/api/v1/me").json()["roles"]
    assert identity.roles.revoke("78631200367", Role.OPERATOR)
    assert demo.get("/api/v1/admin/roles").status_code == 403


# Routes anyone may use; every other route must refuse an anonymous request.
PUBLIC = {
    "/",
    "/zoeken",
    "/diensten/{item_id}",
    "/over-deze-assistent",
    "/toegankelijkheid",
    "/privacy",
    "/widget",
    "/widget.js",
    "/healthz",
    "/readyz",
    "/metrics",
    "/vraag",
    "/feedback",
    "/gesprek/nieuw",
    "/api/v1/search",
    "/id/diensten/{item_id}",
    "/ldes/diensten",
    "/id/catalogus",
    "/api/v1/ask",
    "/v1/models",
    "/v1/chat/completions",
    "/api/v1/feedback",
    "/api/v1/conversations/{conversation_id}",
    "/api/v1/events/conversations/{conversation_id}",
    "/aanmelden",
    "/auth/login",
    "/auth/callback",
    "/auth/logout",
    "/auth/demo-persons",
    "/auth/demo-login",
    "/auth/passkey/unlock-options",  # opening loket with a passkey, before any session
    "/auth/passkey/unlock",
    "/openapi.json",
    "/api/docs",
    "/docs/oauth2-redirect",
    "/static",
    "/controleer-bericht",
    "/api/v1/verify",
    "/api/v1/push/key",
    "/sw.js",
    "/manifest.webmanifest",
    "/offline",
    "/api/v1/handoff",
    "/api/v1/handoff/{conversation_id}",
    "/api/v1/handoff/{conversation_id}/messages",
    "/api/v1/handoff/{conversation_id}/code",
    "/wachtrij",
    "/wachtrij/code",
    "/contact",
    "/api/v1/rules",
    "/api/v1/processing",
    "/.well-known/loket-log-checkpoint",
    "/oauth/token",
    "/.well-known/oauth-authorization-server",
    "/api/v1/report-categories",
    "/api/v1/reports",  # anonymous reports too; the reporter's own photos need their login or token:
    "/api/v1/reports/nearby",
    "/api/v1/reports/{report_id}/photos/{number}",  # tests/test_reports.py
    "/api/v1/reports/{report_id}/status",  # the same: tests/test_reports_queue.py
    "/melden",  # the reports page: anonymous reports too (tests/test_reports_page.py)
}
# Personal pages send an anonymous browser to the login page instead of a 401.
LOGIN_FIRST = {
    "/mijn-profiel",
    "/profiel",
    "/volmachten",
    "/volmachten/{mandate_id}/intrekken",
    "/toegangssleutels/{passkey_id}/naam",
    "/toegangssleutels/{passkey_id}/verwijderen",
    "/mijn-zaken",
    "/mijn-zaken/{case_id}",
    "/mijn-berichten",
    "/mijn-berichten/{message_id}",
    "/mijn-berichten/{message_id}/archiveren",
    "/mijn-berichten/meldingen",
    "/voor-u",
    "/voor-u/{suggestion_id}/niet-relevant",
    "/voor-u/gebruik",
    "/mijn-gegevens",
    "/balie",
    "/balie/{conversation_id}",
    "/balie/status",
    "/balie/code",
    "/balie/{conversation_id}/{action}",
    "/balie/meldingen",
    "/balie/meldingen/{report_id}",
    "/balie/meldingen/{report_id}/fotos/{number}",
    "/beheer",
    "/beheer/export.csv",
    "/beheer/export.json",
    "/beheer/beoordelen",
    "/beheer/beoordelen/{message_id}",
    "/beheer/hiaten",
    "/beheer/hiaten/{gap_id}/afgehandeld",
    "/beheer/partners",
    "/beheer/partners/{client_id}/intrekken",
    "/melden/{report_id}/volgen",
}


def test_every_route_is_public_by_decision_or_refuses_anonymous_requests(demo):
    routes = [(r.path, sorted(r.methods or {"GET"})) for r in iter_route_contexts(demo.app.routes)]
    assert {path for path, _ in routes} >= PUBLIC | LOGIN_FIRST, "a listed route no longer exists"
    for path, methods in routes:
        if path in PUBLIC:
            continue
        url = (
            path.replace("{mandate_id}", "x")
            .replace("{passkey_id}", "x")
            .replace("{case_id}", "x")
            .replace("{message_id}", "x")
            .replace("{suggestion_id}", "x")
            .replace("{conversation_id}", "x")
            .replace("{action}", "claim")
            .replace("{number}", "1")
        )
        for method in methods:
            if method == "HEAD":
                continue
            response = demo.request(method, url, headers=JSON, content="{}")
            if path in LOGIN_FIRST:
                assert response.status_code in (303, 403), (method, path)
                if response.status_code == 303:
                    assert response.headers["location"].startswith("/aanmelden")
            else:
                assert response.status_code == 401, (method, path, response.status_code)
