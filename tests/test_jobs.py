"""Jobs: queued with the change that causes them, once while one waits, run by a worker (PostgreSQL)
or by `loket serve` itself (SQLite); the search index is built by them, never by a search."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from loket.config import Settings
from loket.jobs import HARVEST, HARVEST_ALL, PURGE, SYNC_INDEX
from loket.services import Services

NEW_PAGE = """---
id: hondenbelasting-{n}
language: nl
title: Hondenbelasting betalen {n}
summary: Wie een hond houdt, betaalt in sommige gemeenten een belasting per hond per jaar.
audiences: [citizen]
themes: [Belastingen]
authority: Gemeente
keywords: [hondentaks, hondenbelasting]
modified: 2026-11-02
licence: CC-BY-4.0
---

## Wat is het?

Sommige gemeenten heffen een jaarlijkse belasting op honden. U geeft uw hond aan bij de gemeente.
"""


def _page(folder: Path, n: int) -> Path:
    path = folder / f"hondenbelasting-{n}.nl.md"
    path.write_text(NEW_PAGE.format(n=n), encoding="utf-8")
    return path


def _jobs(services: Services, status: str | None = None) -> list[tuple[str, str]]:
    query = "SELECT task_name, status FROM procrastinate_jobs"
    with services.db.engine.connect() as connection:
        rows = connection.execute(text(query)).all()
    return [(task, state) for task, state in rows if status is None or state == status]


@pytest.fixture
def postgres(postgresql_url, tmp_path) -> Iterator[Services]:
    services = Services.build(Settings(database_url=postgresql_url, data_dir=tmp_path, _env_file=None))
    yield services
    services.db.dispose()


@pytest.mark.postgresql
def test_a_job_is_queued_with_its_change_and_never_on_rollback(postgres):
    with pytest.raises(RuntimeError), postgres.db.session() as session:
        postgres.jobs.enqueue(session, PURGE, lock=PURGE)
        raise RuntimeError("the change fails")
    assert _jobs(postgres) == []
    with postgres.db.session() as session:
        postgres.jobs.enqueue(session, PURGE, lock=PURGE)
    assert _jobs(postgres) == [(PURGE, "todo")]


@pytest.mark.postgresql
def test_a_second_waiting_job_is_refused_and_the_change_goes_on(postgres, tmp_path):
    with postgres.db.session() as session:
        postgres.jobs.enqueue(session, SYNC_INDEX, lock=SYNC_INDEX)
    report = postgres.catalog.ingest_location(str(_page(tmp_path, 1)))  # queues a sync: one waits already
    assert report.created == 1 and report.ok
    assert _jobs(postgres) == [(SYNC_INDEX, "todo")]
    assert postgres.catalog.get(postgres.catalog.active_items()[0].id)  # the ingest was kept


@pytest.mark.postgresql
def test_a_catalogue_change_is_indexed_by_the_worker_and_searchable_on_another_replica(
    postgres, postgresql_url, tmp_path
):
    replica = Services.build(Settings(database_url=postgresql_url, data_dir=tmp_path, _env_file=None))
    try:
        assert not _hits(replica, "hondenbelasting")
        embedded = _count_passage_embeddings(replica)
        postgres.catalog.ingest_location(str(_page(tmp_path, 2)))
        assert not _hits(replica, "hondenbelasting"), "a search does not sync"
        postgres.jobs.app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False)
        assert (SYNC_INDEX, "succeeded") in _jobs(postgres)
        assert "hondenbelasting-2" in _hits(replica, "hondenbelasting")
        assert embedded == [], "the replica's searches embedded no passage"
    finally:
        replica.db.dispose()


def _hits(services: Services, query: str) -> list[str]:
    return [hit.item.source_id for hit in services.search.search(query, limit=5)]


def _count_passage_embeddings(services: Services) -> list[int]:
    """The passages `services`' own embedder is asked to embed (a search embeds only its query)."""
    calls: list[int] = []
    original = services.search.embedder.embed_passages

    def counted(texts):
        calls.append(len(texts))
        return original(texts)

    services.search.embedder.embed_passages = counted
    return calls


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_runs_the_jobs_itself_on_sqlite(services, tmp_path, request):
    services.jobs.run_in_process()
    request.addfinalizer(services.jobs.stop)
    before = services.search.current_index()
    services.catalog.ingest_location(str(_page(tmp_path, 3)))
    deadline = time.monotonic() + 60
    while "hondenbelasting-3" not in _hits(services, "hondenbelasting"):
        assert time.monotonic() < deadline, "the in-process worker did not index the new page"
        time.sleep(0.2)
    assert services.search.current_index() is not before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_a_rolled_back_change_hands_nothing_over(services, request):
    services.jobs.run_in_process()
    request.addfinalizer(services.jobs.stop)
    with pytest.raises(RuntimeError), services.db.session() as session:
        services.jobs.enqueue(session, SYNC_INDEX, lock=SYNC_INDEX)
        raise RuntimeError("the change fails")
    # The worker's periodic jobs (args with a "timestamp") may be there from its start.
    jobs = services.jobs.app.connector.jobs.values()
    handed_over = [job["task_name"] for job in jobs if "timestamp" not in job["args"]]
    assert handed_over == []


