"""Passkeys (issue 24, item 2), with real WebAuthn data: Chromium's virtual authenticator (CDP
`WebAuthn.addVirtualAuthenticator`: CTAP2, internal, resident keys, user verification) answers the
options loket makes, on a page of `https://loket.test` that Playwright serves itself. The service
tests run on SQLite and PostgreSQL; the browser flow (register after the demo login, log out, unlock
with the passkey, the fallback to the full login, removal) on SQLite, axe-checked in Dutch and French.

Skipped loudly (failed under CI=true) without Chromium, Playwright or axe-core, like every browser test.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from loket.consent.processing import category_name
from loket.i18n import message, plain
from loket.identity.models import PasskeyRow
from loket.identity.passkeys import PasskeyRefused
from loket.identity.schemas import Login, SignedIn, StrongerLoginNeeded
from loket.identity.service import IdentityService
from loket.identity.texts import FULL_LOGIN_NEEDED, PASSKEY_EXPIRED, PASSKEY_REFUSED
from tests.test_identity import _app
from tests.test_web_browser import (  # noqa: F401
    _expect,
    assert_accessible,
    checked_context,
    chromium,
)
from tests.web_support import demo_settings, live_server

RP_ID = "loket.test"
ORIGIN = f"https://{RP_ID}"
EN = "en"
# The browser's own JSON forms of WebAuthn (Chromium 129+), so loket's parsing is checked against the
# standard, not against loket's script.
CREATE = """async (options) => {
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(options));
  return JSON.stringify((await navigator.credentials.create({ publicKey })).toJSON());
}"""
GET = """async ([options, allow]) => {
  const parsed = JSON.parse(options);
  if (allow) parsed.allowCredentials = [{ type: "public-key", id: allow }];
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(parsed);
  return JSON.stringify((await navigator.credentials.get({ publicKey })).toJSON());
}"""


def add_authenticator(page):
    """A platform authenticator with resident keys that verifies its user (a fingerprint, say): the
    CDP session and the authenticator's id."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


@pytest.fixture(scope="module")
def phone(chromium) -> Iterator[tuple]:  # noqa: F811
    context = checked_context(chromium)
    context.route(f"{ORIGIN}/**", lambda route: route.fulfill(body="<!doctype html><title>loket</title>"))
    page = context.new_page()
    page.goto(f"{ORIGIN}/")
    yield page, *add_authenticator(page)
    context.close()


@pytest.fixture
def device(phone):
    """A page of https://loket.test with a virtual authenticator, the person's phone, holding none of
    the passkeys of the tests before (each has its own database)."""
    page, cdp, authenticator = phone
    cdp.send("WebAuthn.clearCredentials", {"authenticatorId": authenticator})
    return page


@pytest.fixture
def identity(services) -> IdentityService:
    return services.identity


def _login(subject: str, name: str, acr: str | None = None) -> Login:
    return Login(subject=subject, name=name, national_number=None, method="oidc", acr=acr)


def _person(identity: IdentityService, subject: str, name: str) -> SignedIn:
    """A full login at the identity provider."""
    return identity.sessions.sign_in(_login(subject, name))[1]


def _register(identity: IdentityService, device, user: SignedIn, name: str = "My phone") -> str:
    """A passkey made on the device for `user`; its id."""
    options = identity.passkeys.registration_options(user, "browser", RP_ID, EN)
    credential = device.evaluate(CREATE, options)
    return identity.passkeys.register(user, "browser", credential, name, RP_ID, ORIGIN, EN).id


def _assertion(identity: IdentityService, device, passkey_id: str | None = None, browser="browser") -> str:
    """The device's answer to a new unlock challenge for `browser` (with `passkey_id`, that passkey's)."""
    return device.evaluate(GET, [identity.passkeys.unlock_options(browser, RP_ID), passkey_id])


def _unlock(identity: IdentityService, credential: str, browser="browser") -> SignedIn:
    return identity.passkeys.unlock(browser, credential, RP_ID, ORIGIN, EN)[1]


