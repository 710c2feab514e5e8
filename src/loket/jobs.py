"""The job queue: work that happens when nobody is asking, on procrastinate (see docs/adr/0010).

On PostgreSQL the jobs live in procrastinate's tables and `loket worker` processes run them; a
job is queued in the transaction of the change that causes it (`enqueue` with the caller's
session), so a rolled-back change queues nothing. On SQLite (the embedded setup, one process)
procrastinate's in-memory connector holds them and `loket serve` runs them in a thread of its
own; a job is handed over when the session commits, so there too a rollback queues nothing.

A queueing lock refuses a second waiting job of the same kind (`lock`): ten catalogue changes in a
row give one index sync, not ten. What the jobs do, and when, is declared in `Jobs.declare`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status
from procrastinate.manager import JobManager
from procrastinate.testing import InMemoryConnector
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from loket import tracing
from loket.db import Database
from loket.logging import get_logger

log = get_logger(__name__)
JOB_COUNTS = "SELECT status::text, COUNT(*) FROM procrastinate_jobs GROUP BY status"
OLDEST_WAITING = """
    SELECT EXTRACT(EPOCH FROM NOW() - MIN(events.at)) FROM procrastinate_jobs AS jobs
    JOIN procrastinate_events AS events ON events.job_id = jobs.id AND events.type = 'deferred'
    WHERE jobs.status = 'todo' AND (jobs.scheduled_at IS NULL OR jobs.scheduled_at <= NOW())
