"""The HTTP contract of BRIEF §4, called in-process on both databases."""

import json
from pathlib import Path

import pytest

from tests.conftest import VAC

PASSPORT_LOST = "Wat moet ik doen als ik mijn paspoort of identiteitskaart kwijt ben?"


@pytest.fixture
def loaded(client):
    services = client.app.state.services
    assert services.catalog.ingest_location(str(VAC / "rijksoverheid_vacs_bzk.csv")).created == 175
    services.search.sync()  # what the job a catalogue change queues does
    return client


def _vac_record(question: str) -> dict:
    for path in sorted((VAC / "cache_vacs_bzk").glob("*.json")):
        record = json.loads(path.read_text())
        if record["question"] == question:
            return record
    raise AssertionError(f"no VAC record asks {question!r}")


def test_health_and_metrics(client):
    assert client.get("/healthz").text == "ok"
    client.get("/api/v1/search", params={"q": "paspoort"})
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert 'loket_http_requests_total{method="GET",route="/api/v1/search",status="200"} 1.0' in metrics.text


def test_ready_only_with_a_catalogue(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reason"] == "catalogue is empty"
    client.app.state.services.catalog.ingest_location(str(VAC / "cache_vacs"))
    assert client.get("/readyz").json() == {"ready": True, "items": 5}


def test_openapi_lists_the_contract(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/search", "/api/v1/ask", "/healthz", "/readyz", "/metrics"} <= set(paths)


def test_search_returns_the_canonical_url(loaded):
    expected = _vac_record(PASSPORT_LOST)
    results = loaded.get("/api/v1/search", params={"q": "paspoort kwijt", "limit": 3}).json()["results"]
    assert len(results) == 3
    first = results[0]
    assert (first["source_id"], first["url"]) == (expected["id"], expected["canonical"])
    assert set(first) >= {"id", "source_id", "url", "title", "snippet", "score", "language", "audience"}
    assert first["language"] == "nl"
    assert results[0]["score"] >= results[1]["score"] >= results[2]["score"]


def test_search_filters_by_language(loaded):
    assert loaded.get("/api/v1/search", params={"q": "paspoort", "lang": "en"}).json() == {"results": []}
    assert loaded.get("/api/v1/search", params={"q": "paspoort", "lang": "nl-NL"}).json()["results"]


def test_search_rejects_bad_input(loaded):
    assert loaded.get("/api/v1/search").status_code == 422
    response = loaded.get("/api/v1/search", params={"q": "paspoort", "limit": 0})
    assert response.status_code == 422
    assert "limit" in response.json()["error"]["message"]


def test_ask_answers_from_the_source_with_citations(loaded):
    expected = _vac_record(PASSPORT_LOST)
    body = loaded.post(
        "/api/v1/ask", json={"question": "Ik ben mijn paspoort kwijt, wat moet ik doen?"}
    ).json()
    assert body["status"] == "answered"
    assert body["language"] == "nl"
    assert expected["canonical"] in [c["url"] for c in body["citations"]]
    cited_text = " ".join(
        " ".join(text.split())
        for item in loaded.app.state.services.catalog.active_items()
        if item.url in {c["url"] for c in body["citations"]}
        for text in (item.summary, *(section.text for section in item.sections))
    )
    assert body["answer"]
    assert body["answer"] in cited_text or all(
        sentence in cited_text for sentence in body["answer"].split(". ")
    ), "the extractive answer must quote its sources"
    assert any("A.I." in notice for notice in body["notices"])
    assert body["conversation_id"] and body["message_id"] and body["trace_id"]


def test_ask_says_when_it_does_not_know(loaded):
    body = loaded.post(
        "/api/v1/ask", json={"question": "Mag ik met mijn drone boven het strand vliegen?"}
    ).json()
    assert body["status"] == "unanswerable"
    assert body["citations"] == []
    assert "1700" in body["answer"]


def test_ask_says_what_it_is_not_for(loaded):
    body = loaded.post("/api/v1/ask", json={"question": "Wie wint het WK voetbal?"}).json()
    assert body["status"] == "out_of_scope"
    assert body["citations"] == []
    assert "dienstverlening van de overheid" in body["answer"]


def test_ask_rejects_bad_input_in_the_users_language(loaded):
    assert loaded.post("/api/v1/ask", json={}).status_code == 422
    response = loaded.post("/api/v1/ask", json={"question": "x" * 1001, "language": "fr"})
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("Votre question est trop longue")
    assert loaded.post("/api/v1/ask", json={"question": "   "}).status_code == 400


def test_a_question_past_what_the_api_reads_is_refused_before_the_pipeline(loaded):
    response = loaded.post("/api/v1/ask", json={"question": "paspoort " * 500})
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("question: String should have at most 4000")


def test_start_page_answers_without_javascript(loaded):
    page = loaded.get("/", params={"q": "paspoort kwijt"}, headers={"Accept-Language": "nl-BE,nl;q=0.9"})
    assert page.status_code == 200
    assert '<html lang="nl">' in page.text
    assert _vac_record(PASSPORT_LOST)["canonical"] in page.text


def test_service_page_has_section_anchors(client, tmp_path: Path):
    (tmp_path / "parkeerkaart.nl.md").write_text(
        "---\ntitle: Bewonerskaart\nsummary: Parkeren in uw zone.\n---\n"
        "## Voorwaarden\n\nU woont in de zone.\n\n## Kostprijs\n\nDe eerste kaart is gratis.\n"
    )
    catalog = client.app.state.services.catalog
    assert catalog.ingest_location(str(tmp_path)).created == 1
    (item,) = catalog.active_items()
    assert item.url == f"/diensten/{item.id}"
    page = client.get(item.url)
    assert '<section id="voorwaarden">' in page.text and '<section id="kostprijs">' in page.text
    assert client.get("/diensten/does-not-exist").status_code == 404