def _refused(identity: IdentityService, credential: str, browser="browser") -> str:
    with pytest.raises(PasskeyRefused) as refused:
        _unlock(identity, credential, browser)
    return refused.value.message


def _with(credential: str, **response) -> str:
    """The answer with fields of its response changed, as an attacker would send it."""
    data = json.loads(credential)
    data["response"].update(response)
    return json.dumps(data)


def _b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def test_a_passkey_registered_after_login_unlocks_a_session_at_the_lower_level(identity, device):
    an = _person(identity, "test#an", "An Peeters")
    passkey_id = _register(identity, device, an)
    [kept] = identity.passkeys.of(an)
    assert (kept.id, kept.name, kept.last_used_at) == (passkey_id, "My phone", None)
    assert "internal" in kept.transports

    unlocked = _unlock(identity, _assertion(identity, device, passkey_id))
    assert unlocked.person == an.person and unlocked.unlocked and unlocked.acr == "passkey"
    assert not unlocked.assured  # the default level reads no cases, mandates or messages
    with pytest.raises(StrongerLoginNeeded) as refused:
        identity.mandates.of(unlocked, EN)
    assert refused.value.message == message(FULL_LOGIN_NEEDED, EN)
    assert identity.passkeys.of(an)[0].last_used_at is not None
    uses = [a.what for a in identity.access_log.accesses(unlocked)]
    assert uses[:2] == ["passkey_used", "passkey_added"]
    assert category_name("passkey_used", EN) == "your passkey, to open loket"


def test_an_assertion_sent_again_is_refused_and_the_sign_count_must_grow(identity, device):
    an = _person(identity, "test#an", "An Peeters")
    passkey_id = _register(identity, device, an)
    assertion = _assertion(identity, device, passkey_id)
    _unlock(identity, assertion)
    assert _refused(identity, assertion) == message(PASSKEY_REFUSED, EN)  # its challenge is gone
    identity.passkeys.unlock_options("browser", RP_ID)
    _refused(identity, assertion)  # nor does it answer a new one
    _refused(identity, _assertion(identity, device, passkey_id), browser="another browser")

    with identity.sessions.db.session() as session:  # a clone of the authenticator, behind in count
        session.get(PasskeyRow, passkey_id).sign_count = 10**6
    _refused(identity, _assertion(identity, device, passkey_id))


def test_a_passkey_never_opens_another_persons_session(identity, device):
    an = _person(identity, "test#an", "An Peeters")
    jan = _person(identity, "test#jan", "Jan Janssens")
    # A registration answers the challenge of the person who asked for it only.
    options = identity.passkeys.registration_options(an, "browser", RP_ID, EN)
    with pytest.raises(PasskeyRefused):
        identity.passkeys.register(jan, "browser", device.evaluate(CREATE, options), "x", RP_ID, ORIGIN, EN)
    assert identity.passkeys.of(jan) == identity.passkeys.of(an) == []

    ans, jans = _register(identity, device, an), _register(identity, device, jan)
    assertion = _assertion(identity, device, ans)
    # An's signed answer, claiming Jan's account (the user handle is not signed) ...
    _refused(identity, _with(assertion, userHandle=_b64(jan.person.id.encode())))
    # ... or presented as Jan's passkey: Jan's key does not check An's signature.
    swapped = json.loads(_assertion(identity, device, ans))
    swapped["id"] = swapped["rawId"] = jans
    swapped["response"]["userHandle"] = _b64(jan.person.id.encode())
    _refused(identity, json.dumps(swapped))
    unknown = json.loads(_assertion(identity, device, ans))
    unknown["id"] = unknown["rawId"] = _b64(b"no such passkey")
    _refused(identity, json.dumps(unknown))
    assert _unlock(identity, _assertion(identity, device, jans)).person == jan.person


