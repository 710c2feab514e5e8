"""The web pages' weight and the time to the first answer event, on `loket serve` with the demo catalogue.

Weight: bytes transferred (gzip, as a browser asks) for each page with its stylesheet, scripts (and the
modules they import) and icon; issue 5's budget for the start page is 100 KB. Time to first event:
`POST /api/v1/ask` with `Accept: text/event-stream`, extractive composer, each question a new
conversation, measured from sending the request to the first event (`status`), the first sentence
and the last event (`done`). The server runs as its own process, as in production.

Run: `.venv/bin/python benchmarks/web.py [--postgresql]` (a minute; longer without the test suite's
cached vectors, as the demo catalogue is then embedded first).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from common import ROOT, database_url

BUDGET = 100 * 1024
CACHED_VECTORS = ROOT / ".pytest_cache" / "d" / "loket-vectors" / "vectors.db"
ROUNDS = 5
QUESTIONS = [
    ("nl", "Mijn identiteitskaart is gestolen. Wat moet ik doen?"),
    ("nl", "Hoe vraag ik een bewonerskaart aan om te parkeren?"),
    ("nl", "Ik wil een vzw oprichten, hoe begin ik?"),
    ("nl", "Wat kost een uittreksel uit het strafregister?"),
    ("fr", "Je déménage, comment déclarer ma nouvelle adresse ?"),
    ("fr", "On m'a volé ma carte d'identité, que dois-je faire ?"),
    ("en", "How do I start a business as a sole trader?"),
    ("en", "My identity card was stolen, what should I do?"),
    ("de", "Wie beantrage ich eine elektronische Identitätskarte?"),
    ("de", "Mein Ausweis wurde gestohlen, was muss ich tun?"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(url: str, workdir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LOKET_")}
    environment.update(
        LOKET_DATABASE_URL=url,
        LOKET_DATA_DIR=workdir,
        LOKET_DEMO="1",
        LOKET_RATE_LIMIT_CLIENT="100000/minute",
        LOKET_RATE_LIMIT_CONVERSATION="100000/minute",
        LOKET_LOG_LEVEL="WARNING",
    )
    command = [str(Path(sys.executable).parent / "loket"), "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("loket serve stopped")
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise SystemExit("loket serve did not become ready")


def transferred(client: httpx.Client, path: str) -> tuple[int, int, str]:
    """(bytes on the wire, bytes unpacked, text) for one URL, fetched as a browser would."""
    with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as response:
        response.raise_for_status()
        wire = sum(len(chunk) for chunk in response.iter_raw())
    unpacked = client.get(path)
    return wire, len(unpacked.content), unpacked.text


def page_weight(client: httpx.Client, path: str) -> tuple[int, int, int]:
    """The page and everything it loads: (wire bytes, unpacked bytes, number of requests)."""
    wire, size, html = transferred(client, path)
    assets = set(re.findall(r'<(?:link[^>]+href|script[^>]+src)="(/static/[^"]+)"', html))
    seen, requests = set(), 1
    while assets:
        asset = assets.pop()
        if asset in seen:
            continue
        seen.add(asset)
        asset_wire, asset_size, text = transferred(client, asset)
        wire, size, requests = wire + asset_wire, size + asset_size, requests + 1
        if asset.split("?")[0].endswith(".js"):  # modules the script imports
            folder = asset.rsplit("/", 1)[0]
            assets.update(f"{folder}/{name}" for name in re.findall(r'from "\./([\w.-]+\.js)"', text))
    return wire, size, requests


def first_events(base: str, language: str, question: str) -> tuple[float, float, float]:
    """Milliseconds to the first event, the first sentence and `done` of one streamed answer."""
    body = {"question": question, "language": language}
    first = sentence = done = None
    started = time.perf_counter()
    with httpx.stream(
        "POST", f"{base}/api/v1/ask", json=body, headers={"Accept": "text/event-stream"}, timeout=30
    ) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            now = (time.perf_counter() - started) * 1000
            if line.startswith("event:"):
                first = first or now
                if line == "event: sentence":
                    sentence = sentence or now
                if line == "event: done":
                    done = now
    return first, sentence or done, done


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"p50 {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms   max {ordered[-1]:6.1f} ms"


def report_weights(client: httpx.Client) -> None:
    service = client.get("/api/v1/search", params={"q": "identiteitskaart"}).json()["results"][0]["url"]
    print(f"{'page':34} {'transferred':>12} {'unpacked':>10} {'requests':>9}")
    weights = {}
    for path in ("/", "/zoeken?q=paspoort", service, "/over-deze-assistent", "/widget"):
        wire, size, requests = weights[path] = page_weight(client, path)
        print(f"{path[:34]:34} {wire / 1024:9.1f} KB {size / 1024:7.1f} KB {requests:9d}")
    wire, size, _ = transferred(client, "/widget.js")
    print(f"{'/widget.js, on the host site':34} {wire / 1024:9.1f} KB {size / 1024:7.1f} KB {1:9d}")
    start = weights["/"][0]
    verdict = "within" if start <= BUDGET else "OVER"
    print(f"\nstart page: {start / 1024:.1f} KB transferred, {verdict} the 100 KB budget\n")


def report_latency(base: str) -> None:
    first_events(base, "nl", "Dag!")  # warm-up: the first question loads what later ones reuse
    timings = [first_events(base, *question) for _ in range(ROUNDS) for question in QUESTIONS]
    print(f"streamed answers: {len(timings)} questions, each a new conversation")
    print(f"  first event (status)  {summary([t[0] for t in timings])}")
    print(f"  first sentence        {summary([t[1] for t in timings])}")
    print(f"  last event (done)     {summary([t[2] for t in timings])}")


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        url = database_url(__doc__, workdir)
        if url.startswith("sqlite") and CACHED_VECTORS.exists():
            shutil.copyfile(CACHED_VECTORS, f"{workdir}/bench.db")  # the demo's vectors, made by the tests
        server, base = start_server(url, workdir)
        try:
            print(f"database: {url.split(':', 1)[0]}; catalogue: demo; composer: extractive\n")
            with httpx.Client(base_url=base) as client:
                report_weights(client)
            report_latency(base)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
