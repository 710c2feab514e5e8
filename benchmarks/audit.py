"""The tamper-evident access log: appending access records, signing checkpoints, and `verify` at a
million rows.

Appends: 10,000 access records, one a transaction as loket writes each read (`AccessLog.record`: the
purpose check, the row, its leaf and the head's compact range, updated under the head's lock), by 100
signed-in persons in turn; after every 1,000 a checkpoint is signed (`TamperEvidentLog.checkpoint`, what
the job does every minute), its time counted in the rate and also given on its own.

Verify: the log then filled to 1,000,000 rows in transactions of 1,000, each row written by the same
`AccessLog._add` as `record` (a row, its leaf, the compact range updated), flushed once a transaction
rather than before each head lookup (autoflush off: twice as fast), a checkpoint signed after each
transaction, so verify also checks 1,000 checkpoints. `TamperEvidentLog.verify` over
`AccessLog.entries()` then runs in a fresh process (spawned, not forked), so its peak memory
(`ru_maxrss`) is its own, not the filling's; the process's peak before verify is given beside it.

Run: `.venv/bin/python benchmarks/audit.py [--postgresql]`.
"""

from __future__ import annotations

import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

from cases import spread, test_number
from common import database_url, print_figures
from loket import clock
from loket.config import Settings
from loket.consent.log import Verification
from loket.identity.schemas import Login, SignedIn
from loket.logging import configure as configure_logging
from loket.services import Services

APPENDS = 10_000
CHECKPOINT_EVERY = 1_000
ROWS = 1_000_000
PERSONS = 100
MEGABYTE = 1024  # ru_maxrss is in kilobytes on Linux


def settings(url: str, folder: str) -> Settings:
    """Development, so that a signing key is made and kept in `folder`: the verifying process finds it."""
    return Settings(database_url=url, data_dir=Path(folder), env="development", _env_file=None)


def signed_in(services: Services) -> list[SignedIn]:
    logins = (
        Login(
            subject=f"bench#{index}", name="Bench Person", national_number=test_number(index), method="demo"
        )
        for index in range(PERSONS)
    )
    return [services.identity.sessions.sign_in(login)[1] for login in logins]


def measure_appends(services: Services, users: list[SignedIn], figures: dict[str, str]) -> None:
    access_log = services.identity.access_log
    appends, checkpoints = [], []
    started = time.perf_counter()
    for index in range(APPENDS):
        user = users[index % PERSONS]
        begun = time.perf_counter()
        access_log.record(user, user.active.subject, "messages", "own_view")
        appends.append((time.perf_counter() - begun) * 1000)
        if (index + 1) % CHECKPOINT_EVERY == 0:
            begun = time.perf_counter()
            services.audit_log.checkpoint()
            checkpoints.append((time.perf_counter() - begun) * 1000)
    seconds = time.perf_counter() - started
    figures[f"AccessLog.record, {APPENDS:,}, checkpoints included"] = f"{APPENDS / seconds:.0f} records/s"
    figures["AccessLog.record, ms p50/p95/max"] = spread(appends)
    figures[f"checkpoint every {CHECKPOINT_EVERY:,}, ms p50/p95/max"] = spread(checkpoints)


def fill(services: Services, users: list[SignedIn], figures: dict[str, str]) -> None:
    access_log = services.identity.access_log
    started = time.perf_counter()
    for first in range(APPENDS, ROWS, CHECKPOINT_EVERY):
        moment = clock.now()
        with services.db.session() as session, session.no_autoflush:
            for index in range(first, first + CHECKPOINT_EVERY):
                user = users[index % PERSONS]
                access_log._add(
                    session,
                    moment,
                    user.person.id,
                    user.active.id,
                    user.active.subject,
                    "messages",
                    "own_view",
                    "gdpr-15",
                )
        services.audit_log.checkpoint()
    seconds = time.perf_counter() - started
    rate = (ROWS - APPENDS) / seconds
    figures[f"filling to {ROWS:,}, {CHECKPOINT_EVERY:,} a transaction"] = (
        f"{rate:.0f} rows/s ({seconds:.0f} s)"
    )


def verify(url: str, folder: str) -> tuple[float, int, int, Verification]:
    """In the spawned process: verify's seconds, the peak memory before and after it, and its outcome."""
    configure_logging("WARNING")
    services = Services.build(settings(url, folder))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    found = services.audit_log.verify(services.identity.access_log.entries())
    seconds = time.perf_counter() - started
    services.db.dispose()
    return seconds, before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, found


def measure_verify(url: str, folder: str, figures: dict[str, str]) -> None:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        seconds, before, peak, found = pool.apply(verify, (url, folder))
    assert found.problem is None and found.entries == ROWS, found
    assert found.checkpoints == ROWS // CHECKPOINT_EVERY, found
    figures[f"TamperEvidentLog.verify, {ROWS:,} rows"] = f"{seconds:.1f} s ({ROWS / seconds:,.0f} rows/s)"
    figures["verify's process, peak memory before / after"] = (
        f"{before / MEGABYTE:.0f} / {peak / MEGABYTE:.0f} MB"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = database_url(__doc__, folder)
        started = time.perf_counter()
        services = Services.build(settings(url, folder))
        services.db.upgrade()
        users = signed_in(services)
        figures: dict[str, str] = {}
        measure_appends(services, users, figures)
        fill(services, users, figures)
        services.db.dispose()
        measure_verify(url, folder, figures)
        seconds = time.perf_counter() - started

    print_figures(
        url,
        seconds,
        f"{ROWS:,} access records of {PERSONS} persons, a signed checkpoint every {CHECKPOINT_EVERY:,}",
        figures,
    )


if __name__ == "__main__":
    main()
