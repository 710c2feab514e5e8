"""Debian's redis-server for the tests: on a free port of 127.0.0.1, keeping nothing on disk."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import warnings
from pathlib import Path

import pytest
import redis

from tests.web_support import free_port

REDIS_SERVER = shutil.which("redis-server")


def require_redis_server() -> None:
    """Fail under CI=true, else skip loudly, when Debian's redis-server is missing (`make redis`)."""
    if REDIS_SERVER:
        return
    reason = "redis-server is not installed (make redis: apt-get install redis-server)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"Tests that need Redis cannot run in CI: {reason}")
    warnings.warn(f"REDIS TESTS SKIPPED: {reason}", stacklevel=2)
    pytest.skip(f"REDIS TESTS SKIPPED: {reason}")


class RedisServer:
    """redis-server on a free port of 127.0.0.1, keeping nothing on disk; `stop` then `start` is an
    outage, after which it comes back empty on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = self.folder / "redis.log"
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [REDIS_SERVER, *options, "--dir", str(self.folder)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        client = redis.Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start: {log.read_text()}") from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def keys(self) -> list[bytes]:
        with redis.Redis(port=self.port) as client:
            return client.keys("LIMITS*")

    def flush(self) -> None:
        with redis.Redis(port=self.port) as client:
            client.flushall()
