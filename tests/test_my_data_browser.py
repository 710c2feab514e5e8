"""'Who used my data' in a real browser, as issue 21 is done: An Peeters reads Jan Janssens's cases under
the mandate he gave her; Jan opens /mijn-gegevens from his loket's header and sees it, in plain words,
as "An Peeters, acting for you", with a record that was kept from view for a while and says why. He
filters on who read it; the page passes axe in Dutch (on a phone too) and in French.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from loket import clock
from loket.consent.processing import category_name
from loket.i18n import plain
from tests.test_web_browser import _expect, assert_accessible, checked_context, chromium  # noqa: F401
from tests.web_support import demo_settings, live_server

AN, JAN = "an-peeters", "jan-janssens"
NL, FR = "nl", "fr"
REASON = "Onderzoek naar misbruik van volmachten"


@pytest.fixture(scope="module")
def server(sqlite_template, tmp_path_factory) -> Iterator[tuple[str, object]]:
    """The demo with its persons, Jan's mandate to An and their cases."""
    settings = demo_settings(sqlite_template, tmp_path_factory.mktemp("my-data"), demo=True)
    with live_server(settings) as (url, app):
        app.state.services.identity.demo.load()
        app.state.services.cases.load_demo()
        yield url, app


def an_reads_jans_cases(url: str) -> None:
    """An, through the API, switches to the mandate Jan gave her and reads his cases."""
    with httpx.Client(base_url=url) as an:
        assert an.post("/auth/demo-login", json={"person": AN}).status_code == 200
        mandate = next(p for p in an.get("/api/v1/me").json()["profiles"] if p["kind"] == "MANDATE")
        assert an.post("/api/v1/me/profile", json={"profile": mandate["id"]}).status_code == 200
        assert an.get("/api/v1/me/cases").status_code == 200


def test_who_used_my_data_shows_a_mandatarys_reads_filters_and_passes_axe(server, chromium):  # noqa: F811
    url, app = server
    an_reads_jans_cases(url)
    log = app.state.services.identity.access_log
    # Acting under the mandate was kept from view for a while, then disclosed: shown, with why.
    switched = next(a for a in _jans_log(url) if a["requester"] == AN and a["what"] == "mandate")
    log.hide(switched["record"], clock.now() + timedelta(days=7), REASON)
    log.disclose(switched["record"])

    context = checked_context(chromium, viewport={"width": 1024, "height": 768}, locale="nl-BE")
    page = context.new_page()
    expect = _expect()
    page.goto(f"{url}/aanmelden?lang={NL}")
    page.get_by_role("button", name=plain(NL, "Log in as %(name)s", name="Jan Janssens")).click()
    page.locator("header .account").get_by_role("link", name=plain(NL, "Who used my data")).click()
    expect(page.locator("h1")).to_have_text(plain(NL, "Who used my data"))

    rows = page.locator("table.log tbody tr")
    acting_for_you = plain(NL, "%(name)s, acting for you", name="An Peeters")
    expect(rows.first).to_contain_text(plain(NL, "you"))  # opening this page, the newest
    read = rows.filter(has_text=category_name("cases", NL))
    expect(read).to_contain_text(acting_for_you)
    held = rows.filter(has_text=REASON)
    expect(held).to_have_count(1)
    expect(held).to_contain_text(acting_for_you)
    assert_accessible(page, "/mijn-gegevens in Dutch, with a mandatary's reads")
    page.set_viewport_size({"width": 360, "height": 800})  # a phone: the table scrolls, not the page
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page, "/mijn-gegevens on a phone")
    page.set_viewport_size({"width": 1024, "height": 768})

    page.locator("#by").select_option(label=acting_for_you)
    page.get_by_role("button", name=plain(NL, "Show")).click()
    expect(page).to_have_url(re.compile(rf"[?&]by={AN}(&|$)"))
    expect(rows).to_have_count(2)  # acting under the mandate, reading the cases
    for index in range(2):
        expect(rows.nth(index)).to_contain_text(acting_for_you)
    assert_accessible(page, "/mijn-gegevens filtered on one reader")

    page.locator("nav.languages").get_by_role("link", name="Français").click()
    expect(page.locator("h1")).to_have_text(plain(FR, "Who used my data"))
    expect(page.locator("#by")).to_have_value(AN)  # the filter kept
    expect(rows.filter(has_text=category_name("cases", FR))).to_contain_text(
        plain(FR, "%(name)s, acting for you", name="An Peeters")
    )
    assert_accessible(page, "/mijn-gegevens in French")

    page.locator("#since").fill("2026-03-02")
    page.locator("#until").fill("2026-03-01")
    page.get_by_role("button", name=plain(FR, "Show")).click()
    expect(page.get_by_role("alert")).to_contain_text(
        plain(FR, "The end date cannot be before the start date.")
    )
    assert_accessible(page, "/mijn-gegevens with a filter that is wrong")
    assert page.evaluate("window.__blocked") == [], "the Content Security Policy blocked something"
    context.close()


def _jans_log(url: str) -> list[dict]:
    with httpx.Client(base_url=url) as jan:
        assert jan.post("/auth/demo-login", json={"person": JAN}).status_code == 200
        return jan.get("/api/v1/me/access-log").json()
