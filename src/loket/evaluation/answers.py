"""Answer evaluation: the right kind of answer, the right source, every sentence grounded (by the
evaluation's strict check, not the pipeline's own).

An answers file is JSON lines: `{"question", "language", "status", "expected": [source_id or URL, ...],
"audience"?, "note"?}`. `status` is the answer status the question should get (BRIEF §4); an `answered`
question names every source that answers it, matched like `loket eval retrieval` does: a citation
counts when its catalogue item's `source_id` or URL is expected.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from loket.assistant.schemas import Status
from loket.assistant.service import AssistantService
from loket.catalog.service import CatalogService
from loket.evaluation.asking import Progress, Sources, ask, check_strictly, share, stage_means
from loket.evaluation.questions import HELD_OUT, STATUSES, not_empty, part_of, question_rows, text_field

# What the citizen reads as "I cannot answer that": caught for a near-topic question, a wrong refusal
# for an answerable one.
REFUSALS = {Status.UNANSWERABLE.value, Status.OUT_OF_SCOPE.value}


@dataclass(frozen=True)
class AnswerQuestion:
    text: str
    language: str
    status: str
    expected: frozenset[str] = frozenset()
    audience: str = ""
    origin: str = ""
    part: str = HELD_OUT


def load_answer_questions(path: Path) -> list[AnswerQuestion]:
    """Questions with the status they should get; `ValueError` naming the file and line when one is bad."""
    questions = []
    for number, row in question_rows(path):
        status = row.get("status", row.get("expected"))
        expected = row.get("expected", []) if "status" in row else []
        if status not in STATUSES:
            raise ValueError(f"{path}:{number}: status must be one of {', '.join(STATUSES)}, not {status!r}")
        if not (isinstance(expected, list) and all(isinstance(value, str) and value for value in expected)):
            raise ValueError(f"{path}:{number}: expected must be a list of source ids or URLs")
        if status == Status.ANSWERED and not expected:
            raise ValueError(f"{path}:{number}: an answered question needs the expected source ids")
        questions.append(
            AnswerQuestion(
                row["question"],
                text_field(row, "language", path, number) or "nl",
                status,
                frozenset(expected),
                text_field(row, "audience", path, number),
                path.name,
                part_of(row, path, number),
            )
        )
    return not_empty(questions, path)


def evaluate_answers(
    assistant: AssistantService,
    catalog: CatalogService,
    questions: list[AnswerQuestion],
    on_progress: Progress | None = None,
) -> dict:
    """Status accuracy (per expected status, language and file), citation correctness, groundedness."""
    sources = Sources(catalog)
    confusion: dict[str, Counter] = defaultdict(Counter)
    groups: dict[str, Counter] = defaultdict(Counter)
    timings: dict[str, list[float]] = defaultdict(list)
    citations = Counter()
    grounding: dict[str, Counter] = defaultdict(Counter)
    misses, citation_misses, unsupported = [], [], []
    for done, question in enumerate(questions, start=1):
        asked = ask(assistant, question.text, question.audience)
        for stage, ms in asked.stage_ms.items():
            timings[stage].append(ms)
        got, answer = asked.status, asked.answer
        confusion[question.status][got] += 1
        for group in (
            "all",
            f"part:{question.part}",
            f"status:{question.status}",
            f"language:{question.language}",
            f"file:{question.origin}",
        ):
            groups[group]["questions"] += 1
            groups[group]["correct"] += got == question.status
            groups[group]["refused"] += got in REFUSALS
        cited = [citation.url for citation in answer.citations] if answer else []
        if got != question.status:
            misses.append(
                {
                    "question": question.text,
                    "language": question.language,
                    "expected": question.status,
                    "got": got,
                    "decided_by": asked.decided_by,
                    "cited": cited,
                }
            )
        if question.status == Status.ANSWERED:
            citations["expected_answered"] += 1
            if got == Status.ANSWERED:
                citations["answered"] += 1
                matched = [bool(question.expected & sources.ids(url)) for url in cited]
                citations["correct"] += any(matched)
                citations["first_correct"] += bool(matched and matched[0])
                if not any(matched):
                    citation_misses.append(
                        {
                            "question": question.text,
                            "expected": sorted(question.expected),
                            "cited": [_cited_id(sources, url) for url in cited],
                        }
                    )
        if got == Status.ANSWERED and answer is not None:
            checked = check_strictly(sources, asked)
            for composer in ("all", "extractive" if asked.quoted else "llm"):
                tally = grounding[composer]
                tally["answers"] += 1
                tally["grounded_answers"] += all(sentence.grounded for sentence in checked)
                tally["sentences"] += len(checked)
                tally["supported"] += sum(sentence.grounded for sentence in checked)
            unsupported += [
                {
                    "question": question.text,
                    "sentence": sentence.sentence,
                    "problems": list(sentence.problems),
                }
                for sentence in checked
                if not sentence.grounded
            ]
        if on_progress:
            on_progress(done, len(questions))
    overall = groups["all"]
    return {
        "questions": len(questions),
        "status_accuracy": share(overall["correct"], overall["questions"]),
        "groups": {
            name: {
                "questions": tally["questions"],
                "correct": tally["correct"],
                "accuracy": share(tally["correct"], tally["questions"]),
                "refused": tally["refused"],
                "refused_share": share(tally["refused"], tally["questions"]),
            }
            for name, tally in sorted(groups.items())
        },
        "confusion": {expected: dict(got.most_common()) for expected, got in sorted(confusion.items())},
        "citations": {
            "expected_answered": citations["expected_answered"],
            "answered": citations["answered"],
            "correct": citations["correct"],
            "first_correct": citations["first_correct"],
            "correct_share": share(citations["correct"], citations["expected_answered"]),
            "correct_when_answered": share(citations["correct"], citations["answered"]),
            "first_correct_when_answered": share(citations["first_correct"], citations["answered"]),
        },
        # The strict check's (loket.evaluation.strict), overall and for each composer's answers shown.
        "groundedness": {
            **_grounding_figures(grounding["all"]),
            "by_composer": {
                composer: _grounding_figures(grounding[composer]) for composer in ("extractive", "llm")
            },
        },
        "stage_ms": stage_means(timings),
        "misses": misses,
        "citation_misses": citation_misses,
        "unsupported": unsupported,
    }


def _grounding_figures(tally: Counter) -> dict:
    return {
        "answers": tally["answers"],
        "grounded_answers": tally["grounded_answers"],
        "sentences": tally["sentences"],
        "supported": tally["supported"],
        "supported_share": share(tally["supported"], tally["sentences"]),
    }


def _cited_id(sources: Sources, url: str) -> str:
    item = sources.item(url)
    return item.source_id if item else url
