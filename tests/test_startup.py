"""Start-up and migrations (issue 16): `loket db upgrade` is a step of its own, two at once take turns
(an advisory lock on PostgreSQL), `loket serve` on PostgreSQL refuses a schema behind it and serves one
ahead of it (a rolling upgrade), SQLite still migrates as it starts, and the demo is seeded once."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import func, select, text

from loket.config import Settings
from loket.db import ADVISORY_LOCK, Database, JsonType, SchemaState, UtcDateTime
from loket.identity.schemas import Role
from loket.services import Services
from tests.conftest import _fresh_postgres_database
from tests.web_support import free_port

LOKET = str(Path(sys.executable).with_name("loket"))
NEWER = "9999_a_newer_release"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def empty_url(request, tmp_path) -> Iterator[str]:
    """A database with no tables at all (on PostgreSQL, a copy of `template1`)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with _fresh_postgres_database(request.getfixturevalue("postgres_server"), "template1") as url:
        yield url


@pytest.fixture
def empty_postgresql_url(postgres_server) -> Iterator[str]:
    with _fresh_postgres_database(postgres_server, "template1") as url:
        yield url


def stamp(url: str, revision: str) -> None:
    """Says the schema is at `revision`, as a release that migrated it would have left it."""
    database = Database(url)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    database.dispose()


# Migrating


def test_two_upgrades_at_once_take_turns_and_both_succeed(empty_postgresql_url):
    """Two processes, as two replicas or a Helm hook and a job would be (Alembic's `op` and `context`
    are one per process, so threads would not show it): both succeed, the second finds it done."""
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(2), spawn.Queue()
    processes = [
        spawn.Process(target=_upgrade_in_process, args=(empty_postgresql_url, start, results))
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=180)
    assert [process.exitcode for process in processes] == [0, 0]
    assert sorted(results.get(timeout=5) for _ in processes) == ["current", "current"]
    database = Database(empty_postgresql_url)
    assert database.is_current()
    database.dispose()


def _upgrade_in_process(url: str, start, results) -> None:
    database = Database(url)
    start.wait(timeout=60)
    results.put(database.upgrade().state.value)
    database.dispose()


def test_an_upgrade_waits_while_another_holds_the_lock(empty_postgresql_url):
    database, holder = Database(empty_postgresql_url), Database(empty_postgresql_url)
    with holder.engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK})
        upgrading = threading.Thread(target=database.upgrade)
        upgrading.start()
        upgrading.join(timeout=2)
        assert upgrading.is_alive()
        assert database.schema().revision is None  # nothing migrated while the lock is held
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK})
    upgrading.join(timeout=120)
    assert not upgrading.is_alive()
    assert database.is_current()
    database.dispose()
    holder.dispose()


def test_an_upgrade_leaves_a_database_ahead_of_this_code_alone(database):
    stamp(database.url, NEWER)
    schema = database.upgrade()
    assert (schema.state, schema.revision) == (SchemaState.AHEAD, NEWER)


def test_0008_renumbers_positions_taken_twice_and_then_keeps_them_unique(empty_url):
    """A conversation whose questions raced before 0008 keeps every message, in the order shown."""
    database = Database(empty_url)
    config = database._alembic_config()
    command.upgrade(config, "0007")
    conversations = sa.table("assistant_conversations", *_columns("id", "created_at", "updated_at"))
    messages = sa.table(
        "assistant_messages",
        *_columns("id", "conversation_id", "position", "created_at", "question", "standalone", "status"),
        *_columns("answer", "language", "citations", "notices", "trace", "trace_id"),
    )
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    raced = [("a", 0, 1), ("c", 1, 3), ("b", 1, 2), ("d", 2, 4)]  # b and c raced for position 1
    calm = [("e", 0, 1), ("f", 1, 2)]
    with database.engine.begin() as connection:
        for conversation in ("raced", "calm"):
            connection.execute(
                conversations.insert().values(id=conversation, created_at=moment, updated_at=moment)
            )
        for conversation, rows in (("raced", raced), ("calm", calm)):
            for message, position, second in rows:
                connection.execute(
                    messages.insert().values(
                        id=message,
                        conversation_id=conversation,
                        position=position,
                        created_at=moment.replace(second=second),
                        **dict.fromkeys(("question", "standalone", "answer", "trace_id"), ""),
                        status="answered",
                        language="nl",
                        **{key: [] for key in ("citations", "notices", "trace")},
                    )
                )
    command.upgrade(config, "0008")
    with database.engine.connect() as connection:
        order = select(messages.c.id, messages.c.position).order_by(messages.c.id)
        assert connection.execute(order).all() == [
            ("a", 0), ("b", 1), ("c", 2), ("d", 3), ("e", 0), ("f", 1)
        ]  # fmt: skip
        assert connection.scalar(select(func.count()).select_from(sa.table("loket_seeds"))) == 0
    with pytest.raises(sa.exc.IntegrityError), database.engine.begin() as connection:
        connection.execute(messages.update().where(messages.c.id == "f").values(position=0))
    command.downgrade(config, "0007")
    with database.engine.begin() as connection:
        connection.execute(messages.update().where(messages.c.id == "f").values(position=0))
    database.dispose()


def _columns(*names: str) -> list[sa.ColumnClause]:
    types = {"created_at": UtcDateTime(), "updated_at": UtcDateTime(), "position": sa.Integer()}
    types |= dict.fromkeys(("citations", "notices", "trace"), JsonType)
    return [sa.column(name, types.get(name, sa.Text())) for name in names]


