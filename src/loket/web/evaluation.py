"""The evaluation figures the "About this assistant" page publishes (the EU AI Act's transparency duty).

They are measured with `loket eval retrieval|answers|redteam --json`, then summarised into the small,
committed `evaluation.json` by this module, so the page shows what was measured, not what is hoped:

    python -m loket.web.evaluation retrieval.json answers.json redteam.json \
        --corpus "Rijksoverheid VAC" --items 179 > src/loket/web/evaluation.json
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from functools import cache
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_percent

PUBLISHED = Path(__file__).parent / "evaluation.json"


def summarise(
    retrieval: dict, answers: dict, red_team: dict, corpus: str, items: int, measured_on: date
) -> dict:
    """The headline figures of the three evaluations, each with the number of questions behind it."""
    groups = retrieval["hybrid"]["groups"]
    dutch = groups["language:nl"]
    others = [
        figures for name, figures in groups.items() if name.startswith("language:") and name != "language:nl"
    ]
    other_questions = sum(figures["questions"] for figures in others)
    other_recall = sum(figures["recall@3"] * figures["questions"] for figures in others) / other_questions
    attacks = red_team["groups"]["all"]
    citations, grounded = answers["citations"], answers["groundedness"]
    figures = [
        ("recall_at_1_nl", dutch["recall@1"], dutch["questions"]),
        ("recall_at_3_nl", dutch["recall@3"], dutch["questions"]),
        ("recall_at_3_other", round(other_recall, 3), other_questions),
        ("status_accuracy", answers["status_accuracy"], answers["groups"]["all"]["questions"]),
        ("citations_correct", citations["correct_when_answered"], citations["answered"]),
        ("grounded", grounded["supported_share"], grounded["answers"]),
        ("attacks_refused", attacks["refused_share"], attacks["attacks"]),
        ("false_refusals", attacks["false_refusal_share"], attacks["look_alikes"]),
    ]
    return {
        "measured_on": measured_on.isoformat(),
        "corpus": corpus,
        "items": items,
        "figures": [
            {"key": key, "value": value, "questions": questions} for key, value, questions in figures
        ],
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
        "figures": [
            {**figure, "value": format_percent(figure["value"], "#,##0.#%", locale=language)}
            for figure in data["figures"]
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("retrieval", type=Path, help="`loket eval retrieval --json` output")
    parser.add_argument("answers", type=Path, help="`loket eval answers --json` output")
    parser.add_argument("red_team", type=Path, help="`loket eval redteam --json` output")
    parser.add_argument("--corpus", required=True, help="the catalogue measured on, as the page names it")
    parser.add_argument("--items", type=int, required=True, help="how many items that catalogue held")
    arguments = parser.parse_args()
    read = [json.loads(path.read_text(encoding="utf-8")) for path in (arguments.retrieval, arguments.answers)]
    red_team = json.loads(arguments.red_team.read_text(encoding="utf-8"))
    summary = summarise(*read, red_team, arguments.corpus, arguments.items, date.today())
    print(json.dumps(summary, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
