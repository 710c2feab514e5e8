"""Proactive services (issue 20): life events through intake and evaluation, and the rules engine alone.

Intake: `--persons` (10,000) test persons each get one life event from the demo's authentic source, the
five person event types in turn (a birth, an address change, turning 18, a partner's death, becoming
unemployed), built beforehand as `loket events simulate` builds them (`demo_event`). Then
`ProactiveService.receive` for each, one after another: the CloudEvent and its data checked, the
digest, the insert and the evaluation job queued (on SQLite handed to the in-memory queue, where no
worker runs here; on PostgreSQL a row in procrastinate's table, waiting).

Evaluation: `evaluate_event` for each event, one after another, as one worker runs the job: the event's
facts kept, its rules (and those already suggested) run on the engine for that one subject, the
outcomes upserted and, when there is a new offer, loket's inbox message written and its notification
queued. None of the persons ever logged in, so the access log finds no one to write for.

Engine: `flanders().evaluate` over `--persons` subjects at once, for the rules of each life event type
(also the company one), and over one subject, as `evaluate_event` calls it: each subject's facts are
those its evaluation reads (the event's facts, and a person's birth date from their number). Each is
timed `ENGINE_RUNS` times; the median is printed.

Run: `.venv/bin/python benchmarks/proactive.py [--postgres] [--persons N]` (about 3 minutes on SQLite
for 10,000 persons, most of it evaluating; PostgreSQL takes longer per event, its start by pgserver
included).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from cases import spread, test_number
from common import print_figures
from load import prepare_database
from loket import clock
from loket.config import Settings
from loket.identity import national_number
from loket.logging import configure as configure_logging
from loket.messages.models import MessageRow
from loket.proactive import intake
from loket.proactive.engine import Rule, RuleSet, flanders
from loket.proactive.models import SuggestionRow
from loket.proactive.service import DEMO_SENDER, demo_event
from loket.services import Services

POSTAL_CODES = ("9000", "2000", "8000", "3000", "1000")  # the last one is Brussels, not Flanders
ENGINE_RUNS = 3
# Each life event type's data for subject number `index`, on `day`: what its authentic source says.
SAMPLES: dict[str, Callable[[int, date], dict]] = {
    "loket.birth.registered": lambda index, day: {
        "birth_date": day.isoformat(),
        "postal_code": POSTAL_CODES[index % 5],
    },
    "loket.address.changed": lambda index, day: {
        "postal_code": POSTAL_CODES[index % 5],
        "since": day.isoformat(),
    },
    "loket.person.turned-18": lambda index, day: {
        "birth_date": day.replace(year=day.year - 18, day=min(day.day, 28)).isoformat()
    },
    "loket.partner.deceased": lambda index, day: {"date_of_death": day.isoformat()},
    "loket.unemployment.started": lambda index, day: {"since": day.isoformat()},
    "loket.enterprise.started": lambda index, day: {"start_date": day.isoformat(), "legal_form": "BV"},
}
PERSON_EVENTS = [name for name, model in intake.EVENT_TYPES.items() if model.subject_kind == "person"]


def enterprise_number(index: int) -> str:
    """A valid enterprise number (10 digits, modulo-97 check), one per index."""
    body = 2_000_000 + index
    return f"{body:08d}{97 - body % 97:02d}"


def envelope(event_type: str, index: int, today: date) -> dict:
    """Subject `index`'s event of this type, dated up to 300 days back, as the demo's source sends it."""
    person = intake.EVENT_TYPES[event_type].subject_kind == "person"
    subject = test_number(index) if person else enterprise_number(index)
    day = today - timedelta(days=index % 300)
    return demo_event(event_type, {"subject": subject, **SAMPLES[event_type](index, day)})


def facts(event: dict) -> dict:
    """What the evaluation of `event` gives the engine, for a subject loket knew nothing of before."""
    _, data = intake.parse(event)
    born = national_number.birth_date(data.subject) if data.subject_kind == "person" else None
    return ({"birth_date": born} if born else {}) | data.facts()


def run(label: str, call: Callable, items: list, figures: dict[str, str]) -> list:
    """`call` on every item in turn, timed: events/s and ms p50/p95/max into `figures`; the results."""
    results, durations = [], []
    started = time.perf_counter()
    for item in items:
        begun = time.perf_counter()
        results.append(call(item))
        durations.append((time.perf_counter() - begun) * 1000)
    seconds = time.perf_counter() - started
    figures[f"{label}, {len(items):,} events"] = f"{len(items) / seconds:,.0f} events/s"
    figures[f"{label}, ms p50/p95/max"] = spread(durations)
    return results


def measure_events(services: Services, persons: int, figures: dict[str, str]) -> None:
    today = clock.now().date()
    events = [envelope(PERSON_EVENTS[index % len(PERSON_EVENTS)], index, today) for index in range(persons)]
    received = run("receive", lambda event: services.proactive.receive(DEMO_SENDER, event), events, figures)
    assert all(r.created for r in received)
    run("evaluate_event", services.proactive.evaluate_event, [r.id for r in received], figures)
    with services.db.session() as session:
        outcomes = dict(
            session.execute(select(SuggestionRow.outcome, func.count()).group_by(SuggestionRow.outcome)).all()
        )
        messages = session.scalar(select(func.count()).select_from(MessageRow))
    figures["suggestions by outcome"] = ", ".join(
        f"{name} {count:,}" for name, count in sorted(outcomes.items())
    )
    figures["inbox messages (offers)"] = f"{messages:,}"


def measure_engine(subjects: int, figures: dict[str, str]) -> None:
    rules, today = flanders(), clock.now().date()
    for event_type, model in intake.EVENT_TYPES.items():
        chosen = rules.for_event(event_type, model.subject_kind)
        known = [facts(envelope(event_type, index, today)) for index in range(subjects)]
        all_at_once = engine_seconds(rules, known, today, chosen)
        one = engine_seconds(rules, known[:1], today, chosen)
        figures[f"engine, {event_type} ({len(chosen)} rules)"] = (
            f"{subjects / all_at_once:,.0f} subjects/s; one subject alone {one * 1000:.1f} ms"
        )


def engine_seconds(rules: RuleSet, subjects: list[dict], on: date, chosen: list[Rule]) -> float:
    """The median time of `ENGINE_RUNS` evaluations of `subjects`."""
    durations = []
    for _ in range(ENGINE_RUNS):
        started = time.perf_counter()
        assert len(rules.evaluate(subjects, on, chosen)) == len(subjects)
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--postgres", action="store_true", help="a real PostgreSQL started by pgserver")
    parser.add_argument("--persons", type=int, default=10_000, help="persons, one event each (10,000)")
    options = parser.parse_args()
    options.database_url = None
    configure_logging("WARNING")
    figures: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as workdir:
        url, server = prepare_database(options, workdir)
        try:
            started = time.perf_counter()
            services = Services.build(Settings(database_url=url, data_dir=Path(workdir), _env_file=None))
            services.db.upgrade()
            measure_events(services, options.persons, figures)
            services.db.dispose()
            measure_engine(options.persons, figures)
            seconds = time.perf_counter() - started
        finally:
            if server is not None:
                server.cleanup()

    print_figures(
        url,
        seconds,
        f"{options.persons:,} test persons, one life event each, the {len(PERSON_EVENTS)} person "
        f"types in turn; engine: {options.persons:,} subjects per call, median of {ENGINE_RUNS}",
        figures,
    )


if __name__ == "__main__":
    main()
