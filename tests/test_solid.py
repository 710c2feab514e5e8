"""Pushing a person's export to their Solid pod (loket.consent.solid), against the real Community
Solid Server (tests/solid_server.py): one server for this file, a fresh account and pod per test."""

from __future__ import annotations

import copy
import functools
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from pyld import jsonld
from structlog.testing import capture_logs

from loket import clock
from loket.consent import solid
from loket.consent.solid import PodError, push_export, read_document
from loket.consent.texts import POD_FAILED
from loket.i18n import message
from tests.solid_server import SolidAccount, SolidServer, solid_pod, solid_server  # noqa: F401
from tests.web_support import free_port

# An export as the lead's builder might shape it, with an inline @context only: pyld must not fetch
# anything. Non-ASCII text, a typed date, a nested node and a list, so a lossy write would show.
DOCUMENT = {
    "@context": {
        "@vocab": "https://data.vlaanderen.be/ns/persoon#",
        "schema": "https://schema.org/",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "naam": "schema:name",
        "geboortedatum": {"@id": "schema:birthDate", "@type": "xsd:date"},
        "toestemmingen": {"@id": "schema:subjectOf", "@container": "@list"},
    },
    "@id": "urn:loket:export:test",
    "@type": "schema:Person",
    "naam": "Zoë Van den Broeck-Ağaoğlu",
    "geboortedatum": "1985-07-15",
    "toestemmingen": [
        {"@type": "schema:Action", "naam": "Kinderbijslag — gegevens delen"},
        {"@type": "schema:Action", "naam": "Études: bourse"},
    ],
}


def _expanded(document: dict) -> list:
    return jsonld.expand(copy.deepcopy(document))


def test_an_export_round_trips_into_a_fresh_pod(solid_pod: SolidAccount) -> None:  # noqa: F811
    url = push_export(DOCUMENT, solid_pod.pod_url, solid_pod.client_id, solid_pod.client_secret)

    assert url.startswith(f"{solid_pod.pod_url}loket/export-")
    assert url.endswith(".jsonld")
    back = read_document(url, solid_pod.client_id, solid_pod.client_secret)
    assert _expanded(back) == _expanded(DOCUMENT)
    assert _expanded(DOCUMENT)  # the comparison compared something


def test_the_export_is_private_to_its_owner(solid_pod: SolidAccount) -> None:  # noqa: F811
    url = push_export(DOCUMENT, solid_pod.pod_url, solid_pod.client_id, solid_pod.client_secret)

    anonymous = httpx.get(url, timeout=10)
    assert anonymous.status_code == 401
    assert "Zoë" not in anonymous.text


def test_a_webid_finds_the_pod(solid_pod: SolidAccount) -> None:  # noqa: F811
    url = push_export(DOCUMENT, solid_pod.webid, solid_pod.client_id, solid_pod.client_secret)

    assert url.startswith(f"{solid_pod.pod_url}loket/export-")
    back = read_document(url, solid_pod.client_id, solid_pod.client_secret)
    assert _expanded(back) == _expanded(DOCUMENT)


def test_a_second_push_in_the_same_second_does_not_overwrite_the_first(
    solid_pod: SolidAccount,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 3, 1, 9, 30, 0, tzinfo=UTC))
    second_document = {**DOCUMENT, "naam": "Tweede export"}

    first = push_export(DOCUMENT, solid_pod.pod_url, solid_pod.client_id, solid_pod.client_secret)
    second = push_export(second_document, solid_pod.pod_url, solid_pod.client_id, solid_pod.client_secret)

    assert first == f"{solid_pod.pod_url}loket/export-2026-03-01T093000Z.jsonld"
    assert second != first
    assert second.startswith(f"{solid_pod.pod_url}loket/export-2026-03-01T093000Z-")
    read_first = read_document(first, solid_pod.client_id, solid_pod.client_secret)
    read_second = read_document(second, solid_pod.client_id, solid_pod.client_secret)
    assert _expanded(read_first) == _expanded(DOCUMENT)
    assert _expanded(read_second) == _expanded(second_document)


def test_a_wrong_secret_is_a_refused_login_and_is_never_logged(solid_pod: SolidAccount) -> None:  # noqa: F811
    wrong = solid_pod.client_secret[::-1]

    with capture_logs() as logs, pytest.raises(PodError) as raised:
        push_export(DOCUMENT, solid_pod.pod_url, solid_pod.client_id, wrong)

    assert raised.value.reason == "login_refused"
    logged = repr(logs) + str(raised.value)
    assert wrong not in logged
    assert solid_pod.client_secret not in logged
    assert "Zoë" not in logged


