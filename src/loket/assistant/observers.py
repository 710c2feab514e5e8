"""The assistant's live figures, told as they happen to whoever observes them (the web app's
Prometheus metrics, `loket.web.metrics`).

Why an observer: every answer is stored by `ConversationStore.add`, whichever way it was asked (the
API, the chat pages, the widget, the CLI, an evaluation), and every rating by `give_feedback`, so the
store is the one place that sees them all. The web block cannot be imported from here (the layers),
and the assistant should not know Prometheus; so this block says what it tells (`Answered`, a rating)
and to whom (`Observer`), and the app factory registers its `Metrics` on the store (and on the
hand-off service, for the hand-offs asked for). The event bus is not used: its events cross replicas
through the database, while metrics are counted per process.

An observer hears of an answer after it was committed, and hears figures only: statuses, routes,
channels, languages, durations, tokens; never a text or an id. A failing observer is logged and
ignored: the answer is stored and given whatever happens to the figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from loket.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Answered:
    """One stored answer as the live figures count it."""

    status: str
    route: str | None
    channel: str  # web, widget, api
    language: str  # the answer's
    staff: bool  # asked by someone with a staff role
    test: bool  # test traffic: a probe, a load test, an evaluation
    stages: dict[str, float] = field(default_factory=dict)  # seconds per pipeline stage
    prompt_tokens: int | None = None  # when an LLM wrote the answer
    completion_tokens: int | None = None
    cost: float | None = None  # in the currency of the configured prices

    @property
    def traffic(self) -> str:
        """Whose question: `test` traffic, `staff`'s, or `people`'s (only the last is in public figures)."""
        return "test" if self.test else "staff" if self.staff else "people"


class Observer(Protocol):
    def answered(self, answer: Answered) -> None: ...

    def rated(self, rating: str) -> None: ...


def tell(observers: list, event: str, *args: object) -> None:
    """Calls `event` on each observer; one that fails is logged, never the caller's failure."""
    for observer in observers:
        try:
            getattr(observer, event)(*args)
        except Exception as error:  # the figures must not fail an answer already stored
            log.warning("figures.observer_failed", figures_event=event, error=type(error).__name__)
