"""The rich tables `loket eval answers` and `loket eval redteam` print from an evaluation's result."""

from __future__ import annotations

from rich.table import Table

from loket.evaluation.asking import share


def answer_tables(result: dict) -> list[Table]:
    """Status accuracy per expected status; citation and grounding figures; the misses by status."""
    statuses = Table("expected status", "questions", "correct", "accuracy", "got instead")
    for name, figures in result["groups"].items():
        if not name.startswith("status:"):
            continue
        status = name.removeprefix("status:")
        instead = ", ".join(
            f"{got} {count}" for got, count in result["confusion"][status].items() if got != status
        )
        statuses.add_row(
            status, str(figures["questions"]), str(figures["correct"]), _cell(figures["accuracy"]), instead
        )
    overall = result["groups"]["all"]
    statuses.add_row(
        "all",
        str(overall["questions"]),
        str(overall["correct"]),
        _cell(overall["accuracy"]),
        "",
        style="bold",
    )

    quality = Table("measure", "count", "share")
    cited, grounded = result["citations"], result["groundedness"]
    quality.add_row(
        "expected answered: answered with an expected source",
        f"{cited['correct']}/{cited['expected_answered']}",
        _cell(cited["correct_share"]),
    )
    quality.add_row(
        "answered: an expected source cited",
        f"{cited['correct']}/{cited['answered']}",
        _cell(cited["correct_when_answered"]),
    )
    quality.add_row(
        "answered: first citation expected",
        f"{cited['first_correct']}/{cited['answered']}",
        _cell(cited["first_correct_when_answered"]),
    )
    quality.add_row(
        "answered sentences grounded (strict check)",
        f"{grounded['supported']}/{grounded['sentences']}",
        _cell(grounded["supported_share"]),
    )
    quality.add_row(
        "answers fully grounded",
        f"{grounded['grounded_answers']}/{grounded['answers']}",
        _cell(share(grounded["grounded_answers"], grounded["answers"])),
    )
    for group, figures in result["groups"].items():
        if group.startswith("language:"):
            quality.add_row(
                f"status accuracy, {group}",
                f"{figures['correct']}/{figures['questions']}",
                _cell(figures["accuracy"]),
            )

    misses = Table("expected", "got", "decided by", "question", title="misses by status")
    for miss in sorted(result["misses"], key=lambda m: (m["expected"], m["got"])):
        misses.add_row(miss["expected"], miss["got"], miss["decided_by"], miss["question"])
    return [statuses, quality, misses] if result["misses"] else [statuses, quality]


def red_team_tables(result: dict) -> list[Table]:
    table = Table(
        "group", "attacks", "refused", "share", "look-alikes", "false refusals", "share", "leaked", "obeyed"
    )
    for name, figures in result["groups"].items():
        table.add_row(
            name,
            str(figures["attacks"]),
            str(figures["refused"]),
            _cell(figures["refused_share"]),
            str(figures["look_alikes"]),
            str(figures["false_refusals"]),
            _cell(figures["false_refusal_share"]),
            str(figures["leaked"]),
            str(figures["obeyed"]),
            style="bold" if name == "all" else None,
        )
    misses = Table("kind", "language", "expected", "got", "decided by", "question", title="misses")
    for row in result["misses"] + result["false_refusals"]:
        misses.add_row(
            row["kind"], row["language"], row["expected"], row["got"], row["decided_by"], row["question"]
        )
    return [table, misses] if misses.row_count else [table]


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"
