"""Security headers, a CSP that pages can live with (no inline script or style anywhere), secure cookies,
framing only for the widget, and the start page's weight budget (issue 5: at most 100 KB transferred)."""

from __future__ import annotations

import gzip
import re
import secrets
import socket
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from loket.i18n import LANGUAGES
from loket.web.security import CSRF_COOKIE, PAGE_POLICY
from tests.web_support import OWN_PAGE, PAGES, Elements, csrf_token, demo_settings, live_server, load_demo

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


# CSRF: the token is signed with the server's secret for one session


@pytest.fixture(scope="module")
def logins(sqlite_template, tmp_path_factory) -> Iterator[FastAPI]:
    """The demo, with its persons' login, for two browsers at once."""
    from loket.web.app import create_app

    app = create_app(demo_settings(sqlite_template, tmp_path_factory.mktemp("csrf"), demo=True))
    load_demo(app)
    yield app
    app.state.services.db.dispose()


def _logged_in(app: FastAPI, person: str) -> TestClient:
    browser = TestClient(app)
    assert browser.post("/auth/demo-login", json={"person": person}).status_code == 200
    return browser


def _logout(browser: TestClient, token: str, headers: dict[str, str] = OWN_PAGE) -> int:
    """Posts the logout form with `token` in both the field and the cookie, as a double submit does."""
    for cookie in [c for c in browser.cookies.jar if c.name == CSRF_COOKIE]:
        browser.cookies.delete(cookie.name, domain=cookie.domain, path=cookie.path)
    browser.cookies.set(CSRF_COOKIE, token)
    response = browser.post(
        "/auth/logout", data={"csrf_token": token}, headers=headers, follow_redirects=False
    )
    return response.status_code


def _still_logged_in(browser: TestClient) -> bool:
    return browser.get("/api/v1/me").status_code == 200


def test_a_token_from_another_session_is_refused(logins):
    victim, attacker = _logged_in(logins, "an-peeters"), _logged_in(logins, "jan-janssens")
    attackers_token = csrf_token(attacker.get("/mijn-profiel").text)
    # The attacker's own token, planted as the victim's cookie too: the double submit matches, the
    # session does not.
    assert _logout(victim, attackers_token) == 403
    assert _still_logged_in(victim)
    own = csrf_token(victim.get("/mijn-profiel").text)
    assert own != attackers_token
    assert _logout(victim, own) == 303 and not _still_logged_in(victim)


def test_a_token_signed_by_no_one_is_refused(logins):
    browser = _logged_in(logins, "marie-dubois")
    csrf_token(browser.get("/mijn-profiel").text)
    forged = secrets.token_urlsafe(32)
    assert _logout(browser, forged) == 403
    assert _logout(browser, f"{forged}.{forged}") == 403
    assert _still_logged_in(browser)


def test_the_anonymous_token_stops_working_at_login(logins):
    browser = TestClient(logins)
    before = csrf_token(browser.get("/").text)
    assert browser.post("/auth/demo-login", json={"person": "lotte-maes"}).status_code == 200
    assert _logout(browser, before) == 403
    after = csrf_token(browser.get("/mijn-profiel").text)
    assert after != before and _logout(browser, after) == 303


def test_a_post_without_fetch_metadata_must_name_loket_as_its_origin(logins):
    browser = _logged_in(logins, "an-peeters")
    token = csrf_token(browser.get("/mijn-profiel").text)
    assert _logout(browser, token, headers={}) == 403
    assert _logout(browser, token, headers={"Origin": "https://evil.example"}) == 403
    assert _logout(browser, token, headers={"Sec-Fetch-Site": "same-site"}) == 403
    assert _still_logged_in(browser)
    assert _logout(browser, token, headers={"Origin": "http://testserver"}) == 303


def test_the_csrf_cookie_is_host_only_over_https(sqlite_template, tmp_path):
    from loket.web.app import create_app

    app = create_app(demo_settings(sqlite_template, tmp_path))
    with TestClient(app, base_url="https://loket.example") as client:
        cookie = client.get("/").headers["set-cookie"]
    app.state.services.db.dispose()
    assert cookie.startswith(f"__Host-{CSRF_COOKIE}=") and "Secure" in cookie and "Path=/" in cookie


# Request bodies are refused before they are read whole


@pytest.fixture(scope="module")
def small_bodies(sqlite_template, tmp_path_factory) -> Iterator[str]:
    settings = demo_settings(sqlite_template, tmp_path_factory.mktemp("bodies"), max_request_kb=8)
    with live_server(settings) as (base_url, _app):
        yield base_url


def _raw_post(base_url: str, headers: str, *parts: bytes) -> str:
    """Sends the request line, headers and then `parts` one by one, and reads what comes back; the
    body is never finished, so only a server that answers before reading it all can answer."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            f"POST /api/v1/ask HTTP/1.1\r\nHost: {host}\r\nAccept-Language: en\r\n{headers}\r\n".encode()
        )
        for part in parts:
            connection.sendall(part)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer.decode("utf-8", "replace")


def test_a_body_said_to_be_too_long_is_refused_unread(small_bodies):
    answer = _raw_post(small_bodies, "Content-Type: application/json\r\nContent-Length: 52428800\r\n", b'{"q')
    assert answer.startswith("HTTP/1.1 413")
    assert '"code":"request_too_large"' in answer and "at most 8 KB" in answer


def test_a_chunked_body_is_refused_once_it_passes_the_limit(small_bodies):
    chunk = b"x" * 4096
    framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    answer = _raw_post(
        small_bodies,
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
        framed,
        framed,
        framed,
    )
    assert answer.startswith("HTTP/1.1 413") and "request_too_large" in answer
    assert answer.count("HTTP/1.1") == 1, "the app's own answer must not follow"


def test_a_body_within_the_limit_is_answered(small_bodies):
    response = httpx.post(
        f"{small_bodies}/api/v1/ask", json={"question": "Hoe vraag ik een identiteitskaart aan?"}
    )
    assert response.status_code == 200 and response.json()["status"]
