"""The dashboard in a real browser, as issue 22 asks: Lotte Maes (operator and content owner) opens
/beheer from her loket's header with the keyboard alone, chooses another period with the keyboard and
shows it; the chart says what it shows in words, its numbers are there as a table, and the page passes
axe in Dutch and in French.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from loket.i18n import plain
from tests.test_web_browser import _expect, assert_accessible, checked_context, chromium  # noqa: F401
from tests.web_support import demo_settings, live_server

NL, FR = "nl", "fr"
TABS = 60  # at most, to reach a control with the Tab key


@pytest.fixture(scope="module")
def server(sqlite_template, tmp_path_factory) -> Iterator[str]:
    """The demo with its persons, and questions asked on each channel."""
    settings = demo_settings(sqlite_template, tmp_path_factory.mktemp("insight"), demo=True)
    with live_server(settings) as (url, app):
        app.state.services.identity.demo.load()
        with httpx.Client(base_url=url) as client:
            for channel in ("web", "web", "widget", "api"):
                client.cookies.clear()
                asked = {
                    "question": "Mijn identiteitskaart is gestolen. Wat moet ik doen?",
                    "channel": channel,
                }
                assert client.post("/api/v1/ask", json=asked).status_code == 200
        yield url


def tab_to(page, selector: str) -> None:
    """Presses Tab until the element `selector` finds has the focus."""
    for _ in range(TABS):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def from_the_dashboard(chromium, server: str, link: str):  # noqa: F811
    """Lotte Maes logged in, on the dashboard in Dutch, follows the link to `link` with the keyboard:
    (context, page, expect)."""
    context = checked_context(chromium, viewport={"width": 1024, "height": 768}, locale="nl-BE")
    page = context.new_page()
    expect = _expect()
    page.goto(f"{server}/aanmelden?lang={NL}")
    page.get_by_role("button", name=plain(NL, "Log in as %(name)s", name="Lotte Maes")).click()
    expect(page.locator("header .account")).to_be_visible()
    page.goto(f"{server}/beheer?lang={NL}")
    tab_to(page, f'main a[href^="{link}"]')
    page.keyboard.press("Enter")
    return context, page, expect


def test_lotte_opens_the_dashboard_and_changes_the_period_with_the_keyboard(server, chromium):  # noqa: F811
    context = checked_context(chromium, viewport={"width": 1024, "height": 768}, locale="nl-BE")
    page = context.new_page()
    expect = _expect()
    page.goto(f"{server}/aanmelden?lang={NL}")
    page.get_by_role("button", name=plain(NL, "Log in as %(name)s", name="Lotte Maes")).click()
    expect(page.locator("header .account")).to_be_visible()

    tab_to(page, 'header .account a[href^="/beheer"]')
    expect(page.locator(":focus")).to_have_text(plain(NL, "Dashboard"))
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(plain(NL, "Dashboard"))
    expect(page.locator('header .account a[aria-current="page"]')).to_have_text(plain(NL, "Dashboard"))
    chart = page.locator('figure[role="img"]')
    expect(chart).to_have_attribute("aria-label", re.compile(re.escape(plain(NL, "Questions per hour"))))
    expect(chart.locator("svg > title")).to_have_text(plain(NL, "Questions per hour"))
    expect(page.locator('table[data-table="channel"] tbody tr')).to_have_count(3)
    assert_accessible(page, "/beheer in Dutch, the last 24 hours")

    tab_to(page, "#period")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#period")).to_have_value("30d")
    tab_to(page, "form.filters button[type=submit]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]period=30d(&|$)"))
    expect(page.locator("#period")).to_have_value("30d")
    expect(chart.locator("svg > title")).to_have_text(plain(NL, "Questions per day"))
    label = chart.get_attribute("aria-label")
    assert label and "4" in label, label  # the four questions, said in words
    expect(chart.locator("svg > desc")).to_have_text(label)
    expect(page.locator('table[data-table="questions"] tbody tr')).to_have_count(30)
    # The same numbers as a table, behind "Show as a table", opened with the keyboard.
    tab_to(page, "details summary")
    page.keyboard.press("Enter")
    expect(page.locator('table[data-table="questions"]')).to_be_visible()
    assert_accessible(page, "/beheer in Dutch, the last 30 days, the chart's table open")
    page.set_viewport_size({"width": 360, "height": 800})  # a phone: tables scroll, the rest fits
    # The page's own content fits (the header's profile switch is the header's own business).
    wide = page.evaluate(
        "[...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > 360"
        " && !e.closest('.table-scroll')).map((e) => e.tagName)"
    )
    assert wide == [], wide
    page.set_viewport_size({"width": 1024, "height": 768})

    page.locator("nav.languages").get_by_role("link", name="Français").click()
    expect(page.locator("h1")).to_have_text(plain(FR, "Dashboard"))
    expect(page.locator("#period")).to_have_value("30d")  # the filter kept
    expect(chart.locator("svg > title")).to_have_text(plain(FR, "Questions per day"))
    expect(chart).to_have_attribute("aria-label", re.compile(re.escape(plain(FR, "Questions per day"))))
    assert_accessible(page, "/beheer in French")
    assert page.evaluate("window.__blocked") == [], "the Content Security Policy blocked something"
    context.close()


def test_lotte_reviews_an_answer_with_the_keyboard_alone(server, chromium):  # noqa: F811
    """From the dashboard to the answers waiting, to a form: every choice made with Tab, the arrow keys
    and Space; a missing reason is listed first and its link leads to the field; saved, on to the next."""
    context, page, expect = from_the_dashboard(chromium, server, "/beheer/beoordelen")
    expect(page.locator("h1")).to_have_text(plain(NL, "Review answers"))
    assert_accessible(page, "the answers waiting for review")

    tab_to(page, "ol.cases a")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(plain(NL, "Review an answer"))
    assert_accessible(page, "the review form")
    groups = page.locator("fieldset.verdict")
    assert groups.count() >= 2
    for index in range(groups.count()):
        name = groups.nth(index).locator("input").first.get_attribute("name")
        tab_to(page, f"#{name}-right")  # the group's first choice: Space chooses right
        page.keyboard.press("ArrowRight" if index == 0 else "Space")  # the first sentence: wrong
    expect(page.locator("#sentence-0-wrong")).to_be_checked()
    expect(page.locator(f"#{name}-right")).to_be_checked()
    tab_to(page, "form.review button[type=submit]")
    page.keyboard.press("Enter")

    summary = page.locator('.notice[role="alert"] a[href="#reason"]')
    expect(summary).to_be_visible()
    expect(page.locator("#reason")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#sentence-0-wrong")).to_be_checked()  # the choices kept
    assert_accessible(page, "the review form with a problem")
    tab_to(page, '.notice[role="alert"] a[href="#reason"]')
    page.keyboard.press("Enter")
    expect(page.locator("#reason")).to_be_focused()
    page.keyboard.type("De eerste zin is te vaag.")
    tab_to(page, "form.review button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator(".notice.saved")).to_have_text(
        re.compile(re.escape(plain(NL, "Your review has been saved.")))
    )
    assert_accessible(page, "after saving a review")
    assert page.evaluate("window.__blocked") == [], "the Content Security Policy blocked something"
    context.close()


def test_lotte_marks_a_content_gap_handled_with_the_keyboard(server, chromium, tmp_path_factory):  # noqa: F811
    """From the dashboard's link to the content gaps, a topic marked handled with the keyboard alone; the
    page passes axe before, after (the handled topics shown) and in French. The server's database gets
    a computed run first, from a second loket on the same file."""
    import uuid

    from loket.assistant.schemas import Answer, Status
    from loket.config import Settings
    from loket.services import Services
    from tests.test_insight_gaps import FISHING, SOLAR

    database = next(tmp_path_factory.getbasetemp().glob("insight*/loket.db"))
    settings = Settings(database_url=f"sqlite:///{database}", data_dir=database.parent, _env_file=None)
    services = Services.build(settings)
    for question in FISHING + SOLAR:  # each by someone else, unanswered
        answer = Answer(
            str(uuid.uuid4()), str(uuid.uuid4()), Status.UNANSWERABLE, "Dat weet ik niet.", "nl", []
        )
        services.assistant.conversations.add(answer, question, question, [])
    assert services.gaps.compute().kept == 2
    services.db.dispose()

    context, page, expect = from_the_dashboard(chromium, server, "/beheer/hiaten")
    expect(page.locator("h1")).to_have_text(plain(NL, "Content gaps"))
    expect(page.locator("ol.gaps > li")).to_have_count(2)
    assert_accessible(page, "/beheer/hiaten in Dutch")

    tab_to(page, "ol.gaps > li:first-child button")
    expect(page.locator(":focus")).to_have_text(plain(NL, "Mark topic %(number)s handled", number=1))
    page.keyboard.press("Enter")
    expect(page.locator('.notice[role="status"]')).to_be_visible()
    expect(page.locator("ol.gaps > li")).to_have_count(1)
    tab_to(page, "details summary")
    page.keyboard.press("Enter")
    expect(page.locator("details ul.gaps > li")).to_have_count(1)
    assert_accessible(page, "/beheer/hiaten with a topic handled, the handled ones shown")

    page.locator("nav.languages").get_by_role("link", name="Français").click()
    expect(page.locator("h1")).to_have_text(plain(FR, "Content gaps"))
    assert_accessible(page, "/beheer/hiaten in French")
    assert page.evaluate("window.__blocked") == [], "the Content Security Policy blocked something"
    context.close()


def test_lotte_registers_a_partners_client_and_sees_its_secret_once(server, chromium):  # noqa: F811
    """/beheer/partners from the dashboard: a wrong quota is listed first and leads to the form, the
    client made shows its secret once; axe finds nothing in Dutch, after each step, and in French."""
    context, page, expect = from_the_dashboard(chromium, server, "/beheer/partners")
    expect(page.locator("h1")).to_have_text(plain(NL, "Partners' clients"))
    assert_accessible(page, "/beheer/partners in Dutch, no client yet")

    page.fill("#name", "Stad Zonnedorp")
    page.check("#scope-ask")
    page.fill("#quota", "veel")
    page.get_by_role("button", name=plain(NL, "Register the client")).click()
    expect(page.locator('.notice[role="alert"]')).to_be_visible()
    assert_accessible(page, "/beheer/partners with a problem")
    page.fill("#quota", "100/minute")
    page.get_by_role("button", name=plain(NL, "Register the client")).click()
    expect(page.locator(".notice.saved dd code").nth(1)).to_have_text(re.compile("^lks_"))
    assert_accessible(page, "/beheer/partners with a client just registered")

    page.goto(f"{server}/beheer/partners?lang={FR}")
    expect(page.locator("h1")).to_have_text(plain(FR, "Partners' clients"))
    assert page.locator("text=lks_").count() == 0, "the secret is shown once"
    assert_accessible(page, "/beheer/partners in French")
    assert page.evaluate("window.__blocked") == [], "the Content Security Policy blocked something"
    context.close()