def test_removed_or_long_after_the_last_full_login_a_passkey_opens_nothing(identity, device, clock):
    an = _person(identity, "test#an", "An Peeters")
    passkey_id = _register(identity, device, an)
    clock.advance(31 * 86400)
    expired = _refused(identity, _assertion(identity, device, passkey_id))
    assert expired == message(PASSKEY_EXPIRED, EN, days=30)
    an = _person(identity, "test#an", "An Peeters")  # a full login again
    unlocked = _unlock(identity, _assertion(identity, device, passkey_id))
    assert unlocked.person == an.person

    identity.passkeys.remove(an, passkey_id, EN)
    assert identity.passkeys.of(an) == []
    _refused(identity, _assertion(identity, device, passkey_id))
    assert identity.access_log.accesses(an)[0].what == "passkey_removed"
    with identity.sessions.db.session() as session:
        assert session.scalars(select(PasskeyRow)).all() == []


def test_an_unlocked_session_cannot_add_a_passkey_and_reads_at_a_configured_level(services, device):
    identity = IdentityService(
        services.db,
        timedelta(minutes=30),
        timedelta(hours=8),
        services.identity.access_log.log,
        ("substantial", "high"),
        timedelta(days=7),
        "substantial",
    )
    an = _person(identity, "test#an", "An Peeters")
    _register(identity, device, an)
    unlocked = _unlock(identity, _assertion(identity, device))  # the device offers its passkey itself
    assert unlocked.assured and unlocked.acr == "substantial"
    with pytest.raises(PasskeyRefused):
        identity.passkeys.registration_options(unlocked, "browser", RP_ID, EN)


def test_the_fresh_login_paths_ask_an_unlocked_session_for_the_full_login(settings):
    """With the passkey's level accepted for personal data, cases and mandates still need the full
    login (LOKET_FRESH_LOGIN_PATHS); messages, not listed, do not."""
    with _app(settings, oidc_acr_values="substantial", passkey_assurance="substantial") as client:
        identity = client.app.state.services.identity
        full, user = identity.sessions.sign_in(_login("test#an", "An Peeters", "substantial"))
        unlocked, _ = identity.sessions.unlock(user.person.id, datetime.now(UTC) + timedelta(days=1))
        for token, cases in ((full, 200), (unlocked, 403)):
            client.cookies.set("loket_session", token)
            assert client.get("/api/v1/me/messages").status_code == 200
            for path in ("/api/v1/me/cases", "/api/v1/me/mandates"):
                response = client.get(path, headers={"accept-language": EN})
                assert response.status_code == cases, (path, response.text)
        assert response.json()["error"] == {
            "code": "stronger_login_needed",
            "message": message(FULL_LOGIN_NEEDED, EN),
        }
        page = client.get("/mijn-zaken?lang=en")
        assert page.status_code == 403 and "/auth/login?" in page.text  # the way to the full login
    client.app.state.services.db.dispose()


def test_malformed_answers_are_refused_not_failed(settings):
    """Whatever a client sends as the credential, loket refuses it (403), never fails (500)."""
    empty = {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}
    malformed = (None, [], "x", {"id": 5}, empty)
    with _app(settings, demo=True) as client:
        for credential in malformed:
            client.post("/auth/passkey/unlock-options", json={})
            answer = client.post("/auth/passkey/unlock", json={"credential": credential})
            assert answer.status_code == 403, (credential, answer.text)
        person = client.get("/auth/demo-persons").json()["persons"][0]["id"]
        client.post("/auth/demo-login", json={"person": person})
        for credential in malformed:
            assert client.post("/auth/passkey/register-options", json={}).status_code == 200
            answer = client.post("/auth/passkey/register", json={"credential": credential, "name": "a"})
            assert answer.status_code == 403, (credential, answer.text)
        form = client.post("/auth/passkey/register", content="x", headers={"content-type": "text/plain"})
        assert form.status_code == 403  # JSON only: a form from another site cannot post here
    client.app.state.services.db.dispose()


# --- In the browser: loket's pages and script, as `make run` serves them ---------------------------


