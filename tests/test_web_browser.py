"""The pages in a real browser: Debian's Chromium driven by Playwright, against a real uvicorn server
holding the demo catalogue. axe-core (npm, in node_modules/) checks every page in every language for
the WCAG 2.1 AA rules; then a streamed, cited answer, keyboard-only use, JavaScript off, and the
widget on another site with a strict Content Security Policy.

`make test` installs Chromium (apt) and axe-core (npm). Without them these tests fail under CI=true
and are skipped loudly elsewhere. WEB_SCREENSHOTS=docs also writes the README's screenshots there.
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from loket.i18n import LANGUAGES, plain
from tests.web_support import PAGES, demo_settings, free_port, live_server

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WAIT = 20_000  # ms; generous on a busy 2-core machine, never a measurement
QUESTIONS = {
    "nl": "Mijn identiteitskaart is gestolen. Wat moet ik doen?",
    "fr": "On m'a volé ma carte d'identité, que dois-je faire ?",
    "en": "My identity card was stolen, what should I do?",
    "de": "Mein Ausweis wurde gestohlen, was muss ich tun?",
}
# Collects what the Content Security Policy blocked, in every frame, before the page's own scripts run.
WATCH_CSP = """
window.__blocked = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__blocked.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"Debian's chromium is not installed ({CHROMIUM}); `make test` installs it with apt-get"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed; `make test` installs the test extra"
    if not AXE.exists():
        return f"axe-core is not installed ({AXE}); `make test` runs npm ci"
    return None


@pytest.fixture(scope="module")
def chromium():
    if reason := _missing():
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        warnings.warn(f"BROWSER TESTS SKIPPED: {reason}", stacklevel=1)
        pytest.skip(f"BROWSER TESTS SKIPPED: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def running(sqlite_template, tmp_path_factory) -> Iterator[tuple[str, object]]:
    settings = demo_settings(
        sqlite_template,
        tmp_path_factory.mktemp("browser"),
        rate_limit_client="1000/minute",
        rate_limit_conversation="1000/minute",
    )
    with live_server(settings) as (url, app):
        yield url, app


@pytest.fixture(scope="module")
def server(running) -> str:
    return running[0]


def checked_context(chromium, **options):
    """A browser context as every browser test uses one: it watches for CSP refusals and carries axe."""
    context = chromium.new_context(**({"viewport": {"width": 1024, "height": 768}} | options))
    context.add_init_script(WATCH_CSP)
    context.add_init_script(path=str(AXE))
    context.set_default_timeout(WAIT)
    return context


@pytest.fixture
def context(chromium):
    context = checked_context(chromium)
    yield context
    context.close()


def _expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT)
    return expect


def assert_accessible(target, where: str) -> None:
    """axe-core's WCAG 2.1 A and AA rules on a page or frame: zero violations."""
    violations = target.evaluate(
        """async (tags) => {
            const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
            return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} -> ` +
              v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | "));
        }""",
        WCAG_AA,
    )
    assert violations == [], f"{where}: {violations}"


def assert_nothing_blocked(target, where: str) -> None:
    assert target.evaluate("window.__blocked") == [], f"{where}: the CSP blocked something"


def ask(page, question: str):
    """Types a question into the chat and waits until the answer is complete; returns the exchange."""
    exchanges = page.locator(".log .exchange")
    before = exchanges.count()
    page.fill("#question", question)
    page.locator("form.ask button[type=submit]").click()
    exchange = exchanges.nth(before)
    _expect()(exchange.locator(".after")).to_be_visible()
    return exchange


