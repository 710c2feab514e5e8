"""Messages in a real browser: Chromium turns on push on the inbox page, an agency sends a signed
message, loket's own job worker pushes it to the push service the test plays (decrypted with the
subscription's RFC 8291 keys), and the inbox, the message and the check page pass axe.

Chromium cannot subscribe to Google's push service without the internet, so `browser_push_shim`
stands in for `pushManager.subscribe` and hands out the test's subscription (tests/push_service.py);
everything else, the page's script, the service worker, loket's API and job, runs as deployed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import OKPKey

from loket.i18n import message, plain
from loket.messages.texts import NOTIFICATION
from tests.push_service import PushService, Subscriber, browser_push_shim
from tests.test_web_browser import _expect, assert_accessible, checked_context, chromium  # noqa: F401
from tests.web_support import demo_settings, live_server

EN = "en"
AN_NUMBER = "85671500157"


@pytest.fixture(scope="module")
def push() -> Iterator[PushService]:
    with PushService() as service:
        yield service


@pytest.fixture(scope="module")
def server(sqlite_template, tmp_path_factory) -> Iterator[tuple[str, object]]:
    """The demo in development (push to any host), with the job worker `loket serve` runs on SQLite."""
    settings = demo_settings(sqlite_template, tmp_path_factory.mktemp("messages"), demo=True, push_hosts="")
    with live_server(settings) as (url, app):
        services = app.state.services
        services.identity.demo.load()
        services.jobs.run_in_process()
        try:
            yield url, app
        finally:
            services.jobs.stop()


def _send(url: str, app, reference: str) -> dict:
    """An agency's back office: token, key, and a message to An signed over its exact bytes."""
    services = app.state.services
    token = services.cases.add_agency("FOD Financiën", "FIN")
    key = OKPKey.generate_key("Ed25519")
    kid = services.messages.add_key("FOD Financiën", key.as_pem(private=False))
    body = json.dumps(
        {
            "recipient": {"type": "person", "key": AN_NUMBER},
            "subject": "Your tax assessment 2026",
            "body": "Your tax assessment is ready.\n\n- Read it carefully\n- Pay **before 1 March**",
        }
    ).encode()
    protected, _, signature = jws.serialize_compact({"alg": "EdDSA", "kid": kid}, body, key, ["EdDSA"]).split(
        "."
    )
    response = httpx.put(
        f"{url}/api/v1/messages/FIN/{reference}",
        content=body,
        headers={
            "authorization": f"Bearer {token}",
            "content-type": "application/json",
            "loket-signature": f"{protected}..{signature}",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def an_where_notifications_work(chromium, push, url: str):  # noqa: F811
    """An Peeters logged in, in English, in a browser that allows notifications (the shim delivers them
    from the test push service) and that watches for CSP refusals and carries axe."""
    subscriber = Subscriber()
    context = checked_context(chromium, permissions=["notifications"])
    context.add_init_script(browser_push_shim(subscriber.subscription(push.endpoint("an"))))
    page = context.new_page()
    page.goto(f"{url}/aanmelden?lang={EN}")
    page.get_by_role("button", name=plain(EN, "Log in as %(name)s", name="An Peeters")).click()
    return subscriber, page, _expect()


def test_push_on_the_inbox_page_a_pushed_message_and_the_check(server, push, chromium):  # noqa: F811
    url, app = server
    subscriber, page, expect = an_where_notifications_work(chromium, push, url)
    page.goto(f"{url}/mijn-berichten?lang={EN}")
    expect(page.locator("h1")).to_have_text(plain(EN, "Your messages"))
    expect(page.locator("main")).to_contain_text(plain(EN, "You have no messages in this profile."))
    page.get_by_role("button", name=plain(EN, "Turn on notifications")).click()
    expect(page.locator("#push-status")).to_have_text(plain(EN, "Notifications are on for this device."))
    assert app.state.services.notifier.subscriptions("an-peeters") == 1
    assert_accessible(page, "the empty inbox with notifications on")

    sent = _send(url, app, "AJ-2026-B1")
    [pushed] = push.wait_for(1, "an", timeout=30)  # the notify job, run by loket's own worker
    assert json.loads(subscriber.decrypt(pushed.body)) == {
        "sender": "FOD Financiën",
        "text": message(NOTIFICATION, "en"),  # the subscription was made on the English page
    }

    page.reload()
    item = page.locator("ul.messages li.unread")
    expect(item).to_contain_text("Your tax assessment 2026")
    expect(item).to_contain_text(
        plain(EN, "From %(sender)s, %(date)s", sender="FOD Financiën", date=sent["received_at"][:10])
    )
    assert_accessible(page, "the inbox with an unread message")
    item.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("Your tax assessment 2026")
    expect(page.locator(".verified")).to_contain_text(
        plain(EN, "Verified sender: %(sender)s", sender="FOD Financiën")
    )
    expect(page.locator(".message-body strong")).to_have_text("before 1 March")
    expect(page.locator("main")).to_contain_text(sent["verification_code"])
    assert_accessible(page, "a message")

    page.goto(f"{url}/controleer-bericht?lang={EN}")
    assert_accessible(page, "the check page")
    page.fill("#code", sent["verification_code"])
    page.get_by_role("button", name=plain(EN, "Check")).click()
    expect(page.locator("[role=status] h2")).to_have_text(
        plain(EN, "Yes: this message is from the government")
    )
    expect(page.get_by_role("link", name=plain(EN, "Read it in your loket"))).to_be_visible()
    assert_accessible(page, "the check page with a verdict")
    assert page.evaluate("window.__blocked") == [], "the Content Security Policy blocked something"
    page.context.close()
