"""A real OpenID Connect provider for the login tests: the npm package oidc-provider under Node
(deploy/trial-idp/provider.mjs), with the scopes and claims of the Flemish government's identity platform
(ACM/IDM) and a one-click login page listing fictitious test persons. The same program is the trial
provider of deploy/compose.yaml; here it gets a config of its own for each run (see its header).

    with oidc_provider(DEMO_ACCOUNTS, [demo_client("http://testserver")]) as idp:
        idp.issuer  # http://127.0.0.1:PORT, discovery at idp.metadata_url

`login_over_http` and `confirm_logout_over_http` walk the provider's pages with httpx and stop at the
redirect back to the relying party, so a FastAPI TestClient can take it from there. In a browser the
login page has one button per account (its `name`) and a "Cancel" button; the logout page a "Sign out"
button.

`make test` runs npm ci, which installs oidc-provider. Without Node or it, these tests fail under
CI=true and are skipped loudly elsewhere, as the browser tests are.
"""

from __future__ import annotations

import json
import queue
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.web_support import free_port, require_node_package, stop_process

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = ROOT / "deploy" / "trial-idp" / "provider.mjs"
PACKAGE = "oidc-provider"
VERSION = "9.13.3"  # as pinned in package.json (and deploy/trial-idp/package.json, for the image)
START_TIMEOUT = 20  # seconds; it starts in well under one

SCOPES = "openid profile rrn vo ssm_mandaat"  # every scope the provider knows


def _account(sub: str, **claims: str) -> dict[str, Any]:
    return {"sub": sub, "claims": claims}


# Fictitious persons. Their national numbers have valid checksums but a birth month plus 60 (61-72),
# so they can never be a real person's; python-stdnum's be.nn rejects them for that reason. The
# enterprise numbers pass stdnum.be.vat's checksum; the organisations are made up.
CITIZEN = _account(
    "demo-burger",
    name="Jan Peeters",
    given_name="Jan",
    family_name="Peeters",
    rrn="85671512332",  # born 15 July 1985
    vo_id="6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a01",
    vo_doelgroepcode="BUR",
    vo_doelgroepnaam="Burger",
)
ENTREPRENEUR = _account(
    "demo-onderneming",
    name="Els Janssens",
    given_name="Els",
    family_name="Janssens",
    rrn="92620324888",  # born 3 February 1992
    vo_id="6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a02",
    vo_doelgroepcode="EA",
    vo_doelgroepnaam="Economische actor",
    vo_orgcode="0712345630",
    vo_orgnaam="Bakkerij Janssens BV",
)
ASSOCIATION = _account(
    "demo-vereniging",
    name="Pieter Maes",
    given_name="Pieter",
    family_name="Maes",
    rrn="78692017189",  # born 20 September 1978
    vo_id="6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a03",
    vo_doelgroepcode="VER",
    vo_doelgroepnaam="Vereniging",
    vo_orgcode="0876543270",
    vo_orgnaam="Voetbalclub Eendracht Demo vzw",
)
# Acts for someone who gave her a mandate: ssm_mandaatgever holds the mandator's national number
# (a fictitious woman born 5 August 1951). The real platform's format for this claim is not checked.
MANDATARY = _account(
    "demo-mandaat",
    name="Lotte Claes",
    given_name="Lotte",
    family_name="Claes",
    rrn="04671207253",  # born 12 July 2004
    vo_id="6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a04",
    vo_doelgroepcode="BUR",
    vo_doelgroepnaam="Burger",
    ssm_mandaatgever="51680534681",
)
DEMO_ACCOUNTS = (CITIZEN, ENTREPRENEUR, ASSOCIATION, MANDATARY)

DEMO_CLIENT_ID = "loket-test"
DEMO_CLIENT_SECRET = "loket-test-secret-not-a-secret"


def demo_client(
    base_url: str,
    *,
    callback_path: str = "/auth/callback",
    post_logout_path: str = "/",
    client_id: str = DEMO_CLIENT_ID,
    client_secret: str = DEMO_CLIENT_SECRET,
) -> dict[str, Any]:
    """A confidential client (client_secret_basic, PKCE S256) for a relying party at `base_url`."""
    base = base_url.rstrip("/")
    return {
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uris": [base + callback_path],
        "post_logout_redirect_uris": [base + post_logout_path],
    }