def _service_path(server: str) -> str:
    results = httpx.get(f"{server}/api/v1/search", params={"q": "identiteitskaart gestolen", "limit": 1})
    return results.json()["results"][0]["url"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_passes_axe_in_every_language(server, context, language):
    page = context.new_page()
    for path in (*PAGES, _service_path(server), "/zoeken?q=xyzzy", "/bestaat-niet"):
        separator = "&" if "?" in path else "?"
        page.goto(f"{server}{path}{separator}lang={language}")
        assert page.evaluate("document.documentElement.lang") == language
        assert_accessible(page, f"{path} in {language}")
        assert_nothing_blocked(page, path)
    page.goto(f"{server}/?lang={language}")
    exchange = ask(page, QUESTIONS[language])
    _expect()(exchange.locator(".citations a").first).to_be_visible()
    assert_accessible(page, f"an answered question in {language}")
    exchange.get_by_role("button", name=plain(language, "No")).click()
    _expect()(exchange.locator(".thanks")).to_be_visible()
    assert_accessible(page, f"the reason form in {language}")


def test_a_question_streams_in_with_citations_and_is_announced_once(server, context):
    expect = _expect()
    page = context.new_page()
    page.goto(f"{server}/?lang=en")
    page.evaluate(
        """() => {
            window.__announced = [];
            window.__changes = 0;
            const announcer = document.querySelector(".announcer");
            const all = { childList: true, characterData: true, subtree: true };
            const said = () => announcer.textContent && window.__announced.push(announcer.textContent);
            new MutationObserver(said).observe(announcer, all);
            new MutationObserver(() => window.__changes++).observe(document.querySelector(".log"), all);
        }"""
    )
    with page.expect_response("**/api/v1/ask") as asked:
        exchange = ask(page, QUESTIONS["en"])
    assert asked.value.headers["content-type"].startswith("text/event-stream")
    sentences = asked.value.text().count("event: sentence")
    assert sentences >= 2
    assert page.evaluate("window.__changes") >= sentences, "the answer is built up as the events arrive"

    expect(exchange.locator(".answer-heading")).to_contain_text("A.I.")
    expect(exchange.locator(".notices")).to_contain_text("This answer comes from an A.I. assistant.")
    expect(exchange.locator(".busy")).to_be_hidden()
    answer = exchange.locator(".answer-text").inner_text()
    assert "Doc Stop" in answer
    page.wait_for_timeout(600)
    announced = page.evaluate("window.__announced")
    assert len(announced) == 1, "a screen reader hears the answer once, not sentence by sentence"
    assert announced[0].startswith("The assistant answered: ") and "Doc Stop" in announced[0]

    link = exchange.locator(".citations a").first
    href = link.get_attribute("href")
    assert re.fullmatch(r"/diensten/[0-9a-f-]{36}\?lang=en#[a-z0-9-]+", href), href
    link.click()
    page.wait_for_url(re.compile(r"/diensten/"))
    anchor = href.rsplit("#", 1)[1]
    assert page.evaluate("document.querySelector(':target').id") == anchor, "it lands on the cited section"

    page.go_back()
    page.reload()  # the page comes back with the conversation this browser holds
    expect(page.locator(".log .exchange")).to_have_count(1)
    expect(page.locator(".question-text")).to_have_text(QUESTIONS["en"])
    expect(page.locator(".answer-text")).to_contain_text("Doc Stop")

    handoff = page.locator(".log .exchange")
    page.locator(".exchange .handoff button").first.click()
    expect(handoff).to_have_count(2)
    expect(handoff.nth(1).locator(".answer")).to_have_attribute("data-status", "handoff")
    expect(handoff.nth(1).locator(".answer-text")).to_contain_text("1700")
    assert len(_held_conversation(server, page)["messages"]) == 2


def test_an_answer_given_elsewhere_appears_without_a_reload(server, context):
    """The chat follows its conversation's event stream: an answer given on another device (here the
    API, with the conversation's token) appears in the open page and is announced, once."""
    expect = _expect()
    page = context.new_page()
    page.goto(f"{server}/?lang=nl")
    ask(page, QUESTIONS["nl"])
    page.wait_for_timeout(300)  # its announcement said (100 ms after the answer)
    page.evaluate(
        """() => {
            window.__announced = [];
            const announcer = document.querySelector(".announcer");
            const said = () => announcer.textContent && window.__announced.push(announcer.textContent);
            const all = { childList: true, characterData: true, subtree: true };
            new MutationObserver(said).observe(announcer, all);
        }"""
    )
    conversation = page.evaluate("sessionStorage.getItem('loket:conversation')")
    token = page.evaluate("sessionStorage.getItem('loket:conversation-token')")
    elsewhere = "Hoeveel kost een nieuwe identiteitskaart?"
    body = {"question": elsewhere, "language": "nl", "conversation_id": conversation}
    answered = httpx.post(
        f"{server}/api/v1/ask", json=body, headers={"Loket-Conversation-Token": token}, timeout=60
    ).json()
    exchanges = page.locator(".log .exchange")
    expect(exchanges).to_have_count(2)
    expect(exchanges.nth(1).locator(".question-text")).to_have_text(elsewhere)
    expect(exchanges.nth(1)).to_have_attribute("data-message", answered["message_id"])
    expect(exchanges.nth(1).locator(".after")).to_be_visible()
    page.wait_for_timeout(600)
    assert page.evaluate("window.__announced") == [f"De assistent antwoordde: {answered['answer']}"]
    ask(page, "En als ik in het buitenland ben?")  # its own answer is not shown twice
    expect(exchanges).to_have_count(3)


def _held_conversation(server: str, page) -> dict:
    """The conversation as the API shows it to the holder of the token the page keeps."""
    conversation = page.evaluate("sessionStorage.getItem('loket:conversation')")
    token = page.evaluate("sessionStorage.getItem('loket:conversation-token')")
    headers = {"Loket-Conversation-Token": token}
    return httpx.get(f"{server}/api/v1/conversations/{conversation}", headers=headers).json()


def test_an_error_is_shown_and_announced_and_the_question_kept(running, context):
    server, app = running
    expect = _expect()
    page = context.new_page()
    page.goto(f"{server}/?lang=fr")
    app.state.services.assistant.set_enabled(False, "maintenance planifiée")
    try:
        page.fill("#question", QUESTIONS["fr"])
        page.locator("form.ask button[type=submit]").click()
        error = page.locator(".log .exchange .answer-text .error")
        expect(error).to_contain_text("L'assistant est temporairement indisponible : maintenance planifiée.")
        expect(page.locator(".announcer")).to_contain_text("temporairement indisponible")
        expect(page.locator("#question")).to_have_value(QUESTIONS["fr"])
    finally:
        app.state.services.assistant.set_enabled(True)
    exchange = ask(page, QUESTIONS["fr"])
    expect(exchange.locator(".answer")).to_have_attribute("data-status", "answered")


def _focused(page) -> dict:
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            const style = getComputedStyle(e);
            return { tag: e.tagName.toLowerCase(), id: e.id, name: e.name || "", text: e.textContent.trim(),
                     href: e.getAttribute("href") || "", outline: style.outlineStyle };
        }"""
    )


def _tab_to(page, wanted, key: str = "Tab", limit: int = 60) -> dict:
    """Presses Tab (or Shift+Tab) until `wanted` has focus; every stop on the way must show its focus."""
    for _ in range(limit):
        page.keyboard.press(key)
        focused = _focused(page)
        assert focused["outline"] != "none", f"no visible focus on {focused}"
        if wanted(focused):
            return focused
    raise AssertionError("the keyboard never reached it")


def test_keyboard_only(server, context):
    expect = _expect()
    page = context.new_page()
    page.goto(f"{server}/?lang=nl")
    page.keyboard.press("Tab")
    assert _focused(page)["text"] == "Naar de hoofdinhoud"
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "main"
    _tab_to(page, lambda f: f["id"] == "question")
    page.keyboard.type(QUESTIONS["nl"])
    _tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Vraag")
    page.keyboard.press("Enter")
    exchange = page.locator(".log .exchange").first
    expect(exchange.locator(".after")).to_be_visible()
    assert _focused(page)["text"] == "Vraag", "focus stays where the person was"

    _tab_to(page, lambda f: f["tag"] == "button" and f["text"].endswith("Ja"), "Shift+Tab")
    page.keyboard.press("Space")
    expect(exchange.locator(".thanks")).to_be_visible()
    assert _focused(page)["name"] == "reason", "after rating, focus moves to the optional reason"
    page.keyboard.type("Duidelijk, dank u")
    _tab_to(page, lambda f: f["text"] == "Verstuur")
    page.keyboard.press("Enter")
    expect(exchange.locator("form.reason")).to_be_hidden()
    assert _focused(page)["text"] == "Bedankt voor uw reactie."

    _tab_to(page, lambda f: f["href"].startswith("/diensten/"), "Shift+Tab")  # the citations
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/diensten/.*#"))
    feedback = _held_conversation(server, page)["messages"][0]["feedback"]
    assert feedback == {"rating": "up", "reason": "Duidelijk, dank u"}


def test_javascript_off(server, chromium, context):
    expect = _expect()
    no_js = chromium.new_context(java_script_enabled=False)
    no_js.set_default_timeout(WAIT)
    page = no_js.new_page()
    page.goto(f"{server}/?lang=de")
    page.fill("#question", QUESTIONS["de"])
    page.get_by_role("button", name="Fragen", exact=True).click()
    page.wait_for_url(re.compile(r"/\?lang=de#m-"))
    exchange = page.locator(".log .exchange").first
    expect(exchange.locator(".question-text")).to_have_text(QUESTIONS["de"])
    expect(exchange.locator(".answer-text")).to_contain_text("Doc Stop")
    expect(exchange.locator(".citations a").first).to_be_visible()
    expect(exchange.locator(".answer-heading")).to_contain_text("KI")

    exchange.get_by_role("button", name="Nein").click()
    exchange = page.locator(".log .exchange").first
    expect(exchange.locator(".thanks")).to_be_visible()
    exchange.get_by_label("Möchten Sie uns sagen, warum? (freiwillig)").fill("Zu kurz")
    exchange.get_by_role("button", name="Senden").click()
    expect(page.locator(".log .exchange .thanks").first).to_be_visible()
    expect(page.locator(".log .exchange form.reason").first).to_be_hidden()

    page.locator(".exchange .handoff button").first.click()
    expect(page.locator(".log .exchange")).to_have_count(2)
    expect(page.locator(".log .exchange").nth(1).locator(".answer-text")).to_contain_text("1700")

    # The same conversation, server-rendered, passes axe (checked with scripts on, on the same cookies).
    context.add_cookies(no_js.cookies())
    checked = context.new_page()
    checked.goto(f"{server}/?lang=de")
    expect(checked.locator(".log .exchange")).to_have_count(2)
    assert_accessible(checked, "a conversation rendered without JavaScript")

    page.get_by_role("button", name="Neues Gespräch beginnen").click()
    expect(page.locator(".log .exchange")).to_have_count(0)
    no_js.close()


class _HostSite(BaseHTTPRequestHandler):
    """An agency's page on another site, with a strict CSP that only lets loket's script and frame in."""

    loket = ""

    def do_GET(self):
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Municipality of Example</title></head>
<body><main><h1>Municipality of Example</h1><p>Opening hours and news.</p></main>
<script src="{self.loket}/widget.js" data-lang="en" data-audience="business" data-color="#ffcc00"></script>
</body></html>""".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header(
            "Content-Security-Policy",
            f"default-src 'none'; script-src {self.loket}; frame-src {self.loket}; style-src 'self'; "
            "img-src 'self'; base-uri 'none'; form-action 'none'",
        )
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def host_site(server) -> Iterator[str]:
    handler = type("Host", (_HostSite,), {"loket": server})
    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{port}/"  # another site than loket's 127.0.0.1
    httpd.shutdown()
    httpd.server_close()


