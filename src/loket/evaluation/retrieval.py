"""Retrieval evaluation: does the right service come first, for questions as people ask them?

A question file is JSON lines: `{"question", "language", "expected": [source_id, ...], "audience"?}`;
`expected: []` marks a question the catalogue cannot answer (its "no good match" signal is measured).
The public govbench file shape (`question`, `source_url`) is read too.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from loket.evaluation.questions import HELD_OUT, part_of
from loket.search.index import Weights
from loket.search.schemas import SearchFilters
from loket.search.service import SearchService

CONFIGURATIONS = {
    "hybrid": None,
    "dense": Weights(lexical=0.0),
    "lexical": Weights(dense=0.0, lexical=1.0),
}
CUTOFFS = (1, 3, 10)


@dataclass(frozen=True)
class Question:
    text: str
    language: str
    expected: frozenset[str]
    audience: str = ""
    origin: str = ""
    part: str = HELD_OUT


@dataclass
class Tally:
    questions: int = 0
    hits: dict[int, int] = field(default_factory=lambda: dict.fromkeys(CUTOFFS, 0))
    reciprocal_rank: float = 0.0
    out_of_scope: int = 0
    refused: int = 0
    confident: int = 0

    def as_dict(self) -> dict:
        answerable = self.questions - self.out_of_scope
        figures: dict = {"questions": self.questions}
        if answerable:
            figures |= {f"recall@{k}": round(self.hits[k] / answerable, 3) for k in CUTOFFS}
            figures["mrr"] = round(self.reciprocal_rank / answerable, 3)
            figures["answered"] = round(self.confident / answerable, 3)
        if self.out_of_scope:
            figures["no_match_recall"] = round(self.refused / self.out_of_scope, 3)
        return figures


def load_questions(path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            expected = row["expected"] if "expected" in row else [row["source_url"]]
            if not isinstance(row["question"], str) or not (
                isinstance(expected, list) and all(isinstance(value, str) for value in expected)
            ):
                raise TypeError("question must be text and expected a list of ids or URLs")
            questions.append(
                Question(
                    row["question"],
                    row.get("language", "nl"),
                    frozenset(expected),
                    row.get("audience", ""),
                    path.name,
                    part_of(row, path, number),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a question line ({error})") from error
    return questions


def evaluate(
    search: SearchService,
    questions: list[Question],
    weights: Weights | None = None,
    filters: SearchFilters | None = None,
) -> dict:
    """Figures overall, per language, per audience and per file; plus each miss, to read."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    misses = []
    for question in questions:
        hits = search.search(question.text, limit=max(CUTOFFS), filters=filters, weights=weights)
        found = [hit for hit in hits if question.expected & {hit.item.source_id, hit.item.url}]
        rank = hits.index(found[0]) + 1 if found else None
        groups = ("all", f"part:{question.part}", f"language:{question.language}", f"file:{question.origin}")
        if question.audience:
            groups += (f"audience:{question.audience}",)
        for group in groups:
            tally = tallies[group]
            tally.questions += 1
            if not question.expected:
                tally.out_of_scope += 1
                tally.refused += not (hits and hits[0].confident)
                continue
            tally.confident += bool(hits and hits[0].confident)
            for k in CUTOFFS:
                tally.hits[k] += rank is not None and rank <= k
            tally.reciprocal_rank += 1 / rank if rank else 0.0
        if (question.expected and rank != 1) or (not question.expected and hits and hits[0].confident):
            misses.append(
                {"question": question.text, "rank": rank, "top": hits[0].item.title if hits else None}
            )
    return {"groups": {name: tally.as_dict() for name, tally in sorted(tallies.items())}, "misses": misses}
