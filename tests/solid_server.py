"""A real Solid pod server for the export tests: the npm package @solid/community-server (CSS) under
Node, in memory (nothing is written but its log, in a temporary folder), on a free port of 127.0.0.1.

    with solid_server_running() as server:
        person = server.new_account()  # a fresh pod, and client credentials made at the pod provider
        person.pod_url, person.client_id, person.client_secret

CSS itself always listens on every interface; a few lines of JavaScript run before it (LAUNCHER) make
it listen on 127.0.0.1 only and say when it does. Accounts, pods and client credentials are made
through CSS v7's JSON account API (/.account/), as a person does in its web pages.

`make test` runs npm ci, which installs CSS. Without Node or it, these tests fail under CI=true and are
skipped loudly elsewhere, as the browser and login tests are.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.web_support import free_port, require_node_package, stop_process

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "@solid/community-server"
VERSION = "7.2.0"  # as pinned in package.json
START_TIMEOUT = 60  # seconds; Components.js loading its 900 components takes about 5 of them here
TIMEOUT = 10  # seconds, for each request to the account API

# Runs CSS's command line (the arguments after `node -e LAUNCHER`) with its HTTP server bound to
# 127.0.0.1 instead of every interface, and prints LISTENING once that server accepts connections:
# CSS has filled its root container before, so it is ready then. Its URL says "localhost", not
# 127.0.0.1: pods accept a token's plain-HTTP WebID only on a host named localhost
# (@solid/access-token-verifier), and /etc/hosts maps localhost to 127.0.0.1.
LISTENING = "loket-test: listening"
LAUNCHER = f"""
const net = require("node:net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {{
  if (typeof args[0] === "number" && typeof args[1] !== "string") {{
    this.once("listening", () => process.stderr.write("{LISTENING}\\n"));
    return listen.call(this, args[0], "127.0.0.1", ...args.slice(1));
  }}
  return listen.apply(this, args);
}};
const {{ AppRunner }} = require({json.dumps(str(ROOT / "node_modules" / PACKAGE))});
new AppRunner().runCliSync({{ argv: ["node", "community-solid-server", ...process.argv.slice(1)] }});
"""


@dataclass(frozen=True)
class SolidAccount:
    """A person at the pod provider: their pod, their WebID, and the client credentials they made
    there for an app (here: loket) to act as them."""

    webid: str  # http://localhost:PORT/NAME/profile/card#me
    pod_url: str  # http://localhost:PORT/NAME/
    client_id: str
    client_secret: str
    issuer: str  # http://localhost:PORT/, the pod provider's OpenID provider
    email: str
    password: str


@dataclass(frozen=True)
class SolidServer:
    base_url: str  # http://localhost:PORT/ (with the slash: CSS's issuer and root container)
    port: int
    log: Path  # CSS's own log (warnings and errors) and what Node printed

    def errors(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def new_account(self, name: str | None = None) -> SolidAccount:
        """A fresh account with a pod called `name` (default a random one) and client credentials."""
        return create_account(self.base_url, name or f"person-{secrets.token_hex(4)}")


@contextmanager
def solid_server_running() -> Iterator[SolidServer]:
    """CSS in memory on a free port of 127.0.0.1, stopped (and its data gone) on exit."""
    require_node_package(PACKAGE, VERSION, "Solid")
    with tempfile.TemporaryDirectory(prefix="loket-solid-") as folder:
        for attempt in range(3):
            port = free_port()
            base_url = f"http://localhost:{port}/"  # see LAUNCHER
            log = Path(folder) / f"css-{attempt}.log"
            command = ["node", "-e", LAUNCHER, "--"]
            command += ["--config", "@css:config/default.json", "--port", str(port)]
            command += ["--baseUrl", base_url, "--loggingLevel", "warn"]
            with log.open("wb") as output:
                process = subprocess.Popen(
                    command,
                    cwd=folder,  # anything CSS might write lands here
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            try:
                if not _wait_until_listening(process, log, retry=attempt < 2):
                    continue  # another process took the free port first
                yield SolidServer(base_url=base_url, port=port, log=log)
                return
            finally:
                stop_process(process)


def _wait_until_listening(process: subprocess.Popen, log: Path, retry: bool) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        if LISTENING in log.read_text(encoding="utf-8", errors="replace"):
            return True
        time.sleep(0.1)
    process.kill()
    process.wait()
    output = log.read_text(encoding="utf-8", errors="replace").strip()
    if retry and "EADDRINUSE" in output:
        return False
    raise RuntimeError(
        f"the Community Solid Server did not start within {START_TIMEOUT} s "
        f"(exit code {process.returncode}):\n{output or '(no output)'}"
    )


def create_account(base_url: str, pod_name: str) -> SolidAccount:
    """Through the account API, as CSS's own pages do: an account, a password login, a pod, and
    client credentials for the pod's WebID. Each step's URL comes from the account's `controls`."""
    email, password = f"{pod_name}@example.org", secrets.token_urlsafe(16)
    with httpx.Client(timeout=TIMEOUT) as http:

        def post(url: str, body: dict) -> dict:
            response = http.post(url, json=body)
            if response.status_code != 200:
                raise RuntimeError(f"account API {url}: {response.status_code} {response.text[:500]}")
            return response.json()

        index = http.get(f"{base_url}.account/").raise_for_status().json()
        token = post(index["controls"]["account"]["create"], {})["authorization"]
        http.headers["Authorization"] = f"CSS-Account-Token {token}"
        controls = http.get(f"{base_url}.account/").raise_for_status().json()["controls"]
        post(controls["password"]["create"], {"email": email, "password": password})
        pod = post(controls["account"]["pod"], {"name": pod_name})
        credentials = post(controls["account"]["clientCredentials"], {"name": "loket", "webId": pod["webId"]})
    return SolidAccount(
        webid=pod["webId"],
        pod_url=pod["pod"],
        client_id=credentials["id"],
        client_secret=credentials["secret"],
        issuer=base_url,
        email=email,
        password=password,
    )


@pytest.fixture(scope="module")
def solid_server() -> Iterator[SolidServer]:
    """CSS, started once for the test module. Import it with solid_pod into a test module
    (`from tests.solid_server import solid_pod, solid_server  # noqa: F401`) to use them."""
    with solid_server_running() as server:
        yield server


@pytest.fixture
def solid_pod(solid_server: SolidServer) -> SolidAccount:
    """A fresh account and pod on the module's CSS for each test, with client credentials."""
    return solid_server.new_account()
