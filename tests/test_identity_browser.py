"""Logging in, acting as another profile and logging out in a real browser: Debian's Chromium driven
by Playwright against a real uvicorn server, once with a real OpenID Connect provider (tests/oidc.py)
and once with the demo persons' login, as `make run` serves it. axe-core checks the new pages.

Skipped loudly (failed under CI=true) without Chromium, Playwright, axe-core, Node or oidc-provider.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from loket.consent.processing import category_name, register
from loket.i18n import plain
from tests.oidc import (
    DEMO_ACCOUNTS,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    ENTREPRENEUR,
    Provider,
    demo_client,
    oidc_provider,
)
from tests.test_web_browser import (  # noqa: F401
    _expect,
    assert_accessible,
    chromium,
    context,
)
from tests.web_support import demo_settings, free_port, live_server

EN = "en"
NAME = ENTREPRENEUR["claims"]["name"]  # Els Janssens
COMPANY = ENTREPRENEUR["claims"]["vo_orgnaam"]  # Bakkerij Janssens BV
OIDC_LINK = "Log in with the government's login service"
ME_STATUS = "async () => (await fetch('/api/v1/me')).status"
ME = "async () => (await fetch('/api/v1/me')).json()"
# Resolves once the page has left `origin`, or once the Content Security Policy blocked something.
LEFT_OR_BLOCKED = "(origin) => location.origin !== origin || window.__blocked.length > 0"


@pytest.fixture(scope="module")
def with_provider(sqlite_template, tmp_path_factory) -> Iterator[tuple[str, Provider]]:
    """loket logging in at a real OpenID provider, which knows loket's port before loket starts."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with oidc_provider(DEMO_ACCOUNTS, [demo_client(base)]) as provider:
        settings = demo_settings(
            sqlite_template,
            tmp_path_factory.mktemp("identity-oidc"),
            oidc_issuer=provider.issuer,
            oidc_client_id=DEMO_CLIENT_ID,
            oidc_client_secret=DEMO_CLIENT_SECRET,
        )
        try:
            with live_server(settings, port=port) as (url, _app):
                assert url == base
                yield url, provider
        finally:
            if errors := provider.errors().strip():
                print(f"the OpenID provider's stderr:\n{errors}")


@pytest.fixture(scope="module")
def with_demo(sqlite_template, tmp_path_factory) -> Iterator[str]:
    """loket with LOKET_DEMO=1 and no provider: the demo persons' login and their mandate."""
    settings = demo_settings(sqlite_template, tmp_path_factory.mktemp("identity-demo"), demo=True)
    with live_server(settings) as (url, app):
        app.state.services.identity.demo.load()
        yield url


def _header(page):
    return page.locator("header .account")


def _label(msgid: str, name: str) -> str:
    return plain(EN, msgid, name=name)


def _language(page) -> str:
    return page.evaluate("document.documentElement.lang")


def _at_loket(server: str) -> re.Pattern:
    """loket's start page, in whatever language (login and logout come back to "/")."""
    return re.compile(re.escape(server) + r"/(\?.*)?$")


def _oidc_login(page, server: str, account=ENTREPRENEUR) -> None:
    """From loket's login page to the provider, press the account's button there, and back."""
    expect = _expect()
    page.goto(f"{server}/aanmelden?lang={EN}")
    page.get_by_role("link", name=plain(EN, OIDC_LINK)).click()
    page.get_by_role("button", name=account["claims"]["name"], exact=True).click()
    expect(page).to_have_url(_at_loket(server))
    expect(_header(page)).to_contain_text(account["claims"]["name"])


def _log_out(page) -> None:
    _header(page).get_by_role("button", name=plain(_language(page), "Log out")).click()


def _demo_login(page, server: str, name: str) -> None:
    page.goto(f"{server}/aanmelden?lang={EN}")
    page.get_by_role("button", name=plain(EN, "Log in as %(name)s", name=name)).click()
    _expect()(page).to_have_url(_at_loket(server))
    _expect()(_header(page)).to_contain_text(name)


