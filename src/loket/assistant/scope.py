"""Out of scope or unanswerable? Decided by the nearest examples when retrieval found nothing good.

Both mean "no answer", but they say different things: `out_of_scope` tells someone that loket is not
for this (the weather, a recipe, an opinion), `unanswerable` that the content does not say. The
question's embedding is compared with the examples in `scope_examples.txt`; the side whose nearest
examples are closer wins. Example vectors are made once per process and embedder.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from loket.search.embedders import Embedder

EXAMPLES = Path(__file__).with_name("scope_examples.txt")
NEAREST = 3
# "out" must win by this much: telling someone that a real government question is none of our
# business is worse than an "I don't know" with the infoline's number.
MARGIN = 0.01
_cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class ScopeVerdict:
    out_of_scope: bool
    out_similarity: float
    in_similarity: float


class ScopeExamples:
    def __init__(self, embedder: Embedder, path: Path = EXAMPLES) -> None:
        self.embedder = embedder
        self.path = path

    def judge(self, question_vector: np.ndarray) -> ScopeVerdict:
        out_vectors, in_vectors = self._vectors()
        out_similarity = _nearest(out_vectors @ question_vector)
        in_similarity = _nearest(in_vectors @ question_vector)
        return ScopeVerdict(out_similarity > in_similarity + MARGIN, out_similarity, in_similarity)

    def prepare(self) -> None:
        """Embeds the examples now rather than on the first question that needs them."""
        self._vectors()

    def _vectors(self) -> tuple[np.ndarray, np.ndarray]:
        text = self.path.read_text(encoding="utf-8")
        key = (self.embedder.name, hashlib.sha256(text.encode()).hexdigest())
        with _lock:
            if key not in _cache:
                examples = _parse(text)
                _cache[key] = (
                    self.embedder.embed_queries(examples["out"]),
                    self.embedder.embed_queries(examples["in"]),
                )
            return _cache[key]


def _parse(text: str) -> dict[str, list[str]]:
    examples: dict[str, list[str]] = {"out": [], "in": []}
    for line in text.splitlines():
        side, _, example = line.partition(":")
        if side.strip() in examples and example.strip():
            examples[side.strip()].append(example.strip())
    return examples


def _nearest(similarities: np.ndarray) -> float:
    return float(np.sort(similarities)[-NEAREST:].mean()) if len(similarities) else 0.0
