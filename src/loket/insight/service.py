"""The figures of the operators' and content owners' dashboard (`/beheer`): questions per hour over the
last 24 hours or per day over 30 or 90 days (every bucket, empty ones too, in loket's time zone);
answers by status and by route; languages; channels; feedback; hand-offs and how fast an agent
answered, in office hours; each pipeline stage's latency; the catalogue's pages most cited, never
cited, and unchanged for a year or more. Staff's own questions, and the hand-offs asked in their
conversations, are left out unless asked for.

Everything is counted from the blocks' Python APIs (the assistant's `figures`, summed in SQL; the
hand-off's `timings`), never from their tables, and never reads a question's text. Test traffic (probes,
load tests, evaluations) is left out like staff's, unless asked for. The screen and the exports
(CSV, JSON) are one `Dashboard` made from one `Filters`: what the screen shows is what is exported.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from loket import clock
from loket.assistant.conversations import ConversationStore
from loket.catalog.service import CatalogService
from loket.errors import BadRequest
from loket.handoff.service import HandoffService
from loket.i18n import message
from loket.insight.review import Accuracy, ReviewService
from loket.insight.texts import BAD_FILTER

TOP = 20  # pages per list
PERIODS = {"24h": ("hour", 24), "30d": ("day", 30), "90d": ("day", 90)}  # bucket, how many
CHANNELS = ("web", "widget", "api", "partner")  # partner: a partner's app, by its OAuth token
REPORT_DAYS = 30  # the public report's period


@dataclass(frozen=True)
class Filters:
    """What the dashboard counts: a period (`24h` per hour, `30d` or `90d` per day), one channel or
    all, and staff's own questions and test traffic or not."""

    period: str = "24h"
    channel: str | None = None
    staff: bool = False
    test: bool = False

    @classmethod
    def parse(cls, params: dict[str, str], language: str) -> Filters:
        """From a query string, as the page's form and the exports send it; refused when unknown."""
        period = params.get("period") or cls.period
        channel = params.get("channel") or None
        staff, test = (params.get(name) in ("1", "true", "on") for name in ("staff", "test"))
        if period not in PERIODS or (channel is not None and channel not in CHANNELS):
            raise BadRequest(message(BAD_FILTER, language))
        return cls(period, channel, staff, test)

    def query(self) -> dict[str, str]:
        """The filters as a query string's fields, for the export links."""
        return {
            "period": self.period,
            **({"channel": self.channel} if self.channel else {}),
            **({"staff": "1"} if self.staff else {}),
            **({"test": "1"} if self.test else {}),
        }


@dataclass(frozen=True)
class Bucket:
    start: datetime  # in loket's time zone
    count: int


@dataclass(frozen=True)
class Dashboard:
    filters: Filters
    since: datetime
    until: datetime
    buckets: list[Bucket]
    total: int
    statuses: dict[str, int]
    routes: dict[str, int]
    languages: dict[str, int]
    channels: dict[str, int]
    feedback: dict[str, int]
    handoffs: int
    first_response_seconds: dict[str, float] = field(default_factory=dict)  # p50, p90 in office hours
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # stage -> p50, p95
    costs: dict[str, float] = field(default_factory=dict)  # LLM tokens and cost; {} when none wrote
    reasons: list[tuple[datetime, str, str]] = field(default_factory=list)  # when, up or down, why
    cited: list[tuple[str, int]] = field(default_factory=list)  # page, answers citing it; most first
    never_cited: list[tuple[str, int]] = field(default_factory=list)  # page, days since it changed
    stale: list[tuple[str, int]] = field(default_factory=list)  # page, days since it changed; oldest first

    def tables(self) -> list[tuple[str, list[tuple[str, int | float | str]]]]:
        """Every figure as (table, [(key, value)]): the screen's tables and the CSV export alike."""
        return [
            ("questions", [(b.start.isoformat(), b.count) for b in self.buckets]),
            ("status", sorted(self.statuses.items())),
            ("route", sorted(self.routes.items())),
            ("language", sorted(self.languages.items())),
            ("channel", sorted(self.channels.items())),
            ("feedback", sorted(self.feedback.items())),
            *(
                (
                    f"reasons_{rating}",
                    [(at.isoformat(), why) for at, given, why in self.reasons if given == rating],
                )
                for rating in ("down", "up")
            ),
            ("handoffs", [("requested", self.handoffs), *sorted(self.first_response_seconds.items())]),
            ("latency_p50_ms", [(stage, p["p50"]) for stage, p in self.latency_ms.items()]),
            ("latency_p95_ms", [(stage, p["p95"]) for stage, p in self.latency_ms.items()]),
            ("llm_costs", list(self.costs.items())),
            ("cited", self.cited),
            ("never_cited", self.never_cited),
            ("stale", self.stale),
        ]


@dataclass(frozen=True)
class Report:
    """The public figures of live use (`/over-deze-assistent`): people's questions only, neither
    staff's nor test traffic."""

    since: datetime
    until: datetime
    questions: int
    answered: float | None  # share of the questions answered from the catalogue
    handed_off: float | None  # share passed on to a person
    review: Accuracy  # what content owners found reviewing answers in the period


