"""Retrieval evaluation: question files, the figures `evaluate` gives, and `loket eval retrieval`."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from loket.evaluation.retrieval import CUTOFFS, load_questions
from loket.evaluation.retrieval import evaluate as run_evaluation
from tests.conftest import VAC, VAC_CSVS

LOKET = str(Path(sys.executable).with_name("loket"))
GOVBENCH = VAC / "evaluation_dataset.jsonl"


def _govbench() -> list[dict]:
    return [json.loads(line) for line in GOVBENCH.read_text(encoding="utf-8").splitlines() if line.strip()]


def _catalogue_urls() -> set[str]:
    urls = set()
    for path in VAC_CSVS:
        with path.open(encoding="utf-8", newline="") as file:
            urls |= {row["canonical"] for row in csv.DictReader(file)}
    return urls


# --- question files -----------------------------------------------------------------------------


def test_load_questions_reads_our_shape(tmp_path):
    path = tmp_path / "ours.jsonl"
    rows = [
        {"question": "paspoort kwijt", "language": "nl", "expected": ["a", "b"], "audience": "citizen"},
        {"question": "Who wins the World Cup?", "language": "en", "expected": []},
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n\n", encoding="utf-8")
    first, second = load_questions(path)
    assert (first.text, first.language, first.expected, first.audience) == (
        "paspoort kwijt",
        "nl",
        frozenset({"a", "b"}),
        "citizen",
    )
    assert (second.language, second.expected, second.audience) == ("en", frozenset(), "")
    assert first.origin == second.origin == "ours.jsonl"


def test_load_questions_reads_the_public_govbench_shape():
    questions = load_questions(GOVBENCH)
    public = _govbench()
    assert len(questions) == len(public) == 15
    for question, row in zip(questions, public, strict=True):
        assert question.text == row["question"]
        assert question.expected == frozenset({row["source_url"]})
        assert question.language == "nl"


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        '{"language": "nl", "expected": []}',
        '{"question": "q"}',
        '["question", "expected"]',
        '{"question": "q", "expected": "one-id"}',
        '{"question": ["q"], "expected": []}',
    ],
)
def test_load_questions_names_the_file_and_line_of_a_bad_line(tmp_path, bad):
    path = tmp_path / "broken.jsonl"
    good = json.dumps({"question": "paspoort kwijt", "language": "nl", "expected": ["x"]})
    path.write_text(f"{good}\n\n{bad}\n{good}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}:3: not a question line"):
        load_questions(path)


# --- figures ------------------------------------------------------------------------------------


def test_evaluate_on_the_public_questions(vac_loaded, tmp_path):
    public = _govbench()
    unknown = {row["question"] for row in public if row["source_url"] not in _catalogue_urls()}
    out_of_scope = tmp_path / "out_of_scope.jsonl"
    out_of_scope.write_text(
        json.dumps({"question": "Wie wint het WK voetbal?", "language": "nl", "expected": []}) + "\n"
    )
    questions = load_questions(GOVBENCH) + load_questions(out_of_scope)

    result = run_evaluation(vac_loaded.search, questions)
    groups = result["groups"]
    parts = {f"part:{question.part}" for question in questions}  # split by the seed: no parts in these files
    assert parts <= {"part:tuning", "part:held_out"}
    assert set(groups) == {
        "all",
        "language:nl",
        "file:evaluation_dataset.jsonl",
        "file:out_of_scope.jsonl",
        *parts,
    }
    assert sum(groups[part]["questions"] for part in parts) == groups["all"]["questions"]
    overall = groups["all"]
    assert overall["questions"] == 16
    recalls = [overall[f"recall@{k}"] for k in CUTOFFS]
    assert all(0 <= recall <= 1 for recall in recalls)
    assert recalls == sorted(recalls)
    assert 0 < overall["mrr"] <= recalls[-1]
    assert overall["no_match_recall"] == 1.0
    public_only = groups["file:evaluation_dataset.jsonl"]
    assert "no_match_recall" not in public_only
    assert {k: v for k, v in public_only.items() if k != "questions"} == {
        k: v for k, v in overall.items() if k not in ("questions", "no_match_recall")
    }

    # Every question whose page is not in the catalogue is a miss, never found.
    misses = {miss["question"]: miss for miss in result["misses"]}
    for question in unknown:
        assert misses[question]["rank"] is None
    # The misses are exactly the answerable questions not found first.
    assert len([m for m in result["misses"] if m["rank"] != 1]) == round(15 * (1 - recalls[0]))
    assert all(miss["top"] for miss in result["misses"])


def test_evaluate_groups_by_language_and_audience(vac_loaded, tmp_path):
    path = tmp_path / "mixed.jsonl"
    lost = "Wat moet ik doen als ik mijn paspoort of identiteitskaart kwijt ben?"
    with VAC_CSVS[0].open(encoding="utf-8", newline="") as file:
        (url,) = [row["canonical"] for row in csv.DictReader(file) if row["question"] == lost]
    rows = [
        ("ik ben mijn paspoort kwijt", "nl", "citizen"),
        ("I lost my passport", "en", "citizen"),
        ("J'ai perdu mon passeport", "fr", ""),
        ("Wie wint het WK voetbal?", "nl", "citizen"),
    ]
    path.write_text(
        "\n".join(
            json.dumps(
                {"question": q, "language": lang, "expected": [] if "WK" in q else [url], "audience": a}
            )
            for q, lang, a in rows
        ),
        encoding="utf-8",
    )
    questions = load_questions(path)
    groups = run_evaluation(vac_loaded.search, questions)["groups"]
    assert set(groups) == {
        "all",
        "file:mixed.jsonl",
        "language:nl",
        "language:en",
        "language:fr",
        "audience:citizen",
        *{f"part:{question.part}" for question in questions},
    }
    assert [groups[name]["questions"] for name in ("all", "language:nl", "audience:citizen")] == [4, 2, 3]
    assert groups["language:nl"]["recall@1"] == 1.0 and groups["language:nl"]["no_match_recall"] == 1.0
    for language in ("en", "fr"):
        assert groups[f"language:{language}"]["recall@3"] == 1.0
        assert "no_match_recall" not in groups[f"language:{language}"]


# --- the command --------------------------------------------------------------------------------


def test_eval_retrieval_command_compares_three_configurations(vac_loaded, tmp_path):
    out = tmp_path / "figures.json"
    env = {
        **os.environ,
        "LOKET_DATABASE_URL": vac_loaded.settings.sqlalchemy_url,
        "LOKET_DATA_DIR": str(tmp_path),
        "COLUMNS": "200",  # rich fits the table to the terminal; a pipe has none
    }
    result = subprocess.run(
        [LOKET, "eval", "retrieval", "--questions", str(GOVBENCH), "--compare", "--json", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert set(figures) == {"hybrid", "dense", "lexical"}
    for name, result_of in figures.items():
        overall = result_of["groups"]["all"]
        assert overall["questions"] == 15, name
        recalls = [overall[f"recall@{k}"] for k in CUTOFFS]
        assert all(0 <= recall <= 1 for recall in recalls) and recalls == sorted(recalls), name
        assert 0 < overall["mrr"] <= recalls[-1], name
        not_first = [miss for miss in result_of["misses"] if miss["rank"] != 1]
        assert len(not_first) == round(15 * (1 - recalls[0])), name

    # The table shows the same figures, a row for each configuration.
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in result.stdout.splitlines()]
    assert ["all (15)", "hybrid"] in [row[:2] for row in rows]
    for name, result_of in figures.items():
        overall = result_of["groups"]["all"]
        shown = [f"{overall[m]:.2f}" for m in ("recall@1", "recall@3", "recall@10", "mrr")]
        assert any(_holds(row, [name, *shown]) for row in rows), (name, shown, result.stdout)


def _holds(row: list[str], cells: list[str]) -> bool:
    return any(row[n : n + len(cells)] == cells for n in range(len(row)))


def test_eval_retrieval_command_rejects_a_bad_file(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "expected": []}\nnot json\n', encoding="utf-8")
    env = {**os.environ, "LOKET_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [LOKET, "eval", "retrieval", "--questions", str(bad)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert f"{bad}:2" in result.stderr.replace("\n", "")
