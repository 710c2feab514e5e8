"""A small event bus shared by the replicas: events stored in a table, announced by PostgreSQL NOTIFY.

A block publishes an event (`EventBus.publish`) in the same transaction as the change it tells about:
a row in `events` (an increasing id, a stream such as `conversation:<id>` or `inbox:<person>`, a kind,
and small JSON data: ids and short fields, never a person's text), and on PostgreSQL a
`NOTIFY loket_events, '<stream>:<id>'`, which PostgreSQL delivers at commit and drops on rollback. So a
change that is rolled back publishes nothing, and an event is never announced before it can be read.

A reader (`EventBus.subscribe`, behind an SSE route) first gets the stored events of its stream after
the id it already has (`Last-Event-ID`), then waits for new ones. The notification carries ids only:
whatever wakes a subscriber, it reads the table for `id > the last id it gave out`, so every event is
read from the table, in id order, once. How it waits:

- PostgreSQL: one LISTEN connection per process (per event loop), started with the first subscriber
  and closed with the last, wakes the subscribers of the stream a notification names. While it is not
  listening (starting, or lost and reconnecting) the subscribers poll the table, and when it (re)starts
  listening every subscriber reads again: an event committed while nobody listened is found then.
  A subscriber also reads again every `SAFETY_SECONDS`, so even a lost notification costs a delay,
  never an event.
- SQLite (one process, the embedded setup): each subscriber polls the table every `poll_interval`.

No gap between catching up and waiting: a subscriber registers for wake-ups (and the listener is
already listening or will wake it when it is) before it reads what is stored, and reads again after
every wake-up. An event committed before that first read is in it; one committed after wakes it.

Ids commit in order. A sequence hands out ids when rows are inserted, not when they commit, so two
concurrent transactions could commit id 11 before id 10; a subscriber that gave out 11 (and a browser
that would resume after 11) would then never get 10. Tracking seen ids per subscriber does not help
the browser, which resumes from one id, and waiting for "missing" ids cannot tell an id still in
flight from one whose transaction rolled back (sequences never give ids back). So publishers take
turns instead: `publish` first takes a transaction-level advisory lock, held until its transaction
ends, and only then draws the id. The next publisher draws its id after the previous one committed or
rolled back, so every reader sees the ids as a prefix, and `id > cursor` never skips one. The cost:
transactions that publish run their last part one at a time, so publish as the last thing a
transaction does (a publisher waits for the others' commits, not for their whole work). SQLite has
one writer at a time anyway, which gives the same order.

Events are kept for a while (`prune`); a client away for longer than that misses what was removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio.to_thread
import psycopg
from fastapi.sse import EventSourceResponse, format_sse_event
from sqlalchemy import BigInteger, Index, Integer, String, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from loket import clock
from loket.db import Base, Database, JsonType, UtcDateTime, remove
from loket.logging import get_logger

log = get_logger(__name__)

CHANNEL = "loket_events"
# A NOTIFY payload must stay under 8,000 bytes; the payload is only "<stream>:<id>", but the data is
# held to the same order of size so that events stay what they are for: ids and short fields.
MAX_DATA_BYTES = 7000
MAX_STREAM_LENGTH = 200
MAX_KIND_LENGTH = 64
# The advisory lock publishers take in turn (see above): any fixed 64-bit number no one else uses.
PUBLISH_LOCK = 0x6C6F6B65745F6576  # "loket_ev"
POLL_SECONDS = 0.5
SAFETY_SECONDS = 30.0
RECONNECT_SECONDS = (0.5, 10.0)  # the first wait before listening again, and the longest
BATCH = 100


class EventRow(Base):
    """One event; `id` only grows (SQLite: AUTOINCREMENT, so an id is never used twice after a prune)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_stream_id", "stream", "id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    stream: Mapped[str] = mapped_column(String(MAX_STREAM_LENGTH))
    kind: Mapped[str] = mapped_column(String(MAX_KIND_LENGTH))
    data: Mapped[dict] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


@dataclass(frozen=True)
class Event:
    id: int
    stream: str
    kind: str
    data: dict
    created_at: datetime


class EventTooLarge(ValueError):
    """An event's data is more than ids and short fields: send ids, and let the reader fetch the rest."""


