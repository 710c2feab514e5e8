"""Cases: the list of one person's 200 cases, writing cases, and the MAGDA GeefDossiers import.

List: one test person with 200 cases of 3 statuses each, among 5,000 cases of 1,000 other persons
(so the subjects' index matters). Measured 200 times each, after a few warm-up calls: the real app's
`GET /api/v1/me/cases` (session cookie, access log entry, JSON) through Starlette's TestClient, and
`CaseService.for_reader` alone. Writing: the person's cases go in through `CaseService.upsert`, one
call per status (the first creates the case, the next two append to its timeline), on a table that
already holds the other persons' cases; those 5,000 are bulk-inserted rows of the same shape, as
15,000 upserts would take minutes on this machine. Import: `ingest_location` over the shared MAGDA
mock responses, 10 first imports into emptied case tables, then one re-import of unchanged data.

On SQLite, and on a real PostgreSQL started by pgserver when it is installed (the test extra).
Run: `.venv/bin/python benchmarks/cases.py [--sqlite-only]` (a little over a minute for both).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from starlette.testclient import TestClient

from common import SHARED_DATA
from loket.cases.models import CaseRow, CaseStatusRow, CaseSubjectRow
from loket.cases.schemas import CaseDraft, Contact, Status, Subject, SubjectType
from loket.cases.service import CaseService, Reader
from loket.config import Settings
from loket.consent.log import TamperEvidentLog
from loket.db import Database
from loket.identity import national_number
from loket.identity.access import SESSION_COOKIE
from loket.identity.schemas import Login
from loket.identity.service import IdentityService
from loket.logging import configure as configure_logging
from loket.services import Services
from loket.web.app import create_app

MAGDA = SHARED_DATA / "magda_mock_dossiers" / "GeefDossiers"
OWN_CASES = 200
OTHER_PERSONS = 1000
OTHER_CASES_EACH = 5
STATUSES = 3
REQUESTS = 200
WARM_UP = 5
IMPORT_RUNS = 10
START = datetime(2024, 1, 1, tzinfo=UTC)
TYPES = ("Omgevingsvergunning", "Studietoelage", "Groeipakket", "Premie", "Parkeerkaart")
PHASES = ("Ontvangen", "In behandeling", "Beslist")


def test_number(counter: int) -> str:
    """A valid test person's national number (birth month 61-72), one per counter value."""
    sequence, rest = counter % 997 + 1, counter // 997
    day, month = rest % 28 + 1, 61 + (rest // 28) % 12
    first = f"85{month:02d}{day:02d}{sequence:03d}"
    number = f"{first}{97 - int(first) % 97:02d}"
    assert national_number.is_valid(number), number
    return number


def status(index: int, step: int) -> Status:
    action = step == STATUSES - 1 and index % 10 == 0
    return Status(
        code=f"S{step + 1}",
        phase=PHASES[step],
        details=f"Stap {step + 1} van dossier {index}.",
        action_needed=action,
        action="Bezorg het ontbrekende attest." if action else "",
        at=START + timedelta(days=index, hours=step),
    )


def draft(index: int, step: int, key: str) -> CaseDraft:
    return CaseDraft(
        source="benchmark",
        number=f"B-{key}-{index:05d}",
        name=f"{TYPES[index % len(TYPES)]} {index}",
        type=TYPES[index % len(TYPES)],
        status=status(index, step),
        subjects=(Subject("Aanvrager", SubjectType.PERSON, key),),
        contact=Contact(name="Loket", service="Dienst Benchmark", email="loket@example.org"),
        link=f"https://example.org/dossiers/{index}",
    )


def insert_other_cases(db: Database) -> None:
    """The other persons' cases as the rows upsert would write: a case, its subject, 3 statuses."""
    cases, subjects, statuses = [], [], []
    moment = datetime.now(UTC)
    for person in range(1, OTHER_PERSONS + 1):
        key = test_number(person)
        for index in range(OTHER_CASES_EACH):
            case = draft(person * OTHER_CASES_EACH + index, 0, key)
            timeline = [status(person * OTHER_CASES_EACH + index, step) for step in range(STATUSES)]
            current, case_id = timeline[-1], uuid.uuid4().hex
            cases.append(
                {
                    "id": case_id,
                    "source": case.source,
                    "number": case.number,
                    "name": case.name,
                    "type": case.type,
                    "product": None,
                    "contact": case.contact.__dict__,
                    "link": case.link,
                    "confidential": False,
                    "hidden": False,
                    "period_start": None,
                    "period_end": None,
                    "status_code": current.code,
                    "status_phase": current.phase,
                    "status_details": current.details,
                    "action_needed": current.action_needed,
                    "action": current.action,
                    "status_at": current.at,
                    "described_at": current.at,
                    "version": STATUSES,
                    "created_at": moment,
                    "updated_at": moment,
                }
            )
            subjects.append({"case_id": case_id, "role": "Aanvrager", "type": "person", "key": key})
            statuses += [
                {
                    "case_id": case_id,
                    "code": s.code,
                    "phase": s.phase,
                    "details": s.details,
                    "action_needed": s.action_needed,
                    "action": s.action,
                    "at": s.at,
                    "recorded_at": moment,
                }
                for s in timeline
            ]
    with db.session() as session:
        session.execute(insert(CaseRow), cases)
        session.execute(insert(CaseSubjectRow), subjects)
        session.execute(insert(CaseStatusRow), statuses)


def timed(call: Callable[[], object], times: int) -> list[float]:
    """Milliseconds of each of `times` calls, after a few untimed ones."""
    for _ in range(WARM_UP):
        call()
    durations = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        durations.append((time.perf_counter() - started) * 1000)
    return durations


def spread(durations: list[float]) -> str:
    ordered = sorted(durations)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"{statistics.median(ordered):.1f} / {p95:.1f} / {ordered[-1]:.1f}"


def measure_list(url: str, workdir: Path, figures: dict[str, str]) -> None:
    settings = Settings(database_url=url, data_dir=workdir, _env_file=None)
    app = create_app(settings)
    services: Services = app.state.services
    services.db.upgrade()
    insert_other_cases(services.db)

    own = test_number(0)
    rounds = []
    for step in range(STATUSES):  # round 1 creates the cases, rounds 2 and 3 append a status each
        started = time.perf_counter()
        for index in range(OWN_CASES):
            services.cases.upsert(draft(index, step, own))
        rounds.append(time.perf_counter() - started)
    total = sum(rounds)
    figures["upsert: new case"] = f"{OWN_CASES / rounds[0]:.0f} cases/s"
    figures["upsert: new status"] = f"{OWN_CASES * (STATUSES - 1) / sum(rounds[1:]):.0f} upserts/s"
    figures[f"upsert: cases of {STATUSES} statuses"] = f"{OWN_CASES / total:.0f} cases/s"
    counts = services.cases.counts()
    figures["table: cases / statuses"] = f"{counts['cases']:,} / {counts['statuses']:,}"

    token, _ = services.identity.sessions.sign_in(
        Login(subject="bench#1", name="Bench Person", national_number=own, method="demo")
    )
    with TestClient(app) as client:
        client.cookies.set(SESSION_COOKIE, token)
        listed = client.get("/api/v1/me/cases")
        listed.raise_for_status()
        assert len(listed.json()["cases"]) == OWN_CASES, len(listed.json()["cases"])
        api = timed(lambda: client.get("/api/v1/me/cases").raise_for_status(), REQUESTS)
    reader = Reader(SubjectType.PERSON, own)
    assert len(services.cases.for_reader(reader)) == OWN_CASES
    service = timed(lambda: services.cases.for_reader(reader), REQUESTS)
    figures["GET /api/v1/me/cases, ms p50/p95/max"] = spread(api)
    figures["for_reader alone, ms p50/p95/max"] = spread(service)
    services.db.dispose()


def empty(db: Database) -> None:
    with db.engine.begin() as connection:
        for table in ("cases_statuses", "cases_subjects", "cases_cases"):
            connection.exec_driver_sql(f"DELETE FROM {table}")


def measure_import(url: str, figures: dict[str, str]) -> None:
    db = Database(url)
    db.upgrade()
    identity = IdentityService(db, timedelta(minutes=30), timedelta(hours=8), TamperEvidentLog(db, None))
    cases = CaseService(db, identity)
    durations = []
    for _ in range(IMPORT_RUNS):
        empty(db)
        started = time.perf_counter()
        report = cases.ingest_location(str(MAGDA))
        durations.append(time.perf_counter() - started)
        assert report.created, report
    # Skipped holds the source's refusals (Uitzondering) too; only DossierMutatie records are counted.
    stored = report.created + report.updated + report.unchanged
    skipped = sum("DossierMutatie" in s.where for s in report.skipped)
    records = stored + skipped
    middle = statistics.median(durations)
    figures["MAGDA: files / DossierMutatie per run"] = (
        f"{report.files} / {records} ({stored} in, {skipped} skipped)"
    )
    figures["MAGDA: Uitzondering (source errors) per run"] = f"{len(report.skipped) - skipped}"
    figures["MAGDA: cases created / updated / unchanged"] = (
        f"{report.created} / {report.updated} / {report.unchanged}"
    )
    figures[f"MAGDA first import, median of {IMPORT_RUNS}"] = (
        f"{report.files / middle:.0f} files/s, {records / middle:.0f} mutations/s"
    )
    figures[f"MAGDA first import, best of {IMPORT_RUNS}"] = (
        f"{report.files / min(durations):.0f} files/s, {records / min(durations):.0f} mutations/s"
    )
    started = time.perf_counter()
    again = cases.ingest_location(str(MAGDA))
    seconds = time.perf_counter() - started
    assert again.created == again.updated == 0, again
    figures["MAGDA re-import (all unchanged)"] = (
        f"{seconds * 1000:.0f} ms: {again.files / seconds:.0f} files/s, {records / seconds:.0f} mutations/s"
    )
    db.dispose()


def measure(name: str, list_url: str, import_url: str, workdir: Path) -> dict[str, str]:
    started = time.perf_counter()
    figures: dict[str, str] = {}
    measure_list(list_url, workdir, figures)
    measure_import(import_url, figures)
    print(f"{name}: measured in {time.perf_counter() - started:.0f} s", flush=True)
    return figures


def postgres_urls(pgdata: Path):
    """A pgserver PostgreSQL with two databases, as SQLAlchemy URLs; None without pgserver."""
    try:
        import pgserver
    except ImportError:
        return None
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    server.psql("CREATE DATABASE bench_list; CREATE DATABASE bench_import;")
    base, _, query = server.get_uri().partition("?")
    base = base.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return server, f"{base}/bench_list?{query}", f"{base}/bench_import?{query}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL even with pgserver")
    arguments = parser.parse_args()
    configure_logging("WARNING")
    results: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        results["SQLite"] = measure(
            "SQLite", f"sqlite:///{tmp}/list.db", f"sqlite:///{tmp}/import.db", workdir
        )
        postgres = None if arguments.sqlite_only else postgres_urls(workdir / "pg")
        if postgres is None:
            print("PostgreSQL: skipped (pgserver is not installed, or --sqlite-only)")
        else:
            server, list_url, import_url = postgres
            try:
                results["PostgreSQL"] = measure("PostgreSQL", list_url, import_url, workdir)
            finally:
                server.cleanup()

    names = list(results)
    labels = list(results[names[0]])
    width = max(len(label) for label in labels)
    columns = [max(len(name), *(len(results[name][label]) for label in labels)) for name in names]
    print(
        f"\nmachine: {os.cpu_count()} cores, shared with other work: figures vary between runs\n"
        f"data: 1 person with {OWN_CASES} cases x {STATUSES} statuses, plus "
        f"{OTHER_PERSONS * OTHER_CASES_EACH:,} cases of {OTHER_PERSONS:,} other persons; "
        f"{REQUESTS} timed requests / calls\n"
    )
    pairs = list(zip(names, columns, strict=True))
    print(f"{'':{width}}  " + "  ".join(f"{name:>{column}}" for name, column in pairs))
    for label in labels:
        values = "  ".join(f"{results[name][label]:>{column}}" for name, column in pairs)
        print(f"{label:{width}}  {values}")


if __name__ == "__main__":
    main()
