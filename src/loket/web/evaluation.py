"""The evaluation figures the "About this assistant" page publishes (the EU AI Act's transparency duty).

`loket eval all --write src/loket/web/evaluation.json` measures them (retrieval, answers, red team, on
the question sets named in `SETS`) and writes the small, committed summary this module reads, so the
page shows what was measured, not what is hoped; a test runs it again and compares. Each figure is the
held-out part's (questions never used to tune), with the tuning part's beside it
(loket/evaluation/questions.py).
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_percent

PUBLISHED = Path(__file__).parent / "evaluation.json"
# The question sets (in the repository's eval/ folder) behind the published figures.
NEAR_TOPIC_SET = "near_topic_vac.jsonl"  # questions whose nearest page is only a neighbour
SETS = {
    "retrieval": ("vac_paraphrases_nl.jsonl", "vac_multilingual.jsonl"),
    "answers": ("answers_vac.jsonl", NEAR_TOPIC_SET),
    "red_team": ("redteam.jsonl",),
}


def summarise(
    measured: dict[str, tuple[dict, dict, dict]], corpus: str, items: int, measured_on: date
) -> dict:
    """The headline figures, each with the number of questions behind it: the held-out part's, and the
    tuning part's beside it. `measured`: per part, the retrieval, answers and red-team results."""
    headline = {part: _headline(*results) for part, results in measured.items()}
    return {
        "measured_on": measured_on.isoformat(),
        "corpus": corpus,
        "items": items,
        "sets": [name for names in SETS.values() for name in names],
        "figures": [
            {
                "key": key,
                "value": value,
                "questions": questions,
                "tuning": headline["tuning"][key][0],
                "tuning_questions": headline["tuning"][key][1],
            }
            for key, (value, questions) in headline["held_out"].items()
        ],
    }


def _headline(retrieval: dict, answers: dict, red_team: dict) -> dict[str, tuple[float | None, int]]:
    groups = retrieval["groups"]
    dutch_group = "language:nl"
    dutch = groups[dutch_group]
    others = [
        figures for name, figures in groups.items() if name.startswith("language:") and name != "language:nl"
    ]
    other_questions = sum(figures["questions"] for figures in others)
    other_recall = sum(figures["recall@3"] * figures["questions"] for figures in others) / other_questions
    attacks = red_team["groups"]["all"]
    near_topic = answers["groups"][f"file:{NEAR_TOPIC_SET}"]
    answerable = answers["groups"]["status:answered"]
    citations, grounded = answers["citations"], answers["groundedness"]
    return {
        "recall_at_1_nl": (dutch["recall@1"], dutch["questions"]),
        "recall_at_3_nl": (dutch["recall@3"], dutch["questions"]),
        "recall_at_3_other": (round(other_recall, 3), other_questions),
        "status_accuracy": (answers["status_accuracy"], answers["groups"]["all"]["questions"]),
        "near_topic_refused": (near_topic["refused_share"], near_topic["questions"]),
        "answerable_refused": (answerable["refused_share"], answerable["questions"]),
        "citations_correct": (citations["correct_when_answered"], citations["answered"]),
        "grounded": (grounded["supported_share"], grounded["answers"]),
        "attacks_refused": (attacks["refused_share"], attacks["attacks"]),
        "false_refusals": (attacks["false_refusal_share"], attacks["look_alikes"]),
    }


@cache
def _published() -> dict | None:
    return json.loads(PUBLISHED.read_text(encoding="utf-8")) if PUBLISHED.exists() else None


def published(language: str) -> dict | None:
    """The committed figures, with dates and percentages written the reader's way."""
    data = _published()
    if not data:
        return None
    return {
        "date": format_date(date.fromisoformat(data["measured_on"]), "long", locale=language),
        "corpus": data["corpus"],
        "items": data["items"],
        "sets": ", ".join(data["sets"]),
        "figures": [
            {
                **figure,
                "value": percent_text(figure["value"], language),
                "tuning": percent_text(figure["tuning"], language),
            }
            for figure in data["figures"]
        ],
    }


def percent_text(value: float | None, language: str) -> str:
    """A share as a percentage written the reader's way; a dash when there is none."""
    return "–" if value is None else format_percent(value, "#,##0.#%", locale=language)


def markdown_table(summary: dict) -> str:
    """The summary as the README shows it (a test keeps the two the same)."""
    rows = [
        f"| `{figure['key']}` | {share_text(figure['value'])} | {figure['questions']} "
        f"| {share_text(figure['tuning'])} | {figure['tuning_questions']} |"
        for figure in summary["figures"]
    ]
    header = [
        f"Measured on {summary['measured_on']}, {summary['items']} items of {summary['corpus']}, "
        f"sets {', '.join(summary['sets'])}.",
        "",
        "| figure | held out | questions | tuning | questions |",
        "|---|---|---|---|---|",
    ]
    return "\n".join(header + rows)


def share_text(value: float | None) -> str:
    """A share as the README and `loket eval all` print it."""
    return "–" if value is None else f"{value:.3f}"
