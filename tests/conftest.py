"""Fixtures shared by the whole suite.

Every test that takes `database` (or `services`, `client`) runs twice: on SQLite and on a real
PostgreSQL 16 with pgvector started by `pgserver`. Each test gets a fresh, migrated database:
a new SQLite file, or on PostgreSQL a copy of a template database migrated once per run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from loket.config import Settings
from loket.db import Database
from loket.services import Services

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
VAC = SHARED_DATA / "rijksoverheid_vac_govbench"
GOVUK = SHARED_DATA / "govuk_pages_157" / "govuk_pages_clean.jsonl"
IPDC_SAMPLES = SHARED_DATA / "ipdc_lpdc_model" / "lpdc_test_samples"
TEMPLATE_DB = "loket_template"


def pytest_sessionstart(session) -> None:
    if not SHARED_DATA.is_dir():
        raise pytest.UsageError(f"the shared data folder is missing: {SHARED_DATA}")


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory) -> Iterator[str]:
    """A real PostgreSQL server for the run, with the schema migrated once into a template database."""
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="stop")
    server.psql(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}; CREATE DATABASE {TEMPLATE_DB};")
    template = Database(_database_url(server.get_uri(), TEMPLATE_DB))
    template.upgrade()
    template.dispose()
    yield server.get_uri()
    server.cleanup()


def _database_url(uri: str, name: str) -> str:
    """pgserver hands out a libpq URI on a Unix socket; SQLAlchemy wants the psycopg driver and a database."""
    base, _, query = uri.partition("?")
    return f"{base.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://')}/{name}?{query}"


@contextmanager
def _fresh_postgres_database(server_uri: str) -> Iterator[str]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = Database(_database_url(server_uri, "postgres"))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}"))
    try:
        yield _database_url(server_uri, name)
    finally:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "postgresql":
        with _fresh_postgres_database(request.getfixturevalue("postgres_server")) as url:
            yield url
        return
    url = f"sqlite:///{tmp_path / 'loket.db'}"
    database = Database(url)
    database.upgrade()
    database.dispose()
    yield url


@pytest.fixture
def postgresql_url(postgres_server) -> Iterator[str]:
    """For the few tests about PostgreSQL itself."""
    with _fresh_postgres_database(postgres_server) as url:
        yield url


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path, _env_file=None)


@pytest.fixture
def services(settings) -> Iterator[Services]:
    services = Services.build(settings)
    yield services
    services.db.dispose()


@pytest.fixture
def database(services) -> Database:
    return services.db


@pytest.fixture
def client(settings) -> Iterator[TestClient]:
    from loket.web.app import create_app

    app = create_app(settings)
    with TestClient(app) as client:
        yield client
    app.state.services.db.dispose()


@pytest.fixture(autouse=True)
def _no_loket_environment(monkeypatch) -> None:
    """Tests set what they need; a developer's own LOKET_* variables must not leak in."""
    for name in list(os.environ):
        if name.startswith("LOKET_"):
            monkeypatch.delenv(name)
