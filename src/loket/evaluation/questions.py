"""Question files of the answer and red-team sets: JSON lines, each checked; a bad line is named."""

from __future__ import annotations

import json
from pathlib import Path

from loket.assistant.schemas import Status

STATUSES = tuple(status.value for status in Status)


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
