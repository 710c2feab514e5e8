"""Security headers, a CSP that pages can live with (no inline script or style anywhere), secure cookies,
framing only for the widget, and the start page's weight budget (issue 5: at most 100 KB transferred)."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from loket.i18n import LANGUAGES
from loket.web.security import PAGE_POLICY
from tests.web_support import PAGES, Elements, demo_settings, load_demo

WEIGHT_BUDGET = 100 * 1024


@pytest.fixture(scope="module")
def site(sqlite_template, tmp_path_factory) -> Iterator[TestClient]:
    from loket.web.app import create_app

    app = create_app(demo_settings(sqlite_template, tmp_path_factory.mktemp("secure")))
    load_demo(app)
    with TestClient(app) as client:
        yield client
    app.state.services.db.dispose()


def _service_page(site) -> str:
    return site.app.state.services.catalog.active_items()[0].url


def test_pages_and_api_carry_the_security_headers(site):
    for path in (*PAGES, _service_page(site), "/api/v1/search?q=eid", "/healthz", "/static/loket.css"):
        headers = site.get(path).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        assert "camera=()" in headers["permissions-policy"], path
        assert headers["cross-origin-opener-policy"] == "same-origin", path
        if path != "/widget":
            assert headers["content-security-policy"] == PAGE_POLICY, path
            assert headers["x-frame-options"] == "DENY", path
    policy = PAGE_POLICY.replace(";", " ;").split()
    script_src = policy[policy.index("script-src") + 1 : policy.index(";", policy.index("script-src"))]
    assert script_src == ["'self'"], "no inline scripts, no eval, no other origin"
    assert "frame-ancestors 'none'" in PAGE_POLICY and "base-uri 'none'" in PAGE_POLICY


def test_only_the_widget_may_be_framed(site):
    widget = site.get("/widget").headers
    assert "x-frame-options" not in widget
    assert widget["content-security-policy"].endswith("frame-ancestors *")
    assert "script-src 'self';" in widget["content-security-policy"]
    assert widget["cross-origin-resource-policy"] == "cross-origin"
    assert site.get("/").headers["cross-origin-resource-policy"] == "same-origin"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_page_has_inline_script_style_or_handlers(site, language):
    """What the CSP forbids must not be in the pages, or they would break in browsers."""
    for path in (*PAGES, _service_page(site), "/bestaat-niet"):
        page = Elements(site.get(path, params={"lang": language}, headers={"Accept": "text/html"}).text)
        assert page.inline_scripts == [], path
        for tag, attributes in page.tags:
            assert "style" not in attributes, (path, tag)
            assert not any(name.startswith("on") for name in attributes), (path, tag)
            assert tag != "style", path
            if tag == "script":
                assert attributes["src"].startswith("/static/"), path


def test_pages_are_never_cached_and_static_files_are(site):
    page = site.get("/").headers
    assert page["cache-control"] == "no-store"
    assert "Accept-Language" in page["vary"]
    assert site.get("/static/loket.css").headers["cache-control"] == "public, max-age=3600"


def test_cookies_are_secure_over_https(sqlite_template, tmp_path):
    from loket.web.app import create_app

    app = create_app(demo_settings(sqlite_template, tmp_path))
    with TestClient(app, base_url="https://loket.example") as client:
        response = client.get("/")
    app.state.services.db.dispose()
    cookie = response.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    production = create_app(demo_settings(sqlite_template, tmp_path, env="production"))
    with TestClient(production) as plain_http:
        assert "Secure" in plain_http.get("/").headers["set-cookie"], "production cookies are always Secure"
    production.state.services.db.dispose()


def test_user_text_is_escaped(site):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    page = site.get("/zoeken", params={"q": hostile}).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def _transferred(site, path: str) -> int:
    """Bytes on the wire with compression, as a browser fetches it."""
    with site.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as response:
        assert response.status_code == 200, path
        return sum(len(chunk) for chunk in response.iter_raw())


def test_start_page_weighs_at_most_100_kb(site):
    html = site.get("/").text
    assets = [
        attributes.get("href") or attributes.get("src")
        for tag, attributes in Elements(html).tags
        if (tag == "link" and attributes.get("rel") in ("stylesheet", "icon")) or tag == "script"
    ]
    assets.append("/static/js/sse.js")  # imported by chat.js
    total = _transferred(site, "/") + sum(_transferred(site, asset) for asset in assets)
    assert total <= WEIGHT_BUDGET, f"start page transfers {total} bytes"
    # Compression is on for the page and its text files (Starlette leaves event streams alone).
    css = site.get("/static/loket.css").content
    assert _transferred(site, "/static/loket.css") < len(gzip.compress(css)) + 100


def test_the_language_switch_never_links_off_site(site):
    """Its links are built from the route, not the raw path: `//evil.example` is a path here."""
    for path in ("//evil.example", "//evil.example/x", "/\\evil.example"):
        page = site.get(f"http://testserver{path}", headers={"Accept": "text/html"})
        assert page.status_code == 404
        switch = re.findall(r'hreflang="\w\w" lang="\w\w"[^>]*>|href="([^"]*)" hreflang', page.text)
        hrefs = [href for href in switch if href]
        assert len(hrefs) == 4 and all(href.startswith("/?lang=") for href in hrefs), hrefs
        assert "evil.example" not in page.text.replace(path, "")
    service = site.get("/zoeken", params={"q": "paspoort"}).text
    assert 'href="/zoeken?q=paspoort&amp;lang=fr" hreflang="fr"' in service