"""
SYNC_INDEX = "search.sync"
PURGE = "retention.purge"
HARVEST = "catalog.harvest"
HARVEST_ALL = "catalog.harvest.all"
RETRY_STALLED = "jobs.retry_stalled"
NOTIFY = "messages.notify"
MESSAGE_RECEIPT = "messages.receipt"
MESSAGES_EXPIRED = "messages.expired"
HANDOFF_IDLE = "handoff.idle"
EVALUATE = "proactive.evaluate"
CHECKPOINT = "consent.checkpoint"
CONTENT_GAPS = "insight.gaps"
# A failed job is tried again after 2, 4, 8 and 16 seconds (exponential_wait), then given up.
RETRY = procrastinate.RetryStrategy(max_attempts=5, exponential_wait=2)


class TryAgain(Exception):
    """Raised by a job whose work may succeed later (a peer down, busy or rate-limiting): it is tried
    again with a growing wait. Any other error fails such a job at once."""


# A receipt to an agency: tried again after 2, 4, 8, 16, 32, 64 and 128 seconds, on TryAgain only.
RETRY_LATER = procrastinate.RetryStrategy(max_attempts=8, exponential_wait=2, retry_exceptions={TryAgain})


class Jobs:
    def __init__(self, db: Database, stalled_after: int = 60) -> None:
        """`stalled_after`: seconds without a heartbeat after which a worker is taken as dead, and the
        job it was running is run again."""
        self.db = db
        self.stalled_after = stalled_after
        connector = (
            InMemoryConnector() if db.embedded else procrastinate.PsycopgConnector(conninfo=_conninfo(db))
        )
        self.app = procrastinate.App(connector=connector)
        # Defers on the caller's own (sync) connection, also from a job's thread while the worker has
        # the app's connector open for its event loop.
        self._on_connection = (
            None if db.embedded else JobManager(procrastinate.SyncPsycopgConnector(conninfo=_conninfo(db)))
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: asyncio.Future | None = None

    def declare(
        self,
        sync_index: Callable[[], object],
        purge: Callable[[], dict[str, int]],
        harvest: Callable[[str, str], Any],
        sources: dict[str, str],
        harvest_schedule: str,
        notify: Callable[..., int],
        receipt: Callable[[str, str, int], str],
        expired: Callable[[], int],
        idle: Callable[[], int],
        evaluate: Callable[[int], int],
        checkpoint: Callable[[], object],
        gaps: Callable[[], object],
        gaps_schedule: str,
    ) -> None:
        """Every job loket runs, and when the periodic ones run: the one place to read them.

        Each is safe to run twice (a sync finds nothing new, a purge nothing past its time, a harvest
        finds its items unchanged), which is what makes a stalled job's retry after a killed worker
        have its effect once. `harvest(source, url)` ingests one of the `sources` (name: URL).
        `notify(message_id, person_id, channel)` tells a message's recipient (a second run may notify
        twice: a notification says only that a message is there), `receipt(message_id, event, attempt)`
        tells its agency, `expired()` queues the receipts of messages that ran out unread, `idle()` ends
        the hand-offs nobody said anything in for too long, `evaluate(event)` runs the rules a life event
        concerns (a second run finds the event evaluated), `checkpoint()` signs the access log's new
        entries every minute, `gaps()` clusters the unanswered questions into content gaps on
        `gaps_schedule` (a second run replaces the first's clusters).
        """
        app = self.app

        @app.periodic(cron=harvest_schedule, periodic_id="harvest")
        @app.task(name=HARVEST_ALL, queueing_lock=HARVEST_ALL)
        async def harvest_every_source(timestamp: int) -> None:
            for source, url in sources.items():
                one_source = self._configured(HARVEST, f"{HARVEST}:{source}")
                await _refusing_duplicates(one_source.defer_async(source=source, url=url), HARVEST)

        @app.task(name=HARVEST, retry=RETRY)
        def harvest_source(source: str, url: str) -> None:
            report = harvest(source, url)  # a change in it queues the index's sync
            log.info(
                "jobs.harvested",
                source=source,
                created=report.created,
                updated=report.updated,
                unchanged=report.unchanged,
                problems=len(report.problems),
            )

        # Queued by a catalogue change, and every 15 minutes as a safety net for syncs lost to a crash.
        @app.periodic(cron="*/15 * * * *", periodic_id="index")
        @app.task(name=SYNC_INDEX, queueing_lock=SYNC_INDEX, retry=RETRY)
        def sync(timestamp: int | None = None) -> None:
            sync_index()

        @app.periodic(cron="17 3 * * *", periodic_id="purge")  # daily, at night
        @app.task(name=PURGE, queueing_lock=PURGE, retry=RETRY)
        def remove_expired(timestamp: int) -> None:
            log.info("jobs.purged", **{kind.replace(" ", "_"): rows for kind, rows in purge().items()})

        @app.task(name=NOTIFY, retry=RETRY)
        def notify_recipient(
            message_id: str, person_id: str | None = None, channel: str | None = None
        ) -> None:
            notify(message_id, person_id, channel)

        @app.task(name=MESSAGE_RECEIPT, retry=RETRY_LATER, pass_context=True)
        def tell_agency(context, message_id: str, event: str) -> None:
            receipt(message_id, event, context.job.attempts + 1)

        @app.periodic(cron="*/15 * * * *", periodic_id="expired")
        @app.task(name=MESSAGES_EXPIRED, queueing_lock=MESSAGES_EXPIRED, retry=RETRY)
        def expired_messages(timestamp: int) -> None:
            expired()

        @app.periodic(cron="* * * * *", periodic_id="idle")
        @app.task(name=HANDOFF_IDLE, queueing_lock=HANDOFF_IDLE, retry=RETRY)
        def idle_handoffs(timestamp: int) -> None:
            idle()

        @app.task(name=EVALUATE, retry=RETRY)
        def evaluate_event(event: int) -> None:
            evaluate(event)

        @app.periodic(cron="* * * * *", periodic_id="checkpoint")
        @app.task(name=CHECKPOINT, queueing_lock=CHECKPOINT, retry=RETRY)
        def sign_checkpoint(timestamp: int) -> None:
            checkpoint()

        @app.periodic(cron=gaps_schedule, periodic_id="gaps")
        @app.task(name=CONTENT_GAPS, queueing_lock=CONTENT_GAPS, retry=RETRY)
        def content_gaps(timestamp: int) -> None:
            gaps()

        @app.periodic(cron="* * * * *", periodic_id="stalled")
        @app.task(name=RETRY_STALLED, queueing_lock=RETRY_STALLED)
        async def retry_stalled(timestamp: int) -> None:
            await self.retry_stalled()

    async def retry_stalled(self) -> int:
        """Runs again the jobs of workers that stopped saying they are alive (killed, or their machine
        gone); how many. Every minute, and when a worker starts."""
        manager = self.app.job_manager
        stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=self.stalled_after))
        for job in stalled:
            try:
                await manager.retry_job(job)
                log.warning("jobs.stalled_retried", task=job.task_name, job=job.id)
            except UniqueViolation:
                # A job of the same kind waits already (its queueing lock): that one does the work.
                await manager.finish_job(job, Status.ABORTED, delete_job=False)
                log.warning("jobs.stalled_superseded", task=job.task_name, job=job.id)
        return len(stalled)

    def work(self, concurrency: int) -> None:
        """`loket worker`: first the jobs a dead worker left, then every job until stopped."""

        async def main() -> None:
            async with self.app.open_async():
                await self.retry_stalled()
                await self.app.run_worker_async(
                    concurrency=concurrency,
                    update_heartbeat_interval=self.stalled_after / 4,
                    stalled_worker_timeout=self.stalled_after,
                    task_middleware=TRACED,
                )

        asyncio.run(main())

    def enqueue(
        self,
        session: Session,
        task: str,
        *,
        lock: str | None = None,
        at: datetime | None = None,
        **arguments: Any,
    ) -> None:
        """Queues `task` with the change `session` is making: on its commit, never on its rollback; to
        run no sooner than `at`, if given."""
        if self.db.embedded:
            event.listen(
                session, "after_commit", lambda _: self._hand_over(task, lock, arguments, at), once=True
            )
            return
        # A savepoint: a refused duplicate must not abort the caller's transaction. (Asking for the
        # connection inside it is what makes SQLAlchemy emit the SAVEPOINT.)
        try:
            with session.begin_nested():
                connection = session.connection().connection.driver_connection
                job = self._configured(task, lock, at).make_new_job(**arguments)
                self._on_connection.defer_job(job=job, connection=connection)
        except AlreadyEnqueued:
            log.info("jobs.already_waiting", task=task)

    def run_in_process(self) -> None:
        """The embedded setup's worker: a thread with its own event loop (`loket serve` on SQLite)."""
        ready = threading.Event()

        async def work() -> None:
            self._loop = asyncio.get_running_loop()
            async with self.app.open_async():
                self._worker = asyncio.ensure_future(
                    self.app.run_worker_async(
                        install_signal_handlers=False, listen_notify=False, task_middleware=TRACED
                    )
                )
                ready.set()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._worker
            self._loop = None

        threading.Thread(target=asyncio.run, args=(work(),), name="loket-jobs", daemon=True).start()
        ready.wait(timeout=10)

    def stop(self) -> None:
        """Ends the in-process worker, if any, once the job under way is done."""
        if self._loop is not None and self._worker is not None:
            self._loop.call_soon_threadsafe(self._worker.cancel)

    def figures(self) -> tuple[dict[str, int], float | None]:
        """Jobs by status (todo, doing, succeeded, failed…), and how long the oldest waiting one has
        waited in seconds (PostgreSQL; None when none waits or on SQLite): for /metrics."""
        if self.db.embedded:
            return dict(Counter(job["status"] for job in self.app.connector.jobs.values())), None
        with self.db.engine.connect() as connection:
            counts = dict(connection.execute(text(JOB_COUNTS)).all())
            oldest = connection.scalar(text(OLDEST_WAITING))
        return counts, oldest

    def _hand_over(self, task: str, lock: str | None, arguments: dict[str, Any], at: datetime | None) -> None:
        if self._loop is None:
            # A command on SQLite, beside no `loket serve`: the command does the work itself.
            log.info("jobs.not_queued", task=task, reason="no worker in this process")
            return
        deferred = self._configured(task, lock, at).defer_async(**arguments)
        future = asyncio.run_coroutine_threadsafe(_refusing_duplicates(deferred, task), self._loop)
        future.result(timeout=10)

    def _configured(self, task: str, lock: str | None, at: datetime | None = None):
        return self.app.configure_task(name=task, queueing_lock=lock, schedule_at=at)


async def _refusing_duplicates(deferred, task: str) -> None:
    try:
        await deferred
    except AlreadyEnqueued:
        log.info("jobs.already_waiting", task=task)


def _conninfo(db: Database) -> str:
    """The database's address as libpq writes it (SQLAlchemy's driver name dropped)."""
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _traced(call_next, context, worker):
    """A job is a trace of its own (`job <task>`), so its database and HTTP calls are exported with it."""
    with tracing.span(f"job {context.job.task_name}"):
        return call_next()


async def _traced_async(call_next, context, worker):
    with tracing.span(f"job {context.job.task_name}"):
        return await call_next()


TRACED = [_traced, _traced_async]  # procrastinate applies each to the tasks of its kind