def test_oidc_login_lands_logged_in_as_the_company_chosen_at_the_provider(with_provider, context):  # noqa: F811
    expect = _expect()
    server, _ = with_provider
    page = context.new_page()
    page.goto(f"{server}/aanmelden?lang={EN}")
    assert_accessible(page, "the login page with an OpenID provider")

    _oidc_login(page, server)
    expect(_header(page)).to_contain_text(COMPANY)

    page.goto(f"{server}/mijn-profiel?lang={EN}")
    company = _label("for the company %(name)s", COMPANY)
    expect(_header(page).locator("p.who")).to_have_text(f"{NAME}: {company}")
    facts = page.locator("main dl.facts")
    expect(facts).to_contain_text(NAME)
    expect(facts).to_contain_text(company)
    me = page.evaluate(ME)
    assert me["person"]["name"] == NAME
    assert (me["active_profile"]["kind"], me["active_profile"]["name"]) == ("EA", COMPANY)
    assert_accessible(page, "/mijn-profiel after an OpenID login, acting for a company")


def test_the_header_switches_to_acting_as_yourself(with_provider, context):  # noqa: F811
    expect = _expect()
    server, _ = with_provider
    page = context.new_page()
    _oidc_login(page, server)
    page.goto(f"{server}/?lang={EN}")
    switch = page.locator("header form.switch")
    yourself = _label("%(name)s (yourself)", NAME)
    switch.locator("select[name=profile]").select_option(label=yourself)
    switch.get_by_role("button", name=plain(EN, "Switch")).click()

    expect(page).to_have_url(f"{server}/?lang={EN}")
    expect(_header(page).locator("p.who")).to_have_text(f"{NAME}: {yourself}")
    assert page.evaluate(ME)["active_profile"]["kind"] == "BUR"


def test_logout_ends_the_session_here_and_at_the_provider(with_provider, context):  # noqa: F811
    expect = _expect()
    server, provider = with_provider
    page = context.new_page()
    _oidc_login(page, server)
    page.goto(f"{server}/?lang={EN}")
    _log_out(page)
    page.wait_for_function(LEFT_OR_BLOCKED, arg=server)
    blocked = page.evaluate("window.__blocked")
    assert blocked == [], f"the browser did not follow the logout to the provider; the CSP blocked {blocked}"
    expect(page).to_have_url(re.compile("^" + re.escape(provider.end_session_endpoint)))
    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(f"{server}/")
    expect(_header(page)).to_have_count(0)
    login = page.locator("header a.login")
    expect(login).to_have_text(plain(_language(page), "Log in"))
    assert page.evaluate(ME_STATUS) == 401

    # The provider ended its session too: logging in again asks who logs in.
    login.click()
    expect(page).to_have_url(re.compile(r"/aanmelden"))  # the login page, before its language is read
    page.get_by_role("link", name=plain(_language(page), OIDC_LINK)).click()
    expect(page.get_by_role("button", name=NAME, exact=True)).to_be_visible()


def test_demo_login_a_mandate_and_the_mandators_access_log(with_demo, context):  # noqa: F811
    expect = _expect()
    page = context.new_page()
    page.goto(f"{with_demo}/aanmelden?lang={EN}")
    assert_accessible(page, "the demo login page")
    _demo_login(page, with_demo, "An Peeters")

    page.goto(f"{with_demo}/mijn-profiel?lang={EN}")
    assert_accessible(page, "/mijn-profiel of a demo person acting as herself, holding a mandate")
    mandate = _label("on behalf of %(name)s (mandate)", "Jan Janssens")
    switch = page.locator("main form.switch")
    switch.locator("select[name=profile]").select_option(label=mandate)
    switch.get_by_role("button", name=plain(EN, "Switch")).click()
    expect(page).to_have_url(f"{with_demo}/mijn-profiel?lang={EN}")
    expect(_header(page).locator("p.who")).to_have_text(f"An Peeters: {mandate}")
    expect(page.locator("main dl.facts")).to_contain_text(mandate)
    assert page.evaluate(ME)["active_profile"]["kind"] == "MANDATE"

    _log_out(page)
    expect(page).to_have_url(_at_loket(with_demo))
    expect(_header(page)).to_have_count(0)
    assert page.evaluate(ME_STATUS) == 401

    _demo_login(page, with_demo, "Jan Janssens")
    page.goto(f"{with_demo}/mijn-profiel?lang={EN}")
    page.get_by_role("link", name=plain(EN, "See who used your data")).click()
    expect(page.get_by_role("heading", name=plain(EN, "Who used my data"))).to_be_visible()
    use = page.locator("table.log tbody tr").filter(has_text="An Peeters")
    expect(use).to_have_count(1)
    expect(use).to_contain_text(category_name("mandate", EN))
    expect(use).to_contain_text(register().purposes["mandate_use"].name[EN])
    assert_accessible(page, "/mijn-gegevens with an access log")