class EventBus:
    def __init__(self, db: Database, poll_interval: float = POLL_SECONDS) -> None:
        self.db = db
        self.poll_interval = poll_interval
        self.postgresql = not db.embedded
        self._listeners: dict[asyncio.AbstractEventLoop, _Listener] = {}
        self._lock = threading.Lock()
        self._subscribers = 0

    def publish(self, into: Session | Database, stream: str, kind: str, data: dict) -> int:
        """Stores the event and announces it at commit; its id. `into` is the caller's session, so the
        event commits or rolls back with the change it tells about (publish last: see the module), or
        a `Database`, for a transaction of its own."""
        serialised = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        size = len(serialised.encode())
        if size > MAX_DATA_BYTES:
            raise EventTooLarge(
                f"Event {kind!r} on {stream!r} has {size} bytes of data, at most {MAX_DATA_BYTES} are "
                "allowed: publish ids and short fields, and let the reader fetch the rest."
            )
        if not stream or len(stream) > MAX_STREAM_LENGTH or not kind or len(kind) > MAX_KIND_LENGTH:
            raise ValueError(
                f"An event needs a stream of at most {MAX_STREAM_LENGTH} characters and a kind of at "
                f"most {MAX_KIND_LENGTH}: got {stream[:50]!r} and {kind[:50]!r}."
            )
        if isinstance(into, Database):
            with into.session() as session:
                return self.publish(session, stream, kind, data)
        postgresql = into.get_bind().dialect.name == "postgresql"
        if postgresql:
            into.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PUBLISH_LOCK})
        row = EventRow(stream=stream, kind=kind, data=json.loads(serialised), created_at=clock.now())
        into.add(row)
        into.flush()
        if postgresql:
            into.execute(select(func.pg_notify(CHANNEL, f"{stream}:{row.id}")))
        return row.id

    def read(self, stream: str, after_id: int = 0, limit: int = BATCH) -> list[Event]:
        """The stored events of `stream` after `after_id`, oldest first."""
        with self.db.session() as session:
            rows = session.scalars(
                select(EventRow)
                .where(EventRow.stream == stream, EventRow.id > after_id)
                .order_by(EventRow.id)
                .limit(limit)
            ).all()
            return [Event(row.id, row.stream, row.kind, row.data, row.created_at) for row in rows]

    def latest_id(self, stream: str) -> int:
        """The id of the last stored event of `stream` (0 if none): to follow only what comes next."""
        with self.db.session() as session:
            latest = session.scalar(select(func.max(EventRow.id)).where(EventRow.stream == stream))
            return latest or 0

    async def subscribe(
        self, stream: str, after_id: int = 0, idle: float | None = None
    ) -> AsyncIterator[Event | None]:
        """The events of `stream` after `after_id`: those stored, then new ones as they commit, in id
        order, each once. With `idle`, None whenever that many seconds passed without one (for a
        heartbeat). Ends only when the caller stops: close it (`contextlib.aclosing`) to leave at once."""
        wake = asyncio.Event()
        listener = self._join(stream, wake)
        loop = asyncio.get_running_loop()
        cursor, quiet_since = after_id, loop.time()
        try:
            while True:
                wake.clear()  # before reading: a wake-up during the read makes it read again
                events = await anyio.to_thread.run_sync(self.read, stream, cursor)
                for event in events:
                    cursor = event.id
                    yield event
                if events:
                    quiet_since = loop.time()
                    if len(events) == BATCH:
                        continue
                wait = SAFETY_SECONDS if listener and listener.listening else self.poll_interval
                if idle is not None:
                    if loop.time() - quiet_since >= idle:
                        yield None
                        quiet_since = loop.time()
                    wait = min(wait, max(0.0, idle - (loop.time() - quiet_since)))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), wait)
        finally:
            self._leave(listener, stream, wake)

    def prune(self, older_than: timedelta, dry_run: bool = False) -> int:
        """Removes events older than `older_than` (for `loket purge`); how many (`dry_run`: counted)."""
        with self.db.session() as session:
            return remove(session, EventRow, EventRow.created_at < clock.now() - older_than, dry_run)

    @property
    def subscribers(self) -> int:
        """How many subscriptions are open in this process (for tests, metrics)."""
        with self._lock:
            return self._subscribers

    @property
    def listening(self) -> bool:
        """Whether this process has a LISTEN connection up."""
        with self._lock:
            return any(listener.listening for listener in self._listeners.values())

    def _join(self, stream: str, wake: asyncio.Event) -> _Listener | None:
        with self._lock:
            self._subscribers += 1
            if not self.postgresql:
                return None
            loop = asyncio.get_running_loop()
            listener = self._listeners.get(loop)
            if listener is None:
                listener = self._listeners[loop] = _Listener(self._connect)
            listener.add(stream, wake)
        return listener

    def _leave(self, listener: _Listener | None, stream: str, wake: asyncio.Event) -> None:
        """Synchronous: it runs while the subscriber is being cancelled (a client gone)."""
        with self._lock:
            self._subscribers -= 1
            if listener is None:
                return
            listener.remove(stream, wake)
            if listener.count == 0:
                listener.stop()
                self._listeners.pop(listener.loop, None)

    async def _connect(self) -> psycopg.AsyncConnection:
        """A connection of its own, from the engine's own connection settings, outside the pool: it is
        held for as long as anyone listens."""
        engine = self.db.engine
        args, params = engine.dialect.create_connect_args(engine.url)
        params = {name: value for name, value in params.items() if name != "context"}
        return await psycopg.AsyncConnection.connect(*args, autocommit=True, **params)


