"""The API's lifecycle (docs/api-lifecycle.md): the frozen /api/v1 contract only grows, and a deprecated
operation says so in its answers and in the document."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from loket.config import Settings
from loket.web import deprecation
from loket.web.app import create_app
from loket.web.contract import breaks, frozen

FROZEN = Path(__file__).resolve().parents[1] / "docs" / "api" / "v1-frozen.json"
SEARCH = "GET /api/v1/search"


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> dict:
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("lifecycle"), _env_file=None)).openapi()


def test_the_frozen_v1_contract_only_grows(document):
    problems = breaks(json.loads(FROZEN.read_text(encoding="utf-8")), document)
    assert not problems, (
        "/api/v1 may grow, never shrink (docs/api-lifecycle.md): add a field or an operation beside the "
        "old one, and deprecate that instead of changing it:\n" + "\n".join(problems)
    )


def test_the_frozen_contract_is_v1_with_what_it_uses(document):
    contract = frozen(document)
    assert contract["paths"] and all(path.startswith("/api/v1/") for path in contract["paths"])
    assert "SearchResult" in contract["components"]["schemas"], "referenced through SearchResponse"
    assert breaks(contract, document) == []


def test_removing_renaming_or_narrowing_is_named(document):
    old = frozen(document)
    new = copy.deepcopy(document)
    schemas = new["components"]["schemas"]
    del schemas["SearchResult"]["properties"]["url"]  # removed
    schemas["SearchResult"]["properties"]["link"] = schemas["SearchResult"]["properties"].pop("title")
    schemas["AskRequest"]["properties"]["question"]["maxLength"] = 10  # a long question refused now
    schemas["AskRequest"]["required"].append("language")  # a field clients could leave out
    ask = new["paths"]["/api/v1/ask"]["post"]
    del ask["responses"]["429"]
    search = new["paths"]["/api/v1/search"]["get"]
    next(p for p in search["parameters"] if p["name"] == "limit")["schema"]["type"] = "string"
    search["parameters"].append(
        {"name": "page", "in": "query", "required": True, "schema": {"type": "integer"}}
    )
    del new["paths"]["/api/v1/rules"]

    found = breaks(old, new)

    assert f"{SEARCH}: response 200 application/json: field results[].url: removed" in found
    assert f"{SEARCH}: response 200 application/json: field results[].title: removed" in found
    assert f"{SEARCH}: query parameter limit: no longer accepts integer" in found
    assert f"{SEARCH}: query parameter page: new and required" in found
    assert "POST /api/v1/ask: request body: field question: maxLength 4000 became 10" in found
    assert "POST /api/v1/ask: request body: field language: now required" in found
    assert "POST /api/v1/ask: response 429: no longer declared" in found
    assert "GET /api/v1/rules: the operation is gone" in found
    assert len(found) == 8, found


def test_a_response_field_that_may_go_missing_or_change_type_is_named(document):
    old = frozen(document)
    new = copy.deepcopy(document)
    result = new["components"]["schemas"]["SearchResult"]
    result["required"].remove("snippet")
    result["properties"]["score"] = {"anyOf": [{"type": "number"}, {"type": "null"}]}
    assert breaks(old, new) == [
        f"{SEARCH}: response 200 application/json: field results[].snippet: may now be missing",
        f"{SEARCH}: response 200 application/json: field results[].score: may now be null",
    ]


def test_growing_is_allowed(document):
    old = frozen(document)
    new = copy.deepcopy(document)
    schemas = new["components"]["schemas"]
    schemas["SearchResult"]["properties"]["summary"] = {"type": "string"}  # a new field in an answer
    schemas["AskRequest"]["properties"]["channel"]["enum"].append("kiosk")  # one more value accepted
    schemas["AskRequest"]["properties"]["question"]["maxLength"] *= 2
    new["paths"]["/api/v1/ask"]["post"]["responses"]["418"] = {"description": "A new answer."}
    new["paths"]["/api/v2/ask"] = new["paths"]["/api/v1/ask"]
    search = new["paths"]["/api/v1/search"]["get"]
    search["parameters"].append({"name": "page", "in": "query", "schema": {"type": "integer"}})
    assert breaks(old, new) == []


def test_a_deprecated_operation_says_so_in_its_answers_and_the_document(monkeypatch, tmp_path):
    since, sunset = datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 7, 1, tzinfo=UTC)
    notice, successor = "https://loket.example/docs/deprecations#models", "https://loket.example/v2/models"
    entry = deprecation.Deprecated("GET", "/v1/models", since, sunset, notice, successor)
    monkeypatch.setattr(deprecation, "DEPRECATED", (entry,))
    app = create_app(Settings(data_dir=tmp_path, _env_file=None))
    with TestClient(app) as client:
        answer = client.get("/v1/models")
        other = client.get("/healthz")
    assert answer.status_code == 200, "it still answers until its sunset"
    assert answer.headers["Deprecation"] == "@1798761600"
    assert answer.headers["Sunset"] == "Thu, 01 Jul 2027 00:00:00 GMT"
    assert answer.headers["Link"] == (
        f'<{notice}>; rel="deprecation"; type="text/html", <{successor}>; rel="successor-version"'
    )
    assert "Deprecation" not in other.headers and "Sunset" not in other.headers
    operation = app.openapi()["paths"]["/v1/models"]["get"]
    assert operation["deprecated"] is True
    assert "Deprecated since 2027-01-01; answers until 2027-07-01" in operation["description"]

    monkeypatch.undo()
    fresh = create_app(Settings(data_dir=tmp_path, _env_file=None))
    assert "deprecated" not in fresh.openapi()["paths"]["/v1/models"]["get"], "the routers are not changed"


def test_a_deprecation_gives_its_notice_and_names_a_real_operation(tmp_path):
    since = datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="180 days"):
        deprecation.Deprecated("GET", "/v1/models", since, datetime(2027, 3, 1, tzinfo=UTC), "https://x")
    typo = deprecation.Deprecated("GET", "/v1/model", since, datetime(2028, 1, 1, tzinfo=UTC), "https://x")
    with pytest.raises(ValueError, match="does not have"):
        deprecation.apply(create_app(Settings(data_dir=tmp_path, _env_file=None)), [typo])