@pytest.fixture(scope="module")
def loket(sqlite_template, tmp_path_factory) -> Iterator[str]:
    """The demo, at `localhost` (an IP address cannot be a WebAuthn relying party)."""
    settings = demo_settings(sqlite_template, tmp_path_factory.mktemp("passkeys"), demo=True)
    with live_server(settings) as (url, app):
        app.state.services.identity.demo.load()
        yield url.replace("127.0.0.1", "localhost")


def test_register_log_out_unlock_fall_back_and_remove_in_the_browser(chromium, loket):  # noqa: F811
    expect = _expect()
    context = checked_context(chromium)
    page = context.new_page()
    page.goto(f"{loket}/aanmelden?lang={EN}")
    add_authenticator(page)
    page.get_by_role("button", name=plain(EN, "Log in as %(name)s", name="An Peeters")).click()
    expect(page.locator("header .account")).to_contain_text("An Peeters")

    for lang in ("nl", "fr", "en", "de"):
        page.goto(f"{loket}/mijn-profiel?lang={lang}")
        expect(page.get_by_role("button", name=plain(lang, "Add a passkey"))).to_be_visible()
        assert_accessible(page, f"the profile page with the passkey form ({lang})")
    page.goto(f"{loket}/mijn-profiel?lang={EN}")
    page.get_by_label(plain(EN, "Name of this device")).fill("My phone")
    page.get_by_role("button", name=plain(EN, "Add a passkey")).click()
    renaming = page.get_by_label(plain(EN, "New name for %(name)s", name="My phone"))
    expect(renaming).to_have_value("My phone")
    renaming.fill("An's phone")  # renaming is a plain form
    page.get_by_role("button", name=plain(EN, "Rename")).click()
    expect(page.locator(".passkeys")).to_contain_text("An's phone")
    assert_accessible(page, "the profile page with a passkey")

    page.locator("header .account").get_by_role("button", name=plain(EN, "Log out")).click()
    for lang in ("nl", "fr", "en", "de"):
        page.goto(f"{loket}/aanmelden?lang={lang}")
        expect(page.get_by_role("button", name=plain(lang, "Unlock with your passkey"))).to_be_visible()
        assert_accessible(page, f"the login page offering the passkey ({lang})")
    page.goto(f"{loket}/aanmelden?lang={EN}&return_to=/mijn-profiel")
    with page.expect_request(lambda r: "/auth/passkey/unlock?" in r.url) as sent:
        page.get_by_role("button", name=plain(EN, "Unlock with your passkey")).click()
    expect(page).to_have_url(f"{loket}/mijn-profiel")
    expect(page.locator("header .account")).to_contain_text("An Peeters")

    # The same answer once more: its challenge is gone.
    replayed = page.evaluate(
        """async (body) => {
          const r = await fetch("/auth/passkey/unlock", {
            method: "POST", headers: { "content-type": "application/json" }, body });
          return [r.status, (await r.json()).error.code];
        }""",
        sent.value.post_data,
    )
    assert replayed == [403, "passkey_refused"]

    # Cases need the full login; the person sees why, with the way to it.
    page.goto(f"{loket}/mijn-zaken?lang={EN}")
    expect(page.locator("main")).to_contain_text(message(FULL_LOGIN_NEEDED, EN))
    page.goto(f"{loket}/mijn-gegevens?lang={EN}")
    expect(page.locator("main")).to_contain_text(category_name("passkey_used", EN))
    expect(page.locator("main")).to_contain_text(category_name("passkey_added", EN))

    page.goto(f"{loket}/mijn-profiel?lang={EN}")
    page.get_by_role("button", name=plain(EN, "Remove passkey %(name)s", name="An's phone")).click()
    expect(page.get_by_text(plain(EN, "You have no passkeys yet."))).to_be_visible()
    page.locator("header .account").get_by_role("button", name=plain(EN, "Log out")).click()
    page.goto(f"{loket}/aanmelden?lang={EN}")
    page.get_by_role("button", name=plain(EN, "Unlock with your passkey")).click()
    expect(page.locator("#passkey-status")).to_have_text(message(PASSKEY_REFUSED, EN))
    assert page.evaluate("window.__blocked") == []
    context.close()