class _Listener:
    """The process's LISTEN connection (one per event loop), waking the subscribers of each stream."""

    def __init__(self, connect) -> None:
        self.subscribers: dict[str, set[asyncio.Event]] = {}
        self.listening = False
        self._connect = connect
        self.loop = asyncio.get_running_loop()
        self._task = self.loop.create_task(self._run())

    @property
    def count(self) -> int:
        return sum(len(waiting) for waiting in self.subscribers.values())

    def add(self, stream: str, wake: asyncio.Event) -> None:
        self.subscribers.setdefault(stream, set()).add(wake)

    def remove(self, stream: str, wake: asyncio.Event) -> None:
        waiting = self.subscribers.get(stream, set())
        waiting.discard(wake)
        if not waiting:
            self.subscribers.pop(stream, None)

    def stop(self) -> None:
        self.listening = False
        self._task.cancel()

    def _wake(self, stream: str | None = None) -> None:
        streams = [stream] if stream is not None else list(self.subscribers)
        for name in streams:
            for wake in list(self.subscribers.get(name, ())):
                wake.set()

    async def _run(self) -> None:
        delay = RECONNECT_SECONDS[0]
        while True:
            try:
                async with await self._connect() as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self.listening, delay = True, RECONNECT_SECONDS[0]
                    # Whatever committed before LISTEN took effect: every subscriber reads again.
                    self._wake()
                    while True:
                        async for notification in connection.notifies(timeout=SAFETY_SECONDS):
                            self._wake(notification.payload.rpartition(":")[0])
                        await connection.execute("SELECT 1")  # quiet for a while: still connected?
            except psycopg.Error as error:
                log.warning("events.listen_lost", error=type(error).__name__, retry_in=delay)
            finally:
                self.listening = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_SECONDS[1])


HEARTBEAT_SECONDS = 15.0  # a comment on an event stream this often keeps proxies from closing it
LAST_EVENT_ID = 2**63 - 1  # event ids are 64-bit
# How a route that answers with `event_stream` documents its answer (OpenAPI `responses`).
STREAM_RESPONSE = {
    200: {
        "content": {"text/event-stream": {}},
        "description": f"Server-sent events, each with its `id:`; a comment every {HEARTBEAT_SECONDS:.0f} s "
        "while quiet.",
    }
}


def resume_after(last_event_id: str | None, otherwise: int = 0) -> int:
    """The id a reconnecting client had (`Last-Event-ID`, as EventSource sends it), else `otherwise`."""
    sent = (last_event_id or "").strip()
    return min(int(sent), LAST_EVENT_ID) if sent.isascii() and sent.isdigit() else otherwise


def event_stream(events: AsyncIterator[Event | None]) -> EventSourceResponse:
    """A subscription as the response of an SSE route, never cached or buffered by a proxy."""
    return EventSourceResponse(
        server_sent(events), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


async def server_sent(events: AsyncIterator[Event | None]) -> AsyncIterator[bytes]:
    """A subscription as server-sent events (each with its `id:`, a comment for a heartbeat), for an
    `EventSourceResponse`; it ends when the client goes, and the subscription is closed with it."""
    async with contextlib.aclosing(events):
        async for event in events:
            if event is None:
                yield format_sse_event(comment="heartbeat")
            else:
                data = json.dumps(event.data, ensure_ascii=False)
                yield format_sse_event(event=event.kind, id=str(event.id), data_str=data)