@dataclass(frozen=True)
class Provider:
    issuer: str  # http://127.0.0.1:PORT
    port: int
    log: Path  # the provider's stderr: OAuth errors it answered with, one a line, and its own failures

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.issuer}/auth"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @property
    def userinfo_endpoint(self) -> str:
        return f"{self.issuer}/me"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/jwks"

    @property
    def end_session_endpoint(self) -> str:
        return f"{self.issuer}/session/end"

    def errors(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def oidc_provider(
    accounts: Iterable[Mapping[str, Any]],
    clients: Iterable[Mapping[str, Any]],
    id_token_ttl: int = 600,
) -> Iterator[Provider]:
    """oidc-provider running under Node on a free port of 127.0.0.1, stopped on exit.

    `accounts`: {"sub", "claims"} each (see DEMO_ACCOUNTS), and optionally "acr": the login level of
    that account's ID tokens (without, they carry none); `clients`: oidc-provider client metadata (see
    demo_client). ID tokens live `id_token_ttl` seconds from the token request that issues them.
    """
    require_node_package(PACKAGE, VERSION, "OpenID Connect")
    settings = {"accounts": list(accounts), "clients": list(clients), "id_token_ttl": id_token_ttl}
    with tempfile.TemporaryDirectory(prefix="loket-oidc-") as folder:
        for attempt in range(3):
            port = free_port()
            config = Path(folder) / "config.json"
            config.write_text(json.dumps({"port": port, **settings}), encoding="utf-8")
            log = Path(folder) / f"stderr-{attempt}.log"
            with log.open("wb") as stderr:
                process = subprocess.Popen(
                    ["node", str(PROGRAM), str(config)],
                    cwd=ROOT,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                )
            try:
                issuer = _wait_until_listening(process, log, retry=attempt < 2)
                if issuer is None:  # another process took the free port first
                    continue
                yield Provider(issuer=issuer, port=port, log=log)
                return
            finally:
                stop_process(process)


def _wait_until_listening(process: subprocess.Popen, log: Path, retry: bool) -> str | None:
    lines: queue.Queue[bytes] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    line = b""
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
            break
        except queue.Empty:
            if process.poll() is not None:
                break
    text = line.decode().strip()
    if text.startswith("listening "):
        return text.removeprefix("listening ")
    process.kill()
    process.wait()
    errors = log.read_text(encoding="utf-8", errors="replace").strip()
    if retry and "EADDRINUSE" in errors:
        return None
    raise RuntimeError(
        f"the OpenID Connect provider did not start (exit code {process.returncode}, "
        f"stdout {text!r}):\n{errors or '(nothing on stderr)'}"
    )


@pytest.fixture(scope="module")
def oidc_demo() -> Iterator[Provider]:
    """The provider with DEMO_ACCOUNTS and demo_client("http://testserver"), the TestClient's origin.

    Import it into a test module (`from tests.oidc import oidc_demo  # noqa: F401`) to use it.
    """
    with oidc_provider(DEMO_ACCOUNTS, [demo_client("http://testserver")]) as provider:
        yield provider


class _Forms(HTMLParser):
    """Each <form>: its action, and its inputs and buttons as (type, name, value)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._form = {"action": attributes.get("action", ""), "fields": []}
            self.forms.append(self._form)
        elif tag in ("input", "button") and self._form is not None:
            kind = attributes.get("type", "submit" if tag == "button" else "text")
            self._form["fields"].append((kind, attributes.get("name", ""), attributes.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def _origin(url: str | httpx.URL) -> tuple[str, str]:
    parts = urlsplit(str(url))
    return parts.scheme, parts.netloc


def _through_provider(http: httpx.Client, url: str, submit) -> httpx.Response:
    """Follows the provider's redirects from `url`; on each page it shows, posts what `submit` picks
    from its forms ((action, data), or None when nothing fits). Returns the first redirect that leaves
    the provider's origin, not followed."""
    provider = _origin(url)
    response = http.get(url, follow_redirects=False)
    for _ in range(20):
        if response.is_redirect:
            target = urljoin(str(response.url), response.headers["location"])
            if _origin(target) != provider:
                return response
            response = http.get(target, follow_redirects=False)
            continue
        if response.status_code != 200:
            break
        forms = _Forms(response.text).forms
        chosen = submit(forms) or _auto_submitted(forms)
        if chosen is None:
            break
        action, data = chosen
        response = http.post(urljoin(str(response.url), action), data=data, follow_redirects=False)
    raise AssertionError(
        f"the provider did not send the browser back to the relying party: {response.status_code} "
        f"{response.url}\n{response.text[:2000]}"
    )


def _auto_submitted(forms: list[dict[str, Any]]) -> tuple[str, dict[str, str]] | None:
    """A page that a browser submits by itself (oidc-provider's "Submitting Callback": e.g. when a
    different account logs in, it first ends the old session that way)."""
    if len(forms) == 1 and all(kind in ("hidden", "submit") for kind, _, _ in forms[0]["fields"]):
        return forms[0]["action"], _hidden(forms[0])
    return None


def _hidden(form: Mapping[str, Any]) -> dict[str, str]:
    return {name: value for kind, name, value in form["fields"] if kind == "hidden" and name}


def login_over_http(
    http: httpx.Client, authorize_url: str, account_sub: str, acr: str | None = None
) -> httpx.Response:
    """Logs in as `account_sub` from an authorization URL; returns the redirect to the RP's callback.

    Its Location (response.headers["location"]) is the callback URL with `code`, `state` and `iss`.
    Consent is granted with the login. `http` keeps the provider's cookies: reuse it for a second
    login that finds the session, or for confirm_logout_over_http. `acr`: the login level of this
    login (another method than the account's usual one), instead of the account's own "acr".
    """
    chosen = {"account": account_sub, **({"acr": acr} if acr else {})}

    def choose(forms):
        for form in forms:
            if ("submit", "account", account_sub) in form["fields"]:
                return form["action"], {**_hidden(form), **chosen}
        return None

    return _through_provider(http, authorize_url, choose)


def cancel_login_over_http(http: httpx.Client, authorize_url: str) -> httpx.Response:
    """Presses "Cancel" on the login page; returns the redirect to the RP with error=access_denied."""

    def cancel(forms):
        for form in forms:
            if form["action"].endswith("/abort"):
                return form["action"], _hidden(form)
        return None

    return _through_provider(http, authorize_url, cancel)


def confirm_logout_over_http(http: httpx.Client, end_session_url: str) -> httpx.Response:
    """Opens the provider's logout page, presses "Sign out"; returns the redirect back to the RP.

    That is the redirect to the `post_logout_redirect_uri` of `end_session_url` (with its `state`).
    Without one, the provider ends on its own "Signed out" page and this fails. With no session at the
    provider it skips the question and signs out at once; the result is the same redirect.
    """

    def sign_out(forms):
        for form in forms:
            if "/session/end/confirm" in form["action"]:
                return form["action"], {**_hidden(form), "logout": "yes"}
        return None

    return _through_provider(http, end_session_url, sign_out)
