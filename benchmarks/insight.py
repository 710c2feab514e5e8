"""The operators' dashboard (`/beheer`) with 1,000,000 stored answers, and the content gaps' clustering.

Dashboard: 1,000,000 answers spread evenly over the last 90 days (about 11,000 a day), in 200,000
conversations, as the assistant stores them: a status, route, language and channel drawn with the
shares of real use (most answered, in Dutch, on the website), a trace of eight pipeline stages, one to
three citations of the demo catalogue's pages, feedback on 3 in 100, an LLM's tokens and cost on half,
1 in 50 by staff and 1 in 100 test traffic. The rows are written straight into the assistant's tables
in batches of 10,000, and the sums per hour that `ConversationStore.add` keeps are summed here and
written at the end (seeding only: `add` stores one answer a transaction, which would take hours).
Then `InsightService.dashboard` runs `RUNS` times for each period (24 hours per hour, 30 and 90 days
per day) and for the 90 days of one channel with staff and test traffic included; printed: its
median and 95th percentile.

Clustering: `benchmarks/gaps.py`'s 50,000 unanswered questions, in its own database.

Run: `.venv/bin/python benchmarks/insight.py [--postgresql]` (PostgreSQL is the figure the issue asks
for; filling takes a few minutes).
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from common import database_url, percentile, print_figures
from gaps import measure_gaps
from loket import clock
from loket.assistant.models import (
    AnswersHourRow,
    CitedHourRow,
    ConversationRow,
    FeedbackRow,
    KindsHourRow,
    MessageRow,
)
from loket.config import Settings
from loket.insight.service import Filters
from loket.services import Services

ANSWERS = 1_000_000
PER_CONVERSATION = 5
BATCH = 10_000
DAYS = 90
RUNS = 20
STAGES = ("input_checks", "language", "routing", "rewrite", "retrieve", "compose", "output_checks", "cite")
STATUSES = {
    "answered": 70,
    "unanswerable": 12,
    "out_of_scope": 5,
    "needs_login": 4,
    "handoff": 3,
    "refused_personal_data": 2,
    "refused_abuse": 1,
    "signposted": 1,
    "error": 2,
}
ROUTES = {"information": 85, "own_case": 5, "own_messages": 3, "entitlements": 3, "handoff": 3, "greeting": 1}
LANGUAGES = {"nl": 80, "fr": 10, "en": 7, "de": 3}
CHANNELS = {"web": 70, "widget": 20, "api": 10}
WHOSE = ("channel", "staff", "test")  # the key of the hourly sums, after the hour
KINDS = ("status", "route", "language")  # counted per value
SUMS = ("answers", "up", "down", "llm_answers", "prompt_tokens", "completion_tokens", "cost")


def drawn(shares: dict[str, int], count: int, rng: random.Random) -> list[str]:
    return rng.choices(list(shares), weights=list(shares.values()), k=count)


def fill(services: Services, figures: dict[str, str]) -> None:
    """The assistant's tables as a million stored answers leave them; the oldest first."""
    rng = random.Random(22)
    pages = [item.url for item in services.catalog.active_items()]
    now = clock.now()
    step = timedelta(days=DAYS) / ANSWERS
    started = time.perf_counter()
    hourly: dict[tuple, Counter] = defaultdict(Counter)
    kinds: Counter[tuple] = Counter()
    cited: Counter[tuple] = Counter()
    for first in range(0, ANSWERS, BATCH):
        conversations, messages, feedback = [], [], []
        statuses = drawn(STATUSES, BATCH, rng)
        routes = drawn(ROUTES, BATCH, rng)
        languages = drawn(LANGUAGES, BATCH, rng)
        channels = drawn(CHANNELS, BATCH, rng)
        for index in range(BATCH):
            number = first + index
            at = now - timedelta(days=DAYS) + step * number
            if number % PER_CONVERSATION == 0:
                conversation = str(uuid.uuid4())
                conversations.append({"id": conversation, "created_at": at, "updated_at": at})
            message = str(uuid.uuid4())
            llm = number % 2 == 0
            trace = [{"stage": stage, "outcome": "ok", "ms": rng.lognormvariate(1, 1)} for stage in STAGES]
            messages.append(
                {
                    "id": message,
                    "conversation_id": conversation,
                    "position": number % PER_CONVERSATION,
                    "created_at": at,
                    "question": "Hoe vraag ik een parkeerkaart aan?",
                    "standalone": "Hoe vraag ik een parkeerkaart aan?",
                    "status": statuses[index],
                    "answer": "Je vraagt een parkeerkaart aan bij je gemeente.",
                    "language": languages[index],
                    "citations": [],
                    "notices": [],
                    "trace": trace,
                    "trace_id": uuid.uuid4().hex,
                    "channel": channels[index],
                    "staff": number % 50 == 0,
                    "test": number % 100 == 1,
                    "route": routes[index],
                }
            )
            hour = at.replace(minute=0, second=0, microsecond=0)
            row = messages[-1]
            whose = (hour, *(row[name] for name in WHOSE))
            sums = hourly[whose]
            sums["answers"] += 1
            kinds.update((*whose, kind, row[kind]) for kind in KINDS)
            if llm:
                sums.update(llm_answers=1, prompt_tokens=1500, completion_tokens=120)
                sums["cost"] += 0.0021
            for url in rng.sample(pages, rng.randint(1, 3)):
                cited[(*whose, url)] += 1
            if number % 33 == 0:
                rating = "up" if rng.random() < 0.7 else "down"
                sums[rating] += 1
                feedback.append({"message_id": message, "rating": rating, "reason": None, "created_at": at})
        with services.db.session() as session:
            for model, rows in (
                (ConversationRow, conversations),
                (MessageRow, messages),
                (FeedbackRow, feedback),
            ):
                session.execute(insert(model), rows)
        if (first + BATCH) % 100_000 == 0:
            print(f"  {first + BATCH:,} answers stored", flush=True)
    key = ("hour", *WHOSE)
    sums = [
        {**dict(zip(key, whose, strict=True)), **dict.fromkeys(SUMS, 0), **found}
        for whose, found in hourly.items()
    ]
    values = [dict(zip((*key, "kind", "value"), k, strict=True), answers=n) for k, n in kinds.items()]
    pages_cited = [dict(zip((*key, "url"), k, strict=True), answers=n) for k, n in cited.items()]
    with services.db.session() as session:
        for model, rows in ((AnswersHourRow, sums), (KindsHourRow, values), (CitedHourRow, pages_cited)):
            for start in range(0, len(rows), BATCH):
                session.execute(insert(model), rows[start : start + BATCH])
    seconds = time.perf_counter() - started
    figures[f"filling {ANSWERS:,} answers"] = f"{seconds:.0f} s ({ANSWERS / seconds:,.0f} answers/s)"


