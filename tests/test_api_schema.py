"""Every operation of the public OpenAPI document, called in-process with input Schemathesis generates from
the document itself (Hypothesis): odd input is never a server error, and every answer is one the document
declares (status code, content type, body schema). Whatever routes the app has when it runs are tested.

Each operation is called anonymously, as most people ask, and by someone logged in (the demo's Lotte
Maes, also an agent and an operator); on the routes agencies write to, with an agency's own token and
source. So the tests reach past the login and the token check into the routes themselves. Limits are
raised out of the way (a 429 for every call would hide everything else). SQLite only: the database
plays no part in what is checked, and one app (one copy of the template) serves every operation.

Two of Schemathesis' default checks are left out, for what the API promises rather than to pass:
- positive_data_acceptance wants every request the schema allows answered 2xx, but rules no JSON Schema
  states refuse some with a 400 or 422 that says why (a national number's checksum, an end in the
  past, a question that is empty once invisible characters are removed);
- negative_data_rejection wants every request the schema does not allow refused, but /api/v1 parses
  leniently as Pydantic does (`0` for false, a Unix time for a date), and clients may rely on that:
  refusing it now would narrow the frozen contract (tests/test_api_lifecycle.py).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.python.asgi import ASGIClient, shutdown_lifespans

from loket.config import Settings
from loket.identity.access import SAFE_METHODS, SESSION_COOKIE
from loket.web.app import create_app
from tests.web_support import demo_settings

AGENT = "lotte-maes"
SOURCE = "SCHEMA"  # the agency's source: its cases and messages
# The routes agencies write to, with their bearer token.
AGENCY_PATHS = re.compile(r"^/api/v1/(cases/|messages/|events$)")
RAISED = "100000/minute"
LIMITS = ("client", "conversation", "search", "feedback", "auth", "verify", "continuation", "reports")
# An event stream that never ends is read this long, then cut (what it sent by then is checked).
STREAM_SECONDS = 1.0
# Where the app's own outgoing requests go (a Solid pod's address is the caller's to give): a closed
# port on this machine, so generated addresses never reach the network.
NOWHERE = "http://127.0.0.1:9"


def _document() -> dict:
    """The app's OpenAPI document (it depends on the code only, so no database is needed for it)."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Settings(data_dir=Path(folder), _env_file=None))
        app.state.services.db.dispose()
        return app.openapi()


DOCUMENT = _document()
# The operations whose answer is an event stream that never ends: each call to them takes STREAM_SECONDS.
ENDLESS = [
    path
    for path, item in DOCUMENT["paths"].items()
    for operation in item.values()
    if set(operation["responses"].get("200", {}).get("content", {})) == {"text/event-stream"}
]
# Pytest collects one test per operation from the document, so it must be loaded here; the app under test
# (with a database) is made by the fixture below. (Schemathesis' `from_fixture` does not run on pytest 9.2.)
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "base-url": "http://testserver",
            # The same examples every run, and few: the whole document in a minute or so.
            "generation": {"max-examples": 10, "deterministic": True, "database": "none"},
            "suppress-health-check": ["all"],
            "parameters": {"path.source": SOURCE},
            "checks": {
                "positive_data_acceptance": {"enabled": False},
                "negative_data_rejection": {"enabled": False},
            },
            "operations": [
                {"include-path": ENDLESS, "generation": {"max-examples": 3}},
                # Every pod address leads NOWHERE, so the export to a pod must answer its 502 (pod_failed).
                {
                    "include-path": "/api/v1/me/export/solid",
                    "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", 502]}},
                },
            ],
        }
    ),
)


@pytest.fixture(scope="module")
def app(sqlite_template, tmp_path_factory) -> Iterator[FastAPI]:
    """The demo as `make run` serves it (catalogue indexed, persons, their cases), limits raised."""
    outside = pytest.MonkeyPatch()
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        outside.setenv(proxy, NOWHERE)
    outside.delenv("NO_PROXY", raising=False)
    raised = {f"rate_limit_{name}": RAISED for name in LIMITS}
    application = create_app(
        demo_settings(sqlite_template, tmp_path_factory.mktemp("schema"), demo=True, **raised)
    )
    assert application.openapi() == DOCUMENT, "the document tested is this app's"
    services = application.state.services
    services.db.upgrade()
    services.seed_demo()
    services.search.sync()
    yield application
    shutdown_lifespans()  # Schemathesis keeps the app's lifespan running until Python exits
    services.db.dispose()
    outside.undo()


@pytest.fixture(scope="module", params=["anonymous", AGENT])
def client(app: FastAPI, request) -> Iterator[ASGIClient]:
    """Schemathesis' in-process client: anonymous, as most people ask, or carrying Lotte Maes' session."""
    with ASGIClient(app) as client:
        if request.param == AGENT:
            assert client.post("/auth/demo-login", json={"person": AGENT}).status_code == 200
            assert client.cookies.get(SESSION_COOKIE)
        yield client


@pytest.fixture(scope="module")
def agency(app: FastAPI) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.state.services.cases.add_agency('Schema', SOURCE)}"}


@schema.parametrize()
def test_every_operation_answers_as_documented(case, client, agency):
    operation = DOCUMENT["paths"][case.operation.path][case.operation.method.lower()]
    headers = dict(agency) if AGENCY_PATHS.match(case.path) else {}
    if case.method not in SAFE_METHODS and "requestBody" not in operation:
        headers["Content-Type"] = "application/json"  # what a change needs with a session cookie
    timeout = STREAM_SECONDS if case.operation.path in ENDLESS else None
    case.call_and_validate(session=client, headers=headers, timeout=timeout)


def test_a_wrong_method_is_told_every_method_of_its_path(client):
    """RFC 9110: a 405's Allow lists what the resource supports (Starlette named only one route's)."""
    assert client.options("/api/v1/me/mandates").headers["Allow"] == "GET, POST"
    assert client.delete("/api/v1/cases/SCHEMA/1").headers["Allow"] == "GET, PUT"


def test_a_body_that_is_not_utf8_is_refused_as_invalid_json(client):
    """FastAPI answered 400 `{"detail": ...}`, a status and a shape none of the routes declares."""
    response = client.post(
        "/api/v1/feedback", data=b"\xff\xfe{", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "bad_request"
