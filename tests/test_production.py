"""Production fails closed: forgetting LOKET_ENV gives production, and production refuses what is
unsafe online. The database plays no part here, so these run on SQLite only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from loket.config import Settings
from loket.web.app import create_app
from tests.web_support import demo_settings

LOKET = str(Path(sys.executable).with_name("loket"))
NATIONAL_NUMBER = "85073003328"


def _environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """A deployment's environment: none of the suite's LOKET_* variables, only these."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("LOKET_")}
    return {**clean, "LOKET_DATA_DIR": str(tmp_path / "data"), **variables}


def _loket(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LOKET, *args],
        env=_environment(tmp_path, **variables),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_without_loket_env_it_is_production_unless_the_demo_is_on(monkeypatch, tmp_path):
    monkeypatch.delenv("LOKET_ENV")
    assert Settings(data_dir=tmp_path, _env_file=None).env == "production"
    assert Settings(data_dir=tmp_path, demo=True, _env_file=None).env == "development"
    assert Settings(data_dir=tmp_path, env="development", _env_file=None).env == "development"


def test_serve_refuses_production_without_an_https_public_address(tmp_path):
    for public_url in ({}, {"LOKET_PUBLIC_URL": "http://loket.example.be"}):
        result = _loket(tmp_path, "serve", "--port", "1", **public_url)
        assert result.returncode == 2
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("loket serve: refusing to start in production without an https LOKET_PUBLIC")
        assert not (tmp_path / "data").exists(), "it refused before touching anything"


def test_config_check_lists_what_is_unsafe_and_fails(tmp_path):
    unsafe = _loket(tmp_path, "config", "--check", LOKET_ENV="development", LOKET_DEMO="1")
    assert unsafe.returncode == 1
    assert [line.split(" ", 2)[1] for line in unsafe.stdout.splitlines()] == [
        "LOKET_PUBLIC_URL",
        "LOKET_ENV",
        "LOKET_DEMO",
        "LOKET_DATABASE_URL",
    ]
    safe = _loket(
        tmp_path,
        "config",
        "--check",
        LOKET_PUBLIC_URL="https://loket.example.be",
        LOKET_DATABASE_URL="postgresql+psycopg://loket@db.internal/loket",
    )
    assert safe.returncode == 0 and safe.stdout.strip() == "safe to put online"


@pytest.fixture
def production(sqlite_template, tmp_path, monkeypatch):
    monkeypatch.delenv("LOKET_ENV")
    app = create_app(demo_settings(sqlite_template, tmp_path, public_url="https://loket.example.be"))
    assert app.state.services.settings.production
    yield app
    app.state.services.db.dispose()


def test_production_has_no_api_docs_and_no_demo_login(production):
    with TestClient(production) as client:
        assert client.get("/api/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 200
        assert client.post("/auth/demo-login", json={"person": "jan-janssens"}).status_code == 404


def test_cookies_and_hsts_follow_the_public_address_not_the_proxys_scheme(production):
    with TestClient(production) as behind_a_proxy:  # plain HTTP between the proxy and loket
        page = behind_a_proxy.get("/")
    assert "Secure" in page.headers["set-cookie"]
    assert page.headers["strict-transport-security"].startswith("max-age=31536000")


def test_production_keeps_statement_values_out_of_database_errors(production):
    with pytest.raises(OperationalError) as failed, production.state.services.db.session() as session:
        session.execute(text("INSERT INTO no_such_table VALUES (:number)"), {"number": NATIONAL_NUMBER})
    assert NATIONAL_NUMBER not in str(failed.value)
    assert "hide_parameters" in str(failed.value)


def test_the_demo_shows_a_banner_on_every_page(sqlite_template, tmp_path):
    app = create_app(demo_settings(sqlite_template, tmp_path, demo=True))
    with TestClient(app) as client:
        for path in ("/", "/privacy", "/aanmelden"):
            assert 'class="demo-banner"' in client.get(path, params={"lang": "en"}).text
    app.state.services.db.dispose()
    (tmp_path / "plain").mkdir()
    plain = create_app(demo_settings(sqlite_template, tmp_path / "plain", demo=False))
    with TestClient(plain) as client:
        assert "demo-banner" not in client.get("/").text
    plain.state.services.db.dispose()


def _asked_from(app, peer: str, forwarded_for: str):
    with TestClient(app, client=(peer, 50000)) as client:
        return client.post(
            "/api/v1/ask", json={"question": "Hallo"}, headers={"X-Forwarded-For": forwarded_for}
        )


@pytest.mark.parametrize("trusted", ["", "10.0.0.0/8"])
def test_only_a_trusted_proxy_may_say_who_the_client_is(sqlite_template, tmp_path, trusted):
    """One client's limit is two questions a minute: a forged X-Forwarded-For must not buy a third."""
    settings = demo_settings(sqlite_template, tmp_path, rate_limit_client="2/minute", trusted_proxies=trusted)
    app = create_app(settings)
    first, second = "203.0.113.7", "198.51.100.4"
    if not trusted:  # a client that names itself differently each time is still the same connection
        answers = [
            _asked_from(app, "10.1.2.3", forged).status_code for forged in (first, second, "192.0.2.1")
        ]
        assert answers == [200, 200, 429]
    else:  # behind the proxy, each client the proxy names has a limit of its own
        answers = [_asked_from(app, "10.1.2.3", client).status_code for client in (first, first, second)]
        assert answers == [200, 200, 200]
        assert _asked_from(app, "10.1.2.3", first).status_code == 429
        outside = [_asked_from(app, "192.0.2.50", first).status_code for _ in range(3)]
        assert outside == [200, 200, 429], "an untrusted peer's header is ignored: it is its own client"
    app.state.services.db.dispose()


def test_trusted_proxies_must_be_addresses_or_networks(tmp_path):
    with pytest.raises(ValueError, match=r"LOKET_TRUSTED_PROXIES: 'proxy\.internal' is no address"):
        Settings(data_dir=tmp_path, trusted_proxies="10.0.0.0/8, proxy.internal", _env_file=None)


def test_search_feedback_and_logins_have_limits_of_their_own(sqlite_template, tmp_path):
    limits = {
        "rate_limit_search": "2/minute",
        "rate_limit_feedback": "1/minute",
        "rate_limit_auth": "2/minute",
    }
    app = create_app(demo_settings(sqlite_template, tmp_path, demo=True, **limits))
    french = {"Accept-Language": "fr"}
    with TestClient(app) as client:
        searches = [client.get("/api/v1/search", params={"q": "paspoort"}) for _ in range(2)]
        assert [response.status_code for response in searches] == [200, 200]
        refused = client.get("/api/v1/search", params={"q": "paspoort"}, headers=french)
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        assert refused.json()["error"]["message"].startswith("Vous posez beaucoup de questions")
        page = client.get("/zoeken", params={"q": "paspoort"}, headers={"Accept": "text/html"})
        assert page.status_code == 429, "the search page counts against the same limit"

        answer = client.post("/api/v1/ask", json={"question": "Hallo"}).json()
        rating = {"message_id": answer["message_id"], "rating": "up"}
        assert client.post("/api/v1/feedback", json=rating).status_code == 204
        assert client.post("/api/v1/feedback", json=rating).status_code == 429

        logins = [client.post("/auth/demo-login", json={"person": "jan-janssens"}) for _ in range(3)]
        assert [response.status_code for response in logins] == [200, 200, 429]
    app.state.services.db.dispose()
