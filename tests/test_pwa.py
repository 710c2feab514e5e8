"""Mijn loket as an installable app (issue 24): the manifest in each language, the service worker and
what it may cache, the offline page; then in Chromium as a phone: installable, the worker in control,
the offline page when the network is cut, and no personal page in any cache.

The browser runs with a profile on disk (a persistent context): Chromium refuses to install apps from
an incognito window, and Playwright's ordinary contexts are incognito.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from loket.i18n import LANGUAGES, plain
from loket.web.pwa import BACKGROUND_COLOUR, THEME_COLOUR
from tests.test_web_browser import ARGS, AXE, CHROMIUM, WAIT, WATCH_CSP, _expect, _missing, assert_accessible
from tests.web_support import Elements, demo_settings, live_server, load_demo

AN = "an-peeters"
JAN = ("person", "78631200367")  # Jan Janssens in the demo: no messages of his own
UNREAD = 3
STATIC_FILES = ("text/css", "text/javascript", "image/svg+xml", "image/png")


@pytest.fixture(scope="module")
def site(sqlite_template, tmp_path_factory) -> Iterator[TestClient]:
    from loket.web.app import create_app

    app = create_app(demo_settings(sqlite_template, tmp_path_factory.mktemp("pwa"), demo=True))
    load_demo(app)
    app.state.services.identity.demo.load()
    with TestClient(app) as client:
        yield client
    app.state.services.db.dispose()


def manifest(site, language: str) -> dict:
    response = site.get("/manifest.webmanifest", params={"lang": language})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/manifest+json"
    return response.json()


def shell(site) -> dict:
    """What the service worker may cache, as the server puts it before sw.js."""
    source = site.get("/sw.js").text
    match = re.match(r"const SHELL = (\{.*\});\n", source)
    assert match, "the worker starts with its list of what it may cache"
    return json.loads(match.group(1))


def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n" and content[12:16] == b"IHDR"
    return struct.unpack(">II", content[16:24])


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_manifest_in_each_language(site, language):
    found = manifest(site, language)
    assert {"id", "name", "short_name", "start_url", "scope", "display", "icons"} <= found.keys()
    assert found["name"] == plain(language, "My loket") and found["lang"] == language
    assert found["display"] == "standalone"
    assert found["start_url"] == f"/?lang={language}"
    assert urlsplit(found["start_url"]).path.startswith(found["scope"]), "start_url within scope"
    assert found["id"] == manifest(site, "nl")["id"], "one app whatever the language it was installed in"
    assert (found["theme_color"], found["background_color"]) == (THEME_COLOUR, BACKGROUND_COLOUR)
    sizes = set()
    for icon in found["icons"]:
        response = site.get(icon["src"])
        assert response.status_code == 200, icon
        assert response.headers["content-type"] == icon["type"], icon
        if icon["type"] == "image/png":
            width, height = png_size(response.content)
            assert icon["sizes"] == f"{width}x{height}", icon
            sizes.add(width)
        else:
            assert icon["sizes"] == "any" and response.text.startswith("<svg")
    assert {192, 512} <= sizes


def test_the_colours_are_loket_css(site):
    css = site.get("/static/loket.css").text
    assert f"--accent: {THEME_COLOUR};" in css and "--bg: #fff;" in css and BACKGROUND_COLOUR == "#ffffff"


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_link_the_manifest_in_their_language(site, language):
    tags = Elements(site.get("/", params={"lang": language}).text).tags
    assert ("link", {"rel": "manifest", "href": f"/manifest.webmanifest?lang={language}"}) in tags
    assert ("meta", {"name": "theme-color", "content": THEME_COLOUR}) in tags


def test_the_worker_caches_only_static_files_and_the_offline_page(site):
    response = site.get("/sw.js")
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache", "a new version reaches browsers at once"
    assert 'self.addEventListener("push"' in response.text, "push still works"
    found = shell(site)
    assert re.fullmatch(r"loket-shell-[0-9a-f]{12}", found["cache"])
    assert found["offline"] == {language: f"/offline?lang={language}" for language in LANGUAGES}
    for address in found["assets"]:
        assert address.startswith("/static/"), address
        answer = site.get(address)
        assert answer.status_code == 200, address
        assert answer.headers["content-type"].split(";")[0] in STATIC_FILES, address
    # The offline page works from the cache alone: everything it loads is in it.
    page = site.get("/offline", params={"lang": "nl"}).text
    loaded = {
        attributes.get("href") or attributes.get("src")
        for tag, attributes in Elements(page).tags
        if (tag == "link" and attributes.get("rel") in ("stylesheet", "icon")) or tag == "script"
    }
    assert loaded <= set(found["assets"]), loaded - set(found["assets"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_offline_page_is_for_anyone(site, language):
    site.cookies.clear()
    assert site.post("/auth/demo-login", json={"person": AN}).status_code == 200
    response = site.get("/offline", params={"lang": language})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["content-language"] == language
    assert plain(language, "You are offline") in response.text
    assert "An Peeters" in site.get("/mijn-berichten", params={"lang": language}).text
    assert "An Peeters" not in response.text and "/auth/logout" not in response.text, "nothing personal"
    site.cookies.clear()


def test_the_inbox_tells_the_unread_count_for_the_badge(site):
    site.cookies.clear()
    assert site.post("/auth/demo-login", json={"person": AN}).status_code == 200
    assert 'data-unread="0"' in site.get("/mijn-berichten").text
    assert "data-unread" not in site.get("/mijn-berichten", params={"archived": "true"}).text
    site.cookies.clear()


# --- In Chromium, as a phone ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(sqlite_template, tmp_path_factory) -> Iterator[str]:
    settings = demo_settings(sqlite_template, tmp_path_factory.mktemp("pwa-browser"), demo=True)
    with live_server(settings) as (url, app):
        app.state.services.identity.demo.load()
        for number in range(UNREAD):
            app.state.services.messages.send_own(JAN, f"badge-{number}", f"Letter {number}", "Read me.")
        yield url


@pytest.fixture(scope="module")
def phone(tmp_path_factory):
    """One Chromium for the module: a Pixel 7 with a profile on disk, watching for CSP refusals."""
    if reason := _missing():
        pytest.skip(f"BROWSER TESTS SKIPPED: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        pixel = {k: v for k, v in playwright.devices["Pixel 7"].items() if k != "default_browser_type"}
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("profile"), executable_path=str(CHROMIUM), args=ARGS, **pixel
        )
        context.add_init_script(WATCH_CSP)
        context.add_init_script(path=str(AXE))
        context.set_default_timeout(WAIT)
        yield context
        context.close()


def cached_addresses(page) -> list[str]:
    """Every address in every cache of the site, as the page sees them."""
    return page.evaluate(
        """async () => {
            const found = [];
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                for (const request of await cache.keys()) found.push(new URL(request.url).pathname);
            }
            return found;
        }"""
    )


def test_installable_offline_and_nothing_personal_cached(server, phone):
    expect = _expect()
    page = phone.pages[0] if phone.pages else phone.new_page()
    page.goto(f"{server}/?lang=en")
    controller = page.evaluate(
        """async () => {
            const workers = navigator.serviceWorker;
            await workers.ready;
            if (!workers.controller) {
                await new Promise((done) => workers.addEventListener("controllerchange", done));
            }
            return workers.controller.scriptURL;
        }"""
    )
    assert controller == f"{server}/sw.js", "the worker controls the page it was registered from"

    cdp = phone.new_cdp_session(page)
    found = cdp.send("Page.getAppManifest")
    assert found["url"] == f"{server}/manifest.webmanifest?lang=en"
    assert found["errors"] == [], found["errors"]
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []

    # A personal page, visited online, is not kept anywhere.
    page.goto(f"{server}/aanmelden?lang=en")
    page.get_by_role("button", name=plain("en", "Log in as %(name)s", name="An Peeters")).click()
    page.goto(f"{server}/mijn-berichten?lang=en")
    expect(page.locator("h1")).to_have_text(plain("en", "Your messages"))
    cached = cached_addresses(page)
    assert "/offline" in cached and "/static/loket.css" in cached
    assert all(address == "/offline" or address.startswith("/static/") for address in cached), cached

    phone.set_offline(True)
    try:
        for language in LANGUAGES:
            page.goto(f"{server}/mijn-zaken?lang={language}")
            expect(page.locator("h1")).to_have_text(plain(language, "You are offline"))
            expect(page.locator("html")).to_have_attribute("lang", language)
            assert "An Peeters" not in page.content()
            assert_accessible(page, f"the offline page in {language}")
    finally:
        phone.set_offline(False)
    assert page.evaluate("window.__blocked") == [], "the Content Security Policy blocked something"


def test_the_install_button_waits_until_someone_is_engaged(server, phone):
    """Chromium decides itself when to offer an install (here: soon after the first test made the app
    installable); the test holds back Chromium's own event and hands the page one it controls."""
    expect = _expect()
    page = phone.new_page()
    page.add_init_script(
        """window.addEventListener("beforeinstallprompt",
             (event) => { if (event.isTrusted) event.stopImmediatePropagation(); }, true);"""
    )
    offer = """() => {
        const event = new Event("beforeinstallprompt");
        event.prompt = async () => { window.__prompted = true; };
        event.userChoice = Promise.resolve({ outcome: "accepted" });
        window.dispatchEvent(event);
    }"""
    install = page.get_by_role("button", name=plain("en", "Install %(name)s", name=plain("en", "My loket")))
    phone.clear_cookies()
    page.goto(f"{server}/over-deze-assistent?lang=en")
    page.evaluate(offer)
    expect(install).to_be_hidden()  # not logged in, no chat: no offer

    page.goto(f"{server}/aanmelden?lang=en")
    page.get_by_role("button", name=plain("en", "Log in as %(name)s", name="An Peeters")).click()
    page.goto(f"{server}/mijn-berichten?lang=en")
    page.evaluate(offer)
    expect(install).to_be_visible()
    assert_accessible(page, "the header with the install button")
    install.click()
    expect(install).to_be_hidden()
    assert page.evaluate("window.__prompted") is True

    page.reload()
    page.evaluate(offer)
    page.get_by_role("button", name=plain("en", "No, thanks")).click()
    expect(install).to_be_hidden()
    page.reload()
    page.evaluate(offer)
    expect(install).to_be_hidden()  # for good, on this device
    assert page.evaluate("localStorage.getItem('loket:install-dismissed')") == "1"
    page.close()