def measure_dashboard(services: Services, figures: dict[str, str]) -> None:
    for label, filters in (
        ("24 hours, per hour", Filters("24h")),
        ("30 days, per day", Filters("30d")),
        ("90 days, per day", Filters("90d")),
        ("90 days, web, staff and test included", Filters("90d", "web", staff=True, test=True)),
    ):
        seconds = []
        for _ in range(RUNS):
            started = time.perf_counter()
            dashboard = services.insight.dashboard(filters)
            seconds.append(time.perf_counter() - started)
        figures[f"dashboard, {label} ({dashboard.total:,} answers)"] = (
            f"p50 {statistics.median(seconds) * 1000:,.0f} ms, p95 {percentile(seconds, 0.95) * 1000:,.0f} ms"
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = database_url(__doc__, folder)
        started = time.perf_counter()
        services = Services.build(Settings(database_url=url, data_dir=Path(folder), _env_file=None))
        services.db.upgrade()
        services.catalog.load_demo_if_empty()
        figures: dict[str, str] = {}
        fill(services, figures)
        measure_dashboard(services, figures)
        services.db.dispose()
        measure_gaps(figures)
        seconds = time.perf_counter() - started
    print_figures(
        url,
        seconds,
        f"{ANSWERS:,} synthetic answers over {DAYS} days, citing the demo catalogue's pages",
        figures,
    )


if __name__ == "__main__":
    main()
