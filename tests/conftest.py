"""Fixtures shared by the whole suite.

Every test that takes `database` (or `services`, `client`) runs twice: on SQLite and on a real
PostgreSQL 16 with pgvector started by `pgserver`. Each test gets a fresh, migrated database with an
empty catalogue: a copy of a template SQLite file, or on PostgreSQL a copy of a template database.

Embedding is slow (7 to 30 texts a second here, by length), so the templates already hold the
vectors of what the tests search (CORPORA), made once: the search finds them by content hash, as it
would in a database that had seen the same texts before. Nothing else is pre-loaded.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from filelock import FileLock
from sqlalchemy import select, text

from loket.catalog.service import DEMO_CATALOGUE, DEMO_SOURCE
from loket.config import Settings
from loket.db import Database
from loket.search.models import SearchVectorRow
from loket.services import Services
from tests.llm import judge_server, llm_server  # noqa: F401

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
VAC = SHARED_DATA / "rijksoverheid_vac_govbench"
GOVUK = SHARED_DATA / "govuk_pages_157" / "govuk_pages_clean.jsonl"
IPDC_SAMPLES = SHARED_DATA / "ipdc_lpdc_model" / "lpdc_test_samples"
VAC_CSVS = (VAC / "rijksoverheid_vacs_bzk.csv", VAC / "rijksoverheid_vacs_omgevingswet.csv")
TEMPLATE_DB = "loket_template"
# What the tests search, so what the template holds vectors for. Of GOV.UK only a few pages: all 157
# are 2,700 long chunks, minutes of embedding, and no test searches them.
CORPORA = (
    (VAC / "rijksoverheid_vacs_bzk.csv", None),
    (VAC / "rijksoverheid_vacs_omgevingswet.csv", None),
    (IPDC_SAMPLES, None),
    (DEMO_CATALOGUE, DEMO_SOURCE),
)
GOVUK_SAMPLE_PAGES = 4


@pytest.fixture(scope="session")
def govuk_sample(tmp_path_factory) -> Path:
    """The first GOV.UK pages, as their own JSON-lines file: the template holds their vectors."""
    lines = [line for line in GOVUK.read_text(encoding="utf-8").splitlines() if line.strip()]
    path = tmp_path_factory.mktemp("govuk") / "govuk_sample.jsonl"
    path.write_text("\n".join(lines[:GOVUK_SAMPLE_PAGES]) + "\n", encoding="utf-8")
    return path


def pytest_sessionstart(session) -> None:
    if not SHARED_DATA.is_dir():
        raise pytest.UsageError(f"the shared data folder is missing: {SHARED_DATA}")
    # The suite works as a developer does, over plain HTTP: production (the default) is tested on purpose.
    os.environ["LOKET_ENV"] = "development"


@pytest.fixture(scope="session")
def sqlite_template(request, tmp_path_factory, govuk_sample) -> Path:
    """A migrated SQLite database holding only the vectors of the test corpora.

    It is kept in pytest's cache folder between runs: vectors are keyed by embedder and text hash, so
    an old file can only lack vectors (then they are made now), never hold wrong ones. The test
    workers (pytest-xdist) build it one after the other: the first embeds, the others find it done.
    """
    kept = request.config.cache.mkdir("loket-vectors") / "vectors.db"
    template = tmp_path_factory.mktemp("template") / "loket.db"
    with FileLock(kept.with_suffix(".lock")):
        _build_sqlite_template(kept, template, (*CORPORA, (govuk_sample, None)))
    return template


def _build_sqlite_template(kept: Path, template: Path, corpora: tuple[tuple[Path, str | None], ...]) -> None:
    if kept.exists():
        shutil.copyfile(kept, template)
    services = Services.build(Settings(database_url=f"sqlite:///{template}", _env_file=None))
    services.db.upgrade()
    for location, source in corpora:
        services.catalog.ingest_location(str(location), source=source)
    services.search.sync()
    with services.db.engine.begin() as connection:
        for table in ("search_chunks", "search_index_state", "catalog_item_versions", "catalog_items"):
            connection.execute(text(f"DELETE FROM {table}"))
    with services.db.engine.connect() as connection:  # SQLite cannot checkpoint inside a transaction
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    services.db.dispose()
    # Another run may be reading the kept copy: replace it whole.
    fresh = kept.with_suffix(f".{uuid.uuid4().hex}")
    shutil.copyfile(template, fresh)
    os.replace(fresh, kept)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory, sqlite_template) -> Iterator[str]:
    """A real PostgreSQL server for the run, with a template database migrated once, holding the vectors."""
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="stop")
    server.psql(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}; CREATE DATABASE {TEMPLATE_DB};")
    template = Database(_database_url(server.get_uri(), TEMPLATE_DB))
    template.upgrade()
    source = Database(f"sqlite:///{sqlite_template}")
    with source.session() as reading, template.session() as writing:
        for row in reading.scalars(select(SearchVectorRow)):
            writing.add(SearchVectorRow(embedder=row.embedder, text_hash=row.text_hash, vector=row.vector))
    source.dispose()
    template.dispose()
    yield server.get_uri()
    server.cleanup()


def _database_url(uri: str, name: str) -> str:
    """pgserver hands out a libpq URI on a Unix socket; SQLAlchemy wants the psycopg driver and a database."""
    base, _, query = uri.partition("?")
    return f"{base.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://')}/{name}?{query}"


def _copy_postgres_database(server_uri: str, template: str, name: str) -> None:
    admin = Database(_database_url(server_uri, "postgres"))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    admin.dispose()


@contextmanager
def _fresh_postgres_database(server_uri: str, template: str = TEMPLATE_DB) -> Iterator[str]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    _copy_postgres_database(server_uri, template, name)
    admin = Database(_database_url(server_uri, "postgres"))
    try:
        yield _database_url(server_uri, name)
    finally:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


# Content many tests only read, ingested and indexed once into a template of its own: a test that
# uses the fixture named here starts from that template instead of an empty catalogue.
CONTENT = {"bzk_loaded": ("bzk", VAC_CSVS[:1]), "vac_loaded": ("vac", VAC_CSVS)}


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        for fixture, (name, _) in CONTENT.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.content(name))


def _load(url: str, files: tuple[Path, ...]) -> None:
    services = Services.build(Settings(database_url=url, _env_file=None))
    for path in files:
        assert services.catalog.ingest_location(str(path)).ok
    assert services.search.sync().chunks_embedded == 0
    services.db.dispose()


@pytest.fixture(scope="session")
def content_templates(sqlite_template, tmp_path_factory):
    """Builds, once per run and database kind, a template holding one of CONTENT's sets."""
    built: dict[tuple[str, str], str] = {}

    def template(kind: str, name: str, server_uri: str | None = None) -> str:
        if (kind, name) not in built:
            files = next(files for content, files in CONTENT.values() if content == name)
            if kind == "sqlite":
                path = tmp_path_factory.mktemp(f"template-{name}") / "loket.db"
                shutil.copyfile(sqlite_template, path)
                _load(f"sqlite:///{path}", files)
                built[kind, name] = str(path)
            else:
                database = f"{TEMPLATE_DB}_{name}"
                _copy_postgres_database(server_uri, TEMPLATE_DB, database)
                _load(_database_url(server_uri, database), files)
                built[kind, name] = database
        return built[kind, name]

    return template


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request, tmp_path) -> Iterator[str]:
    marker = request.node.get_closest_marker("content")
    content = marker.args[0] if marker else None
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        template = (
            request.getfixturevalue("content_templates")("postgresql", content, server) if content else None
        )
        with _fresh_postgres_database(server, template or TEMPLATE_DB) as url:
            yield url
        return
    copy = tmp_path / "loket.db"
    source = request.getfixturevalue("content_templates")("sqlite", content) if content else None
    shutil.copyfile(source or request.getfixturevalue("sqlite_template"), copy)
    yield f"sqlite:///{copy}"


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


