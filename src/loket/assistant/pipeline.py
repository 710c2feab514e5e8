"""The answer pipeline's frame: a turn passes through stages in order; each may stop it with a status.

Each stage records what it decided and how long it took in the turn's trace, which is stored with
the answer. Outcomes name kinds and counts, never the question's text, so a trace holds no personal data.
With tracing on (loket.tracing) each stage is also an OpenTelemetry span, named after it, that records
the same: its name, outcome and figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from time import perf_counter
from typing import Protocol

from loket.assistant.compose import Composition
from loket.assistant.entitlements import Entitlements
from loket.assistant.own_accesses import OwnAccesses
from loket.assistant.own_cases import OwnCase, OwnCases
from loket.assistant.own_messages import OwnMessages
from loket.assistant.schemas import Answer, Citation, Status
from loket.search.schemas import SearchHit
from loket.tracing import span


@dataclass(frozen=True)
class TraceStep:
    stage: str
    outcome: str
    ms: float
    details: dict = field(default_factory=dict)


@dataclass(kw_only=True)
class Turn:
    """Everything one question gathers on its way through the stages."""

    raw: str  # as received, hidden characters and all: evidence for the abuse check, never stored
    question: str  # hidden characters stripped, spaces normalised; never logged
    requested_language: str | None
    audience: str | None
    history: list[str]  # earlier standalone questions of the conversation, already redacted
    answer: Answer
    logged_in: bool = False
    own_cases: OwnCases | None = None  # reads the person's cases, only when the question is about them
    cases_cited: list[OwnCase] = field(default_factory=list)
    own_messages: OwnMessages | None = None  # reads the person's inbox, only when the question is about it
    entitlements: Entitlements | None = None  # the proactive rules, and the person's own suggestions
    accesses: OwnAccesses | None = None  # who used the person's data, only when the question is about it
    cited: list[Citation] = field(default_factory=list)  # the person's own messages or suggestions
    question_language: str | None = None  # detected; may be a language the interface does not speak
    redacted: str = ""  # the question as it may be stored
    personal_data: list[str] = field(default_factory=list)  # kinds of identifiers found, e.g. "iban"
    route: str = "information"
    standalone: str = ""  # what retrieval searches for, after rewriting a follow-up
    hits: list[SearchHit] = field(default_factory=list)
    composition: Composition | None = None
    trace: list[TraceStep] = field(default_factory=list)
    stopped: bool = False

    @property
    def language(self) -> str:
        """The language of fixed texts: the answer's own language once known."""
        return self.answer.language

    def stop(self, status: Status, text: str = "") -> None:
        """Ends the pipeline; without a text the service gives the status's canned answer."""
        self.answer.status = status
        self.answer.answer = text
        self.stopped = True


class Stage(Protocol):
    name: str

    def run(self, turn: Turn) -> str | tuple[str, dict]:
        """What the stage decided (for the trace), optionally with figures; may call `turn.stop`."""


def run(stages: list[Stage], turn: Turn) -> Turn:
    for stage in stages:
        with span(stage.name) as traced:
            started = perf_counter()
            result = stage.run(turn)
            outcome, details = result if isinstance(result, tuple) else (result, {})
            ms = round((perf_counter() - started) * 1000, 2)
            if traced.is_recording():
                traced.set_attributes(_span_attributes(stage.name, outcome, details))
        turn.trace.append(TraceStep(stage.name, outcome, ms, details))
        if turn.stopped:
            break
    return turn


def _span_attributes(stage: str, outcome: str, details: dict) -> dict:
    """What the trace step holds, less any text among the figures (an LLM's error message, say)."""
    figures = {f"loket.{name}": value for name, value in details.items() if isinstance(value, int | float)}
    return {**figures, "loket.stage": stage, "loket.outcome": outcome}
