"""The answerability judge (issue 17): its threshold chosen on the tuning part, its figures held out.

Every question of `eval/answers_vac.jsonl` and `eval/near_topic_vac.jsonl` that should be answered or
`unanswerable` goes through the whole assistant, with the extractive composer and the LLM judge at
threshold 0, so that each answer's trace holds the judge's probability that the best page is on the
subject. A threshold then decides afresh: below it, the answer is `unanswerable`. The threshold is the
one that catches the most unanswerable tuning questions while wrongly refusing at most 5% of the
answerable ones (ties: the lower one); the held-out part is only measured with it.

Printed, per part: near-topic questions caught (of the near-topic set), all unanswerable caught,
answerable questions wrongly refused, status accuracy, each with and without the judge, and the
judge's time per question (p50/p95). `--readme` writes the held-out figures into the README.

Needs an evaluation database with the VAC corpus loaded and indexed (`loket eval all` makes one) in
LOKET_DATABASE_URL, and an OpenAI-compatible server that returns log-probabilities (llama.cpp's with
`--logits_all True`):

    .venv/bin/python benchmarks/judge.py --llm http://127.0.0.1:8765/v1 --model qwen [--readme]
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import date

from common import ROOT, percentile
from loket.assistant.compose import ExtractiveComposer
from loket.assistant.conversations import ConversationStore
from loket.assistant.llm import ChatClient, LLMJudge
from loket.assistant.schemas import Status
from loket.assistant.service import AssistantService
from loket.config import Settings
from loket.evaluation.answers import REFUSALS, load_answer_questions
from loket.evaluation.asking import ask
from loket.evaluation.questions import HELD_OUT, PARTS, TUNING
from loket.services import Services
from loket.web.evaluation import NEAR_TOPIC_SET, SETS

MOST_WRONGLY_REFUSED = 0.05
README = ROOT / "README.md"
README_SECTION = re.compile(r"(<!-- judge:start -->\n).*?(<!-- judge:end -->)", re.DOTALL)


@dataclass
class Judged:
    expected: str
    origin: str
    part: str
    status: str  # without the judge
    on_topic: float | None  # None: the judge did not run (an earlier stage decided)
    ms: float


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--llm", required=True, help="the OpenAI-compatible endpoint, e.g. http://host/v1")
    parser.add_argument("--model", default="default", help="the model name it serves")
    parser.add_argument("--readme", action="store_true", help="write the held-out figures into the README")
    return parser.parse_args()


def judged_questions(options: argparse.Namespace) -> list[Judged]:
    services = Services.build(Settings())
    services.db.prepare()
    judge = LLMJudge(ChatClient(options.llm, options.model, timeout=120))
    assistant = AssistantService(
        services.search, ConversationStore(services.db), services.cases, ExtractiveComposer(), None, judge
    )
    questions = [
        question
        for name in SETS["answers"]
        for question in load_answer_questions(ROOT / "eval" / name)
        if question.status in (Status.ANSWERED, Status.UNANSWERABLE)
    ]
    judged = []
    for number, question in enumerate(questions, 1):
        asked = ask(assistant, question.text, question.audience)
        answer = asked.answer
        trace = assistant.conversation(answer.conversation_id).messages[-1].trace if answer else []
        step = next((step for step in trace if step["stage"] == "judge"), None)
        on_topic = (step.get("details") or {}).get("on_topic") if step else None
        judged.append(
            Judged(
                question.status,
                question.origin,
                question.part,
                asked.status,
                on_topic,
                step["ms"] if step else 0.0,
            )
        )
        print(f"\r{number}/{len(questions)} asked", end="", flush=True)
    print()
    return judged


def status(question: Judged, threshold: float | None) -> str:
    """The status with the judge at `threshold` (None: without the judge)."""
    if threshold is not None and question.on_topic is not None and question.on_topic < threshold:
        return Status.UNANSWERABLE.value
    return question.status


def figures(questions: list[Judged], threshold: float | None) -> dict[str, tuple[int, int]]:
    near = [q for q in questions if q.origin == NEAR_TOPIC_SET]
    unanswerable = [q for q in questions if q.expected == Status.UNANSWERABLE]
    answerable = [q for q in questions if q.expected == Status.ANSWERED]

    def refused(among: list[Judged]) -> tuple[int, int]:
        return sum(status(q, threshold) in REFUSALS for q in among), len(among)

    return {
        "near-topic caught": refused(near),
        "unanswerable caught": refused(unanswerable),
        "answerable wrongly refused": refused(answerable),
        "status right": (sum(status(q, threshold) == q.expected for q in questions), len(questions)),
    }


def chosen_threshold(tuning: list[Judged]) -> float:
    candidates = sorted({0.0, *(q.on_topic + 1e-6 for q in tuning if q.on_topic is not None)})
    allowed = []
    for threshold in candidates:
        measured = figures(tuning, threshold)
        refused, answerable = measured["answerable wrongly refused"]
        if refused <= MOST_WRONGLY_REFUSED * answerable:
            allowed.append((measured["unanswerable caught"][0], -threshold, threshold))
    return max(allowed)[2]


def readme_section(held_out: tuple[dict, dict], threshold: float, model: str, times: list[float]) -> str:
    """The held-out figures as the README shows them."""
    without, judged = held_out
    rows = [
        f"| {name} | {without[name][0]} of {without[name][1]} | {judged[name][0]} of {judged[name][1]} |"
        for name in without
    ]
    return "\n".join(
        [
            f"Measured on {date.today().isoformat()} by `benchmarks/judge.py`, model `{model}`, threshold "
            f"{threshold:.3f} (chosen on the tuning part):",
            "",
            "| held out, answers and near-topic sets | without the judge | with the judge |",
            "|---|---|---|",
            *rows,
            "",
            f"The judge took {percentile(times, 0.5) / 1000:.1f} s a question (p50; p95 "
            f"{percentile(times, 0.95) / 1000:.1f} s).",
            "",
        ]
    )


def main() -> None:
    options = parse()
    questions = judged_questions(options)
    by_part = {part: [q for q in questions if q.part == part] for part in PARTS}
    threshold = chosen_threshold(by_part[TUNING])
    print(f"threshold chosen on the tuning part: {threshold:.3f}\n")
    print(f"{'':28}" + "".join(f"{part + ' without':>20}{part + ' with':>20}" for part in PARTS))
    rows = {part: (figures(by_part[part], None), figures(by_part[part], threshold)) for part in PARTS}
    for name in rows[TUNING][0]:
        cells = "".join(
            f"{'{}/{}'.format(*rows[part][0][name]):>20}{'{}/{}'.format(*rows[part][1][name]):>20}"
            for part in PARTS
        )
        print(f"{name:28}{cells}")
    times = [q.ms for q in questions if q.on_topic is not None]
    print(
        f"\njudge: {len(times)} judgements, p50 {percentile(times, 0.5):.0f} ms, "
        f"p95 {percentile(times, 0.95):.0f} ms a question"
    )
    if options.readme:
        section = readme_section(rows[HELD_OUT], threshold, options.model, times)
        README.write_text(README_SECTION.sub(lambda m: m[1] + section + m[2], README.read_text()))
        print(f"written into {README.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
