"""Honest figures (issue 17): every evaluation set is split by a seed into a tuning and a held-out part,
written in the files; nothing loket is tuned with (scope examples, synonyms, the rules and the tests that
set them) is, or nearly is, a held-out question; and the about page's figures are what `loket eval all`
measures now."""

from __future__ import annotations

import ast
import json
from difflib import SequenceMatcher
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loket.cli import app
from loket.evaluation.questions import HELD_OUT, PARTS, assigned_part, normalised
from loket.web.evaluation import PUBLISHED
from tests.conftest import VAC_CSVS

ROOT = Path(__file__).resolve().parents[1]
SETS = sorted((ROOT / "eval").glob("*.jsonl"))
NEARLY = 0.9  # SequenceMatcher ratio of the normalised texts
# What rules are written from and tuned on: their modules, and the tests that pin their examples.
RULES = [
    ROOT / "src/loket/assistant" / name
    for name in ("abuse.py", "crisis.py", "routing.py", "report_intent.py", "rewrite.py", "scope.py")
] + [
    ROOT / "tests" / name
    for name in ("test_abuse.py", "test_crisis.py", "test_input_checks.py", "test_report_intent.py")
]


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("path", SETS, ids=lambda path: path.name)
def test_every_question_is_in_the_part_the_seed_gives_it(path):
    rows = _rows(path)
    moved = [row["question"] for row in rows if row.get("part") != assigned_part(row["question"])]
    assert not moved, f"{path.name}: write the part assigned_part() gives, do not choose it: {moved[:5]}"
    held_out = sum(row["part"] == HELD_OUT for row in rows)
    assert 0.25 <= held_out / len(rows) <= 0.75, "the seed splits about half and half"
    assert {row["part"] for row in rows} == set(PARTS)


def _tuned_texts() -> list[tuple[str, str]]:
    """(where, text) of everything loket is tuned with that reads like a question."""
    texts = []
    scope = ROOT / "src/loket/assistant/scope_examples.txt"
    for line in scope.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            texts.append((scope.name, line.partition(":")[2]))
    synonyms = ROOT / "src/loket/search/synonyms.txt"
    for line in synonyms.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            texts += [(synonyms.name, term) for term in line.split(",")]
    for path in RULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        texts += [
            (path.name, node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        ]
    return [(where, text) for where, text in texts if len(normalised(text).split()) >= 3]


def _held_out() -> dict[str, tuple[str, str]]:
    """Normalised held-out question: (its file, as written)."""
    return {
        normalised(row["question"]): (path.name, row["question"])
        for path in SETS
        for row in _rows(path)
        if row["part"] == HELD_OUT
    }


def _leaks(tuned_texts: list[tuple[str, str]], held_out: dict[str, tuple[str, str]]) -> list[str]:
    leaks = []
    for where, text in tuned_texts:
        tuned = normalised(text)
        for question, (origin, original) in held_out.items():
            compared = SequenceMatcher(None, tuned, question)
            ratios = (compared.real_quick_ratio, compared.quick_ratio, compared.ratio)  # cheapest first
            if all(ratio() >= NEARLY for ratio in ratios):
                leaks.append(f"{where}: {text!r} ~ {origin}: {original!r}")
    return leaks


def test_nothing_loket_is_tuned_with_is_a_held_out_question():
    leaks = _leaks(_tuned_texts(), _held_out())
    assert not leaks, "held-out questions tuned on:\n" + "\n".join(leaks)


def test_the_check_finds_a_held_out_question_among_the_tuned_texts():
    """The check above can fail: a held-out question, written a little differently, is found."""
    held_out = _held_out()
    origin, question = next(iter(held_out.values()))
    planted = ("scope_examples.txt", question.upper() + "?")
    assert _leaks([planted], held_out) == [f"scope_examples.txt: {planted[1]!r} ~ {origin}: {question!r}"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the figures, not the database
def test_the_published_figures_are_what_loket_eval_all_measures(vac_loaded, tmp_path):
    """src/loket/web/evaluation.json is written by `loket eval all`, never by hand: run again, every
    figure is within one question of the committed one (an embedding may round differently on
    another CPU and swap two near-equal pages)."""
    written = tmp_path / "evaluation.json"
    corpus = [argument for path in VAC_CSVS for argument in ("--corpus", str(path))]
    env = {
        "LOKET_DATABASE_URL": vac_loaded.settings.sqlalchemy_url,
        "LOKET_DATA_DIR": str(vac_loaded.settings.data_dir),
        "COLUMNS": "250",
    }
    command = ["eval", "all", *corpus, "--questions", str(ROOT / "eval"), "--write", str(written)]
    result = CliRunner().invoke(app, command, env=env)
    assert result.exit_code == 0, result.output
    fresh = json.loads(written.read_text(encoding="utf-8"))
    committed = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    assert {key: fresh[key] for key in ("corpus", "items", "sets")} == {
        key: committed[key] for key in ("corpus", "items", "sets")
    }
    for now, then in zip(fresh["figures"], committed["figures"], strict=True):
        assert (now["key"], now["questions"], now["tuning_questions"]) == (
            then["key"],
            then["questions"],
            then["tuning_questions"],
        )
        for value, count in (("value", "questions"), ("tuning", "tuning_questions")):
            if now[value] is None or then[value] is None:  # no question of that kind in the part
                assert now[value] == then[value], (now["key"], value)
                continue
            one_question = 1 / max(now[count], 1) + 0.001
            assert abs(now[value] - then[value]) <= one_question, (now["key"], value, now[value], then[value])
    assert "held out" in result.stdout
