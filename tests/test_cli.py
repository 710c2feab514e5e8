"""The command line of BRIEF §4, run as a person runs it: the installed `loket` in a subprocess."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from loket.catalog.service import DEMO_CATALOGUE
from tests.conftest import GOVUK, GOVUK_SAMPLE_PAGES, VAC

LOKET = str(Path(sys.executable).with_name("loket"))


@pytest.fixture
def loket(settings):
    env = {
        **os.environ,
        "LOKET_DATABASE_URL": settings.sqlalchemy_url,
        "LOKET_DATA_DIR": str(settings.data_dir),
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [LOKET, *args], env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
        )

    return run


def test_ingest_twice_changes_nothing_the_second_time(loket, govuk_sample):
    pages = GOVUK_SAMPLE_PAGES
    first = loket("ingest", str(VAC / "rijksoverheid_vacs_bzk.csv"), str(govuk_sample))
    assert first.returncode == 0, first.stderr
    assert "175 new, 0 updated, 0 unchanged" in first.stdout
    assert f"{pages} new, 0 updated, 0 unchanged" in first.stdout
    second = loket("ingest", str(VAC / "rijksoverheid_vacs_bzk.csv"), str(govuk_sample))
    assert second.returncode == 0
    assert "0 new, 0 updated, 175 unchanged" in second.stdout
    assert f"0 new, 0 updated, {pages} unchanged" in second.stdout
    assert loket("sources").stdout.splitlines() == [
        f"govuk: {pages} active, 0 withdrawn",
        "rijksoverheid: 175 active, 0 withdrawn",
    ]


def test_ingest_reports_each_problem_on_one_line_and_fails(loket, tmp_path):
    (tmp_path / "kapot.json").write_text('{"id": "x", "question": "Kapot?", "canonical": "https://x')
    result = loket("ingest", str(tmp_path / "missing"), str(VAC / "cache_vacs"), str(tmp_path / "kapot.json"))
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 2
    assert str(tmp_path / "missing") in errors[0] and "no such file or folder" in errors[0]
    assert "kapot.json" in errors[1]
    assert "5 new" in result.stdout


def test_ingest_refuses_an_unknown_format(loket):
    result = loket("ingest", str(GOVUK), "--format", "pdf")
    assert result.returncode == 2
    assert "--format" in result.stderr


def test_search_and_ask_json(loket):
    assert loket("ingest", str(VAC / "cache_vacs_bzk")).returncode == 0
    canonical = {json.loads(p.read_text())["canonical"] for p in (VAC / "cache_vacs_bzk").glob("*.json")}
    search = loket("search", "stempas kwijt", "--json", "--limit", "3")
    assert search.returncode == 0, search.stderr
    results = json.loads(search.stdout)["results"]
    assert results and all(result["url"] in canonical for result in results)
    assert "stempas" in results[0]["title"].lower()
    ask = loket("ask", "Ik ben mijn stempas kwijt. Wat nu?", "--json")
    answer = json.loads(ask.stdout)
    assert answer["status"] == "answered"
    assert answer["citations"] and all(c["url"] in canonical for c in answer["citations"])


def test_config_masks_secrets(loket, settings):
    result = subprocess.run(
        [LOKET, "config"],
        env={
            **os.environ,
            "LOKET_DATABASE_URL": "postgresql+psycopg://u:geheim@db/loket",
            "LOKET_LLM_API_KEY": "k1",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "LOKET_DATABASE_URL=postgresql+psycopg://u:***@db/loket" in result.stdout
    assert "geheim" not in result.stdout and "k1" not in result.stdout


def test_db_upgrade(loket):
    result = loket("db", "upgrade")
    assert result.returncode == 0
    assert "Database is current: True" in result.stdout


def test_bad_configuration_is_one_clear_line():
    env = {**os.environ, "LOKET_ENV": "production", "LOKET_DEMO": "1"}
    result = subprocess.run([LOKET, "config"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "configuration: Value error, LOKET_DEMO cannot be on when LOKET_ENV=production"
    )


def test_serve_loads_the_demo_catalogue_on_first_start(tmp_path, sqlite_template):
    """What `make run` does: migrate, load the demo catalogue into an empty database, serve.

    The database starts as a copy of the suite's template, which holds no content but the demo's
    vectors: embedding them again (half a minute) would test nothing the template did not.
    """
    shutil.copyfile(sqlite_template, tmp_path / "loket.db")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "LOKET_DEMO": "1", "LOKET_DATA_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [LOKET, "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        ready = None
        for _ in range(3000):
            try:
                ready = httpx.get(f"{base}/readyz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert ready is not None and ready.json()["ready"] is True
        demo_files = len(list(DEMO_CATALOGUE.glob("*.md")))
        assert ready.json()["items"] == demo_files
        answer = httpx.post(
            f"{base}/api/v1/ask", json={"question": "Ik wil een vzw oprichten"}, timeout=10
        ).json()
        assert answer["status"] == "answered"
        assert answer["citations"][0]["url"].startswith("/diensten/")
        assert httpx.get(base + answer["citations"][0]["url"], timeout=10).status_code == 200
        with httpx.Client(base_url=base, timeout=10) as browser:  # the demo login, with a mandate held
            person = browser.get("/auth/demo-persons").json()["persons"][0]["id"]
            me = browser.post("/auth/demo-login", json={"person": person}).json()
            assert me == browser.get("/api/v1/me").json()
            assert "MANDATE" in [profile["kind"] for profile in me["profiles"]]
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert f"Loaded the demo catalogue: {demo_files} items." in stderr


def test_users_grant_list_and_revoke_roles(loket):
    assert loket("users", "grant", "85.67.15-001.57", "operator").stdout.strip() == "operator granted"
    assert loket("users", "list").stdout.splitlines() == ["85671500157\toperator"]
    assert loket("users", "revoke", "85671500157", "operator").stdout.strip() == "operator revoked"


def test_users_refuses_a_bad_national_number_or_role(loket):
    bad_number = loket("users", "grant", "12345678901", "operator")
    assert bad_number.returncode == 2
    assert "not a valid national number" in bad_number.stderr
    bad_role = loket("users", "grant", "85671500157", "king")
    assert bad_role.returncode == 2
    assert "king" in bad_role.stderr
