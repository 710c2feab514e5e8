"""Question files of the evaluation sets: JSON lines, each checked; a bad line is named.

Every set is split in two, half and half, by a seed: the **tuning** part, on which thresholds,
weights, rules, scope examples and synonyms may be tuned, and the **held-out** part, which is only
measured and is the figure loket reports (with the tuning figure beside it). A question's part is
written in its line (`"part"`), and it is the one `assigned_part` gives: a question cannot be moved
to the other part because it fails there.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from loket.assistant.schemas import Status

STATUSES = tuple(status.value for status in Status)
SPLIT_SEED = "loket-evaluation-split-1"
TUNING, HELD_OUT = PARTS = ("tuning", "held_out")


def assigned_part(question: str) -> str:
    """The part `question` belongs to: fixed by `SPLIT_SEED` and its words, not by how it scores."""
    digest = hashlib.sha256(f"{SPLIT_SEED}:{normalised(question)}".encode()).digest()
    return PARTS[digest[0] % 2]


def normalised(text: str) -> str:
    """Lower case, letters and digits only, single spaces: two texts that differ only in form are equal."""
    return " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def part_of(row: dict, path: Path, number: int) -> str:
    """The line's part; a file without parts (such as a public set) is split by the seed."""
    part = row.get("part", assigned_part(row["question"]))
    if part not in PARTS:
        raise ValueError(f"{path}:{number}: part must be one of {', '.join(PARTS)}, not {part!r}")
    return part


def question_rows(path: Path):
    """Each line's JSON object with its number; a `ValueError` names the file and line of a bad one."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{path}: cannot read the question file ({getattr(error, 'strerror', error)})"
        ) from error
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not a JSON line ({error.msg})") from error
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{number}: not a question line (a JSON object is needed)")
        if not isinstance(row.get("question"), str) or not row["question"].strip():
            raise ValueError(f"{path}:{number}: question must be non-empty text")
        yield number, row


def text_field(row: dict, name: str, path: Path, number: int) -> str:
    value = row.get(name, "")
    if not isinstance(value, str):
        raise ValueError(f"{path}:{number}: {name} must be text")
    return value


def not_empty(questions: list, path: Path) -> list:
    if not questions:
        raise ValueError(f"{path}: no questions in the file")
    return questions