# Headless Chromium draws no badge on any icon, so what is checked is the page's calls: each is kept
# in sessionStorage (it outlives a navigation, such as logging out) and passed on to Chromium's own.
WATCH_BADGE = """
for (const name of ["setAppBadge", "clearAppBadge"]) {
  const own = navigator[name];
  navigator[name] = (...args) => {
    const calls = JSON.parse(sessionStorage.getItem("test:badge") || "[]");
    sessionStorage.setItem("test:badge", JSON.stringify([...calls, [name, ...args]]));
    return own ? own.apply(navigator, args) : Promise.resolve();
  };
}"""


def test_the_app_icon_counts_unread_messages(server, phone):
    expect = _expect()
    page = phone.new_page()
    page.add_init_script(WATCH_BADGE)

    def calls(count: int) -> list[list]:
        """The badge calls so far, once there are `count` of them."""
        found = page.wait_for_function(
            """(count) => {
                const calls = JSON.parse(sessionStorage.getItem("test:badge") || "[]");
                return calls.length >= count && calls;
            }""",
            arg=count,
        )
        return found.json_value()

    phone.clear_cookies()
    page.goto(f"{server}/aanmelden?lang=en")
    page.get_by_role("button", name=plain("en", "Log in as %(name)s", name="Jan Janssens")).click()
    expect(page.locator(".who")).to_contain_text("Jan Janssens")
    page.goto(f"{server}/mijn-berichten?lang=en")
    unread = page.locator(".messages li.unread a")
    expect(unread).to_have_count(UNREAD)
    assert calls(1) == [["setAppBadge", UNREAD]], "the start page and the login leave the badge alone"

    unread.first.click()
    expect(page.locator("h1")).to_have_attribute("data-unread", str(UNREAD - 1))
    assert calls(2)[1:] == [["setAppBadge", UNREAD - 1]], "one fewer as soon as a message is read"

    page.get_by_role("link", name=plain("en", "All your messages")).click()
    expect(unread).to_have_count(UNREAD - 1)
    assert calls(3)[2:] == [["setAppBadge", UNREAD - 1]]

    page.get_by_role("button", name=plain("en", "Log out")).click()
    assert calls(4)[3:] == [["clearAppBadge"]], "the count leaves with the login"
    expect(page.locator(".who")).to_have_count(0)
    page.wait_for_load_state()  # its scripts have run, and set no badge again
    assert len(calls(4)) == 4
    page.close()


def test_the_worker_and_manifest_answer_outside_the_app(server):
    """The contract's addresses at the site's root, as any client sees them."""
    assert httpx.get(f"{server}/manifest.webmanifest").json()["lang"] == "nl", "Dutch first"
    assert httpx.get(f"{server}/sw.js").status_code == 200