class InsightService:
    def __init__(
        self,
        conversations: ConversationStore,
        handoff: HandoffService,
        catalog: CatalogService,
        reviews: ReviewService,
        zone: str,
        stale_after: timedelta = timedelta(days=365),
    ) -> None:
        self.conversations = conversations
        self.handoff = handoff
        self.catalog = catalog
        self.reviews = reviews
        self.zone = ZoneInfo(zone)
        self.stale_after = stale_after
        self._report: Report | None = None

    def report(self, days: int = REPORT_DAYS) -> Report:
        """The last `days` full local days: the figures change once a day, so they are counted once a
        day (per process), however often the public page is read."""
        today = clock.now().astimezone(self.zone).date()
        since, until = (
            datetime.combine(day, time(), self.zone) for day in (today - timedelta(days=days), today)
        )
        if self._report and (self._report.since, self._report.until) == (since, until):
            return self._report
        figures = self.conversations.figures(since, until)
        statuses = figures.statuses
        questions = sum(statuses.values())
        self._report = Report(
            since=since,
            until=until,
            questions=questions,
            answered=_share(statuses.get("answered", 0), questions),
            handed_off=_share(statuses.get("handoff", 0), questions),
            review=self.reviews.accuracy(since, until),
        )
        return self._report

    def dashboard(self, filters: Filters) -> Dashboard:
        unit, many = PERIODS[filters.period]
        starts, until = self._buckets(unit, many)
        since = starts[0]
        figures = self.conversations.figures(since, until, filters.channel, filters.staff, filters.test)
        counts: Counter[datetime] = Counter()
        for hour, count in figures.per_hour.items():
            counts[self._bucket_start(hour, unit)] += count
        timings = [t for t in self.handoff.timings(since) if t.requested_at < until]
        left_out = self.conversations.not_counted(
            [t.conversation_id for t in timings], until, filters.channel, filters.staff, filters.test
        )
        timings = [t for t in timings if t.conversation_id not in left_out]
        waits = sorted(t.first_response for t in timings if t.first_response is not None)
        return Dashboard(
            filters=filters,
            since=since.astimezone(self.zone),
            until=until.astimezone(self.zone),
            buckets=[Bucket(s.astimezone(self.zone), counts.get(s, 0)) for s in starts],
            total=sum(counts.values()),
            statuses=figures.statuses,
            routes=figures.routes,
            languages=figures.languages,
            channels=figures.channels,
            feedback=figures.ratings,
            handoffs=len(timings),
            first_response_seconds=_percentiles(waits),
            latency_ms=_latency(figures.stages),
            costs=_costs(figures.llm, sum(counts.values())),
            reasons=[(at.astimezone(self.zone), rating, why) for at, rating, why in figures.reasons],
            **self._pages(figures.cited),
        )

    def _pages(self, cited: dict[str, int]) -> dict[str, list[tuple[str, int]]]:
        """The catalogue's pages by how often the answers cited them: the most cited, those never
        cited in the period, and those unchanged for longer than `stale_after`, with their age."""
        now = clock.now()
        ages = {
            item.url: (now - item.modified).days if item.modified else -1
            for item in self.catalog.active_items()
        }
        stale = sorted(
            ((url, age) for url, age in ages.items() if age * 86400 >= self.stale_after.total_seconds()),
            key=lambda page: (-page[1], page[0]),
        )
        return {
            "cited": sorted(cited.items(), key=lambda page: (-page[1], page[0]))[:TOP],
            "never_cited": sorted((url, age) for url, age in ages.items() if url not in cited)[:TOP],
            "stale": stale[:TOP],
        }

    def _buckets(self, unit: str, many: int) -> tuple[list[datetime], datetime]:
        """The starts (UTC) of the last `many` hours or local days, the current one last, and the end
        of the current one. A local day is 23 or 25 hours when the clocks change."""
        now = clock.now()
        if unit == "hour":
            end = self._bucket_start(now, unit) + timedelta(hours=1)
            return [end - timedelta(hours=many - i) for i in range(many)], end
        today = now.astimezone(self.zone).date()
        days = [today - timedelta(days=many - 1 - i) for i in range(many + 1)]  # and tomorrow
        starts = [datetime.combine(day, time(), self.zone).astimezone(UTC) for day in days]
        return starts[:-1], starts[-1]

    def _bucket_start(self, moment: datetime, unit: str) -> datetime:
        """The start (UTC) of the hour or of the local day a moment falls in."""
        local = moment.astimezone(self.zone)
        if unit == "hour":
            return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        return datetime.combine(local.date(), time(), self.zone).astimezone(UTC)


def _costs(llm: dict[str, float], answers: int) -> dict[str, float]:
    """Tokens and cost of the answers an LLM wrote, and the cost per 1,000 answers of all kinds (what
    running the assistant costs, refusals included)."""
    if not llm:
        return {}
    per_thousand = 1000 * (llm["cost"] or 0) / answers if answers else 0.0
    return {
        "llm_answers": llm["llm_answers"],
        "prompt_tokens": llm["prompt_tokens"] or 0,
        "completion_tokens": llm["completion_tokens"] or 0,
        "cost": round(llm["cost"] or 0, 4),
        "cost_per_1000_answers": round(per_thousand, 4),
    }


def _latency(per_stage: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Each pipeline stage's median and 95th percentile, in milliseconds, over the answers that ran it."""
    found = {}
    for stage, values in per_stage.items():
        values.sort()
        high = statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]
        found[stage] = {"p50": round(statistics.median(values), 1), "p95": round(high, 1)}
    return found


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    if len(values) == 1:
        return {"p50": values[0], "p90": values[0]}
    cuts = statistics.quantiles(values, n=10, method="inclusive")
    return {"p50": round(statistics.median(values), 1), "p90": round(cuts[8], 1)}
