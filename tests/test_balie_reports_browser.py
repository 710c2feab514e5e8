"""The reports queue on the agent console in Chromium, against a live server with the demo persons:
Lotte Maes, agent in Fluvius's team, finds a report in her queue, sees its photo, and closes it through
the form; axe finds nothing on the queue and the report in Dutch, French, English and German.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from loket.i18n import LANGUAGES, plain
from tests.test_reports import form, jpeg
from tests.test_web_browser import _expect, assert_accessible, checked_context, chromium  # noqa: F401
from tests.web_support import demo_settings, live_server


@pytest.fixture(scope="module")
def server(sqlite_template, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """The demo with one report of a broken street light, sent by Jan Janssens: (URL, report id)."""
    settings = demo_settings(sqlite_template, tmp_path_factory.mktemp("balie-reports"), demo=True)
    with live_server(settings) as (url, app):
        app.state.services.identity.demo.load()
        app.state.services.reports.load_demo()  # Lotte Maes works every authority's queue
        with httpx.Client(base_url=url) as jan:
            assert jan.post("/auth/demo-login", json={"person": "jan-janssens"}).status_code == 200
            sent = jan.post(
                "/api/v1/reports",
                data=form(description="De lamp voor nummer 12 brandt niet."),
                files=[("photo", ("lamp.jpg", jpeg(), "image/jpeg"))],
            )
        assert sent.status_code == 201, sent.text
        yield url, sent.json()["id"]


def test_an_agent_closes_a_report_on_accessible_pages_in_every_language(server, chromium):  # noqa: F811
    url, report_id = server
    context = checked_context(chromium)
    page = context.new_page()
    expect = _expect()
    page.goto(f"{url}/aanmelden?lang=nl")
    page.get_by_role("button", name=plain("nl", "Log in as %(name)s", name="Lotte Maes")).click()
    expect(page.locator("header .account")).to_be_visible()

    for language in LANGUAGES:
        page.goto(f"{url}/balie?lang={language}")
        page.get_by_role("link", name=plain(language, "Reports for your authorities")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(plain(language, "Open reports"))
        assert_accessible(page, f"the reports queue in {language}")
        page.locator(f'a[href^="/balie/meldingen/{report_id}"]').click()
        photo = page.get_by_role(
            "img", name=plain(language, "Photo %(number)s of %(count)s", number=1, count=1)
        )
        expect(photo).to_be_visible()
        assert photo.evaluate("img => img.complete && img.naturalWidth > 0"), "the agent sees the photo"
        assert_accessible(page, f"a report in {language}")

    language = "fr"
    page.goto(f"{url}/balie/meldingen/{report_id}?lang={language}")
    page.get_by_label(plain(language, "New status")).fill("Hersteld")
    page.get_by_label(plain(language, "Details (optional)")).fill("De lamp is vervangen.")
    page.get_by_label(plain(language, "Close the report: it is handled and changes no more")).check()
    page.get_by_role("button", name=plain(language, "Save the status")).click()
    expect(page.get_by_role("status")).to_have_text(plain(language, "The status has been saved."))
    expect(page.locator("#current-status")).to_contain_text("Hersteld: De lamp is vervangen.")
    expect(page.get_by_role("button", name=plain(language, "Save the status"))).to_have_count(0)
    assert_accessible(page, f"a closed report in {language}")
    page.get_by_role("link", name=plain(language, "Back to the reports")).click()
    expect(page.locator(f'a[href^="/balie/meldingen/{report_id}"]')).to_have_count(0)
    page.get_by_role("link", name=plain(language, "Closed reports")).click()
    expect(page.locator(f'a[href^="/balie/meldingen/{report_id}"]')).to_have_count(1)
    assert page.evaluate("window.__blocked") == [], "the Content Security Policy blocked something"
    context.close()
