"""What the answer and red-team evaluations share: asking as a citizen, and the sources an answer cites.

Each question goes through the whole assistant (`AssistantService.ask`), as a new conversation, and is
judged on what the citizen would see and on the stored trace (which stage decided, and how long each
took). The conversations are stored like any other, so run this against an evaluation database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import mean

from loket.assistant.compose import source_text
from loket.assistant.grounding import check
from loket.assistant.schemas import Answer, Status
from loket.assistant.service import AssistantDisabled, AssistantService
from loket.catalog.schemas import CatalogItem
from loket.catalog.service import CatalogService
from loket.errors import LoketError
from loket.evaluation.strict import StrictSentence, strict_check
from loket.search.schemas import SearchHit

Progress = Callable[[int, int], None]


class Sources:
    """The catalogue items behind citations, and the text each citation vouches for."""

    def __init__(self, catalog: CatalogService) -> None:
        self.by_url: dict[str, CatalogItem] = {}
        for item in catalog.active_items():
            self.by_url.setdefault(item.url, item)

    def item(self, url: str) -> CatalogItem | None:
        return self.by_url.get(url.split("#", 1)[0])

    def ids(self, url: str) -> set[str]:
        """What an expected value may name for this citation: the item's source id or its URL."""
        item = self.item(url)
        return {item.source_id, item.url} if item else {url.split("#", 1)[0]}

    def text(self, url: str, title: str) -> str:
        """The cited section as the pipeline's grounding check saw it (the item's summary and the section)."""
        item = self.item(url)
        if item is None:
            return ""
        section = next((s for s in item.sections if f"{item.title} – {s.heading}" == title), None)
        if section is None:  # the title no longer names a section: the whole item vouches
            return "\n".join(source_text(SearchHit(item, s, 0.0)) for s in item.sections)
        return source_text(SearchHit(item, section, 0.0))


@dataclass
class Asked:
    """One question's answer, with what the trace says about it."""

    answer: Answer | None
    status: str
    decided_by: str  # the last stage that ran, with its outcome
    stage_ms: dict[str, float] = field(default_factory=dict)
    quoted: bool = True  # the answer shown is the extractive composer's (the LLM's otherwise)


def ask(assistant: AssistantService, text: str, audience: str = "") -> Asked:
    """The question as a citizen asks it: no preferred language, a new conversation."""
    try:
        answer = assistant.ask(text, None, audience or None, test=True)
    except AssistantDisabled:
        raise
    except LoketError as error:  # refused before the pipeline ran, e.g. too long: the API's 4xx
        return Asked(None, Status.ERROR.value, f"{type(error).__name__}: {error.message}")
    except Exception as error:  # a crash is the API's 500: counted as an error, the run goes on
        return Asked(None, Status.ERROR.value, f"crash: {type(error).__name__}: {error}")
    trace = assistant.conversation(answer.conversation_id).messages[-1].trace
    last = trace[-1] if trace else {"stage": "?", "outcome": "?"}
    outcomes = {step["stage"]: step["outcome"] for step in trace}
    return Asked(
        answer,
        answer.status.value,
        f"{last['stage']}: {last['outcome']}",
        {step["stage"]: step["ms"] for step in trace},
        # "extractive", "extractive after llm error", "extractive after ungrounded answer"
        any(outcomes.get(stage, "").startswith("extractive") for stage in ("compose", "output_checks")),
    )


def check_grounding(sources: Sources, answer: Answer):
    """The pipeline's own check, as it judged the answer."""
    return check(answer.answer, _cited(sources, answer), answer.language)


def check_strictly(sources: Sources, asked: Asked) -> list[StrictSentence]:
    """The evaluation's stricter check (loket.evaluation.strict), independent of the pipeline's."""
    answer = asked.answer
    return strict_check(answer.answer, _cited(sources, answer), answer.language, asked.quoted)


def _cited(sources: Sources, answer: Answer) -> list[str]:
    return [sources.text(citation.url, citation.title) for citation in answer.citations]


def stage_means(timings: dict[str, list[float]]) -> dict[str, float]:
    return {stage: round(mean(values), 2) for stage, values in timings.items()}


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None