def test_an_unknown_client_is_a_refused_login(solid_pod: SolidAccount) -> None:  # noqa: F811
    with pytest.raises(PodError) as raised:
        push_export(DOCUMENT, solid_pod.pod_url, "loket_no-such-client", solid_pod.client_secret)

    assert raised.value.reason == "login_refused"


def test_writing_to_another_persons_pod_is_refused(
    solid_server: SolidServer,  # noqa: F811
    solid_pod: SolidAccount,  # noqa: F811
) -> None:
    someone_else = solid_server.new_account()

    with pytest.raises(PodError) as raised:
        push_export(DOCUMENT, someone_else.pod_url, solid_pod.client_id, solid_pod.client_secret)

    assert raised.value.reason == "write_refused"
    with pytest.raises(PodError) as raised:
        read_document(f"{someone_else.pod_url}profile/", solid_pod.client_id, solid_pod.client_secret)
    assert raised.value.reason == "write_refused"


def test_an_unreachable_pod(solid_pod: SolidAccount) -> None:  # noqa: F811
    nobody = f"http://127.0.0.1:{free_port()}/alice/"  # nothing listens there

    with pytest.raises(PodError) as raised:
        push_export(DOCUMENT, nobody, solid_pod.client_id, solid_pod.client_secret)

    assert raised.value.reason == "unreachable"


@pytest.mark.parametrize("address", ["pod.example.org/alice/", "ftp://pod.example.org/", "http://[::1/", ""])
def test_an_address_that_is_no_web_address_is_unreachable(address: str) -> None:
    with pytest.raises(PodError) as raised:
        push_export(DOCUMENT, address, "id", "secret")

    assert raised.value.reason == "unreachable"


def test_a_website_that_is_not_a_pod_is_an_unexpected_answer(
    solid_pod: SolidAccount,  # noqa: F811
    tmp_path: Path,
) -> None:
    # A mistyped address: a web server, but no pod and no OpenID provider (every path is 404).
    with _web_server(tmp_path) as website, pytest.raises(PodError) as raised:
        push_export(DOCUMENT, f"{website}/alice/", solid_pod.client_id, solid_pod.client_secret)

    assert raised.value.reason == "unexpected"


def test_a_pod_that_never_answers_times_out_as_unreachable(
    solid_pod: SolidAccount,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(solid, "TIMEOUT_SECONDS", 0.5)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never answers
        port = silent.getsockname()[1]
        with pytest.raises(PodError) as raised:
            push_export(DOCUMENT, f"http://127.0.0.1:{port}/", solid_pod.client_id, solid_pod.client_secret)

    assert raised.value.reason == "unreachable"  # after TIMEOUT_SECONDS, not never


@contextmanager
def _web_server(folder: Path) -> Iterator[str]:
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# Through loket: the person's own export, pushed by the route, round-trips into a fresh pod.


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_loket_pushes_the_persons_export_to_their_pod(demo_app, solid_pod: SolidAccount) -> None:  # noqa: F811
    credentials = {"pod": solid_pod.pod_url, "client_id": solid_pod.client_id}
    assert (
        demo_app.post("/api/v1/me/export/solid", json=credentials | {"client_secret": "x"}).status_code == 401
    )
    assert demo_app.post("/auth/demo-login", json={"person": "an-peeters"}).status_code == 200
    refused = demo_app.post("/api/v1/me/export/solid", json=credentials | {"client_secret": "wrong"})
    told = message(POD_FAILED["login_refused"], "nl")
    assert refused.status_code == 502 and refused.json()["error"]["message"] == told
    pushed = demo_app.post(
        "/api/v1/me/export/solid", json=credentials | {"client_secret": solid_pod.client_secret}
    )
    assert pushed.status_code == 201, pushed.text
    stored = read_document(pushed.json()["url"], solid_pod.client_id, solid_pod.client_secret)
    exported = demo_app.get("/api/v1/me/export").json()
    assert stored["name"] == "An Peeters" and stored["cases"]
    # The second export differs only by when it was made and by the reads of the exports themselves.
    stored.pop("exported"), exported.pop("exported")
    earlier, later = stored.pop("accessRecords"), exported.pop("accessRecords")
    assert _expanded(stored) == _expanded(exported)
    assert earlier and later[len(later) - len(earlier) :] == earlier  # newest first