# Serving


def serve(url: str, folder: Path, **environment: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "LOKET_DATABASE_URL": url, "LOKET_DATA_DIR": str(folder), **environment}
    server = subprocess.Popen(
        [LOKET, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    return server, f"http://127.0.0.1:{port}"


def wait_until_up(server: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()[1]
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("loket serve did not start")


def stop(server: subprocess.Popen) -> str:
    server.terminate()
    return server.communicate(timeout=30)[1]


@pytest.mark.postgresql
@pytest.mark.parametrize("revision", ["0007", None])
def test_serve_refuses_a_postgresql_schema_behind_it_with_one_line(postgresql_url, tmp_path, revision):
    database = Database(postgresql_url)
    head = database.schema().head
    if revision:
        stamp(postgresql_url, revision)
    else:
        with database.engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
    database.dispose()
    server, _ = serve(postgresql_url, tmp_path)
    _, stderr = server.communicate(timeout=120)
    assert server.returncode == 2
    at = revision or "nothing (an empty database)"
    assert stderr.strip().splitlines()[-1] == (
        f"loket serve: the database schema is at {at}, this loket needs {head}: run `loket db upgrade`"
    )
    assert "Traceback" not in stderr
    assert revision is None or Database(postgresql_url).schema().revision == revision  # not migrated


@pytest.mark.postgresql
@pytest.mark.parametrize("revision", ["head", NEWER])
def test_serve_starts_on_postgresql_that_is_current_or_ahead(postgresql_url, tmp_path, revision):
    """Ahead: a newer release migrated during a rolling upgrade; this one serves on, and says so once."""
    if revision != "head":
        stamp(postgresql_url, revision)
    server, base = serve(postgresql_url, tmp_path, LOKET_DEMO="1")
    try:
        wait_until_up(server, base)
        ready = httpx.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["ready"] is True
        assert ("schema" in ready.json()) == (revision == NEWER)
    finally:
        stderr = stop(server)
    assert ("db.schema_ahead" in stderr) == (revision == NEWER)
    assert "Loaded the demo catalogue" in stderr


def test_serve_migrates_an_embedded_sqlite_database_itself(tmp_path):
    """`make run` stays one command: serve on an empty SQLite file migrates it first."""
    url = f"sqlite:///{tmp_path / 'loket.db'}"
    server, base = serve(url, tmp_path)
    try:
        wait_until_up(server, base)
    finally:
        stop(server)
    assert Database(url).is_current()


def test_on_postgresql_only_db_upgrade_migrates(empty_postgresql_url, tmp_path):
    env = {**os.environ, "LOKET_DATABASE_URL": empty_postgresql_url, "LOKET_DATA_DIR": str(tmp_path)}

    def loket(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([LOKET, *args], env=env, capture_output=True, text=True, timeout=120)

    refused = loket("agencies", "list")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1].startswith("loket: the database schema is at nothing")
    upgrade = loket("db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    assert "Database is current: True" in upgrade.stdout
    assert loket("agencies", "list").returncode == 0
    stamp(empty_postgresql_url, NEWER)
    again = loket("db", "upgrade")
    assert again.returncode == 0, again.stderr
    assert f"Database is ahead of this loket (at {NEWER}" in again.stdout


# Readiness


def test_readiness_with_the_schema_ahead_is_ready_and_behind_is_not(client):
    services = client.app.state.services
    services.catalog.load_demo_if_empty()
    assert client.get("/readyz").json() == {"ready": True, "items": services.catalog.revision()[0]}
    stamp(services.db.url, NEWER)
    ahead = client.get("/readyz")
    assert ahead.status_code == 200
    assert ahead.json() == {"ready": True, "items": services.catalog.revision()[0], "schema": "ahead"}
    stamp(services.db.url, "0007")
    behind = client.get("/readyz")
    assert behind.status_code == 503
    assert behind.json() == {"ready": False, "reason": "database schema is behind"}


# The demo, once


def test_the_demo_is_seeded_once_and_what_an_operator_removed_stays_removed(settings):
    services = Services.build(Settings(_env_file=None, **(settings.model_dump() | {"demo": True})))
    first = services.seed_demo()
    assert first is not None and first.created > 0
    operator = next(p for p in services.identity.demo.persons() if "operator" in p["roles"])
    assert services.identity.roles.revoke(operator["national_number"], Role.OPERATOR)
    counts = _counts(services)
    assert services.seed_demo() is None
    assert _counts(services) == counts
    assert (operator["national_number"], "operator") not in [
        (number, role.value) for number, role in services.identity.roles.all()
    ]
    services.db.dispose()


def _counts(services: Services) -> dict[str, int]:
    with services.db.engine.connect() as connection:
        return {
            table: connection.scalar(text(f"SELECT COUNT(*) FROM {table}"))
            for table in (
                "catalog_items",
                "identity_persons",
                "identity_roles",
                "identity_mandates",
                "cases_cases",
                "cases_statuses",
            )
        }


def test_demo_seeding_is_off_without_loket_demo(services):
    assert services.seed_demo() is None
    assert services.catalog.revision()[0] == 0


def test_a_seed_is_recorded_once_even_when_its_load_fails(database):
    """A load that fails records nothing: the next start tries again."""

    def failing() -> None:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        database.seed_once("demo.test", failing)
    assert database.seed_once("demo.test", lambda: "loaded") == "loaded"
    assert database.seed_once("demo.test", lambda: "again") is None
