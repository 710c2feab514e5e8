"""Limits shared between replicas (LOKET_RATE_LIMIT_STORAGE): a real redis-server, Debian's, counts for
every app process, and while it is down each process counts alone. The database plays no part: each
app has an empty SQLite file of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from loket.ratelimit import RateLimits
from loket.web.app import create_app
from tests.redis_server import RedisServer, require_redis_server
from tests.web_support import demo_settings, free_port

LOKET = str(Path(sys.executable).with_name("loket"))
SEARCH = "/api/v1/search?q=paspoort"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    require_redis_server()
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture
def store(redis_server) -> RedisServer:
    """The module's Redis, running and empty."""
    if redis_server.process.poll() is not None:
        redis_server.start()
    redis_server.flush()
    return redis_server


def _serve(folder: Path, storage: str) -> tuple[str, subprocess.Popen]:
    """`loket serve` as a deployment runs it, searching 3 times a minute per client at most."""
    folder.mkdir()
    port = free_port()
    clean = {name: value for name, value in os.environ.items() if not name.startswith("LOKET_")}
    environment = {
        **clean,
        "LOKET_ENV": "development",
        "LOKET_DATA_DIR": str(folder),
        "LOKET_RATE_LIMIT_SEARCH": "3/minute",
        "LOKET_RATE_LIMIT_STORAGE": storage,
    }
    process = subprocess.Popen(
        [LOKET, "serve", "--port", str(port)],
        cwd=folder,  # no developer's .env
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "stderr.log").open("wb"),
    )
    return f"http://127.0.0.1:{port}", process


def _wait_until_serving(base: str, process: subprocess.Popen, folder: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(f"{base}/healthz", timeout=1).raise_for_status()
            return
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                log = (folder / "stderr.log").read_text()
                raise RuntimeError(f"loket serve did not start: {log}") from None
            time.sleep(0.1)


@pytest.fixture(scope="module")
def replicas(redis_server, tmp_path_factory) -> Iterator[dict[str, tuple[str, str]]]:
    """Two app processes sharing the Redis, and two counting in memory (the control): started together."""
    root = tmp_path_factory.mktemp("replicas")
    started = {
        name: _serve(root / name, storage)
        for name, storage in (
            ("shared-a", redis_server.url),
            ("shared-b", redis_server.url),
            ("memory-a", "memory://"),
            ("memory-b", "memory://"),
        )
    }
    try:
        for name, (base, process) in started.items():
            _wait_until_serving(base, process, root / name)
        yield {
            "shared": (started["shared-a"][0], started["shared-b"][0]),
            "memory": (started["memory-a"][0], started["memory-b"][0]),
        }
    finally:
        for _, process in started.values():
            process.terminate()
        for _, process in started.values():
            process.wait(timeout=30)


def _statuses(bases: tuple[str, str], count: int) -> list[int]:
    """`count` searches, taking turns between the two processes."""
    return [httpx.get(bases[number % 2] + SEARCH, timeout=10).status_code for number in range(count)]


def test_two_app_processes_sharing_redis_enforce_one_limit(store, replicas):
    assert _statuses(replicas["shared"], 5) == [200, 200, 200, 429, 429]
    assert store.keys(), "the count is kept in Redis"


def test_two_app_processes_counting_in_memory_each_allow_the_limit(store, replicas):
    """The control: without the shared store each process lets the client search 3 times itself."""
    assert _statuses(replicas["memory"], 7) == [200] * 6 + [429]
    assert not store.keys()


def test_while_redis_is_down_each_process_limits_alone_until_it_is_back(store, clock):
    replica, other_replica = (RateLimits(store.url, search="2/minute") for _ in range(2))
    replica.retry_seconds = 3.0
    assert replica.hit(search="client").allowed
    assert other_replica.hit(search="client").allowed
    assert not replica.hit(search="client").allowed, "shared: the third search of both is one too many"

    store.stop()
    with capture_logs() as logs:
        outage = [replica.hit(search="client").allowed for _ in range(3)]
    assert outage == [True, True, False], "answered, and counted in this process's memory"
    assert logs == [
        {
            "event": "ratelimit.store_unavailable",
            "log_level": "warning",
            "error": "ConnectionError",
            "counting": "per process",
            "retry_seconds": 3.0,
        }
    ]

    store.start()
    with capture_logs() as logs:
        assert replica.hit(search="next-client").allowed
        assert not store.keys(), "within the retry interval the store is not asked"
        clock.advance(replica.retry_seconds)
        assert replica.hit(search="last-client").allowed
        assert other_replica.hit(search="last-client").allowed
        assert not replica.hit(search="last-client").allowed, "counted in Redis again"
    assert logs == [{"event": "ratelimit.store_back", "log_level": "warning"}]
    assert store.keys()


def test_an_app_whose_redis_cannot_be_reached_answers_and_limits(sqlite_template, tmp_path):
    limits = {"rate_limit_storage": f"redis://127.0.0.1:{free_port()}", "rate_limit_search": "2/minute"}
    settings = demo_settings(sqlite_template, tmp_path, **limits)  # nothing listens on that port
    app = create_app(settings)
    with capture_logs() as logs, TestClient(app) as client:
        statuses = [client.get(SEARCH).status_code for _ in range(3)]
    app.state.services.db.dispose()
    assert statuses == [200, 200, 429]
    assert [entry["event"] for entry in logs].count("ratelimit.store_unavailable") == 1


def test_an_unknown_store_is_one_clear_line(tmp_path):
    environment = {**os.environ, "LOKET_RATE_LIMIT_STORAGE": "memcached://cache:11211"}
    result = subprocess.run(
        [LOKET, "config"], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert " ".join(result.stderr.split()) == (
        "configuration: Value error, LOKET_RATE_LIMIT_STORAGE must be memory:// or a redis://, rediss:// "
        "or redis+sentinel:// URL"
    )