def test_widget_on_a_host_page_with_a_strict_csp(server, host_site, context):
    expect = _expect()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(host_site)
    launcher = page.get_by_role("button", name="Ask a question")
    expect(launcher).to_be_visible()
    assert launcher.evaluate("(b) => getComputedStyle(b).backgroundColor") == "rgb(255, 204, 0)"
    assert launcher.evaluate("(b) => getComputedStyle(b).color") == "rgb(0, 0, 0)"
    assert_accessible(page, "the host page with the launcher")

    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    frame_element = page.locator("iframe[title='Digital assistant']")
    expect(frame_element).to_be_visible()
    frame = frame_element.element_handle().content_frame()
    frame.wait_for_load_state()
    expect(frame.locator("#question")).to_be_focused()
    assert frame.evaluate("document.documentElement.lang") == "en"
    assert frame.locator("input[name=audience]").input_value() == "business"
    bar = frame.evaluate("getComputedStyle(document.querySelector('.widget-bar')).backgroundColor")
    assert bar == "rgb(255, 204, 0)"

    exchange = ask(frame, "How do I start a business as a sole trader?")
    expect(exchange.locator(".answer")).to_have_attribute("data-status", "answered")
    link = exchange.locator(".citations a").first
    expect(link).to_have_attribute("target", "_blank")
    assert_accessible(frame, "the widget with an answer")

    # The host page keeps the conversation (the frame may be denied storage of its own): a reload of
    # the agency's page and the conversation is back.
    page.reload()
    page.get_by_role("button", name="Ask a question").click()
    frame = page.locator("iframe[title='Digital assistant']").element_handle().content_frame()
    expect(frame.locator(".log .exchange .question-text")).to_have_text(
        "How do I start a business as a sole trader?"
    )
    frame.get_by_role("button", name="Start a new conversation").click()
    expect(frame.locator(".log .exchange")).to_have_count(0)
    assert frame.url.split("?")[0].endswith("/widget"), "the widget stays in its frame"
    assert page.evaluate("sessionStorage.getItem('loket:widget-conversation')") is None

    page.keyboard.press("Escape")
    expect(frame_element).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert_nothing_blocked(page, "the host page")
    assert_nothing_blocked(frame, "the widget")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_screenshots_of_the_chat(server, chromium, tmp_path):
    """Desktop and phone width; WEB_SCREENSHOTS=docs writes the README's copies."""
    folder = Path(os.environ.get("WEB_SCREENSHOTS") or tmp_path)
    for name, viewport in (
        ("desktop", {"width": 1280, "height": 800}),
        ("phone", {"width": 390, "height": 844}),
    ):
        shot = chromium.new_context(viewport=viewport, device_scale_factor=1)
        shot.set_default_timeout(WAIT)
        page = shot.new_page()
        page.goto(f"{server}/?lang=nl")
        ask(page, QUESTIONS["nl"])
        page.locator("#question").blur()
        path = folder / f"chat-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shot.close()
        assert path.stat().st_size > 10_000
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
