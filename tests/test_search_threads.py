"""Search from many threads at once, as `loket serve` runs it: the same terms and hits as one thread gets
(issue 16: a stemmer shared by the request threads failed with IndexError under load).

On SQLite only: the database plays no part in what is shared between threads here.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import pytest

from loket.search import service as search_service
from loket.search.analysis import terms
from loket.search.service import SearchService
from loket.services import Services
from tests.web_support import demo_settings

THREADS = 16
QUESTIONS = [
    ("nl", "Mijn identiteitskaart is gestolen. Wat moet ik doen?"),
    ("nl", "Hoe vraag ik een bewonersparkeerkaart aan?"),
    ("nl", "Ik wil een vzw oprichten, hoe begin ik?"),
    ("nl", "Wat kost een uittreksel uit het strafregister?"),
    ("nl", "en voor mijn kinderen?"),
    ("fr", "Je déménage, comment déclarer ma nouvelle adresse ?"),
    ("fr", "On m'a volé ma carte d'identité, que dois-je faire ?"),
    ("en", "How do I start a business as a sole trader?"),
    ("en", "My identity card was stolen, what should I do?"),
    ("de", "Mein Ausweis wurde gestohlen, was muss ich tun?"),
]


@pytest.fixture(scope="module")
def services(sqlite_template, tmp_path_factory) -> Iterator[Services]:
    """The demo catalogue, indexed: what `make run` serves."""
    services = Services.build(demo_settings(sqlite_template, tmp_path_factory.mktemp("threads")))
    services.db.upgrade()
    services.catalog.load_demo_if_empty()
    services.search.sync()
    yield services
    services.db.dispose()


@pytest.fixture
def eager_switching() -> Iterator[None]:
    """Threads take turns every microsecond instead of every 5 ms, so races show up in a short run."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def _at_once(work: Callable[[], None]) -> None:
    """Runs `work` in THREADS threads started together; re-raises the first failure."""
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            work()
        except BaseException as error:  # an assertion or the stemmer's IndexError: both are the finding
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def test_the_analyser_gives_every_thread_the_terms_one_thread_gets(services, eager_switching):
    index = services.search.current_index()
    language = {item.id: item.language for item in index.items}
    # The demo content itself (Dutch, French, English) and questions, through the index's analyser
    # (compounds split by its vocabulary) and the plain one the assistant compares sentences with.
    texts = [(language[chunk.item_id], chunk.text[:200]) for chunk in index.chunks[::25]] + QUESTIONS
    assert {lang for lang, _ in texts} >= {"nl", "fr", "en"}

    def analyses() -> list[list[str]]:
        return [
            result
            for lang, text in texts
            for result in (
                index.analyzer.terms(text, lang),
                index.analyzer.query_terms(text, index.languages),
                terms(text, lang),
            )
        ]

    expected = analyses()

    def work() -> None:
        for _ in range(2):
            assert analyses() == expected

    _at_once(work)


def test_search_gives_every_thread_the_hits_one_thread_gets(services, eager_switching):
    search = services.search

    def results() -> list[list[tuple[str, float, str]]]:
        return [
            [(hit.item.id, hit.score, hit.section.anchor) for hit in search.search(text, 5, language=lang)]
            for lang, text in QUESTIONS
        ]

    expected = results()
    assert all(expected)

    def work() -> None:
        for _ in range(5):
            assert results() == expected

    _at_once(work)


def test_a_search_that_read_the_old_revision_does_not_rebuild_the_new_index(services, monkeypatch):
    """A thread that read the index's revision just before another thread rebuilt the index takes
    that index when it gets the lock, instead of rebuilding it again (a rebuild blocks every search)."""
    search = SearchService(services.db, services.catalog, services.search.embedder, services.search.synonyms)
    revision = ["before"]
    read, go = threading.Event(), threading.Event()

    def index_revision(session, embedder) -> str:
        seen = revision[0]
        if threading.current_thread().name == "late" and not read.is_set():
            read.set()
            go.wait(timeout=10)
        return seen

    monkeypatch.setattr(search_service.repository, "index_revision", index_revision)
    search.current_index()
    builds: list[object] = []
    index = search_service.SearchIndex
    monkeypatch.setattr(search_service, "SearchIndex", lambda *parts: builds.append(parts) or index(*parts))

    late = threading.Thread(target=search.current_index, name="late")
    late.start()
    assert read.wait(timeout=10)
    revision[0] = "after"  # a sync finishes after the late thread read the revision
    search.current_index()
    go.set()
    late.join()
    search.current_index()
    assert len(builds) == 1


def test_a_sync_reads_its_own_index_even_while_the_follower_builds_its_first(
    sqlite_template, tmp_path, monkeypatch
):
    """The app server's follower builds its first index as the server starts, from what is stored then.
    A sync in the same process that ends while that build is still under way must wait for it and read
    its own sync: it used to leave the follower's empty index standing, and a search right after found
    nothing until the follower's next event (once, in a clean CI run)."""
    services = Services.build(demo_settings(sqlite_template, tmp_path))
    services.db.upgrade()
    services.catalog.load_demo_if_empty()
    search = services.search
    read, synced = threading.Event(), threading.Event()
    index, logger = search_service.SearchIndex, search_service.log

    def built(*parts):
        if threading.current_thread().name == "follower":  # it read the catalogue before the sync
            read.set()
            assert synced.wait(timeout=60)
        return index(*parts)

    class Told:
        """The service's log, telling the follower when the sync has stored everything."""

        def __getattr__(self, name):
            return getattr(logger, name)

        def info(self, event, **fields):
            logger.info(event, **fields)
            if event == "search.synced":
                synced.set()

    monkeypatch.setattr(search_service, "SearchIndex", built)
    monkeypatch.setattr(search_service, "log", Told())
    follower = threading.Thread(target=search._rebuilt, args=(True,), name="follower")
    follower.start()
    assert read.wait(timeout=60)
    search.sync()
    follower.join(timeout=60)
    search._following = True  # as `follow_revisions` marks it once its first index stands
    try:
        hits = search.search("Hoe vraag ik een bewonersparkeerkaart aan?", language="nl")
        assert hits and hits[0].confident, "the index of the sync, not the one built before it"
    finally:
        search._following = False
        services.db.dispose()
