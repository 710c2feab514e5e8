"""The server-rendered pages: every page in every language, service pages, search, the published
evaluation figures, friendly error pages and the widget route. In-process, on the demo catalogue."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from loket.i18n import LANGUAGES, plain
from loket.web.evaluation import PUBLISHED, published
from loket.web.widget import text_colour
from tests.web_support import PAGES, Elements, demo_settings, load_demo

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def site(sqlite_template, tmp_path_factory) -> Iterator[TestClient]:
    from loket.web.app import create_app

    app = create_app(demo_settings(sqlite_template, tmp_path_factory.mktemp("site")))
    load_demo(app)
    with TestClient(app) as client:
        yield client
    app.state.services.db.dispose()


def _item(site, title: str):
    return next(item for item in site.app.state.services.catalog.active_items() if item.title == title)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", PAGES)
def test_every_page_speaks_the_chosen_language(site, path, language):
    response = site.get(path, params={"lang": language}, headers={"Accept-Language": "nl"})
    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.text
    assert response.headers["content-language"] == language
    footer_link = plain(language, "About this assistant")
    assert footer_link in response.text
    if language != "en":
        assert footer_link != "About this assistant", "the catalogue has no translation"
    if path == "/widget":
        return  # the host site chooses the widget's language, and the widget has no footer
    assert '<a href="tel:1700">1700</a>' in response.text, "a person is one tap away"
    # The language switch offers the same page in every language, each name in its own language.
    for code, name in (("nl", "Nederlands"), ("fr", "Français"), ("en", "English"), ("de", "Deutsch")):
        assert f'hreflang="{code}" lang="{code}"' in response.text and name in response.text


def test_accept_language_chooses_when_the_url_does_not(site):
    def language(**headers) -> str:
        return re.search(r'<html lang="(\w+)"', site.get("/", headers=headers).text).group(1)

    assert language() == "nl"
    assert language(**{"Accept-Language": "de-CH, fr;q=0.9"}) == "de"
    assert language(**{"Accept-Language": "tr, en;q=0.8, fr;q=0.9"}) == "fr"
    assert language(**{"Accept-Language": "fr;q=0, en;q=0.1"}) == "en"
    assert language(**{"Accept-Language": "ja, tr"}) == "nl"
    chosen = site.get("/?lang=en", headers={"Accept-Language": "fr"}).text
    assert re.search(r'<html lang="(\w+)"', chosen)[1] == "en", "the URL (the switch) wins"


def test_links_keep_the_language(site):
    page = site.get("/over-deze-assistent", params={"lang": "de"}).text
    links = [attrs for tag, attrs in Elements(page).tags if tag == "a" and "hreflang" not in attrs]
    hrefs = {attrs.get("href") for attrs in links}  # the language switch aside
    own = {href for href in hrefs if href and href.startswith("/") and not href.startswith("/static")}
    assert own and all("lang=de" in href for href in own), own - {h for h in own if "lang=de" in h}


def test_service_page_has_sections_source_and_date(site):
    item = _item(site, "Identiteitskaart verloren of gestolen")
    page = site.get(item.url, params={"lang": "en"}, headers=HTML)
    assert page.status_code == 200
    assert f'<article class="service" lang="{item.language}">' in page.text
    for section in item.sections:
        assert f'<section id="{section.anchor}">' in page.text
    assert "<dt>Organisation</dt><dd>FOD Binnenlandse Zaken</dd>" in page.text
    assert "<dt>Language</dt><dd>Dutch</dd>" in page.text
    updated = item.modified or item.updated_at
    assert f'<time datetime="{updated.isoformat()}">' in page.text
    assert str(updated.year) in page.text


def test_search_results_mark_the_language_of_each_result(site):
    english = _item(site, "Lost or stolen identity card")
    page = site.get("/zoeken", params={"q": "identity card stolen", "lang": "nl"}).text
    assert "Zoekresultaten" in page
    assert f'<h3 lang="en"><a href="{english.url}?lang=nl#' in page
    assert "Van FPS Home Affairs" in page or "Van FOD Binnenlandse Zaken" in page
    empty = site.get("/zoeken", params={"lang": "nl"}).text
    assert 'id="q"' in empty and "Resultaten" not in empty


def test_a_question_in_the_address_searches_instead_of_asking(site):
    """Asking stores a conversation; a GET must change nothing, so ?q= links show search results."""
    response = site.get("/", params={"q": "identiteitskaart kwijt", "lang": "fr"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/zoeken?q=identiteitskaart+kwijt&lang=fr")


def test_about_page_says_it_is_ai_and_publishes_the_latest_figures(site):
    assert PUBLISHED.exists(), "src/loket/web/evaluation.json is the page's source"
    page = site.get("/over-deze-assistent", params={"lang": "nl"}).text
    assert "U praat met een A.I.-systeem" in page
    assert "Hij antwoordt alleen op basis van 46 officiële beschrijvingen van diensten." in page
    figures = published("nl")
    for figure in figures["figures"]:
        held_out = f"<td>{figure['value']}</td><td>{figure['questions']}</td>"
        assert f"{held_out}<td>{figure['tuning']} ({figure['tuning_questions']})</td>" in page
    assert figures["date"] in page and figures["sets"] in page
    assert "nooit gebruikt om de assistent af te stemmen" in page  # the figures are the held-out part's
    assert re.search(r"<td>\d+,\d%</td>", page)  # percentages as the Dutch reader writes them
    assert "loket-demo" in page  # where the answers come from


def test_privacy_statement_tells_the_retention_period(site):
    page = site.get("/privacy", params={"lang": "en"}).text
    assert "A conversation is deleted 365 days after it was last used." in page
    assert "loket_csrf" in page and "loket_conversation" in page


def test_not_found_is_a_friendly_page_for_people_and_json_for_machines(site):
    page = site.get("/bestaat-niet", params={"lang": "fr"}, headers=HTML)
    assert page.status_code == 404
    assert "<h1>Page introuvable</h1>" in page.text
    assert 'href="/?lang=fr"' in page.text
    assert site.get("/diensten/does-not-exist", headers=HTML).text.count("Pagina niet gevonden") >= 1
    api = site.get("/api/v1/conversations/does-not-exist")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


def test_a_server_error_is_a_friendly_page_with_the_security_headers(sqlite_template, tmp_path):
    from loket.web.app import create_app

    app = create_app(demo_settings(sqlite_template, tmp_path))

    @app.get("/kapot")
    def broken():
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/kapot", params={"lang": "de"}, headers=HTML)
    app.state.services.db.dispose()
    assert page.status_code == 500
    assert "<h1>Leider ist etwas schiefgegangen</h1>" in page.text
    assert "a bug" not in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "script-src 'self';" in page.headers["content-security-policy"]


def test_widget_page_takes_audience_language_and_colour(site):
    page = site.get("/widget", params={"lang": "en", "audience": "business", "color": "#ffcc00"}).text
    assert '<html lang="en"' in page
    assert '<input type="hidden" name="audience" value="business">' in page
    assert 'data-accent="#ffcc00" data-accent-text="#000000"' in page
    hostile = site.get("/widget", params={"audience": "<script>", "color": "red;background:url(x)"}).text
    assert "data-accent" not in hostile and 'name="audience"' not in hostile


def test_text_on_the_hosts_colour_stays_readable():
    assert text_colour("#ffcc00") == "#000000"
    assert text_colour("#0b4f9c") == "#ffffff"
    assert text_colour("#fff") == "#000000"
    assert text_colour("#000") == "#ffffff"


def test_widget_loader_carries_every_languages_labels(site):
    script = site.get("/widget.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cross-origin-resource-policy"] == "cross-origin"
    for language in LANGUAGES:
        assert plain(language, "Ask a question") in script.text
    assert "eval(" not in script.text and "innerHTML" not in script.text