@pytest.fixture
def demo_app(settings) -> Iterator[TestClient]:
    """The demo as `make run` seeds it: catalogue, persons, their mandates and cases, where they live.
    Redirects are not followed, so a test sees where a page sends the browser."""
    from loket.web.app import create_app

    application = create_app(Settings(_env_file=None, **(settings.model_dump() | {"demo": True})))
    services = application.state.services
    services.db.upgrade()
    services.seed_demo()
    with TestClient(application, follow_redirects=False) as client:
        yield client
    services.db.dispose()


@pytest.fixture(autouse=True)
def _no_loket_environment(monkeypatch) -> None:
    """Tests set what they need; a developer's own LOKET_* variables must not leak in."""
    for name in list(os.environ):
        if name.startswith("LOKET_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LOKET_ENV", "development")


@pytest.fixture
def vac_loaded(services):
    """Both Rijksoverheid VAC files, ingested and indexed: the database starts from their template."""
    assert len(services.catalog.active_items()) == 179
    return services


@pytest.fixture
def bzk_loaded(services):
    """The 175 BZK pages of the Rijksoverheid VAC set, ingested and indexed (their own template)."""
    assert len(services.catalog.active_items()) == 175
    return services


class Clock:
    """loket's clock (`loket.clock.now`), moved on by the test instead of by sleeping.

    It runs with real time (an identity provider's tokens carry real times) until `freeze` stops it.
    """

    def __init__(self) -> None:
        self.offset = timedelta()
        self.frozen: datetime | None = None

    def __call__(self) -> datetime:
        return self.frozen if self.frozen else datetime.now(UTC) + self.offset

    def advance(self, seconds: int) -> None:
        if self.frozen:
            self.frozen += timedelta(seconds=seconds)
        else:
            self.offset += timedelta(seconds=seconds)

    def freeze(self) -> datetime:
        """Stops the clock where it is, so nothing the test does takes time on it; returns that moment."""
        self.frozen = self()
        return self.frozen


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("loket.clock.now", clock)
    return clock


@pytest.fixture
def keep_structlog_configuration() -> Iterator[None]:
    """The CLI configures structlog for its own streams; later tests must log as before."""
    import structlog

    saved = structlog.get_config()
    yield
    structlog.configure(**saved)