@pytest.mark.postgresql
def test_metrics_show_the_queue(postgres):
    from fastapi.testclient import TestClient

    from loket.web.app import create_app

    with postgres.db.session() as session:
        postgres.jobs.enqueue(session, PURGE, lock=PURGE)
    with TestClient(create_app(services=postgres)) as client:
        figures = client.get("/metrics").text
    assert 'loket_jobs{status="todo"} 1.0' in figures
    assert 'loket_jobs{status="failed"} 0.0' in figures
    waited = next(
        line for line in figures.splitlines() if line.startswith("loket_jobs_oldest_waiting_seconds")
    )
    assert 0 <= float(waited.split()[-1]) < 60


@pytest.fixture
def feed() -> Iterator[str]:
    """The shared Rijksoverheid VAC records over real HTTP on 127.0.0.1, as a source's own server."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from tests.conftest import VAC

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(VAC)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.postgresql
def test_the_configured_sources_are_harvested_and_indexed_by_the_jobs(postgresql_url, tmp_path, feed):
    record = "0038f3c3-6266-4d40-965b-a78e96241c22"
    settings = Settings(
        _env_file=None,
        database_url=postgresql_url,
        data_dir=tmp_path,
        harvest_sources={"rijksoverheid": f"{feed}/cache_vacs_bzk/{record}.json"},
        harvest_hosts=feed.removeprefix("http://"),
    )
    services = Services.build(settings)
    try:
        with services.db.session() as session:  # what the clock does at LOKET_HARVEST_SCHEDULE
            services.jobs.enqueue(session, HARVEST_ALL, lock=HARVEST_ALL, timestamp=int(time.time()))
        for _ in range(3):  # the periodic job, the source's harvest, the index's sync it queues
            services.jobs.app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False)
        statuses = {
            task: status for task, status in _jobs(services) if task in (HARVEST_ALL, HARVEST, SYNC_INDEX)
        }
        assert statuses == {HARVEST_ALL: "succeeded", HARVEST: "succeeded", SYNC_INDEX: "succeeded"}
        (item,) = services.catalog.active_items()
        assert (item.source, item.source_id) == ("rijksoverheid", record)
        assert record in [hit.item.source_id for hit in services.search.search(item.title, limit=3)]
    finally:
        services.db.dispose()


def test_a_harvest_schedule_that_is_no_cron_is_refused():
    with pytest.raises(ValueError, match="LOKET_HARVEST_SCHEDULE"):
        Settings(_env_file=None, harvest_schedule="every hour")
    with pytest.raises(ValueError, match="LOKET_HARVEST_SOURCES"):
        Settings(_env_file=None, harvest_sources={"ipdc": "/etc/passwd"})
